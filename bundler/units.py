"""The per-unit part of `bundle serialize` at factory scale (issue 17): every unit's bytes and whole-image checksums
computed from the base images' checksums (never from the images), units.csv streamed row block by row block, and the
per-unit files laid out in sub-folders and made when they are written.

CRC-32 is affine over GF(2) (checksums.crc32_shift): the CRC of a unit's image is a constant XOR a linear map of
the raw CRC of its serial's bytes XOR another of its MAC's. With `crc = "computed"` the DCT header's own CRC is the
same kind of function of the two, and so is its share in the image CRC: it is folded into the same two maps. Each map
is one table lookup per byte (checksums.Linear32) into one integer that holds every CRC side by side, 32 bits per
image and per recomputed DCT. A 32-bit byte sum changes by the difference of the bytes. Memory does not grow with the
count: nothing per unit is kept."""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .checksums import Linear32, crc32_raw, crc32_shift, hex32
from .errors import ConfigError
from .serialize.numbers import format_mac
from .serialize.places import CRC_FIELDS, MAC_FIELD, SERIAL_FIELD
from .serialize.result import UNITS_CSV, UNITS_DIR, Unit, UnitSums
from .stream import Buffer, Content, Fill

if TYPE_CHECKING:
    from .image import Image
    from .serialize.numbers import SerialStart
    from .serialize.places import DctPlace, PatchRange

FOLDER_FILES = 1000  # per-unit files in one folder at most (a file manager or a USB stick's FAT copes)
FILE_COLUMNS = ("dct_hex", "sflash_dct_hex", "mcu_bin", "sflash_bin")
ROWS_PER_BLOCK = 4096  # units.csv rows joined per write (~1 MiB) and per progress report
_M32 = 0xFFFFFFFF
# a progress report: (what is being written, units done, units in the run)
Progress = Callable[[str, int, int], None]


# ---------------------------------------------------------------------------------------------------------------
# Names: index width and sub-folders
# ---------------------------------------------------------------------------------------------------------------
def index_width(count: int) -> int:
    """Digits of the index in per-unit file names: 4, or more when the count needs them (so names sort in order)."""
    return max(4, len(str(count)))


def unit_folder(index: int, count: int, files_per_unit: int) -> str:
    """The folder (relative to the output) of unit `index`'s files: units/ while the run's per-unit files fit one
    folder of FOLDER_FILES, else units/<first>-<last>/ holding a whole number of units, at most FOLDER_FILES files."""
    if count * files_per_unit <= FOLDER_FILES:
        return UNITS_DIR
    per_folder = max(1, FOLDER_FILES // files_per_unit)
    first = (index - 1) // per_folder * per_folder + 1
    width = index_width(count)
    return f"{UNITS_DIR}/{first:0{width}d}-{min(count, first + per_folder - 1):0{width}d}"


def safe_name(text: str) -> str:
    """A serial as part of a file name."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", text)


# ---------------------------------------------------------------------------------------------------------------
# The numbers
# ---------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BaseImage:
    """A base artefact as the per-unit numbers need it: its size and whole-image checksums."""

    name: str
    image: "Image"
    crc32: int
    sum32: int


def _field_codec(name: str) -> Callable[[int], bytes]:
    """Bytes of a DCT header field from its Construct declaration (a fixed-size integer: its struct format)."""
    from .formats.dct import platform_dct_header_t

    con = next(sub.subcon for sub in platform_dct_header_t.subcons if sub.name == name)
    return struct.Struct(con.fmtstr).pack  # e.g. Int32ul -> "<L"


class UnitTable:
    """Unit i (0-based) of a run: its serial's and MAC's bytes, the header CRC of each recomputed DCT, and each base
    image's CRC-32 and sum32 with the unit's bytes in every range; all from the base images' checksums."""

    def __init__(self, places: "list[DctPlace]", images: list[BaseImage], serial: "SerialStart", serial_size: int,
                 mac_first: int, copy_size: int, dct_crc: Callable[[bytes, int], int]) -> None:
        self.images, self.serial, self.mac_first = images, serial, mac_first
        self.ranges: list[PatchRange] = [r for p in places for r in p.ranges]
        # serial bytes: prefix, the counted digits, NUL padding to the field (one bytes % int per unit)
        pad = serial_size - len(serial.prefix) - serial.width
        self.serial_format = serial.prefix.encode("ascii").replace(b"%", b"%%") + b"%0" + b"%d" % serial.width + \
            b"d" + b"\0" * pad
        self.crc_bytes = _field_codec("crc32")
        # 32-bit slots of the packed integer: one per image, then one per recomputed DCT
        slot = {im.name: k for k, im in enumerate(images)}
        self.recomputed = [p for p in places if p.recompute_crc]
        self.slots = [len(images) + k for k in range(len(self.recomputed))]
        dct_slot = {id(p): k for p, k in zip(self.recomputed, self.slots)}
        size = {im.name: len(im.image) for im in images}

        def after(r: PatchRange, total: int, offset: int) -> int:
            return total - offset - r.size

        # the linear share of a field's raw CRC in every packed CRC; the DCT header CRC's own share in its image
        def share(field: str) -> Callable[[int], int]:
            def f(raw: int) -> int:
                packed = 0
                for r in self.ranges:
                    if r.name == field:
                        packed ^= crc32_shift(raw, after(r, size[r.file], r.offset)) << 32 * slot[r.file]
                for p in self.recomputed:
                    r = next(r for r in p.ranges if r.name == field)
                    dct = crc32_shift(raw, after(r, copy_size, r.dct_offset))
                    packed ^= dct << 32 * dct_slot[id(p)] ^ self._header_share(p, dct, size) << 32 * slot[p.file]
                return packed
            return f

        self.maps = (Linear32.of(share(SERIAL_FIELD)), Linear32.of(share(MAC_FIELD)))
        # constant: each CRC with the ranges zeroed, plus the shares of the 0xFFFFFFFF that zlib.crc32(b, 0xFFFFFFFF)
        # (the per-unit call) adds to a raw CRC
        const = 0
        for im in images:
            zeroed = im.crc32
            for r in self.ranges:
                if r.file == im.name:
                    old = im.image.read(r.offset, r.offset + r.size)
                    zeroed ^= crc32_shift(crc32_raw(old), after(r, size[im.name], r.offset))
            const ^= zeroed << 32 * slot[im.name]
        for p in self.recomputed:
            zeroed_dct = bytearray(p.dct)
            for r in p.ranges:
                if r.name not in CRC_FIELDS:
                    zeroed_dct[r.dct_offset:r.dct_offset + r.size] = bytes(r.size)
            z = dct_crc(bytes(zeroed_dct), copy_size)
            const ^= z << 32 * dct_slot[id(p)] ^ self._header_share(p, z, size) << 32 * slot[p.file]
        self.const = const ^ self.maps[0](_M32) ^ self.maps[1](_M32)
        # the sums side by side as well, 64 bits per image (no carry between them): base sum without the ranges mod
        # 2**32, plus each unit's serial and MAC bytes times the ranges of each in that image, plus its header CRC bytes
        self.sum_base = self.sum_serial = self.sum_mac = 0
        header_lane: dict[int, int] = {}
        for k, im in enumerate(images):
            mine = [r for r in self.ranges if r.file == im.name]
            self.sum_base += (im.sum32 - sum(sum(im.image.read(r.offset, r.offset + r.size)) for r in mine)
                              & _M32) << 64 * k
            self.sum_serial += sum(r.name == SERIAL_FIELD for r in mine) << 64 * k
            self.sum_mac += sum(r.name == MAC_FIELD for r in mine) << 64 * k
            for j, p in enumerate(self.recomputed):
                if p.file == im.name:
                    header_lane[j] = 1 << 64 * k
        self.header_lanes = [(32 * k, header_lane[j]) for j, k in enumerate(self.slots)]
        # where decode reads each image's CRC-32 and sum32: CRCs packed by 32, sums by 64 bits
        self.lanes = [(even, a) for k in range(len(images)) for even, a in ((True, 32 * k), (False, 64 * k))]
        # which value each range gets: 0 serial, 1 MAC, 2 + k the k-th recomputed DCT's header CRC
        self.sources = [0 if r.name == SERIAL_FIELD else 1 if r.name == MAC_FIELD else
                        2 + next(k for k, p in enumerate(self.recomputed) if r in p.ranges) for r in self.ranges]

    def _header_share(self, place: "DctPlace", crc: int, size: dict[str, int]) -> int:
        """Raw-CRC share, in its image's CRC, of the header CRC field holding `crc` (linear in `crc`)."""
        r = next(r for r in place.ranges if r.name in CRC_FIELDS)
        return crc32_shift(crc32_raw(self.crc_bytes(crc)), size[r.file] - r.offset - r.size)

    def numbers(self, start: int, stop: int) -> Iterator[tuple[bytes, bytes, int]]:
        """(serial bytes, MAC bytes, packed CRCs) of units start..stop-1 (0-based); `decode` the last."""
        s0, s1, s2, s3 = self.maps[0].tables
        m0, m1, m2, m3 = self.maps[1].tables
        const, crc, fmt, first, mac = self.const, zlib.crc32, self.serial_format, self.serial.first, self.mac_first
        for i in range(start, stop):
            sb, mb = fmt % (first + i), (mac + i).to_bytes(6, "big")
            q, r = crc(sb, _M32), crc(mb, _M32)  # raw CRCs XOR 0xFFFFFFFF (in the constant)
            yield sb, mb, const ^ s0[q & 0xFF] ^ s1[q >> 8 & 0xFF] ^ s2[q >> 16 & 0xFF] ^ s3[q >> 24] \
                ^ m0[r & 0xFF] ^ m1[r >> 8 & 0xFF] ^ m2[r >> 16 & 0xFF] ^ m3[r >> 24]

    def decode(self, sb: bytes, mb: bytes, acc: int) -> tuple[list[bytes], list[int]]:
        """The header CRC bytes of each recomputed DCT, and CRC-32, sum32 of each image in turn, of one unit."""
        total = self.sum_base + self.sum_serial * sum(sb) + self.sum_mac * sum(mb)
        headers = []
        for at, lane in self.header_lanes:
            headers.append(self.crc_bytes(acc >> at & _M32))
            total += lane * sum(headers[-1])
        return headers, [acc >> a & _M32 if even else total >> a & _M32 for even, a in self.lanes]

    def values(self, sb: bytes, mb: bytes, headers: list[bytes]) -> list[bytes]:
        """The bytes of every range (in `ranges` order) of a unit."""
        pick = (sb, mb, *headers)
        return [pick[s] for s in self.sources]

    def unit_values(self, i: int) -> list[bytes]:
        """The bytes of every range of unit i (0-based)."""
        sb, mb, acc = next(self.numbers(i, i + 1))
        return self.values(sb, mb, self.decode(sb, mb, acc)[0])

    def unit(self, i: int) -> Unit:
        sb, mb, acc = next(self.numbers(i, i + 1))
        headers, sums = self.decode(sb, mb, acc)
        return Unit(i + 1, self.serial.nth(i), format_mac(self.mac_first + i),
                    dict(zip(self.ranges, self.values(sb, mb, headers))),
                    {im.name: UnitSums(*sums[2 * k:2 * k + 2]) for k, im in enumerate(self.images)})


class Units(Sequence[Unit]):
    """A run's units, each computed when asked for (a million Unit objects would not fit in memory)."""

    def __init__(self, table: UnitTable, count: int, names: "UnitFiles") -> None:
        self.table, self.count, self.names = table, count, names

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, i: int) -> Unit:  # type: ignore[override]  # no slices: a run is read unit by unit
        if not isinstance(i, int):
            raise TypeError("units are indexed one at a time")
        if i < 0:
            i += self.count
        if not 0 <= i < self.count:
            raise IndexError(i)
        unit = self.table.unit(i)
        unit.files.update(self.names.of(unit.index, unit.serial))
        return unit


# ---------------------------------------------------------------------------------------------------------------
# Per-unit files
# ---------------------------------------------------------------------------------------------------------------
class UnitFiles:
    """Which per-unit files a run writes and their names: (CSV column, suffix) per kind, in sub-folders."""

    def __init__(self, kinds: list[tuple[str, str]], count: int) -> None:
        self.kinds, self.count, self.width = kinds, count, index_width(count)

    def of(self, index: int, serial: str) -> dict[str, str]:
        """CSV column -> file name (relative to the output) of unit `index` (1-based)."""
        if not self.kinds:
            return {}
        stem = f"{unit_folder(index, self.count, len(self.kinds))}/{index:0{self.width}d}-{safe_name(serial)}"
        return {column: f"{stem}.{suffix}" for column, suffix in self.kinds}


@dataclass(frozen=True, eq=False)
class PatchedImage:
    """A base image with one unit's bytes in its ranges, as a Stream (a whole unit image is written, not held)."""

    image: "Image"
    patches: tuple[tuple[int, bytes], ...]  # (offset, bytes), ascending, disjoint

    def chunks(self) -> Iterator[Buffer]:
        pos = 0
        for offset, value in self.patches:
            yield from self._blocks(pos, offset)
            yield value
            pos = offset + len(value)
        yield from self._blocks(pos, len(self.image))

    def _blocks(self, start: int, end: int) -> Iterator[Buffer]:
        for chunk in self.image.chunks(start, end):
            if isinstance(chunk, Fill):
                yield from chunk.blocks()
            else:
                yield chunk


# ---------------------------------------------------------------------------------------------------------------
# units.csv
# ---------------------------------------------------------------------------------------------------------------
def _csv_cell(text: str) -> str:
    """A cell as csv.writer (QUOTE_MINIMAL) writes it."""
    return '"' + text.replace('"', '""') + '"' if any(c in text for c in ',"\r\n') else text


# What the outputs print as numbers (0x... checksums and addresses, SHA-256 digests): a passphrase "00000000" is not
# in "crc32 0x00000000". Only a secret made of such characters can be found inside them by mistake.
NUMBERS = re.compile(rb"0x[0-9A-Fa-f]+|\b[0-9A-Fa-f]{64}\b")
_NUMBER_CHARS = frozenset(b"0123456789abcdefABCDEFx,\n")


def holds_secret(text: bytes, secrets: Sequence[bytes],
                 outside_numbers: Callable[[bytes], bytes] = lambda t: NUMBERS.sub(b" ", t)) -> bool:
    """Whether a secret is in `text` as its hex, or as its bytes outside what `text` prints as numbers (the
    checksums; units.csv's range columns, whose hex digits hold the NUL padding of a serial, "...0000000000").
    `outside_numbers(text)` is computed only for a secret made of number characters that is found in `text`."""
    lowered = text.lower()
    for secret in secrets:
        if secret.hex().encode() in lowered:
            return True
        if secret in text and (not set(secret) <= _NUMBER_CHARS or secret in outside_numbers(text)):
            return True
    return False


class UnitsCsv:
    """units.csv as a Stream: the header, then the rows made ROWS_PER_BLOCK at a time while it is written; every
    block is checked for the DCT's secrets before it leaves (the check of the whole text, done in pieces)."""

    def __init__(self, table: UnitTable, count: int, names: UnitFiles, excluded: "dict[str, UnitSums]",
                 secrets: list[bytes], progress: Progress | None = None) -> None:
        self.table, self.count, self.names, self.secrets, self.progress = table, count, names, secrets, progress
        arts = [im.name for im in table.images]
        stems = [a.split(".")[0] for a in arts]
        self.header = ",".join(["index", "serial", "mac", *FILE_COLUMNS,
                                *(f"{s}_{k}" for s in stems for k in ("crc32", "sum32")),
                                *(f"{s}_{k}_excluding" for s in stems for k in ("crc32", "sum32")),
                                *(_csv_cell(r.column) for r in table.ranges)]) + "\n"
        self.fixed = ",".join(hex32(getattr(excluded[a], k)) for a in arts for k in ("crc32", "sum32"))

    def rows(self, start: int, stop: int) -> str:
        """The CSV text of units start..stop-1 (0-based), exactly as csv.writer writes those rows: one %-format per
        row (the serial's prefix and the MAC's OUI, the same for the whole run, are part of the format)."""
        t, names = self.table, self.names
        prefix, width = t.serial.prefix, t.serial.width
        quoted = _csv_cell(prefix) != prefix
        serial = prefix.replace('"', '""').replace("%", "%%") + f"%0{width}d"
        serial = f'"{serial}"' if quoted else serial
        oui, low = format_mac(t.mac_first)[:9], t.mac_first & 0xFFFFFF  # a run stays inside its OUI block
        columns = [c for c in FILE_COLUMNS if c in dict(names.kinds)]
        row = f"%d,{serial},{oui}%02X:%02X:%02X," + \
            ",".join("%s" if c in columns else "" for c in FILE_COLUMNS) + "," + "0x%08x,0x%08x," * len(t.images) + \
            self.fixed + ",%s" * len(t.ranges)
        first, decode, sources, out = t.serial.first, t.decode, t.sources, []
        for i, (sb, mb, acc) in enumerate(t.numbers(start, stop), start):
            headers, sums = decode(sb, mb, acc)
            m = low + i
            cells: list[object] = [i + 1, first + i, m >> 16, m >> 8 & 0xFF, m & 0xFF]
            if columns:
                unit = names.of(i + 1, t.serial.nth(i))
                cells += [unit[c] for c in columns]
            cells += sums
            hexes = (sb.hex(), mb.hex(), *(h.hex() for h in headers))
            cells += [hexes[k] for k in sources]
            out.append(row % tuple(cells))
        return "\n".join(out) + "\n" if out else ""

    def chunks(self) -> Iterator[bytes]:
        head = self.header.encode("ascii")
        self.check(head)
        yield head
        for start in range(0, self.count, ROWS_PER_BLOCK):
            block = self.rows(start, min(self.count, start + ROWS_PER_BLOCK)).encode("ascii")
            self.check(block)
            yield block
            if self.progress is not None:
                self.progress("units.csv", min(self.count, start + ROWS_PER_BLOCK), self.count)

    def check(self, block: bytes) -> None:
        """Refuse a block of whole rows that would hold a secret, looked for where one could leak (holds_secret):
        the text cells, and the range columns as hex. A hit is bad input - the secret equals a serial, say -
        exit 2."""
        if self.secrets and holds_secret(block, self.secrets, self._text_cells):
            raise ConfigError(f"{UNITS_CSV}: would hold a secret of the DCT (a passphrase, key or certificate "
                              "equal to a serial, MAC or file name); nothing written")

    def _text_cells(self, block: bytes) -> bytes:
        """The rows without their range columns (the last cells of a row, hex) and with their numbers masked."""
        ranges = len(self.table.ranges)
        return NUMBERS.sub(b" ", b"\n".join(line.rsplit(b",", ranges)[0] for line in block.split(b"\n")))

    def check_before_reserving(self) -> None:
        """What can be checked before any number is reserved: the header and the first and last rows; and every
        row when a secret is made only of characters the rows can hold (the serial's prefix and digits, hex, the
        file names' characters) - otherwise it cannot be in any row."""
        sample = (self.header + self.rows(0, 1) + self.rows(self.count - 1, self.count)).encode("ascii")
        self.check(sample)
        alphabet = set(sample) | set(b"0123456789abcdefABCDEF")
        if any(set(s) <= alphabet or s.hex().isdigit() for s in self.secrets):
            for start in range(0, self.count, ROWS_PER_BLOCK):
                self.check(self.rows(start, min(self.count, start + ROWS_PER_BLOCK)).encode("ascii"))


class RunFiles(Mapping[str, Content]):
    """What a run publishes: the base files, units.csv and each unit's files, the last made when publish reads them
    (names generated in order, nothing per unit kept)."""

    def __init__(self, base: dict[str, Content], csv: UnitsCsv, table: UnitTable, count: int, names: UnitFiles,
                 makers: dict[str, Callable[[int, list[bytes]], Content]], progress: Progress | None = None) -> None:
        self.base = dict(base)
        self.base[UNITS_CSV] = csv
        self.table, self.count, self.names, self.makers, self.progress = table, count, names, makers, progress

    def _unit_names(self, i: int) -> dict[str, str]:
        return self.names.of(i, self.table.serial.nth(i - 1))

    def __iter__(self) -> Iterator[str]:
        yield from self.base
        if self.names.kinds:
            for i in range(1, self.count + 1):
                yield from self._unit_names(i).values()

    def __len__(self) -> int:
        return len(self.base) + self.count * len(self.names.kinds)

    def __getitem__(self, name: str) -> Content:
        if name in self.base:
            return self.base[name]
        m = re.fullmatch(rf"{UNITS_DIR}/(?:[0-9]+-[0-9]+/)?([0-9]+)-[^/]+", name)
        i = int(m.group(1)) if m else 0
        columns = {v: c for c, v in self._unit_names(i).items()} if 1 <= i <= self.count else {}
        if name not in columns:
            raise KeyError(name)
        content = self.makers[columns[name]](i, self.table.unit_values(i - 1))
        if self.progress is not None and columns[name] == self.names.kinds[-1][0] and (i % 256 == 0 or
                                                                                        i == self.count):
            self.progress("unit files", i, self.count)
        return content
