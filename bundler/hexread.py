"""Intel HEX reader: one streaming pass, memory proportional to the data the file holds, bounded on hostile input.

Why not intelhex here (it reads the records the same way and is the oracle of tests/test_hexread.py): it keeps one
dict entry per data byte (~100 bytes each) and decodes each record in Python, and sizes are known only at the end
(a 16 MiB read-back as .hex: ~6 s and 1.8 GB; README "Why Intel HEX is read without intelhex"). Here:

* the text is read in blocks; runs of records of one shape (the same length and type 00, consecutive addresses,
  as every writer makes them) are decoded column by column with strided slices, their checksums verified with
  one big-integer product (the trick of bundler/writers.py), so a record costs well under a microsecond;
* any other line (type 01-05, a short last record, a different length, a broken record) takes the record-by-record
  path, which words the error with its line number; it also takes over for a while after a run fails, so
  crafted text cannot make the fast path retry each line (linear time either way);
* each record is checked against the caller's address range, the span limit and the count limits as soon as it
  is read, so a file that would not fit is refused before the rest is read.

Accepted exactly as intelhex 2.3 accepts (`_decode_record`): empty lines skipped, trailing CR/LF stripped, types
00-05 with their length rules, one start address record, nothing read after the EOF record, overlapping data
refused.
"""

from __future__ import annotations

import binascii
import functools
from dataclasses import dataclass
from typing import Iterable

from .errors import InputError, hexsize

# Limits (README "Limits"): see the module docstring.
MAX_SEGMENTS = 1 << 16  # separate address ranges (records out of order); writers make a few
MAX_SLOW_RECORDS = 2_000_000  # records that are not part of a uniform run (~2 s of work)
_RUN = 4096  # lines decoded at once on the fast path
_BACKOFF = 64  # lines taken record by record after a fast attempt fails
_SLIDE = {r: int.from_bytes(b"\x01\x00" * r, "little") for r in range(5, 258)}  # see _checksums_ok


@dataclass(frozen=True)
class HexData:
    """What a HEX file holds: (address, bytes) runs in address order, merged where they touch."""

    segments: tuple[tuple[int, bytes], ...]
    start_address: int | None  # type 03 (CS:IP as CS*16+IP) or 05 record, if any

    @property
    def start(self) -> int:
        return self.segments[0][0]

    @property
    def end(self) -> int:
        return max(a + len(d) for a, d in self.segments)


class _Parser:
    def __init__(self, name: str, bounds: tuple[int, int, str] | None, max_span: int) -> None:
        self.name = name
        self.bounds = bounds
        self.max_span = max_span
        self.offset = 0  # from type 02 / 04 records
        self.start_address: int | None = None
        self.line = 0  # number of the last line handled
        self.done = False
        self.segments: list[list] = []  # [start, bytearray, first line]
        self.ends: dict[int, list] = {}  # end address -> open segment, to extend records that follow it
        self.lo: int | None = None
        self.hi = 0
        self.slow = 0
        self.backoff = 0

    def fail(self, message: str, line: int | None = None) -> InputError:
        return InputError(f"invalid Intel HEX: line {line or self.line}: {message}", self.name)

    # ------------------------------------------------------------------ data

    def place(self, address: int, data: bytes | bytearray, first: int) -> None:
        """Data read from line `first` on, for `address`."""
        if not data:
            return
        end = address + len(data)
        if self.bounds is not None and (address < self.bounds[0] or end > self.bounds[1]):
            lo, hi, what = self.bounds
            raise self.fail(f"data at 0x{address:08X}-0x{end - 1:08X} is outside {what} (0x{lo:08X}-0x{hi - 1:08X})",
                            first)
        lo = address if self.lo is None else min(self.lo, address)
        hi = max(self.hi, end)
        if hi - lo > self.max_span:
            raise self.fail(f"records span 0x{lo:08X}-0x{hi - 1:08X} ({hexsize(hi - lo)}), more than any image "
                            f"({hexsize(self.max_span)})", first)
        self.lo, self.hi = lo, hi
        seg = self.ends.pop(address, None)
        if seg is not None:
            seg[1] += data
        else:
            if len(self.segments) >= MAX_SEGMENTS:
                raise self.fail(f"more than {MAX_SEGMENTS} separate address ranges", first)
            seg = [address, bytearray(data), first]
            self.segments.append(seg)
        self.ends[end] = seg

    # ------------------------------------------------------------------ one record (intelhex's rules)

    def record(self, text: bytes) -> None:
        self.line += 1
        text = text.rstrip(b"\r\n")
        if not text:
            return
        self.slow += 1
        if self.slow > MAX_SLOW_RECORDS:
            raise self.fail(f"more than {MAX_SLOW_RECORDS} records outside runs of uniform records")
        if text[:1] != b":":
            raise self.fail("expected ':' at the start of the record")
        try:
            rec = binascii.unhexlify(text[1:])
        except (binascii.Error, ValueError):
            raise self.fail("the record is not an even number of hex digits") from None
        if len(rec) < 5:
            raise self.fail(f"{len(rec)} bytes, a record has at least 5")
        length, address, rtype = rec[0], rec[1] << 8 | rec[2], rec[3]
        if len(rec) != 5 + length:
            raise self.fail(f"record length {length} but {len(rec) - 5} data bytes")
        if rtype > 5:
            raise self.fail(f"record type {rtype}, expected 0-5")
        if sum(rec) & 0xFF:
            raise self.fail(f"checksum 0x{rec[-1]:02X}, expected 0x{(rec[-1] - sum(rec)) & 0xFF:02X}")
        payload = rec[4:-1]
        if rtype == 0:
            self.place(self.offset + address, payload, self.line)
        elif rtype == 1:
            if length:
                raise self.fail("an end-of-file record (type 01) holds no data")
            self.done = True
        elif rtype in (2, 4):
            if length != 2 or address:
                raise self.fail(f"a type {rtype:02d} record has 2 data bytes and address 0")
            self.offset = int.from_bytes(payload, "big") * (16 if rtype == 2 else 0x10000)
        else:
            if length != 4 or address:
                raise self.fail(f"a type {rtype:02d} record has 4 data bytes and address 0")
            if self.start_address is not None:
                raise self.fail("a second start address record")
            value = int.from_bytes(payload, "big")
            self.start_address = (value >> 16) * 16 + (value & 0xFFFF) if rtype == 3 else value

    # ------------------------------------------------------------------ runs of uniform records

    def run(self, buf: bytes, pos: int, limit: int, line_len: int, length: int, address: int) -> int:
        """Decode the longest run (at most _RUN) of type-00 records of `length` bytes at 16-bit addresses `address`,
        `address + length`, ... each on a line of `line_len` bytes, from `pos`; return the lines taken (0: none)."""
        rec = 5 + length
        eol = line_len - 1 - 2 * rec
        if eol not in (1, 2) or not 0 < length <= 252:
            return 0
        n = min((limit - pos) // line_len, (0x10000 - address) // length, _RUN)
        if n < 8:
            return 0
        block = buf[pos:pos + n * line_len]
        n = min(n, _agree(block[0::line_len], b":" * n), _agree(block[line_len - 1::line_len], b"\n" * n))
        if eol == 2:
            n = min(n, _agree(block[line_len - 2::line_len], b"\r" * n))
        if n < 8:
            return self._back_off()
        try:
            raw = binascii.unhexlify(block[:n * line_len].replace(b":", b"").replace(b"\n", b"").replace(b"\r", b""))
        except (binascii.Error, ValueError):
            return self._back_off()
        if len(raw) != n * rec:
            return self._back_off()
        high, low = _addresses(length, address % length)
        k = address // length
        n = min(n, _agree(raw[0::rec], bytes([length]) * n), _agree(raw[3::rec], bytes(n)),
                _agree(raw[1::rec], high[k:k + n]), _agree(raw[2::rec], low[k:k + n]))
        n = min(n, _checksums_ok(raw[:n * rec], rec, n))
        absolute = self.offset + address
        if self.bounds is not None:  # stop before the first record outside: the record path words the error
            n = min(n, max(0, (self.bounds[1] - absolute) // length)) if absolute >= self.bounds[0] else 0
        if n < 8:
            return self._back_off()
        data = bytearray(n * length)
        raw = raw[:n * rec]
        for j in range(length):
            data[j::length] = raw[4 + j::rec]
        self.place(absolute, data, self.line + 1)
        self.line += n
        return n

    def _back_off(self) -> int:
        self.backoff = _BACKOFF
        return 0

    def finish(self) -> HexData:
        self.segments.sort(key=lambda s: s[0])
        merged: list[tuple[int, bytes]] = []
        prev_end, prev_line = -1, 0
        pieces: list[list] = []
        for start, data, line in self.segments:
            if start < prev_end:
                raise InputError(f"invalid Intel HEX: line {line}: data at 0x{start:08X} overlaps the data of line "
                                 f"{prev_line} (address given twice)", self.name)
            if pieces and start == prev_end:
                pieces[-1][1].append(data)
            else:
                pieces.append([start, [data]])
            prev_end, prev_line = start + len(data), line
        self.segments = []
        for start, parts in pieces:
            merged.append((start, bytes(parts[0]) if len(parts) == 1 else b"".join(parts)))
            parts.clear()
        return HexData(tuple(merged), self.start_address)


def _agree(a: bytes, b: bytes) -> int:
    """Length of the common prefix of a and b (binary search over C comparisons)."""
    n = min(len(a), len(b))
    if a[:n] == b[:n]:
        return n
    lo, hi = 0, n  # a[:lo] == b[:lo], a[:hi] != b[:hi]
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if a[lo:mid] == b[lo:mid]:
            lo = mid
        else:
            hi = mid
    return lo


@functools.lru_cache(maxsize=64)
def _addresses(length: int, phase: int) -> tuple[bytes, bytes]:
    """High and low bytes of the 16-bit addresses phase, phase + length, ... below 0x10000."""
    addresses = range(phase, 0x10000, length)
    return bytes(a >> 8 for a in addresses), bytes(a & 0xFF for a in addresses)


def _checksums_ok(raw: bytes, rec: int, n: int) -> int:
    """How many of the first records of `raw` (`n` records of `rec` bytes) have a byte sum of 0 mod 256. Each byte
    goes into a 16-bit lane of one integer; multiplying by 1 + 2**16 + ... puts in the last lane of each record its
    byte sum (at most 257 * 255 < 2**16, so lanes never carry into each other)."""
    lanes = bytearray(2 * rec * n)
    lanes[0::2] = raw
    total = int.from_bytes(lanes, "little") * _SLIDE[rec]
    sums = total.to_bytes(2 * rec * (n + 1), "little")[2 * (rec - 1):2 * rec * n:2 * rec]
    return _agree(sums, bytes(n))


_BLOCK = 1 << 20


def parse_hex(chunks: Iterable[bytes], name: str, *, bounds: tuple[int, int, str] | None = None,
              max_span: int) -> HexData:
    """Read Intel HEX text given in blocks. `bounds` = (lowest address, end address, what) that every data byte
    must fall in; `max_span`: the largest distance from the lowest to the highest address."""
    p = _Parser(name, bounds, max_span)
    rest = b""
    for chunk in chunks:
        if p.done:
            break
        buf = rest + chunk if rest else chunk
        cut = buf.rfind(b"\n") + 1
        if not cut:
            rest = buf
            if len(rest) > _BLOCK:
                p.line += 1
                raise p.fail(f"a line longer than {hexsize(_BLOCK)}")
            continue
        _lines(p, buf, cut)
        rest = buf[cut:]
    if rest and not p.done:
        p.record(rest)
    return p.finish()


def _lines(p: _Parser, buf: bytes, limit: int) -> None:
    pos = 0
    while pos < limit and not p.done:
        nl = buf.index(b"\n", pos) + 1
        line = buf[pos:nl]
        p.record(line)
        pos = nl
        if p.backoff:
            p.backoff -= 1
            continue
        # a data record: try the records after it as a run of the same shape
        if len(line) > 11 and line[7:9] == b"00":
            try:
                length, address = int(line[1:3], 16), int(line[3:7], 16)
            except ValueError:
                continue
            following = address + length
            while pos < limit and (taken := p.run(buf, pos, limit, len(line), length, following)):
                pos += taken * len(line)
                following += taken * length
