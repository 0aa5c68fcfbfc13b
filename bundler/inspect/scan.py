"""Scanning an image for the fill: runs of other bytes, the first and last of them, the first difference between
two images. Whole blocks are compared with memcmp first; erased images are mostly fill.
"""

from __future__ import annotations

import functools
from typing import Iterator

from ..stream import not_fill


BLOCK = 4096  # erased images are mostly fill: compare whole blocks with memcmp, run the regex only where one differs
_COARSE = 16  # blocks compared at once first: a whole erased 64 KiB is one memcmp


@functools.lru_cache(maxsize=4)
def _blanks(fill: int) -> tuple[bytes, bytes]:
    """`fill` x (a block, _COARSE blocks)."""
    return bytes([fill]) * BLOCK, bytes([fill]) * (BLOCK * _COARSE)


def span(data: bytes, lo: int, hi: int | None) -> tuple[int, int]:
    """data[lo:hi] as an in-bounds (start, end), end >= start."""
    lo = max(0, lo)
    return lo, max(lo, len(data) if hi is None else min(hi, len(data)))


def spans(data: bytes, fill: int, lo: int, hi: int) -> Iterator[tuple[int, int, bool]]:
    """data[lo:hi] cut into maximal (start, end, erased) spans of whole blocks (from lo; the last may be shorter):
    erased spans are all `fill`, the others have in each block a byte that is not. `startswith` compares in place
    (memcmp); a memoryview slice compared with bytes goes element by element, ~20x slower."""
    blank, coarse = _blanks(fill)
    start, pos, erased = lo, lo, True
    while pos < hi:
        if pos + len(coarse) <= hi and data.startswith(coarse, pos):
            step, now = len(coarse), True
        else:
            step = min(BLOCK, hi - pos)
            now = data.startswith(blank if step == BLOCK else blank[:step], pos)
        if now != erased and pos > start:
            yield start, pos, erased
            start = pos
        erased = now
        pos += step
    if hi > start:
        yield start, hi, erased


def non_fill_runs(data: bytes, fill: int, lo: int = 0, hi: int | None = None) -> Iterator[tuple[int, int]]:
    """(start, end) of each run of bytes other than `fill` in data[lo:hi], as offsets in `data`."""
    lo, hi = span(data, lo, hi)
    pattern = not_fill(fill)
    for start, end, erased in spans(data, fill, lo, hi):
        if not erased:  # a maximal span: a run cannot go on into the erased blocks around it
            for m in pattern.finditer(data, start, end):
                yield m.start(), m.end()


def first_not(data: bytes, fill: int, lo: int = 0, hi: int | None = None) -> int | None:
    """Offset in `data` of the first byte of data[lo:hi] that is not `fill`, or None."""
    return next((start for start, _ in non_fill_runs(data, fill, lo, hi)), None)


def last_not(data: bytes, fill: int, lo: int = 0, hi: int | None = None) -> int | None:
    """Offset in `data` of the last byte of data[lo:hi] that is not `fill`, or None (blocks from the end)."""
    lo, hi = span(data, lo, hi)
    blank, end = _blanks(fill)[0], hi
    while end > lo:
        start = max(lo, end - BLOCK)
        if not data.startswith(blank if end - start == BLOCK else blank[:end - start], start):
            return start + len(data[start:end].rstrip(blank[:1])) - 1
        end = start
    return None


def first_diff(a: bytes, b: bytes) -> int | None:
    """Offset of the first differing byte (compared 64 KiB at a time with memcmp, then byte by byte; bytes slices:
    memoryviews compare element by element)."""
    n, step, i = min(len(a), len(b)), 1 << 16, 0
    while i < n and a[i:i + step] == b[i:i + step]:
        i += step
    if i >= n:
        return None if len(a) == len(b) else n
    while a[i] == b[i]:
        i += 1
    return i
