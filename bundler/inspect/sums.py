"""Checksums of ranges of an image, each computed once per run.

One run looks at the same bytes several times: the file and its image (the same object for a .bin), a manifest
region that is also a LUT component, the artefact match and the region check. Each checksum of a range of an
immutable `bytes` object is computed once per run (for `bytes` only: a bytearray may change in between).
"""

from __future__ import annotations

from typing import Any, Callable

from ..checksums import crc32, hex32, sha256, sum32
from .context import Context
from .scan import last_not, span, spans


def once(ctx: Context, what: str, data: bytes, lo: int, hi: int, compute: Callable[[memoryview], Any]) -> Any:
    if type(data) is not bytes:
        return compute(memoryview(data)[lo:hi])
    key = (what, id(data), lo, hi)
    hit = ctx.sums.get(key)
    if hit is not None and hit[0] is data:  # the entry keeps `data` alive: its id cannot be reused meanwhile
        return hit[1]
    value = compute(memoryview(data)[lo:hi])
    ctx.sums[key] = (data, value)
    return value


def run_sha256(ctx: Context, data: bytes, lo: int = 0, hi: int | None = None) -> str:
    lo, hi = span(data, lo, hi)
    return once(ctx, "sha256", data, lo, hi, sha256)  # type: ignore[no-any-return]


def run_crc32(ctx: Context, data: bytes, lo: int = 0, hi: int | None = None) -> int:
    lo, hi = span(data, lo, hi)
    return once(ctx, "crc32", data, lo, hi, crc32)  # type: ignore[no-any-return]


def run_sum32(ctx: Context, data: bytes) -> int:
    """checksums.sum32 of `data`, where each block of erased flash adds its size x fill unread: the byte sum is
    the slowest checksum (~1.5 ms per MiB) and erased sectors are most of an SFLASH image."""

    def compute(view: memoryview) -> int:
        fill = ctx.board.sflash.fill  # any value gives the same sum; the erased one skips the most
        return sum((end - start) * fill if erased else sum32(view[start:end])
                   for start, end, erased in spans(data, fill, 0, len(data))) & 0xFFFFFFFF

    return once(ctx, "sum32", data, 0, len(data), compute)  # type: ignore[no-any-return]


def run_checksums(ctx: Context, data: bytes) -> dict[str, str]:
    """`Checksums.of(data).as_dict()`, once per run."""
    return {"crc32": hex32(run_crc32(ctx, data)), "sum32": hex32(run_sum32(ctx, data)), "sha256": run_sha256(ctx, data)}


def region_sums(ctx: Context, data: bytes, lo: int, hi: int, fill: int) -> dict[str, Any]:
    """data[lo:hi]: erased?, the size up to its last byte that is not fill, crc32, sha256."""
    last = last_not(data, fill, lo, hi)
    return {"erased": last is None, "used_size": 0 if last is None else last + 1 - lo,
            "crc32": hex32(run_crc32(ctx, data, lo, hi)), "sha256": run_sha256(ctx, data, lo, hi)}
