"""What every step of `bundle inspect` is given and fills in: the run's `Context` (board, chips, manifest, the
run's checksum cache), one file's `FileReport` (its findings, by severity) and the `Loaded` file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

from ..inputs import MAX_INPUT_BYTES

if TYPE_CHECKING:
    from ..checks import Finding
    from ..dct.options import DctOptions
    from ..layout import Board, Chip
    from .batch import ReadAhead


MAX_FILE_SIZE = MAX_INPUT_BYTES  # larger files are refused unread (no WICED image comes close)
MAX_LISTED = 16  # runs of unexpected bytes / segments listed one by one before a summary line

SEVERITY_EXIT = {"error": 2, "fail": 1, "warning": 0, "note": 0}


@dataclass
class Context:
    board: Board
    chips: list[Chip]
    chip: Chip | None  # forced by --chip or named by the manifest
    manifest: dict[str, Any] | None = None
    manifest_path: Path | None = None
    references: dict[str, bytes | None] = field(default_factory=dict)  # artefact file -> verified image bytes
    ahead: "ReadAhead | None" = None
    sums: dict[tuple[str, int, int, int], tuple[bytes, Any]] = field(default_factory=dict)  # see sums.once
    # what the app regions of the run's MCU images hold, erased ends left out (decode_mcu), once per distinct
    # content (a batch of units holds one app, not one copy per file): (address, sha256) -> (bytes, files)
    mcu_apps: dict[tuple[int, str], tuple[bytes, list[str]]] = field(default_factory=dict)

    @property
    def dct_options(self) -> DctOptions:
        from ..dct.options import options_for_board

        return options_for_board(self.board)


class FileReport:
    """What is known about one file; `as_dict()` is its JSON form."""

    def __init__(self, file: str) -> None:
        self.doc: dict[str, Any] = {"file": file, "format": None, "kind": None, "kind_source": None}
        self.findings: list[dict[str, Any]] = []

    def add(self, severity: str, code: str, message: str, *, region: str | None = None, offset: int | None = None,
            address: int | None = None) -> None:
        self.findings.append({"severity": severity, "code": code, "message": message, "region": region,
                              "offset": offset, "address": address})

    def add_checks(self, found: Iterable[Finding], *, region: str | None = None) -> None:
        """Findings of the device rules (bundler.checks): a fatal rule fails, the others warn."""
        for f in found:
            self.add("fail" if f.fatal else "warning", f.code, f.message, region=region, offset=f.offset,
                     address=f.address)

    @property
    def exit_code(self) -> int:
        return max((SEVERITY_EXIT[f["severity"]] for f in self.findings), default=0)

    def as_dict(self) -> dict[str, Any]:
        status = {0: "ok", 1: "fail", 2: "error"}[self.exit_code]
        return {**self.doc, "status": status, "findings": self.findings}


@dataclass
class Loaded:
    raw: bytes | None  # the file's bytes (None for a HEX file: parsed as it was read, not kept)
    image: bytes  # the bytes it puts in memory (= raw for bin/elf; HEX records from the lowest address)
    base: int | None  # HEX: its lowest address; bin: None (where it goes is the kind's base)
    fmt: str  # "bin" | "hex" | "elf"
    file_sha256: str  # of the file itself


def shown(name: str | Path) -> str:
    """A file or path name as the report gives it: bytes that were not UTF-8 (surrogate-escaped) as \\xNN."""
    return str(name).encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
