"""The DCT image component of SFLASH (LUT entry DCT_DCT_IMAGE_INDEX): an ELF with one PT_LOAD at DCT copy 1 holding
the DCT, as wiced_dct_load reads it (e_phnum == 1). Built here; found in an SFLASH image by
`locate.find_dct_in_sflash`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..formats.elf import PF_R, PF_W, PT_LOAD, build_elf

if TYPE_CHECKING:
    from ..layout import Board


def dct_image_elf(board: Board, dct: bytes) -> bytes:
    """The DCT image component for `dct` (copy 1's used bytes): one PT_LOAD at the board's DCT copy 1."""
    start = board.mcu.region(board.dct.copies[0]).start
    phdr = {"p_type": PT_LOAD, "p_vaddr": start, "p_paddr": start, "p_memsz": len(dct), "p_flags": PF_R | PF_W,
            "p_align": 4}
    return build_elf([(phdr, dct)], entry=0)
