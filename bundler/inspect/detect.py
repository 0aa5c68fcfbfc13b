"""What a file is (`KINDS`): from --kind, from its content and size, or by matching a manifest artefact.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import InputError, hexsize
from .context import Context, Loaded
from .vectors import bootloader_region, vectors_ok
from .verify import match_artefact

if TYPE_CHECKING:
    from ..layout import Board, Chip


KINDS = ("mcu", "sflash", "dct", "app", "filesystem", "wifi_firmware")


def detect_item(item: Loaded, forced: str | None, ctx: Context) -> tuple[str | None, str | None, str]:
    if forced is not None:
        return forced, "option", "--kind"
    kind, why = detect_kind(item.image, item.base, item.fmt, ctx.board, ctx.chips)
    if kind is not None:
        return kind, "content", why
    if ctx.manifest is not None:
        art = match_artefact(item, None, ctx)
        if art is not None:
            return art["kind"], "manifest", f"{why}; matched manifest artefact {art['file']} by size and content"
    return None, None, why


def detect_kind(data: bytes, base: int | None, fmt: str, board: Board, chips: list[Chip]) -> tuple[str | None, str]:
    """(kind or None, why) from content and size: ELF -> app (or dct: one segment at DCT copy 1); WicedFS header ->
    filesystem; DCT magic at offset 8 in at most a DCT copy -> dct; otherwise the better of the MCU and SFLASH
    scores (vector tables, DCT magic in the copies, a plausible LUT, the size)."""
    mcu = board.mcu
    if fmt == "elf":
        from ..formats.elf import elf_header, program_headers

        hdr = elf_header(data)
        phdrs = program_headers(data, hdr) if hdr is not None else []
        dct1 = mcu.region(board.dct.copies[0])
        if hdr is not None and hdr.e_phnum == 1 and phdrs and phdrs[0].p_paddr == dct1.start:
            return "dct", f"ELF with one program header at 0x{dct1.start:08X} (DCT image)"
        return "app", "ELF file (stored app)"
    if fmt == "hex":
        if base is not None and mcu.flash_base <= base < mcu.flash_base + mcu.flash_size:
            return "mcu", f"Intel HEX based at 0x{base:08X}, inside the MCU flash"
        if base == 0 and lut_plausible(data, board):
            return "sflash", "Intel HEX based at 0 holding an apps look-up table"
        return None, f"Intel HEX based at 0x{(base or 0):08X}, outside the MCU flash"
    from ..wicedfs import detect

    if detect(data):
        return "filesystem", "WicedFS header (magic 'BRCM', version 1) at offset 0"
    if len(data) <= mcu.region(board.dct.copies[0]).size and dct_magic(data, 0):
        from ..dct.generation import detect as dct_generation

        found = dct_generation(data)
        assert found is not None
        return "dct", f"DCT of {found.sdk_text()}: {found.evidence}"
    mcu_score, mcu_why = _mcu_score(data, board)
    sf_score, sf_why = _sflash_score(data, board, chips)
    if mcu_score >= 2 and mcu_score >= sf_score:
        return "mcu", "; ".join(mcu_why)
    if sf_score >= 3:
        return "sflash", "; ".join(sf_why)
    return None, f"{hexsize(len(data))}, no MCU vector table or DCT, no apps look-up table"


def _mcu_score(data: bytes, board: Board) -> tuple[int, list[str]]:
    mcu, score, why = board.mcu, 0, []
    if len(data) == mcu.flash_size:
        score += 1
        why.append(f"size is the MCU flash size {hexsize(mcu.flash_size)}")
    for copy in board.dct.copies:
        r = mcu.region(copy)
        if dct_magic(data, r.start - mcu.flash_base):
            score += 2
            why.append(f"DCT magic in {copy}")
            break
    boot = bootloader_region(board)
    if vectors_ok(data, boot.start - mcu.flash_base, board, boot):
        score += 1
        why.append(f"vector table at 0x{mcu.flash_base:08X}")
    app = mcu.region(board.sflash.app_region)
    if vectors_ok(data, app.start - mcu.flash_base, board, app):
        score += 1
        why.append(f"vector table at 0x{app.start:08X}")
    return score, why


def _sflash_score(data: bytes, board: Board, chips: list[Chip]) -> tuple[int, list[str]]:
    score, why = 0, []
    if lut_plausible(data, board):
        score += 3
        why.append(f"apps look-up table at 0x{board.sflash.apps_lut_header_loc:X}")
    if any(len(data) == c.size for c in chips):
        score += 1
        why.append(f"size {hexsize(len(data))} is a serial-flash chip size")
    return score, why


def dct_magic(data: bytes, offset: int) -> bool:
    """A DCT header of any generation at `offset` (bundler.dct.generation.detect)."""
    from ..dct.generation import SPAN, detect

    return offset >= 0 and detect(data[offset:offset + SPAN]) is not None


def lut_plausible(data: bytes, board: Board) -> bool:
    """Eight app_header_t with count <= 8, secure 0/1, every run inside 16-bit sectors after the LUT, at least one
    entry used, and the first slot after the table erased or holding another plausible header."""
    from ..formats.lut import APP_HEADER_MAX_SECTOR_ENTRIES, COMPONENTS, read_lut

    loc = board.sflash.apps_lut_header_loc
    try:
        headers = read_lut(data, loc)
    except InputError:  # the image ends before the table
        return False
    used = 0
    for h in headers:
        if h.count > APP_HEADER_MAX_SECTOR_ENTRIES or h.secure > 1:
            return False
        for run in h.sectors[:h.count]:
            if run.count == 0 or run.start * board.sflash.sector_size <= loc:
                return False
        used += h.count > 0
    return used > 0 and len(headers) == len(COMPONENTS)
