"""The write plan of one line kit (issue 21, points 3 and 4): each image's operations (bundler/writeplan.py), the
serial-flash erase — chip erase only when the time model (bundler/linetime.py) says it is faster, unless the caller
chose —, the files the MCU `write` operations program, the operation lists as kit_config.tcl gives them, and the
estimate for the plan chosen."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Sequence

from ..layout import Board, Chip
from ..linetime import Estimate, KitImage, blank_crc, count_board, estimate
from ..writeplan import Op, mcu_plan, sflash_plan
from .helper import HELPER_BUFFER_SIZE


@dataclass(frozen=True)
class PlanImage:
    file: str                                # the artefact's file name
    kind: str                                # "mcu" | "sflash"
    base: int
    written: bytes                           # the file the kit writes (serialized MCU image: per-unit ranges 0xFF)
    final: bytes                             # what the board ends with (a serialized kit: its first unit's bytes)
    unit_ranges: tuple[tuple[int, int], ...] = ()  # per-unit ranges (offset, size) of a serialized kit
    written_name: str = ""                   # the kit's name for `written` (default: `file`)


@dataclass(frozen=True)
class KitPlan:
    erase_chip: bool
    ops: dict[str, tuple[Op, ...]]           # per artefact file
    parts: dict[str, bytes]                  # files the MCU `write` operations program, by kit file name
    part_names: dict[tuple[str, int], str]   # (artefact file, offset) -> part file name
    kinds: dict[str, str]                    # artefact file -> "mcu" | "sflash"
    estimate: Estimate                       # its other_total: the other serial-flash erase, when compared

    def tcl_ops(self, file: str) -> str:
        """The operation list of `file` for kit_config.tcl: {what offset size [part file | blank CRC-32]} ..."""
        out = []
        for op in self.ops[file]:
            extra = ""
            if op.op == "write":
                extra = " " + self.part_names[(file, op.offset)]
            elif op.op == "blank" and self.kinds[file] == "mcu":  # the CRC-32 of an erased sector
                extra = f" 0x{blank_crc(op.size):08x}"
            out.append(f"{{{op.op} {op.offset} {op.size}{extra}}}")
        return " ".join(out)


def part_name(written_name: str, offset: int) -> str:
    """Kit file for the bytes of `written_name` from `offset` that one MCU `write` programs."""
    return f"{written_name.rsplit('.', 1)[0]}.part-{offset:06x}.bin"


def plan_kit(images: Sequence[PlanImage], *, board: Board, chip: Chip, adapter: str, page_size: int, prescaler: int,
             helper_bytes: int, ours: bool, erase_chip: bool | None = None) -> KitPlan:
    """The plan for `images` (in kit order). `erase_chip` None: decided by the model (our helper and a chip with
    [chip.timing]; otherwise chip erase, as an SDK helper's kit always did)."""

    def build(chip_erase: bool) -> tuple[dict[str, tuple[Op, ...]], Estimate]:
        ops: dict[str, tuple[Op, ...]] = {}
        for img in images:
            if img.kind == "mcu":
                ops[img.file] = tuple(mcu_plan(img.written, img.base, board.mcu.sectors, board.mcu.flash_base,
                                               img.unit_ranges, blank_check=ours))
            else:
                ops[img.file] = tuple(sflash_plan(img.written, img.base, chip.sector_size, HELPER_BUFFER_SIZE,
                                                  img.unit_ranges, erase_chip=chip_erase, ours=ours))
        counts = count_board([KitImage(i.kind, i.base, i.final, ops[i.file], i.unit_ranges) for i in images],
                             sectors=board.mcu.sectors, flash_base=board.mcu.flash_base, helper_bytes=helper_bytes,
                             page_size=page_size, sector_size=chip.sector_size, erase_chip=chip_erase, ours=ours)
        return ops, estimate(counts, adapter, board.mcu.timing, chip.name, chip.timing, prescaler)

    if erase_chip is not None:
        ops, chosen = build(erase_chip)
    elif ours and chip.timing is not None:
        (ops, chosen), (other_ops, other) = build(False), build(True)
        if other.total < chosen.total:  # a tie keeps sector by sector: it leaves the rest of the chip as it is
            (ops, chosen), other = (other_ops, other), chosen
        chosen = replace(chosen, other_total=other.total)
    else:
        ops, chosen = build(True)
    parts: dict[str, bytes] = {}
    names: dict[tuple[str, int], str] = {}
    for img in images:
        if img.kind != "mcu":
            continue
        for op in ops[img.file]:
            if op.op == "write":
                name = part_name(img.written_name or img.file, op.offset)
                names[(img.file, op.offset)] = name
                parts[name] = img.written[op.offset:op.offset + op.size]
    return KitPlan(chosen.erase_chip, ops, parts, names, {i.file: i.kind for i in images}, chosen)


__all__ = ["KitPlan", "PlanImage", "part_name", "plan_kit"]
