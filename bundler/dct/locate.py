"""Finding a DCT in a file: a DCT blob, a DCT ELF, an MCU image (raw or Intel HEX: the copy the SDK would use)
or an SFLASH image (LUT entry DCT_DCT_IMAGE_INDEX -> the stored ELF -> its one loadable segment).

Rules: ../shared/docs/wiced-formats.md §2.2 (copies), §3 (LUT, stored ELF).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import InputError, hexsize
from ..formats import dct as F
from .codec import check_dct_blob
from .copies import choose_current, copy_status
from .generation import detect
from .options import DctOptions, options_for_board

if TYPE_CHECKING:
    from ..layout import Board


def read_dct_file(path: Path) -> bytes:
    """A DCT from a raw blob or an ELF with one loadable segment (the SDK's DCT.elf / DCT.stripped.elf)."""
    from ..inputs import MAX_IMAGE_BYTES, read_file

    raw, _ = read_file(Path(path), str(path), MAX_IMAGE_BYTES)  # a regular file no larger than any image
    if raw[:4] != b"\x7fELF":
        return raw
    import io

    from elftools.common.exceptions import ELFError
    from elftools.elf.elffile import ELFFile

    try:
        elf = ELFFile(io.BytesIO(raw))
        loads = [s for s in elf.iter_segments() if s["p_type"] == "PT_LOAD" and s["p_filesz"] > 0]
    except ELFError as exc:
        raise InputError(f"not a readable ELF: {exc}", path) from None
    if len(loads) != 1:
        raise InputError(f"a DCT ELF has one loadable segment, this one has {len(loads)}", path)
    return loads[0].data()


def load_dct_input(path: Path, board: str | Board) -> tuple[bytes, DctOptions, str]:
    """Read a DCT blob, a DCT ELF, an MCU image (raw .bin of exactly the board's flash size, or Intel HEX inside the
    MCU flash: the copy the SDK would use is taken, doc §2.2) or an SFLASH image (the DCT image component named by
    LUT entry DCT_DCT_IMAGE_INDEX: its ELF's one loadable segment). Returns (DCT bytes, options, a note saying what
    was read, starting with the DCT's generation). `board`: a Board, or a board layout's name or path."""
    from ..layout import load_board

    board = load_board(board) if isinstance(board, str) else board
    data, options, note = _load(path, board, options_for_board(board))
    found = detect(data)  # checked against the layout's generation already (check_dct_blob)
    return data, options, (f"{found.sdk_text()} DCT; " if found else "") + note


def _load(path: Path, board: Board, options: DctOptions) -> tuple[bytes, DctOptions, str]:
    from ..inputs import read_image_file

    raw, base, fmt = read_image_file(Path(path), fill=board.mcu.fill)
    if fmt == "elf":
        data = read_dct_file(path)
    elif fmt == "hex":
        return _dct_from_mcu_hex(raw, base or 0, board, options, path)
    else:
        data = raw
    if fmt == "bin" and len(data) == board.mcu.flash_size:
        # an 8 Mbit SFLASH image has the MCU flash's size: the LUT decides (an MCU image's entry 1 falls on the
        # reserved vectors 7..10, which are 0, so it never looks like a stored DCT image)
        found = _try_sflash(data, board, options)
        if found is not None:
            return _sflash_result(found, options, path)
        which, why, copy = _current_copy(data, board)
        if which is None:
            raise InputError(f"MCU image: {why}", path)
        return check_dct_blob(copy, options, str(path)), options, f"MCU image: DCT copy {which} ({why})"
    if fmt == "bin" and len(data) > options.copy_size:
        found = _try_sflash(data, board, options)
        if found is None:
            raise InputError(f"{hexsize(len(data))} is neither a DCT (at most {hexsize(options.copy_size)}), a raw "
                             f"MCU image of {hexsize(board.mcu.flash_size)}, nor an SFLASH image with a DCT image "
                             f"(LUT entry {F.DCT_DCT_IMAGE_INDEX} at 0x{options.apps_lut_header_loc:X})", path)
        return _sflash_result(found, options, path)
    data = check_dct_blob(data, options, str(path))
    status = copy_status(data, 1, options.copy_size, options.generation)
    return data, options, ("valid: " if status.valid else "INVALID: ") + status.reason


def _current_copy(flash: bytes, board: Board) -> tuple[int | None, str, bytes]:
    """The copy the SDK would use in a whole-flash MCU image: (1 | 2 | None, why, that copy's bytes)."""
    regions = [board.mcu.region(name) for name in board.dct.copies]
    copies = [flash[r.start - board.mcu.flash_base: r.end - board.mcu.flash_base] for r in regions]
    which, why = choose_current(copies[0], copies[1], None, options_for_board(board).generation)
    return which, why, copies[which - 1] if which else b""


def _dct_from_mcu_hex(image: bytes, base: int, board: Board, options: DctOptions,
                      path: Path) -> tuple[bytes, DctOptions, str]:
    """An Intel HEX MCU image (whole flash, or only some sectors such as a per-unit DCT sector): laid into an erased
    flash image, then the current copy is taken as for a raw image."""
    mcu = board.mcu
    if base < mcu.flash_base or base + len(image) > mcu.flash_base + mcu.flash_size:
        raise InputError(f"Intel HEX data 0x{base:08X}-0x{base + len(image) - 1:08X} is not inside the MCU flash "
                         f"0x{mcu.flash_base:08X}-0x{mcu.flash_base + mcu.flash_size - 1:08X}", path)
    flash = bytearray(bytes([mcu.fill])) * mcu.flash_size
    flash[base - mcu.flash_base: base - mcu.flash_base + len(image)] = image
    which, why, copy = _current_copy(bytes(flash), board)
    if which is None:
        raise InputError(f"MCU image (Intel HEX): {why}", path)
    return check_dct_blob(copy, options, str(path)), options, f"MCU image (Intel HEX): DCT copy {which} ({why})"


@dataclass(frozen=True)
class SflashDct:
    """Where the DCT bytes of the SFLASH DCT image are. `runs` are the LUT entry's sector runs as (image offset,
    length); `segment_offset` is the ELF segment's p_offset inside the component (the runs concatenated)."""

    runs: tuple[tuple[int, int], ...]
    segment_offset: int
    size: int  # p_filesz: the DCT's used bytes
    load_address: int  # p_paddr: where wiced_dct_load copies it (DCT copy 1)
    data: bytes

    @property
    def sector_range(self) -> tuple[int, int]:
        """(image offset, length) spanning all sectors of the component."""
        start = min(o for o, _ in self.runs)
        return start, max(o + n for o, n in self.runs) - start

    def image_offset(self, dct_offset: int, size: int) -> int:
        """Offset in the SFLASH image of `size` DCT bytes at `dct_offset` (must not straddle two sector runs)."""
        if dct_offset < 0 or dct_offset + size > self.size:
            raise InputError(f"DCT offset 0x{dct_offset:X}+{size} is outside the SFLASH DCT image "
                             f"({hexsize(self.size)})")
        pos = self.segment_offset + dct_offset
        for start, length in self.runs:
            if pos < length:
                if pos + size > length:
                    raise InputError(f"DCT bytes 0x{dct_offset:X}+{size} straddle two sector runs of the SFLASH "
                                     "DCT image")
                return start + pos
            pos -= length
        raise InputError(f"DCT offset 0x{dct_offset:X} is past the SFLASH DCT image's sectors")


def find_dct_in_sflash(image: bytes, lut_offset: int, sector_size: int) -> SflashDct:
    """The DCT image component of an SFLASH image: LUT (wiced_apps_lut[8] at `lut_offset`) entry
    DCT_DCT_IMAGE_INDEX gives its sector runs; the component is an ELF whose single loadable segment is the DCT
    (wiced_dct_load needs e_phnum == 1; a segment is loaded iff p_filesz != 0 and p_type & 1)."""
    from ..formats.elf import elf_header, loaded_by_wiced, program_headers
    from ..formats.lut import component_bytes, read_lut, sector_runs

    name = f"LUT entry {F.DCT_DCT_IMAGE_INDEX} (DCT image)"
    header = read_lut(image, lut_offset)[F.DCT_DCT_IMAGE_INDEX]
    if not 1 <= header.count <= len(header.sectors):
        raise InputError(f"{name}: count {header.count}, expected 1..{len(header.sectors)} sector runs (none stored?)")
    runs = sector_runs(header, sector_size)
    for start, length in runs:
        if length == 0 or start + length > len(image) or start <= lut_offset < start + length:
            raise InputError(f"{name}: sectors {start // sector_size}+{length // sector_size} are not inside the "
                             f"image ({hexsize(len(image))}) clear of the LUT")
    component = component_bytes(image, runs)
    ehdr = elf_header(component)
    if ehdr is None:
        raise InputError(f"{name} at 0x{runs[0][0]:X}: not an ELF (no \\x7fELF magic)")
    phdrs = program_headers(component, ehdr)
    if len(phdrs) < ehdr.e_phnum:
        at = ehdr.e_phoff + len(phdrs) * ehdr.e_phentsize
        raise InputError(f"{name}: program header {len(phdrs)} at 0x{at:X} is outside the component")
    loads = [phdr for phdr in phdrs if loaded_by_wiced(phdr)]
    if len(loads) != 1:
        raise InputError(f"{name}: the ELF has {len(loads)} loadable segments; a DCT image has exactly one")
    seg = loads[0]
    if seg.p_offset + seg.p_filesz > len(component):
        raise InputError(f"{name}: segment 0x{seg.p_offset:X}+{hexsize(seg.p_filesz)} runs past the component's "
                         f"sectors ({hexsize(len(component))})")
    data = component[seg.p_offset:seg.p_offset + seg.p_filesz]
    return SflashDct(tuple(runs), seg.p_offset, seg.p_filesz, seg.p_paddr, data)


def _try_sflash(image: bytes, board: Board, options: DctOptions) -> SflashDct | None:
    try:
        found = find_dct_in_sflash(image, options.apps_lut_header_loc, board.sflash.sector_size)
        check_dct_blob(found.data, options, "SFLASH DCT image")
        return found
    except InputError:
        return None


def _sflash_result(found: SflashDct, options: DctOptions, path: Path) -> tuple[bytes, DctOptions, str]:
    data = check_dct_blob(found.data, options, str(path))
    status = copy_status(data, 1, options.copy_size, options.generation)
    start = found.runs[0][0] + found.segment_offset
    return data, options, (f"SFLASH image: DCT image (LUT entry {F.DCT_DCT_IMAGE_INDEX}) at 0x{start:X}, loads at "
                           f"0x{found.load_address:08X}; " + ("valid: " if status.valid else "INVALID: ")
                           + status.reason)
