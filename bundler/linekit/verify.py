"""kit.sha256: the kit's own file list (checked by program.sh / program.bat before OpenOCD starts, and offline by
`bundle inspect KIT/`)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Mapping

from ..errors import VerificationError
from ..inputs import MAX_TEXT_BYTES, read_file
from ..signing import SIGNATURE_SUFFIX

KIT_SUMS = "kit.sha256"
RECORD = ".bundle-owned.json"  # bundler.publish.RECORD (not imported: the kit check runs without the build modules)
KIT_LOGS = "logs"
_SUM_LINE = re.compile(r"^([0-9a-f]{64})  ([A-Za-z0-9._-]+)$")


def kit_sums(files: Mapping[str, bytes]) -> bytes:
    """`sha256sum` lines ("<hex>  <name>", LF, sorted) of every kit file: what `sha256sum -c` checks."""
    import hashlib

    return "".join(f"{hashlib.sha256(files[name]).hexdigest()}  {name}\n" for name in sorted(files)).encode("ascii")


def verify_kit(folder: Path, pubkey: Path | None = None) -> list[str]:
    """Check a kit folder offline: with `pubkey`, kit.sha256.sig must be a valid signature of kit.sha256 (made by
    `bundle openocd --sign`); every file listed must be a regular file with its SHA-256, and every file of the kit
    (except logs/) must be listed. Returns one line per file; raises VerificationError (exit 1) otherwise."""
    import hashlib

    folder = Path(folder)
    sums_path = folder / KIT_SUMS
    lines: list[str] = []
    if pubkey is not None:
        from ..signing import verify

        verify(sums_path, pubkey, "the kit's file list")
        lines.append(f"{KIT_SUMS}: signature OK ({Path(pubkey).name})")
    raw, _ = read_file(sums_path, max_size=MAX_TEXT_BYTES)
    listed: dict[str, str] = {}
    for n, line in enumerate(raw.decode("ascii", "replace").splitlines(), 1):
        m = _SUM_LINE.match(line)
        if m is None or m.group(2) in (KIT_SUMS, KIT_SUMS + SIGNATURE_SUFFIX, KIT_LOGS):
            raise VerificationError(f"line {n}: expected \"<64 hex digits>  <kit file name>\"", sums_path)
        listed[m.group(2)] = m.group(1)
    for entry in sorted(folder.iterdir()):
        if entry.name in (KIT_SUMS, KIT_SUMS + SIGNATURE_SUFFIX, KIT_LOGS, RECORD):  # RECORD: publish's own file
            continue
        if entry.name not in listed:
            raise VerificationError(f"not listed in {KIT_SUMS}: not a file of this kit", entry)
    for name, digest in listed.items():
        path = folder / name
        if path.is_symlink() or not path.is_file():
            raise VerificationError(f"listed in {KIT_SUMS} but missing or not a regular file", path)
        actual = hashlib.sha256(read_file(path)[0]).hexdigest()
        if actual != digest:
            raise VerificationError(f"SHA-256 {actual}, {KIT_SUMS} says {digest}: kit file was modified", path)
        lines.append(f"{name}: SHA-256 OK")
    return lines

