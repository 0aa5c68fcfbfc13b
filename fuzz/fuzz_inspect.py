"""atheris target: `bundle inspect` on arbitrary bytes, auto-detected or read as a forced kind (coverage-guided;
seeds are the sample's small artefacts: DCT blob, stored apps, HEX, WicedFS, LUT sector).

Mutations of whole 1 MiB images run in fuzz/mutate_images.py instead: under atheris' comparison tracing they run
at ~50/s and its memory grows ~1 MB per input."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["bundler"]):
    from bundler.inspect import KINDS
    from common import check_inspect

TARGET = Path(tempfile.gettempdir()) / f"bundle-fuzz-input-{os.getpid()}.bin"


def one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    kind = fdp.PickValueInList([None, *KINDS])  # None: auto-detect
    TARGET.write_bytes(fdp.ConsumeBytes(fdp.remaining_bytes()))
    check_inspect(TARGET, kind=kind)


def main() -> None:
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
