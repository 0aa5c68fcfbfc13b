"""Cortex-M vector tables (bootloader, app): initial SP inside SRAM, reset handler a Thumb address inside the
code's region.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .context import FileReport

if TYPE_CHECKING:
    from ..layout import Board, Region


def bootloader_region(board: Board) -> Region:
    """The layout region named "bootloader" (else the first one): the bootloader's vector table starts it."""
    return next((r for r in board.mcu.regions if r.name == "bootloader"), board.mcu.regions[0])


def parse_vectors(data: bytes, offset: int) -> Any:
    from ..formats.vectors import VECTOR_TABLE_HEAD_SIZE, cortex_m_vector_table_t

    if offset < 0 or offset + VECTOR_TABLE_HEAD_SIZE > len(data):
        return None
    return cortex_m_vector_table_t.parse(data[offset:offset + VECTOR_TABLE_HEAD_SIZE])


def vector_checks(v: Any, board: Board, region: Region) -> dict[str, Any]:
    """Initial SP inside SRAM (the top is allowed: the stack grows down) and word aligned; reset handler a Thumb
    address inside `region` (the code it starts)."""
    mcu = board.mcu
    sp, reset = v.initial_sp, v.reset_handler
    sp_ok = mcu.sram_base < sp <= mcu.sram_base + mcu.sram_size and sp % 4 == 0
    thumb = bool(reset & 1)
    in_region = region.contains(reset & ~1, 2)
    return {"initial_sp": sp, "reset_handler": reset, "sp_in_sram": sp_ok, "thumb": thumb,
            "reset_in_region": in_region, "ok": sp_ok and thumb and in_region}


def report_vectors(rep: FileReport, checks: dict[str, Any], name: str, region: Region, where: str = "") -> None:
    mcu_msg = f"{where}{name} vector table at 0x{region.start:08X}"
    if not checks["sp_in_sram"]:
        rep.add("fail", "vectors", f"{mcu_msg}: initial stack pointer 0x{checks['initial_sp']:08X} is not a word "
                "address inside SRAM", region=name, address=region.start)
    if not checks["thumb"]:
        rep.add("fail", "vectors", f"{mcu_msg}: reset handler 0x{checks['reset_handler']:08X} lacks the Thumb bit",
                region=name, address=region.start + 4)
    if not checks["reset_in_region"]:
        rep.add("fail", "vectors", f"{mcu_msg}: reset handler 0x{checks['reset_handler']:08X} is outside {name} "
                f"(0x{region.start:08X}-0x{region.end - 1:08X})", region=name, address=region.start + 4)
