"""Artefact writers that turn an image into file bytes.

Intel HEX is written here rather than with intelhex's writer: intelhex keeps one dict entry per byte and formats
records in Python, ~0.45 s and ~100 MB per 1 MiB image. Here each run of records is laid out column by column with
strided slice assignments and the record checksums come from big-integer arithmetic (~17 ms per MiB, with or
without skip_fill). The text is intelhex's `write_hex_file` output exactly (16-byte data records from the start
address, records split at 64 KiB boundaries, type-04 records, uppercase, LF), which the tests check byte for byte.
HEX inputs are read the same way round by bundler/hexread.py (intelhex is its oracle in the tests)."""

from __future__ import annotations

import binascii
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator

from .stream import Buffer, is_buffer, not_fill

if TYPE_CHECKING:
    from .image import Image

RECORD = 16  # data bytes per record, as intelhex and objcopy write
LINE = 1 + 2 * (4 + RECORD + 1) + 1  # ':' + hex(length, address, type, data, checksum) + LF = 44
_ALIGNED_ADDRESSES = b"".join(b"%04X" % (i * RECORD) for i in range(0x10000 // RECORD))


def _record(address: int, rtype: int, payload: bytes) -> bytes:
    """One record: ':' length, 16-bit address, type, data, two's-complement checksum of all preceding bytes."""
    total = len(payload) + (address >> 8) + (address & 0xFF) + rtype + sum(payload)
    return b":%02X%04X%02X%s%02X\n" % (len(payload), address, rtype, payload.hex().upper().encode(), -total & 0xFF)


# Record checksums for a whole run at once, in C through big-integer arithmetic: each data byte goes into a 16-bit
# lane of one integer; multiplying by 1 + 2**16 + ... + 2**240 puts in lane j the sum of lanes j-15..j (at most
# 16 * 255 + 255, so lanes never carry into each other), i.e. in the last lane of each record its byte sum. A per-record
# Python loop cost ~15 ms per MiB; this ~1 ms.
_SLIDING_SUM = int.from_bytes(b"\x01\x00" * RECORD, "little")
_NEGATE = bytes(-x & 0xFF for x in range(256))
_ALIGNED_HEADER_SUMS = bytes((RECORD + (a >> 8) + (a & 0xFF)) & 0xFF for a in range(0, 0x10000, RECORD))


def _record_checksums(full: memoryview, n: int, low: int) -> bytes:
    """The checksum byte of each of the `n` 16-byte records of `full` at 16-bit addresses low, low+16, ...:
    -(length + address high + address low + type 0 + data bytes) mod 256."""
    lanes = bytearray(2 * RECORD * n)
    lanes[0::2] = full
    if low % RECORD == 0:
        header = _ALIGNED_HEADER_SUMS[low // RECORD:low // RECORD + n]
    else:
        header = bytes((RECORD + (a >> 8) + (a & 0xFF)) & 0xFF for a in range(low, low + RECORD * n, RECORD))
    extra = bytearray(2 * RECORD * n)
    extra[2 * (RECORD - 1)::2 * RECORD] = header  # added to each record's last lane
    total = int.from_bytes(lanes, "little") * _SLIDING_SUM + int.from_bytes(extra, "little")
    last_lanes = total.to_bytes(2 * RECORD * (n + 1), "little")[2 * (RECORD - 1):2 * RECORD * n:2 * RECORD]
    return last_lanes.translate(_NEGATE)


def _data_records(chunk: memoryview, low: int) -> bytes:
    """Type-00 records for `chunk` (inside one 64 KiB block) starting at 16-bit address `low`."""
    n, tail = divmod(len(chunk), RECORD)
    buf = bytearray(LINE * n)
    if n:
        full = chunk[:n * RECORD]
        for col, char in ((0, b":"), (1, b"1"), (2, b"0"), (7, b"0"), (8, b"0"), (LINE - 1, b"\n")):
            buf[col::LINE] = char * n
        if low % RECORD == 0:
            addresses = _ALIGNED_ADDRESSES[4 * (low // RECORD):4 * (low // RECORD + n)]
        else:
            addresses = b"".join(b"%04X" % (low + RECORD * i) for i in range(n))
        for j in range(4):
            buf[3 + j::LINE] = addresses[j::4]
        digits = binascii.hexlify(full).upper()
        for k in range(2 * RECORD):
            buf[9 + k::LINE] = digits[k::2 * RECORD]
        checksums = binascii.hexlify(_record_checksums(full, n, low)).upper()
        buf[LINE - 3::LINE] = checksums[0::2]
        buf[LINE - 2::LINE] = checksums[1::2]
    if tail:
        buf += _record(low + n * RECORD, 0, bytes(chunk[n * RECORD:]))
    return bytes(buf)


def _window_spans(window: Buffer, fill: int | None) -> list[tuple[int, int]]:
    """The (start, end) offsets of the bytes the HEX holds in one window (16-byte aligned start): all of them, or
    the runs of whole records that are not all `fill` (each run of other bytes, found by the regex engine in C,
    widened to its records)."""
    if fill is None:
        return [(0, len(window))]
    spans: list[tuple[int, int]] = []
    for run in not_fill(fill).finditer(window):
        a, b = run.start() - run.start() % RECORD, min(len(window), -(-run.end() // RECORD) * RECORD)
        if spans and a <= spans[-1][1]:
            spans[-1] = (spans[-1][0], b)
        else:
            spans.append((a, b))
    return spans


def _windows(data: Buffer | Image, base: int) -> Iterator[tuple[int, Buffer]]:
    """(offset, contiguous bytes) of `data` cut at the 64 KiB address boundaries where HEX records split: an
    image is read one window at a time, never whole."""
    view = memoryview(data).cast("B") if is_buffer(data) else None  # type: ignore[arg-type]
    offset, size = 0, len(data)
    while offset < size:
        span = min(size - offset, 0x10000 - ((base + offset) & 0xFFFF))
        yield offset, view[offset:offset + span] if view is not None else data.read(offset, offset + span)  # type: ignore[union-attr]
        offset += span


def hex_data_spans(data: Buffer | Image, base: int, fill: int | None) -> list[tuple[int, int]]:
    """The (start, end) offsets of the bytes `intel_hex(data, base, skip_fill=fill)` holds (base 16-byte aligned
    when `fill` is given)."""
    spans: list[tuple[int, int]] = []
    for offset, window in _windows(data, base):
        for a, b in _window_spans(window, fill):
            if spans and spans[-1][1] == offset + a:
                spans[-1] = (spans[-1][0], offset + b)
            else:
                spans.append((offset + a, offset + b))
    return spans


def intel_hex_chunks(data: Buffer | Image, base: int, *, skip_fill: int | None = None) -> Iterator[bytes]:
    """Intel HEX of `data` loaded at `base`, 64 KiB of data at a time. With `skip_fill`, records whose bytes are all
    that value are left out (a programmer then leaves them erased)."""
    if skip_fill is not None and base % RECORD:
        raise ValueError("skip_fill needs a 16-byte aligned base address")  # records would straddle kept spans
    # as intelhex: type-04 records only when some address is above 0xFFFF, then one first and one per 64 KiB
    upper = -1 if base + len(data) - 1 > 0xFFFF else 0
    for offset, window in _windows(data, base):
        for start, end in _window_spans(window, skip_fill):
            address = base + offset + start
            if address >> 16 != upper:
                upper = address >> 16
                yield _record(0, 4, upper.to_bytes(2, "big"))
            yield _data_records(memoryview(window)[start:end], address & 0xFFFF)
    yield _record(0, 1, b"")


def intel_hex(data: Buffer | Image, base: int, *, skip_fill: int | None = None) -> bytes:
    return b"".join(intel_hex_chunks(data, base, skip_fill=skip_fill))


@dataclass(frozen=True, eq=False)
class HexText:
    """The Intel HEX text of an image as a Stream: produced when written or hashed, not held (2.75 MiB per MiB)."""

    image: Image
    skip_fill: bool

    def chunks(self) -> Iterator[bytes]:
        return intel_hex_chunks(self.image, self.image.base_address,
                                skip_fill=self.image.fill if self.skip_fill else None)


class PatchedHex:
    """Intel HEX of many variants of `data` (at `base`, 16-byte aligned) that differ only inside `ranges`
    ((offset, size) pairs), e.g. a serialized run's per-unit DCT sectors: the text is made once, and a variant only
    makes again the records its ranges fall in (records hold 16 bytes from aligned addresses: a change stays in
    its records). Every variant's text is `intel_hex` of the variant's bytes."""

    def __init__(self, data: Buffer, base: int, ranges: "list[tuple[int, int]]") -> None:
        if base % RECORD:
            raise ValueError("a patched HEX needs a 16-byte aligned base address")
        self.data, self.base, self.text = bytes(data), base, intel_hex(data, base)
        touched = sorted({at - at % RECORD for o, n in ranges for at in range(o, o + n)})
        wanted, where, upper, pos = set(touched), {}, 0, 0
        for line in self.text.splitlines(keepends=True):  # ":LLAAAATT...": type 04 sets the upper 16 address bits
            kind, low = line[7:9], int(line[3:7], 16)
            if kind == b"04":
                upper = int(line[9:13], 16)
            elif kind == b"00" and (upper << 16 | low) - base in wanted:
                where[(upper << 16 | low) - base] = (pos, pos + len(line))
            pos += len(line)
        self.records = [(at, *where[at]) for at in touched]

    def variant(self, patches: "list[tuple[int, bytes]]") -> bytes:
        """The HEX text of `data` with each (offset, bytes) of `patches` (inside `ranges`) written over it."""
        data = bytearray(self.data)
        for offset, value in patches:
            data[offset:offset + len(value)] = value
        pieces, last = [], 0
        for at, start, end in self.records:
            pieces += (self.text[last:start], _record((self.base + at) & 0xFFFF, 0, bytes(data[at:at + RECORD])))
            last = end
        pieces.append(self.text[last:])
        return b"".join(pieces)
