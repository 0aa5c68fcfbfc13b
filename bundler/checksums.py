"""Checksums as the manifest and programmers show them: zlib CRC-32, 32-bit byte sum, SHA-256."""

from __future__ import annotations

import hashlib
import zlib
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterator, TypeVar

Buffer = bytes | bytearray | memoryview
T = TypeVar("T")

# Whole-image checksums computed once per build: the manifest and the job sheet both hash the same 16 MiB image.
_memo: dict[tuple[str, int], tuple[bytes, object]] | None = None
_MEMO_MIN = 64 << 10  # small buffers are cheap to hash again and not worth keeping alive


@contextmanager
def memoized() -> Iterator[None]:
    """Within the block, crc32 / sum32 / sha256 of the same `bytes` object are computed once. Only `bytes`
    (immutable): a bytearray or memoryview may change between two calls. The results are dropped on exit."""
    global _memo
    outer = _memo
    _memo = {} if outer is None else outer
    try:
        yield
    finally:
        _memo = outer


def _once(kind: str, data: Buffer, compute: Callable[[Buffer], T]) -> T:
    memo = _memo
    if memo is None or type(data) is not bytes or len(data) < _MEMO_MIN:
        return compute(data)
    hit = memo.get((kind, id(data)))
    if hit is not None and hit[0] is data:  # the object is kept in the entry, so its id cannot be reused meanwhile
        return hit[1]  # type: ignore[return-value]
    value = compute(data)
    memo[(kind, id(data))] = (data, value)
    return value


def crc32(data: Buffer) -> int:
    """zlib/IEEE CRC-32 (reflected 0x04C11DB7, init and final XOR 0xFFFFFFFF), as `crc32` tools print it."""
    return _once("crc32", data, lambda d: zlib.crc32(d) & 0xFFFFFFFF)


# Adler-32's low half is 1 + (sum of bytes) mod 65521; over 256 bytes the sum is at most 65280, so it is exact.
_SUM_CHUNK = 256


def sum32(data: Buffer) -> int:
    """Sum of all bytes modulo 2**32 (the "checksum" most device programmers display). Computed in C through
    zlib.adler32 on 256-byte chunks: a Python byte loop costs ~0.3 s per 16 MiB, this ~15 ms."""
    return _once("sum32", data, _sum32)


def _sum32(data: Buffer) -> int:
    view, adler = memoryview(data).cast("B"), zlib.adler32
    chunks = range(0, len(view), _SUM_CHUNK)
    return (sum(adler(view[i:i + _SUM_CHUNK]) & 0xFFFF for i in chunks) - len(chunks)) & 0xFFFFFFFF


def sha256(data: Buffer) -> str:
    return _once("sha256", data, lambda d: hashlib.sha256(d).hexdigest())


def hex32(value: int) -> str:
    return f"0x{value:08x}"


@dataclass(frozen=True)
class Checksums:
    crc32: int
    sum32: int
    sha256: str

    @classmethod
    def of(cls, data: Buffer) -> "Checksums":
        return cls(crc32(data), sum32(data), sha256(data))

    def as_dict(self) -> dict[str, str]:
        """Manifest spelling: CRC and sum as "0x%08x" strings."""
        return {"crc32": hex32(self.crc32), "sum32": hex32(self.sum32), "sha256": self.sha256}


# --- Programmer checksum forms (issue 8) ----------------------------------------------------------------------------
# A device programmer shows "the checksum" of what it will write, but families differ in WHICH bytes they feed in:
# the whole device range with blank bytes counted, only the bytes the file holds, or the image with per-unit
# (serialized) ranges left out. Ranges below are (offset, size) pairs from the start of the image/device.

Range = tuple[int, int]


def merge_ranges(ranges: "list[Range] | tuple[Range, ...]") -> list[Range]:
    """Sort (offset, size) ranges and merge overlapping or touching ones; empty ranges are dropped."""
    merged: list[list[int]] = []
    for start, size in sorted((int(o), int(s)) for o, s in ranges if s > 0):
        if start < 0:
            raise ValueError(f"range offset {start} is negative")
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], start + size)
        else:
            merged.append([start, start + size])
    return [(a, b - a) for a, b in merged]


def complement_ranges(total: int, excluded: "list[Range] | tuple[Range, ...]") -> list[Range]:
    """The parts of [0, total) not covered by `excluded` (clipped to the image), in ascending order."""
    kept, pos = [], 0
    for start, size in merge_ranges(excluded):
        start, end = min(start, total), min(start + size, total)
        if start > pos:
            kept.append((pos, start - pos))
        pos = max(pos, end)
    if pos < total:
        kept.append((pos, total - pos))
    return kept


def _check_inside(total: int, ranges: list[Range]) -> None:
    for start, size in ranges:
        if start + size > total:
            raise ValueError(f"range 0x{start:X}+0x{size:X} ends past the image end 0x{total:X}")


def sum32_device(data: Buffer, device_size: int | None = None, fill: int = 0xFF, start: int = 0) -> int:
    """32-bit byte sum over a whole device range of `device_size` bytes in which `data` sits at offset `start` and
    every other byte is the blank value `fill` (counted, as programmers that sum their whole buffer do)."""
    size = len(data) if device_size is None else device_size
    if start < 0 or start + len(data) > size:
        raise ValueError(f"data 0x{start:X}+0x{len(data):X} does not fit a device of 0x{size:X} bytes")
    return (sum32(data) + (size - len(data)) * (fill & 0xFF)) & 0xFFFFFFFF


def sum32_ranges(data: Buffer, ranges: "list[Range] | tuple[Range, ...]") -> int:
    """32-bit byte sum of the bytes inside `ranges` only (overlaps counted once)."""
    view, merged = memoryview(data), merge_ranges(ranges)
    _check_inside(len(view), merged)
    return sum(sum32(view[o:o + s]) for o, s in merged) & 0xFFFFFFFF


def crc32_ranges(data: Buffer, ranges: "list[Range] | tuple[Range, ...]") -> int:
    """zlib CRC-32 over the concatenation, in ascending address order, of the bytes inside `ranges` (overlaps once;
    the gaps between them are skipped, not filled). This is what `srec_cat ... -crc32-l-e` computes over data with
    holes, and how this tool defines "CRC-32 of the written part only"."""
    view, merged = memoryview(data), merge_ranges(ranges)
    _check_inside(len(view), merged)
    crc = 0
    for o, s in merged:
        crc = zlib.crc32(view[o:o + s], crc)
    return crc & 0xFFFFFFFF


def sha256_ranges(data: Buffer, ranges: "list[Range] | tuple[Range, ...]") -> str:
    """SHA-256 of the same concatenation as `crc32_ranges`."""
    view, merged = memoryview(data), merge_ranges(ranges)
    _check_inside(len(view), merged)
    digest = hashlib.sha256()
    for o, s in merged:
        digest.update(view[o:o + s])
    return digest.hexdigest()


def sum32_excluding(data: Buffer, excluded: "list[Range] | tuple[Range, ...]") -> int:
    """32-bit byte sum of the image with the `excluded` ranges (e.g. per-unit serial/MAC bytes) left out."""
    return sum32_ranges(data, complement_ranges(len(data), excluded))


def crc32_excluding(data: Buffer, excluded: "list[Range] | tuple[Range, ...]") -> int:
    """zlib CRC-32 over the image with the `excluded` ranges cut out (the remaining bytes concatenated in address
    order; same as `srec_cat img -binary -exclude A B -crc32-l-e ...`)."""
    return crc32_ranges(data, complement_ranges(len(data), excluded))


@dataclass(frozen=True)
class ProgrammerChecksums:
    """Every checksum form the job sheet quotes for one device image (the full device range as a byte string).

    `written` are the ranges actually written (regions); `excluded` the per-unit ranges (may be empty)."""

    sum32_device: int      # whole device range, blank bytes counted as their value
    sum32_written: int     # only the written ranges
    crc32_device: int      # zlib CRC-32 of the whole device range (== of a .bin covering the device)
    crc32_written: int     # zlib CRC-32 of the written ranges concatenated in address order
    sha256_device: str
    sum32_device_excluding: int | None = None
    crc32_device_excluding: int | None = None
    sha256_device_excluding: str | None = None

    @classmethod
    def of(cls, image: Buffer, written: "list[Range] | tuple[Range, ...]",
           excluded: "list[Range] | tuple[Range, ...]" = ()) -> "ProgrammerChecksums":
        excl = merge_ranges(excluded)
        _check_inside(len(image), excl)
        kept = complement_ranges(len(image), excl) if excl else None
        return cls(
            sum32_device=sum32(image), sum32_written=sum32_ranges(image, written),
            crc32_device=crc32(image), crc32_written=crc32_ranges(image, written), sha256_device=sha256(image),
            sum32_device_excluding=None if kept is None else sum32_ranges(image, kept),
            crc32_device_excluding=None if kept is None else crc32_ranges(image, kept),
            sha256_device_excluding=None if kept is None else sha256_ranges(image, kept),
        )
