"""The rules a WICED 3.5.2 device applies to what it boots and reads, in one place: `bundle build` refuses an input
that breaks a fatal rule before anything is written, and `bundle inspect` reports the same finding when decoding
(a failure for a fatal rule, a warning otherwise).

Sources (WICED SDK 3.5.2, read, not copied):
- vector tables: ARMv7-M ARM B1.5.3; `WICED/platform/MCU/STM32F2xx/WAF/waf_platform.c` `platform_start_app` jumps
  through word 1 of the table at APP_CODE_START_ADDR when the DCT gives no entry point.
- stored apps: `WICED/platform/MCU/wiced_waf_common.c` `wiced_waf_app_load` copies every program header for which
  `wiced_waf_is_elf_segment_load` holds ((p_type & 1) and p_filesz != 0, whatever the type) to its p_paddr;
  `waf_platform.c` `platform_load_app_chunk` writes below SRAM_START_ADDR into internal flash, else into RAM.
- DCT image: `WICED/platform/MCU/wiced_dct_internal_common.c` `wiced_dct_load` refuses an ELF whose
  program_header_entry_count is not 1.
- WicedFS: `libraries/filesystems/wicedfs/src/wicedfs.c`; the device reads the image through
  `WICED/platform/MCU/STM32F2xx/platform_filesystem.c` `read_callback` -> `wiced_apps_read`, which fails for any
  byte past the filesystem component's sectors (`wiced_apps_get_physical_address`).
"""

from __future__ import annotations

import bisect
import mmap
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from .errors import hexsize

if TYPE_CHECKING:
    from .layout import Board, Chip, Region, SflashLayout
    from .wicedfs import FsEntry

MAX_LISTED = 16  # findings of one rule listed one by one before a summary


@dataclass(frozen=True)
class Finding:
    """One broken rule. `fatal`: the device cannot boot or read it (build refuses; inspect fails); else a warning."""

    code: str
    fatal: bool
    message: str
    address: int | None = None
    offset: int | None = None
    subject: str | None = None  # what the finding is about, for a summary ("directory 'z'")


# --------------------------------------------------------------------------------------------------- chip


def chip_sector(board: Board, chip: Chip) -> Finding | None:
    """The apps look-up table counts SFLASH_SECTOR_SIZE sectors (wiced_apps_common.c): a chip described with
    another sector size would get a LUT and a job sheet in the wrong unit."""
    unit = board.sflash.sector_size
    if chip.sector_size == unit:
        return None
    return Finding("chip_sector_size", True, f"chip {chip.name}: sector_size {chip.sector_size}, but the apps look-up "
                   f"table counts {unit}-byte sectors (SFLASH_SECTOR_SIZE, wiced_apps_common.c); describe the chip "
                   f"with sector_size = {unit}")


# --------------------------------------------------------------------------------------------------- vector tables


def boot_region(board: Board) -> Region:
    """The layout region named "bootloader" (else the first one): the bootloader's vector table starts it."""
    return next((r for r in board.mcu.regions if r.name == "bootloader"), board.mcu.regions[0])


def vector_table(head: bytes, board: Board, region: Region, what: str) -> tuple[dict[str, Any] | None, list[Finding]]:
    """The vector table at the start of `region` (`head`: its first bytes): initial SP a word address inside SRAM
    (the top is allowed: the stack grows down), reset handler a Thumb address inside `region` (the code it starts).
    Returns the JSON-ready checks (None when there is no room for a table) and the findings."""
    from .formats.vectors import VECTOR_TABLE_HEAD_SIZE, cortex_m_vector_table_t

    where = f"{what} vector table at 0x{region.start:08X}"
    if len(head) < VECTOR_TABLE_HEAD_SIZE:
        return None, [Finding("vectors", True, f"{where}: {hexsize(len(head))}, no room for a vector table",
                              region.start)]
    v = cortex_m_vector_table_t.parse(head[:VECTOR_TABLE_HEAD_SIZE])
    mcu = board.mcu
    sp, reset = v.initial_sp, v.reset_handler
    checks = {"address": region.start, "initial_sp": sp, "reset_handler": reset,
              "sp_in_sram": mcu.sram_base < sp <= mcu.sram_base + mcu.sram_size and sp % 4 == 0,
              "thumb": bool(reset & 1), "reset_in_region": region.contains(reset & ~1, 2)}
    checks["ok"] = checks["sp_in_sram"] and checks["thumb"] and checks["reset_in_region"]
    found = []
    if not checks["sp_in_sram"]:
        found.append(Finding("vectors", True, f"{where}: initial stack pointer 0x{sp:08X} is not a word address inside "
                             f"SRAM (0x{mcu.sram_base:08X}-0x{mcu.sram_base + mcu.sram_size:08X})", region.start))
    if not checks["thumb"]:
        found.append(Finding("vectors", True, f"{where}: reset handler 0x{reset:08X} lacks the Thumb bit",
                             region.start + 4))
    if not checks["reset_in_region"]:
        found.append(Finding("vectors", True, f"{where}: reset handler 0x{reset:08X} is outside {region.name} "
                             f"(0x{region.start:08X}-0x{region.end - 1:08X})", region.start + 4))
    return checks, found


# --------------------------------------------------------------------------------------------------- stored ELFs


@dataclass
class ElfImage:
    """A stored ELF as the 3.5.2 loader reads it (Elf32_Ehdr, then e_phnum Elf32_Phdr from e_phoff)."""

    blob: bytes
    header: Any | None  # Elf32_Ehdr, None when there is none
    phdrs: list[tuple[int, Any]] = field(default_factory=list)  # (index, Elf32_Phdr) of those inside the blob
    loaded: list[tuple[int, Any, bytes]] = field(default_factory=list)  # what the loader copies: (index, phdr, bytes)
    size: int = 0  # bytes the ELF occupies (headers, loaded segments, section headers)
    findings: list[Finding] = field(default_factory=list)


def read_elf(blob: bytes, what: str) -> ElfImage:
    """Parse the header and program headers (formats.elf: the one ELF walk); the segments the loader copies are
    those `loaded_by_wiced` accepts."""
    from .formats.elf import ELF_MAGIC, EM_ARM, Elf32_Ehdr, Elf32_Phdr, elf_header, loaded_by_wiced, program_headers

    if blob[:4] != ELF_MAGIC:
        return ElfImage(blob, None, findings=[Finding("not_elf", True, f"{what}: no ELF magic at its start "
                                                f"(0x{blob[:4].hex() or 'empty'})")])
    hdr = elf_header(blob)
    if hdr is None:
        return ElfImage(blob, None, size=len(blob), findings=[Finding(
            "not_elf", True, f"{what}: {hexsize(len(blob))} is too short for an ELF header")])
    elf = ElfImage(blob, hdr)
    if hdr.e_ident.EI_CLASS != 1 or hdr.e_ident.EI_DATA != 1:
        elf.findings.append(Finding("elf_class", True, f"{what}: not a 32-bit little-endian ELF (class "
                                    f"{hdr.e_ident.EI_CLASS}, data {hdr.e_ident.EI_DATA})"))
    if hdr.e_machine != EM_ARM:
        elf.findings.append(Finding("elf_machine", False,
                                    f"{what}: e_machine {hdr.e_machine}, expected {EM_ARM} (ARM)"))
    phsize = Elf32_Phdr.sizeof()
    if hdr.e_phnum and hdr.e_phentsize != phsize:
        elf.findings.append(Finding("elf_phentsize", True, f"{what}: e_phentsize {hdr.e_phentsize}, the loader reads "
                                    f"{phsize}-byte program headers"))
    end = max(Elf32_Ehdr.sizeof(), hdr.e_phoff + hdr.e_phnum * max(hdr.e_phentsize, phsize))
    phdrs = program_headers(blob, hdr)  # as the loader walks them: e_phentsize apart, those inside the blob
    if len(phdrs) < hdr.e_phnum and hdr.e_phentsize >= phsize:
        elf.findings.append(Finding("elf_truncated", True, f"{what}: {hdr.e_phnum} program headers at offset "
                                    f"0x{hdr.e_phoff:X} run past its {hexsize(len(blob))}"))
    for i, ph in enumerate(phdrs):
        elf.phdrs.append((i, ph))
        if not loaded_by_wiced(ph):
            continue
        if ph.p_offset + ph.p_filesz > len(blob):
            elf.findings.append(Finding("elf_truncated", True, f"{what}: segment {i} file bytes 0x{ph.p_offset:X}+"
                                        f"{hexsize(ph.p_filesz)} run past its {hexsize(len(blob))}"))
            continue
        elf.loaded.append((i, ph, blob[ph.p_offset:ph.p_offset + ph.p_filesz]))
        end = max(end, ph.p_offset + ph.p_filesz)
    if hdr.e_shnum and hdr.e_shoff + hdr.e_shnum * hdr.e_shentsize <= len(blob):
        end = max(end, hdr.e_shoff + hdr.e_shnum * hdr.e_shentsize)
    elf.size = min(end, len(blob))
    return elf


def stored_app(elf: ElfImage, board: Board, what: str) -> tuple[dict[str, Any] | None, list[Finding]]:
    """An app in SFLASH (fr_app, ota_app, app0-2) as the 3.5.2 loader places it: only PT_LOAD among the segments it
    copies, each inside the app region or SRAM, something to copy, the entry point inside the app, and a valid
    vector table at the app region's start. Returns the vector checks (or None) and the findings."""
    from .formats.elf import PT_LOAD
    from .formats.vectors import VECTOR_TABLE_HEAD_SIZE
    from .layout import Region

    if elf.header is None:
        return None, []
    mcu = board.mcu
    app = mcu.region(board.sflash.app_region)
    sram = Region("SRAM", mcu.sram_base, mcu.sram_size)
    found = []
    for i, ph, _ in elf.loaded:
        if ph.p_type != PT_LOAD:
            found.append(Finding("elf_segment_type", True, f"{what}: program header {i} has p_type 0x{ph.p_type:08X}, "
                                 "not PT_LOAD, yet the 3.5.2 loader copies it ((p_type & 1) and p_filesz, "
                                 "wiced_waf_common.c wiced_waf_is_elf_segment_load); keep only PT_LOAD segments"))
        if not (app.contains(ph.p_paddr, ph.p_filesz) or sram.contains(ph.p_paddr, ph.p_filesz)):
            found.append(Finding("elf_destination", True, f"{what}: segment {i} loads at 0x{ph.p_paddr:08X} "
                                 f"({hexsize(ph.p_filesz)}), outside the app region {app.name} "
                                 f"(0x{app.start:08X}-0x{app.end - 1:08X}) and SRAM", ph.p_paddr))
    if not elf.loaded:
        found.append(Finding("elf_empty", True, f"{what}: no segment the loader would copy"))
        return None, found
    entry = elf.header.e_entry & ~1
    in_sram = any(sram.contains(ph.p_paddr, ph.p_filesz) and ph.p_paddr <= entry < ph.p_paddr + ph.p_filesz
                  for _, ph, _ in elf.loaded)
    if not (app.contains(entry, 2) or in_sram):
        found.append(Finding("elf_entry", True, f"{what}: entry point 0x{elf.header.e_entry:08X} is outside {app.name} "
                             f"(0x{app.start:08X}-0x{app.end - 1:08X}) and every segment loaded into SRAM"))
    head = next((data[app.start - ph.p_paddr:app.start - ph.p_paddr + VECTOR_TABLE_HEAD_SIZE] for _, ph, data
                 in elf.loaded if ph.p_paddr <= app.start < ph.p_paddr + len(data)), None)
    if head is None:
        found.append(Finding("vectors", True, f"{what}: no segment loads at the start of {app.name} "
                             f"(0x{app.start:08X}), where the bootloader finds the app's vector table", app.start))
        return None, found
    vectors, bad = vector_table(head, board, app, f"{what}: {app.name}")
    return vectors, found + bad


def app_flash_image(elf: ElfImage, board: Board) -> tuple[int, bytes] | None:
    """(address, bytes) the loader writes into the app region: the segments inside it by p_paddr, gaps erased
    (platform_erase_app_area erases the app sectors first); None when none is."""
    app = board.mcu.region(board.sflash.app_region)
    flash = sorted((ph.p_paddr, d) for _, ph, d in elf.loaded if app.contains(ph.p_paddr, len(d)))
    if not flash:
        return None
    start, end = flash[0][0], max(a + len(d) for a, d in flash)
    image = bytearray(bytes([board.mcu.fill])) * (end - start)
    for a, d in flash:
        image[a - start:a - start + len(d)] = d
    return start, bytes(image)


def factory_reset_app(fr_app: tuple[int, bytes] | None, app: tuple[int, bytes], fill: int) -> str:
    """What a factory reset installs (the fr_app's app_flash_image) compared with the app in internal flash, each
    (address, bytes) and compared without the erased bytes at either end: the same program or another one."""
    if fr_app is None:
        return ""
    if _program(*fr_app, fill) == _program(*app, fill):
        return "the factory-reset app (LUT entry 0) loads the same bytes as the app in internal flash: a factory " \
               "reset reinstalls the same program"
    return "the factory-reset app (LUT entry 0) differs from the app in internal flash: a factory reset installs a " \
           "different program"


def _program(start: int, data: bytes, fill: int) -> tuple[int, bytes]:
    erased = bytes([fill])
    body = data.lstrip(erased)
    return start + len(data) - len(body), body.rstrip(erased)


def dct_image(elf: ElfImage, board: Board, what: str) -> tuple[bytes | None, list[Finding]]:
    """The DCT image component: wiced_dct_load (wiced_dct_internal_common.c) takes an ELF with exactly one program
    header and copies its file bytes to DCT copy 1; it must sit at DCT copy 1 and fit it. Returns the DCT bytes."""
    if elf.header is None:
        return None, []
    dct1 = board.mcu.region(board.dct.copies[0])
    n = elf.header.e_phnum
    if n != 1 or not elf.phdrs:
        return None, [Finding("dct_image", True, f"{what}: {n} program headers; wiced_dct_load "
                              "(wiced_dct_internal_common.c) accepts only an ELF with exactly one")]
    ph = elf.phdrs[0][1]
    if ph.p_paddr != dct1.start or ph.p_filesz == 0 or ph.p_filesz > dct1.size:
        return None, [Finding("dct_image", True, f"{what}: its program header loads {hexsize(ph.p_filesz)} at "
                              f"0x{ph.p_paddr:08X}; a DCT image holds DCT copy 1: at 0x{dct1.start:08X}, at most "
                              f"{hexsize(dct1.size)}")]
    if ph.p_offset + ph.p_filesz > len(elf.blob):
        return None, [Finding("dct_image", True, f"{what}: its segment's file bytes 0x{ph.p_offset:X}+"
                              f"{hexsize(ph.p_filesz)} run past its {hexsize(len(elf.blob))}")]
    return elf.blob[ph.p_offset:ph.p_offset + ph.p_filesz], []


def dct_copy1(blob: bytes, board: Board, what: str) -> list[Finding]:
    """DCT copy 1 must be one wiced_dct_get_current_address accepts (dct.copy_status), or the device starts from
    copy 2 / a bare header."""
    from .dct.copies import copy_status
    from .dct.options import options_for_board

    st = copy_status(blob, 1, board.mcu.region(board.dct.copies[0]).size, options_for_board(board).generation)
    return [] if st.valid else [Finding("dct_invalid", True, f"{what}: not valid as DCT copy 1 ({st.reason})")]


# --------------------------------------------------------------------------------------------------- WicedFS


class NameTable:
    """The names of one directory in table order, checked as the device looks them up: wicedfs.c `find_item` /
    `cmp_filename` compare only the requested name's length (strncmp), so the first entry that STARTS WITH the
    name wins; a name after an entry that starts with it (a duplicate, or 'a' after 'ab') is unreachable.
    mk_wicedfs's byte order guarantees that; a '/' splits the requested path, so a name holding one is never
    compared whole."""

    def __init__(self) -> None:
        self._sorted: list[bytes] = []

    def add(self, name: bytes) -> str | None:
        """Why the device cannot reach `name` (after the names added so far), or None."""
        if name in (b"", b".", b"..") or b"/" in name:
            return "unusable"
        names = self._sorted
        at = len(names) if not names or names[-1] < name else bisect.bisect_left(names, name)
        if at < len(names) and names[at].startswith(name):
            other = names[at]
            if other == name:
                return "twice"
            return other.decode("utf-8", "surrogateescape")
        names.insert(at, name)
        return None


def wicedfs_reads(data: bytes | mmap.mmap, entries: list[FsEntry], wide: bool = False) -> list[tuple[str, str, int]]:
    """(kind, path, end) of the reads the 3.5.2 reader makes past an item's own bytes, for an image and its
    `list_image` entries: ("dir", path, end) - `wicedfs_opendir` sets filename_size = file_header_size, so
    `wicedfs_readdir` reads file_header_size bytes for each name, the last one up to `end`; ("file", path, end) -
    `find_item` reads a wicedfs_dir_header_t at every item it finds, a file's content included (`wicedfs_fopen`,
    `wicedfs_filesize`)."""
    from .formats.wicedfs import flavour

    fl = flavour(wide)
    root = int(fl.wicedfs_filesystem_header_t.parse(data[:fl.filesystem_header_size]).root_dir_offset)
    reads = []
    for path, pos in [("", root)] + [(e.path, e.offset) for e in entries if e.is_dir]:
        dh = fl.wicedfs_dir_header_t.parse(data[pos:pos + fl.dir_header_size])
        if dh.num_files:
            last = pos + dh.file_table_offset + (dh.num_files - 1) * dh.file_header_size
            reads.append(("dir", path, last + fl.file_header_size + dh.file_header_size))
    reads += [("file", e.path, e.offset + fl.dir_header_size) for e in entries if not e.is_dir]
    return reads


def wicedfs_slack(data: bytes | mmap.mmap, entries: list[FsEntry], readable: int, what: str,
                  wide: bool = False) -> tuple[int, list[Finding]]:
    """(the end of the furthest read the device makes, a warning for each directory it cannot list and each file
    it may fail to open because that read passes the `readable` bytes of the filesystem component)."""
    from .wicedfs import display_path

    reads = wicedfs_reads(data, entries, wide)
    need = max([len(data)] + [end for _, _, end in reads])
    found = []
    for kind, path, end in reads:
        if end <= readable:
            continue
        shown = f"'{display_path(path)}'" if path else "'/' (root)"
        subject = f"{'directory' if kind == 'dir' else 'file'} {shown}"
        if kind == "dir":
            msg = (f"{what}: {subject}: wicedfs_readdir reads each name as file_header_size bytes (wicedfs.c "
                   f"wicedfs_opendir), the last one up to offset 0x{end:X}, past the {hexsize(readable)} the device "
                   "can read: the device cannot list it")
        else:
            msg = (f"{what}: {subject}: wicedfs_fopen reads a directory header (find_item) at its content up to "
                   f"offset 0x{end:X}, past the {hexsize(readable)} the device can read: opening it fails")
        found.append(Finding("wicedfs_overread", False, msg, offset=end, subject=subject))
    if len(found) > MAX_LISTED:
        found = found[:MAX_LISTED] + [Finding("wicedfs_overread", False, f"{what}: ... and {len(found) - MAX_LISTED} "
                                              "more items the device cannot read")]
    return need, found


def readable_size(layout: SflashLayout, size: int) -> int:
    """The bytes the device can read of a component of `size` bytes: its whole sectors (the layout's rule)."""
    return layout.sector_count(size) * layout.sector_size


def filesystem_padding(data: bytes | mmap.mmap, layout: SflashLayout, what: str) -> tuple[int, list[Finding]]:
    """Zero bytes to add after an image so that every read the device makes stays inside the component's sectors
    (0 when none are needed), and the findings that made them necessary. Refuses (InputError) an image the reader
    inspect uses does not accept."""
    from .wicedfs import list_image

    need, found = wicedfs_slack(data, list_image(data), readable_size(layout, len(data)), what)
    return (need - len(data) if found else 0), found


# --------------------------------------------------------------------------------------------------- boot facts

# What a 3.5.2 device does at the next boot and at a factory reset that a factory must know; each read in the
# sources named (3.5.2), stated in inspect's boot summary and the job sheet.
BOOT_FACTS: tuple[tuple[str, str, str], ...] = (
    ("a factory reset does not restore the DCT image: wiced_dct_load erases DCT copy 1 and writes a chunk to it only "
     "when wiced_apps_read FAILS (its test is inverted), so copy 1 stays erased and the device goes on with DCT copy "
     "2 if that is valid, else with a bare header (every setting lost)",
     "WICED/platform/MCU/wiced_dct_internal_common.c", "wiced_dct_load, wiced_dct_restore_factory_reset"),
    ("wiced_framework_set_boot returns an error: wiced_waf_app_set_boot writes boot_detail through wiced_dct_write "
     "at an offset inside platform_dct_header_t, which wiced_dct_write refuses (section_start < "
     "sizeof(platform_dct_header_t)); an update that relies on it (libraries/daemons/ota_server/wiced_ota_server.c "
     "calls it) does not change what the bootloader loads: boot_detail stays as programmed",
     "WICED/platform/MCU/wiced_waf_common.c, wiced_dct_internal_common.c", "wiced_waf_app_set_boot, wiced_dct_write"),
)


def boot_facts() -> list[str]:
    """BOOT_FACTS as sentences naming their sources."""
    return [f"{text} ({source}: {functions})" for text, source, functions in BOOT_FACTS]


def raise_fatal(found: list[Finding], error: Callable[[str], Exception]) -> None:
    """Raise `error(message)` for the first fatal finding (build: one line, exit 2)."""
    for f in found:
        if f.fatal:
            raise error(f.message)
