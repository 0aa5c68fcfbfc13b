"""Serialized runs (`bundle serialize`) in a kit: the manifest's `serialization` ranges and units.csv beside it,
checked against the manifest and the images; one unit per run, chosen by its serial on the line."""

from __future__ import annotations

import csv
import io
import re
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from ..errors import ConfigError, InputError, VerificationError, hexsize
from ..inputs import MAX_TEXT_BYTES
from ..serialize import MAC_FIELD, SERIAL_FIELD, UNITS_CSV, PatchRange, format_mac, parse_mac
from .artefacts import KitArtefact, verified_bytes
from .values import SAFE_NAME

BLANK_SUFFIX = ".unit-blank.bin"  # a serialized kit's MCU image with its per-unit ranges erased (0xFF)


@dataclass(frozen=True)
class KitRange:
    """One manifest `serialization` entry: bytes of `file` that differ per unit."""

    name: str
    file: str
    address: int
    offset: int
    size: int

    @property
    def column(self) -> str:
        """Its units.csv column, named as `bundle serialize` names it (the contract lives in PatchRange)."""
        return PatchRange(self.name, self.file, self.address, self.offset, self.size, 0).column


@dataclass(frozen=True)
class KitUnit:
    index: int
    serial: str
    mac: str
    crc32: tuple[int, ...]     # per kit artefact, in artefact order
    values: tuple[bytes, ...]  # per KitRange, in range order
    line: int                  # in units.csv, for error messages


_CRC_TEXT = re.compile(r"^0x[0-9a-fA-F]{8}$")


def serial_ranges(doc: Mapping[str, Any], path: Path, arts: list[KitArtefact]) -> list[KitRange]:
    """The manifest's `serialization` list checked against the kit's images; [] for a build that is not serialized."""
    raw = doc.get("serialization")
    if raw is None:
        return []
    if not raw:
        raise InputError("serialization: expected a non-empty list of ranges", path)
    by_file = {a.file: a for a in arts}
    out: list[KitRange] = []
    for i, entry in enumerate(raw):
        where = f"serialization[{i}]"
        name, file, address, offset, size = (entry[k] for k in ("name", "file", "address", "offset", "size"))
        if not SAFE_NAME.match(name):
            raise InputError(f"{where}.name: {name!r}: expected letters, digits, . _ -", path)
        art = by_file.get(file)
        if art is None:
            raise InputError(f"{where}.file: {file!r} is not one of the kit's images ({', '.join(by_file)})", path)
        if size < 1 or offset < 0 or offset + size > art.size:
            raise InputError(f"{where}: {hexsize(size)} at offset 0x{offset:X} is outside {file} "
                             f"({hexsize(art.size)})", path)
        if address != art.base + offset:
            raise InputError(f"{where}.address: 0x{address:08X}, but offset 0x{offset:X} of {file} (at "
                             f"0x{art.base:08X}) is 0x{art.base + offset:08X}", path)
        out.append(KitRange(name, file, address, offset, size))
    ordered = sorted(out, key=lambda r: (r.file, r.offset))
    for a, b in zip(ordered, ordered[1:]):
        if a.file == b.file and b.offset < a.offset + a.size:
            raise InputError(f"serialization: {a.name} and {b.name} overlap in {a.file} at 0x{b.address:08X}", path)
    return out


def units_csv_bytes(doc: Mapping[str, Any], manifest_path: Path) -> bytes:
    """units.csv beside the manifest, read once and checked against the manifest's `units_csv` (size, SHA-256):
    `bundle serialize` records it there before signing, so a rewritten CSV (MACs, range bytes, CRCs changed
    consistently) is refused."""
    csv_path = manifest_path.parent / UNITS_CSV
    entry = doc.get("units_csv")
    if entry is None:
        raise InputError("serialization without units_csv (size and SHA-256 of units.csv): made by an older "
                         "`bundle serialize`; serialize the run again", manifest_path)
    if not csv_path.is_file():
        raise InputError("file not found: a manifest with serialization needs the units.csv that `bundle serialize` "
                         "wrote beside it", csv_path)
    return verified_bytes(csv_path, entry["size"], entry["sha256"], "units_csv", manifest_path, MAX_TEXT_BYTES)


def unit_table(csv_path: Path, raw: bytes, ranges: list[KitRange], arts: list[KitArtefact],
                images: Mapping[str, bytes]) -> list[KitUnit]:
    """units.csv rows (`raw`, already checked against the manifest) checked against the manifest's ranges and the
    images: every column the kit needs, each range's hex the range's size, serial and MAC unique and equal to the
    bytes the unit gets, each per-unit CRC-32 that of the image with the unit's bytes (the line verifies against
    it)."""
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        raise InputError("not ASCII text (expected the units.csv of `bundle serialize`)", csv_path) from None
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader, [])
        rows = [(reader.line_num, row) for row in reader if row]
    except csv.Error as exc:
        raise InputError(f"line {reader.line_num}: not CSV: {exc}", csv_path) from None
    crc_columns = [f"{a.file.split('.')[0]}_crc32" for a in arts]  # as serialize._csv_text names them
    col: dict[str, int] = {}
    for name in ["index", "serial", "mac", *crc_columns, *(r.column for r in ranges)]:
        if header.count(name) != 1:
            what = "missing" if name not in header else "more than once"
            raise InputError(f"column {name!r} {what} (the manifest's serialization and artefacts need it)", csv_path)
        col[name] = header.index(name)
    if not rows:
        raise InputError("no unit rows", csv_path)

    units: list[KitUnit] = []
    seen: dict[str, dict[str, int]] = {"serial": {}, "mac": {}}
    for line, row in rows:
        def bad(column: str, what: str) -> InputError:
            return InputError(f"line {line}, column {column!r}: {what}", csv_path)

        if len(row) != len(header):
            raise InputError(f"line {line}: {len(row)} fields, the header has {len(header)}", csv_path)
        cell = {name: row[i] for name, i in col.items()}
        try:
            index = int(cell["index"])
        except ValueError:
            raise bad("index", f"{cell['index']!r} is not a number") from None
        serial = cell["serial"]
        if not SAFE_NAME.match(serial):
            # typed on the line into program.sh / program.bat and part of the log's file name
            raise bad("serial", f"{serial!r}: the line kit takes serials of letters, digits, . _ - only")
        try:
            mac = format_mac(parse_mac(cell["mac"], "mac"))
        except ConfigError as exc:
            raise bad("mac", str(exc)) from None
        for column, value in (("serial", serial), ("mac", mac)):
            if value in seen[column]:
                raise bad(column, f"{value} already on line {seen[column][value]}")
            seen[column][value] = line
        crcs = []
        for column in crc_columns:
            if not _CRC_TEXT.match(cell[column]):
                raise bad(column, f"{cell[column]!r}: expected 0x and 8 hex digits")
            crcs.append(int(cell[column], 16))
        values = []
        for r in ranges:
            text_value = cell[r.column]
            try:
                value = bytes.fromhex(text_value) if len(text_value) == 2 * r.size else None
            except ValueError:
                value = None
            if value is None:
                raise bad(r.column, f"expected {2 * r.size} hex digits ({hexsize(r.size)}, manifest serialization), "
                                    f"got {text_value!r}")
            # the log names the unit by these columns: the bytes programmed must say the same
            if r.name == SERIAL_FIELD and value != serial.encode().ljust(r.size, b"\0"):
                raise bad(r.column, f"does not hold serial {serial} (column serial)")
            if r.name == MAC_FIELD and value != bytes.fromhex(mac.replace(":", "")):
                raise bad(r.column, f"does not hold MAC {mac} (column mac)")
            values.append(value)
        units.append(KitUnit(index, serial, mac, tuple(crcs), tuple(values), line))

    # each unit's CRC-32 is what the line compares the board with: a units.csv of another build fails here, not there
    work = {a.file: bytearray(images[a.file]) for a in arts}
    for unit in units:
        for r, value in zip(ranges, unit.values):
            work[r.file][r.offset:r.offset + r.size] = value
        for a, column, expect in zip(arts, crc_columns, unit.crc32):
            actual = zlib.crc32(work[a.file]) & 0xFFFFFFFF
            if actual != expect:
                raise VerificationError(f"line {unit.line}, column {column!r}: 0x{expect:08x}, but {a.file} with "
                                        f"this unit's bytes has CRC-32 0x{actual:08x}: units.csv is not from this "
                                        "build", csv_path)
    return units


def blank_ranges(data: bytes, ranges: list[KitRange], file: str) -> bytes:
    """`data` with `file`'s per-unit ranges erased (0xFF): internal flash can then take each unit's bytes with a
    plain program after the image is written (no second sector erase)."""
    out = bytearray(data)
    for r in ranges:
        if r.file == file:
            out[r.offset:r.offset + r.size] = b"\xff" * r.size
    return bytes(out)


def unit_image(data: bytes, ranges: list[KitRange], unit: KitUnit, file: str) -> bytes:
    """`file`'s bytes `data` with `unit`'s bytes in its per-unit ranges: what a board of that unit ends with."""
    out = bytearray(data)
    for r, value in zip(ranges, unit.values):
        if r.file == file:
            out[r.offset:r.offset + r.size] = value
    return bytes(out)

