"""Checksums as the manifest and programmers show them: zlib CRC-32, 32-bit byte sum, SHA-256 - of buffers and
streamed images, over ranges or with ranges excluded (`ProgrammerChecksums`: the forms the job sheet prints).

One job, computing checksums; two helpers belong to it: the per-build memo (`memoized`: a 16 MiB image hashed once
for the manifest and the job sheet) and the CRC-32 shift arithmetic (`crc32_shift`, `Linear32`) with which
`bundler.units` gets each unit's CRC from the base image's without reading the image again."""

from __future__ import annotations

import hashlib
import zlib
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, TypeVar, Union, cast

from .stream import Buffer, Fill, Stream, is_buffer

if TYPE_CHECKING:
    from .image import Image

T = TypeVar("T")
Data = Union[Buffer, Stream]  # a buffer, or content streamed block by block (an Image, an Intel HEX text, a file)

# Checksums computed once per build: the manifest and the job sheet hash the same 16 MiB image.
_memo: dict[tuple[str, int], tuple[object, object]] | None = None
_MEMO_MIN = 64 << 10  # small buffers are cheap to hash again and not worth keeping alive


@contextmanager
def memoized() -> Iterator[None]:
    """Within the block, the checksums of the same `bytes` object or stream are computed once. Only immutable
    content: a bytearray or memoryview may change between two calls. The results are dropped on exit."""
    global _memo
    outer = _memo
    _memo = {} if outer is None else outer
    try:
        yield
    finally:
        _memo = outer


def _once(kind: str, data: Data, compute: Callable[[Any], T], store: bool = True) -> T:
    # `compute` takes a buffer (zlib, hashlib) or a stream (a fold over its chunks) as its caller knows: Any here
    memo = _memo
    if memo is None or (is_buffer(data) and (type(data) is not bytes or len(data) < _MEMO_MIN)):  # type: ignore[arg-type]
        return compute(data)
    hit = memo.get((kind, id(data)))
    if hit is not None and hit[0] is data:  # the object is kept in the entry, so its id cannot be reused meanwhile
        return hit[1]  # type: ignore[return-value]
    value = compute(data)
    if store:
        memo[(kind, id(data))] = (data, value)
    return value


def crc32(data: Data) -> int:
    """zlib/IEEE CRC-32 (reflected 0x04C11DB7, init and final XOR 0xFFFFFFFF), as `crc32` tools print it."""
    if not is_buffer(data):
        return Checksums.of(data).crc32
    return _once("crc32", data, lambda d: zlib.crc32(d) & 0xFFFFFFFF)


# Adler-32's low half is 1 + (sum of bytes) mod 65521; over 256 bytes the sum is at most 65280, so it is exact.
_SUM_CHUNK = 256


def sum32(data: Data) -> int:
    """Sum of all bytes modulo 2**32 (the "checksum" most device programmers display). Computed in C through
    zlib.adler32 on 256-byte chunks: a Python byte loop costs ~0.3 s per 16 MiB, this ~15 ms."""
    if not is_buffer(data):
        return Checksums.of(data).sum32
    return _once("sum32", data, _sum32)


def _sum32(data: Buffer) -> int:
    view, adler = memoryview(data).cast("B"), zlib.adler32
    chunks = range(0, len(view), _SUM_CHUNK)
    return (sum(adler(view[i:i + _SUM_CHUNK]) & 0xFFFF for i in chunks) - len(chunks)) & 0xFFFFFFFF


def sha256(data: Data) -> str:
    if not is_buffer(data):
        return Checksums.of(data).sha256
    return _once("sha256", data, lambda d: hashlib.sha256(d).hexdigest())


def _fold(chunks: Iterable[Buffer | Fill], with_sha256: bool = True) -> "Checksums":
    """The checksums of a sequence of chunks in one pass. A fill run is summed without being read; a whole placed
    part's sum is memoized (the manifest summed it as a region already). Without `with_sha256`, sha256 is ""."""
    crc, digest, total = 0, hashlib.sha256() if with_sha256 else None, 0
    for chunk in chunks:
        if isinstance(chunk, Fill):
            total += chunk.size * chunk.value
            for block in chunk.blocks():
                crc = zlib.crc32(block, crc)
                if digest is not None:
                    digest.update(block)
        else:
            crc = zlib.crc32(chunk, crc)
            if digest is not None:
                digest.update(chunk)
            total += _once("sum32", chunk, _sum32, store=False)  # a block read from a file must not be kept
    return Checksums(crc & 0xFFFFFFFF, total & 0xFFFFFFFF, "" if digest is None else digest.hexdigest())


def hex32(value: int) -> str:
    return f"0x{value:08x}"


@dataclass(frozen=True)
class Checksums:
    crc32: int
    sum32: int
    sha256: str

    @classmethod
    def of(cls, data: Data) -> "Checksums":
        if is_buffer(data):
            return cls(crc32(data), sum32(data), sha256(data))
        return _once("all", data, lambda d: _fold(d.chunks()))  # one pass: a stream may be costly to produce

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


def sum32_device(data: Data, device_size: int | None = None, fill: int = 0xFF, start: int = 0) -> int:
    """32-bit byte sum over a whole device range of `device_size` bytes in which `data` sits at offset `start` and
    every other byte is the blank value `fill` (counted, as programmers that sum their whole buffer do)."""
    size = len(data) if device_size is None else device_size
    if start < 0 or start + len(data) > size:
        raise ValueError(f"data 0x{start:X}+0x{len(data):X} does not fit a device of 0x{size:X} bytes")
    return (sum32(data) + (size - len(data)) * (fill & 0xFF)) & 0xFFFFFFFF


def ranges_checksums(data: Data, ranges: "list[Range] | tuple[Range, ...]", with_sha256: bool = True) -> Checksums:
    """Checksums of the concatenation, in ascending address order, of the bytes inside `ranges` (overlaps once; the
    gaps between them skipped, not filled). Its CRC-32 is what `srec_cat ... -crc32-l-e` computes over data with
    holes, and how this tool defines "CRC-32 of the written part only"."""
    merged = merge_ranges(ranges)
    _check_inside(len(data), merged)
    if is_buffer(data):
        view = memoryview(data).cast("B")  # type: ignore[arg-type]
        return _fold((view[o:o + s] for o, s in merged), with_sha256)
    image = cast("Image", data)  # a stream here is an Image: its chunks can start anywhere
    return _fold((chunk for o, s in merged for chunk in image.chunks(o, o + s)), with_sha256)


def sum32_ranges(data: Data, ranges: "list[Range] | tuple[Range, ...]") -> int:
    """32-bit byte sum of the bytes inside `ranges` only (overlaps counted once)."""
    return ranges_checksums(data, ranges, with_sha256=False).sum32


def excluding_checksums(data: Data, excluded: "list[Range] | tuple[Range, ...]") -> Checksums:
    """Checksums of the image with the `excluded` ranges (e.g. per-unit serial/MAC bytes) cut out, the remaining
    bytes concatenated in address order (CRC-32 as `srec_cat img -binary -exclude A B -crc32-l-e ...`)."""
    return ranges_checksums(data, complement_ranges(len(data), excluded))


@dataclass(frozen=True)
class ProgrammerChecksums:
    """Every checksum form the job sheet quotes for one device image (the full device range as a byte string).

    `written` are the ranges actually written (regions); `excluded` the per-unit ranges (may be empty)."""

    sum32_device: int      # whole device range, blank bytes counted as their value
    crc32_device: int      # zlib CRC-32 of the whole device range (== of a .bin covering the device)
    crc32_written: int     # zlib CRC-32 of the written ranges concatenated in address order
    sha256_device: str
    sum32_device_excluding: int | None = None
    crc32_device_excluding: int | None = None
    sha256_device_excluding: str | None = None

    @classmethod
    def of(cls, image: Data, written: "list[Range] | tuple[Range, ...]",
           excluded: "list[Range] | tuple[Range, ...]" = ()) -> "ProgrammerChecksums":
        excl = merge_ranges(excluded)
        _check_inside(len(image), excl)
        device, part = Checksums.of(image), ranges_checksums(image, written, with_sha256=False)
        kept = excluding_checksums(image, excl) if excl else None
        return cls(
            sum32_device=device.sum32, crc32_device=device.crc32, crc32_written=part.crc32,
            sha256_device=device.sha256,
            sum32_device_excluding=None if kept is None else kept.sum32,
            crc32_device_excluding=None if kept is None else kept.crc32,
            sha256_device_excluding=None if kept is None else kept.sha256,
        )


# --- CRC-32 arithmetic (issue 17): a changed image's CRC from the old one, without reading the image again ---------
# zlib's CRC-32 is affine over GF(2): changing bytes at offset o (n of them) of an L-byte buffer changes its CRC by
# the raw CRC (register 0, no final XOR) of old XOR new, advanced over the L - o - n bytes that follow. Advancing a
# raw CRC over k zero bytes multiplies it by x^(8k) modulo the polynomial: zlib's crc32_combine (multmodp, x2nmodp).
_POLY = 0xEDB88320  # 0x04C11DB7, reflected: bit 31 is x^0


def _multmodp(a: int, b: int) -> int:
    """a * b modulo the CRC polynomial, both in reflected bit order."""
    m, p = 1 << 31, 0
    while a:
        if a & m:
            p ^= b
            a ^= m
        m >>= 1
        b = (b >> 1) ^ _POLY if b & 1 else b >> 1
    return p


_X2N = [1 << 30]  # x^(2^k) mod P for k = 0, 1, ...: x^1 is bit 30; squaring steps k up (lengths up to 2^60 bytes)
for _ in range(63):
    _X2N.append(_multmodp(_X2N[-1], _X2N[-1]))


def _x8n(n: int) -> int:
    """x^(8n) mod P: the operator that advances a raw CRC over n zero bytes."""
    if n < 0:
        raise ValueError(f"negative length {n}")
    p, k = 1 << 31, 3
    while n:
        if n & 1:
            p = _multmodp(_X2N[k], p)
        n >>= 1
        k += 1
    return p


def crc32_shift(crc: int, n: int) -> int:
    """`crc` advanced over n zero bytes without the pre/post inversion: the share of a change's raw CRC in the CRC
    of a buffer where n bytes follow the change (linear in `crc`)."""
    return _multmodp(_x8n(n), crc)


def crc32_raw(data: Buffer) -> int:
    """CRC register after `data` from 0, no final XOR: linear in the bytes (raw(a ^ b) = raw(a) ^ raw(b))."""
    return zlib.crc32(data, 0xFFFFFFFF) ^ 0xFFFFFFFF  # zlib inverts the start value: 0xFFFFFFFF starts at 0


class Linear32:
    """A GF(2)-linear map of 32-bit words (e.g. crc32_shift by a fixed length, or several packed side by side in one
    integer), given by the images of the 32 single-bit words and applied with one table lookup per byte."""

    __slots__ = ("tables",)

    def __init__(self, basis: "list[int] | tuple[int, ...]") -> None:
        if len(basis) != 32:
            raise ValueError("a map of 32-bit words needs the images of its 32 bits")
        self.tables: tuple[list[int], ...] = tuple(self._table(basis[8 * i:8 * i + 8]) for i in range(4))

    @staticmethod
    def _table(bits: "list[int] | tuple[int, ...]") -> list[int]:
        table = [0] * 256
        for b in range(1, 256):
            low = b & -b  # table[b] = table[b without its lowest bit] ^ image of that bit
            table[b] = table[b ^ low] ^ bits[low.bit_length() - 1]
        return table

    @classmethod
    def of(cls, f: Callable[[int], int]) -> "Linear32":
        """The map that `f` (linear) is."""
        return cls([f(1 << j) for j in range(32)])

    def __call__(self, v: int) -> int:
        t0, t1, t2, t3 = self.tables
        return t0[v & 0xFF] ^ t1[v >> 8 & 0xFF] ^ t2[v >> 16 & 0xFF] ^ t3[v >> 24]
