"""atheris target: the bundle.toml / board layout / chip loaders on arbitrary and mutated TOML.

Any exception other than a BundleError (a clean one-line error, exit 2) is a crash."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import atheris

with atheris.instrument_imports():
    from bundler.config import load_project
    from bundler.errors import BundleError
    from bundler.layout import load_board

WORK = Path(tempfile.mkdtemp(prefix="fuzz-config-", dir="/dev/shm" if Path("/dev/shm").is_dir() else None))


def one_input(data: bytes) -> None:
    if not data:
        return
    target, text = data[0] % 2, data[1:]  # first byte picks the loader: board layout or bundle.toml
    path = WORK / ("bundle.toml" if target else "board.toml")
    path.write_bytes(text)
    try:
        load_project(path) if target else load_board(path)
    except BundleError as exc:
        if "\n" in str(exc):
            raise AssertionError(f"multi-line error: {exc!r}") from None


def main() -> None:
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
