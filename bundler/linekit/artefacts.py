"""The kit's images: the manifest's one MCU and one SFLASH artefact in bin format, read once and taken only with the
size and SHA-256 the manifest states."""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from ..errors import InputError, VerificationError, hexsize
from ..inputs import MAX_IMAGE_BYTES, read_file
from .values import SAFE_NAME


@dataclass(frozen=True)
class KitArtefact:
    file: str
    kind: str        # "mcu" | "sflash"
    base: int
    size: int
    crc32: int
    source: Path
    data: bytes = field(repr=False)  # the bytes whose size and CRC-32 were checked: the kit ships exactly these


def verified_bytes(path: Path, size: int, digest: str, field: str, manifest_path: Path, max_size: int) -> bytes:
    """`path`'s bytes, read once (at most `max_size`, its kind's limit), if their size and SHA-256 are what the manifest's
    `field` (an entry) states. CRC-32 proves nothing here (4 chosen bytes give any CRC-32): it stays the on-target
    transfer check only."""
    data, source = read_file(path, max_size=max_size)
    if len(data) != size:
        raise VerificationError(f"{hexsize(len(data))}, {manifest_path.name} {field}.size says {hexsize(size)}: not the "
                                "file that was built", path)
    if source.sha256 != digest:
        raise VerificationError(f"SHA-256 {source.sha256}, {manifest_path.name} {field}.sha256 says {digest}: not the file "
                                "that was built", path)
    return data


def read_artefacts(doc: Mapping[str, Any], manifest_path: Path) -> list[KitArtefact]:
    folder = manifest_path.parent
    raw = doc["artefacts"]
    picked: list[KitArtefact] = []
    for kind in ("mcu", "sflash"):
        entries = [a for a in raw if a["kind"] == kind and a["format"] == "bin"]
        if len(entries) != 1:
            raise InputError(f"artefacts: expected one {kind} artefact in bin format, found {len(entries)}", manifest_path)
        a = entries[0]
        where = f"artefacts[{raw.index(a)}]"
        name = a["file"]
        if not SAFE_NAME.match(name):
            raise InputError(f"{where}.file: {name!r} must be a plain file name (1..64 letters, digits, . _ -)", manifest_path)
        source = folder / name
        data = verified_bytes(source, a["size"], a["sha256"], where, manifest_path, MAX_IMAGE_BYTES)
        size, crc, base = a["size"], int(a["crc32"], 16), a["base_address"]
        if zlib.crc32(data) != crc:  # the bytes are right (SHA-256): the board would be checked against a wrong CRC
            raise InputError(f"{where}.crc32: 0x{crc:08x}, but {name} has CRC-32 0x{zlib.crc32(data):08x}",
                             manifest_path)
        picked.append(KitArtefact(name, kind, base, size, crc, source, data))
    return picked

