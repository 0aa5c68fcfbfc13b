"""What the line kit writes, sector by sector (issue 21, point 3): the operations kit_config.tcl lists for each image,
which sflash_kit.tcl carries out and bundler/linetime.py counts.

Internal flash (STM32F2 sectors from the board layout's [mcu] sectors, RM0033 table 5): the sectors of the image's
range that hold data (a non-0xFF byte, or a per-unit range of a serialized kit) are erased and programmed, one
`erase` and one `write` per run of such sectors (the bytes from the run's first to its last non-0xFF byte, shipped as
a file of their own: OpenOCD's `flash write_image` writes whole files); every other sector of the range is `blank`:
checked on the target (the helper's CRC-32 of the sector against that of an erased one) and erased only when it is
not blank. With an SDK helper (no CRC command) those sectors are erased unconditionally instead.

Serial flash (the chip's sectors): with our helper and no chip erase, runs of data sectors are `sector` operations
(ERASE_WRITE: erase, then program; at most one helper buffer each) and runs of blank sectors `blank` operations
(ERASE_BLANK: erase only the sectors that are not blank); after a chip erase, only the data is sent, as `program`
operations (WRITE). An SDK helper gets the SDK's chunks: `update` (WRITE_ERASE_IF_NEEDED), all-0xFF chunks skipped
after a chip erase.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

ERASED = 0xFF
MCU_WRITE_ALIGN = 4       # a write file starts and ends on a word (the stm32f2x loader programs halfwords)


@dataclass(frozen=True)
class Op:
    """One operation on a range of an image: `offset` and `size` in the image's bytes."""

    op: str       # MCU: erase | write | blank; SFLASH: sector | blank | program | update
    offset: int
    size: int


def _runs(flags: Sequence[bool]) -> list[tuple[int, int, bool]]:
    """(first, count, flag) per run of equal flags."""
    out: list[tuple[int, int, bool]] = []
    for i, f in enumerate(flags):
        if out and out[-1][2] == f:
            out[-1] = (out[-1][0], out[-1][1] + 1, f)
        else:
            out.append((i, 1, f))
    return out


def _has_data(data: bytes, start: int, end: int, keep: Iterable[tuple[int, int]]) -> bool:
    """True when [start, end) of the image holds a non-0xFF byte or a per-unit range (offset, size)."""
    if data[start:end].count(ERASED) != end - start:
        return True
    return any(o < end and start < o + n for o, n in keep)


def mcu_sectors(sectors: Sequence[int], flash_base: int, base: int, size: int) -> list[tuple[int, int]]:
    """(image offset, size) of each STM32F2 sector the image [base, base + size) overlaps, clipped to the image."""
    out, start = [], flash_base
    for s in sectors:
        lo, hi = max(start, base), min(start + s, base + size)
        if lo < hi:
            out.append((lo - base, hi - lo))
        start += s
    return out


def mcu_plan(data: bytes, base: int, sectors: Sequence[int], flash_base: int, keep: Sequence[tuple[int, int]] = (),
             blank_check: bool = True) -> list[Op]:
    """Operations for an MCU image at `base`; `keep`: per-unit ranges (image offset, size), always erased."""
    spans = mcu_sectors(sectors, flash_base, base, len(data))
    flags = [_has_data(data, o, o + n, keep) for o, n in spans]
    ops: list[Op] = []
    for first, count, has_data in _runs(flags):
        lo = spans[first][0]
        hi = spans[first + count - 1][0] + spans[first + count - 1][1]
        if has_data:
            ops.append(Op("erase", lo, hi - lo))
            piece = data[lo:hi]
            start, end = len(piece) - len(piece.lstrip(b"\xff")), len(piece.rstrip(b"\xff"))
            if end > start:  # a run holding only per-unit ranges is erased, its bytes come from the unit
                start -= start % MCU_WRITE_ALIGN
                end = min(len(piece), end + -end % MCU_WRITE_ALIGN)
                ops.append(Op("write", lo + start, end - start))
        elif blank_check:
            ops += [Op("blank", o, n) for o, n in spans[first:first + count]]
        else:
            ops.append(Op("erase", lo, hi - lo))
    return ops


def sflash_plan(data: bytes, base: int, sector_size: int, buffer_size: int, keep: Sequence[tuple[int, int]] = (), *,
                erase_chip: bool, ours: bool = True) -> list[Op]:
    """Operations for an SFLASH image at chip address `base`; `keep`: per-unit ranges (image offset, size)."""
    if not ours:
        ops = []
        for off in range(0, len(data), buffer_size):
            n = min(buffer_size, len(data) - off)
            if _has_data(data, off, off + n, keep) or not erase_chip:
                ops.append(Op("update", off, n))
        return ops
    # the chip's sectors over the image, clipped to it
    spans, off = [], 0
    while off < len(data):
        n = min(sector_size - (base + off) % sector_size, len(data) - off)
        spans.append((off, n))
        off += n
    ops = []
    for first, count, has_data in _runs([_has_data(data, o, o + n, keep) for o, n in spans]):
        group = spans[first:first + count]
        if not has_data:
            if not erase_chip:
                ops.append(Op("blank", group[0][0], sum(n for _, n in group)))
            continue
        start, size = group[0][0], 0
        for o, n in group:          # at most one helper buffer per command
            if size + n > buffer_size:
                ops.append(Op("program" if erase_chip else "sector", start, size))
                start, size = o, 0
            size += n
        ops.append(Op("program" if erase_chip else "sector", start, size))
    return ops


__all__ = ["Op", "mcu_plan", "mcu_sectors", "sflash_plan"]
