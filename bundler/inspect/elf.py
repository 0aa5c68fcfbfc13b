"""Decoding a stored ELF (apps, the DCT image) as the WICED loader reads it (wiced-formats.md §3.3).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..checksums import hex32, sha256
from ..errors import hexsize
from .context import FileReport
from .vectors import parse_vectors, report_vectors, vector_checks

if TYPE_CHECKING:
    from ..layout import Board


MAX_SEGMENTS = 64


def decode_elf(rep: FileReport, blob: bytes, board: Board, *, region: str | None, role: str = "app",
               flash_out: list[tuple[int, bytes]] | None = None) -> dict[str, Any]:
    """A stored ELF as the WICED loader reads it (wiced-formats.md §3.3): header, program headers, which are loaded
    and where, the entry point, the vector table at the app region's start. Findings name `region`. `flash_out`
    receives (address, bytes) the loader would write into the app region; a DCT image's segment is returned under
    "_dct_blob" (callers pop it before the report is shown)."""
    from construct import ConstructError

    from ..formats.elf import ELF_MAGIC, EM_ARM, Elf32_Ehdr, Elf32_Phdr, loaded_by_wiced
    from ..layout import Region

    what = region or "ELF"
    if blob[:4] != ELF_MAGIC:
        rep.add("fail", "not_elf", f"{what}: no ELF magic at its start (0x{blob[:4].hex() or 'empty'})", region=region)
        return {"valid": False, "size": 0}
    try:
        hdr = Elf32_Ehdr.parse(blob)
    except ConstructError:
        rep.add("fail", "not_elf", f"{what}: {hexsize(len(blob))} is too short for an ELF header", region=region)
        return {"valid": False, "size": len(blob)}
    ident = hdr.e_ident
    out: dict[str, Any] = {"valid": True, "e_type": hdr.e_type, "e_machine": hdr.e_machine, "e_entry": hdr.e_entry,
                           "e_flags": hex32(hdr.e_flags), "e_phoff": hdr.e_phoff, "e_phnum": hdr.e_phnum,
                           "e_shoff": hdr.e_shoff, "e_shnum": hdr.e_shnum}
    if ident.EI_CLASS != 1 or ident.EI_DATA != 1:
        rep.add("fail", "elf_class", f"{what}: not a 32-bit little-endian ELF (class {ident.EI_CLASS}, data "
                f"{ident.EI_DATA})", region=region)
        out["valid"] = False
    if hdr.e_machine != EM_ARM:
        rep.add("warning", "elf_machine", f"{what}: e_machine {hdr.e_machine}, expected {EM_ARM} (ARM)", region=region)
    phsize = Elf32_Phdr.sizeof()
    if hdr.e_phnum and hdr.e_phentsize != phsize:
        rep.add("fail", "elf_phentsize", f"{what}: e_phentsize {hdr.e_phentsize}, the loader reads {phsize}-byte "
                "program headers", region=region)
    end = max(Elf32_Ehdr.sizeof(), hdr.e_phoff + hdr.e_phnum * phsize)
    fit = max(0, min(hdr.e_phnum, (len(blob) - hdr.e_phoff) // phsize)) if hdr.e_phoff <= len(blob) else 0
    if fit < hdr.e_phnum:
        rep.add("fail", "elf_truncated", f"{what}: {hdr.e_phnum} program headers at offset 0x{hdr.e_phoff:X} run "
                f"past its {hexsize(len(blob))}", region=region)
    mcu = board.mcu
    app = mcu.region(board.sflash.app_region)
    dct1 = mcu.region(board.dct.copies[0])
    sram = Region("sram", mcu.sram_base, mcu.sram_size)
    segments, loaded = [], []
    for i in range(fit):
        off = hdr.e_phoff + i * phsize
        ph = Elf32_Phdr.parse(blob[off:off + phsize])
        seg = {"index": i, "p_type": ph.p_type, "p_offset": ph.p_offset, "p_vaddr": ph.p_vaddr,
               "p_paddr": ph.p_paddr, "p_filesz": ph.p_filesz, "p_memsz": ph.p_memsz, "p_flags": ph.p_flags,
               "loaded": loaded_by_wiced(ph), "sha256": None}
        if seg["loaded"]:
            if ph.p_offset + ph.p_filesz > len(blob):
                rep.add("fail", "elf_truncated", f"{what}: segment {i} file bytes 0x{ph.p_offset:X}+"
                        f"{hexsize(ph.p_filesz)} run past its {hexsize(len(blob))}", region=region)
            else:
                data = blob[ph.p_offset:ph.p_offset + ph.p_filesz]
                seg["sha256"] = sha256(data)
                loaded.append((ph, data))
                end = max(end, ph.p_offset + ph.p_filesz)
            dest = dct1 if role == "dct_image" else app
            if not (dest.contains(ph.p_paddr, ph.p_filesz) or sram.contains(ph.p_paddr, ph.p_filesz)):
                rep.add("fail", "elf_destination", f"{what}: segment {i} loads at 0x{ph.p_paddr:08X} "
                        f"({hexsize(ph.p_filesz)}), outside {dest.name} (0x{dest.start:08X}-0x{dest.end - 1:08X}) "
                        "and SRAM", region=region)
        if i < MAX_SEGMENTS:
            segments.append(seg)
    if hdr.e_shnum and hdr.e_shoff + hdr.e_shnum * hdr.e_shentsize <= len(blob):
        end = max(end, hdr.e_shoff + hdr.e_shnum * hdr.e_shentsize)
    out["segments"] = segments
    if fit > MAX_SEGMENTS:
        out["segments_not_listed"] = fit - MAX_SEGMENTS
    out["size"] = min(end, len(blob))
    if role == "dct_image":
        if len(loaded) != 1 or loaded[0][0].p_paddr != dct1.start:
            rep.add("fail", "dct_image", f"{what}: a DCT image needs exactly one loaded segment at "
                    f"0x{dct1.start:08X} (wiced_dct_load), found {len(loaded)}", region=region)
        else:
            out["_dct_blob"] = loaded[0][1]
        return out
    if not loaded:
        rep.add("fail", "elf_empty", f"{what}: no segment the loader would copy", region=region)
    entry = hdr.e_entry
    out["entry_thumb"] = bool(entry & 1)
    out["entry_in_segment"] = any(ph.p_vaddr <= (entry & ~1) < ph.p_vaddr + max(ph.p_memsz, ph.p_filesz)
                                  for ph, _ in loaded)
    if loaded and not out["entry_in_segment"]:
        rep.add("warning", "elf_entry", f"{what}: entry point 0x{entry:08X} is in no loaded segment", region=region)
    for ph, data in loaded:
        if ph.p_paddr == app.start:
            v = parse_vectors(data, 0)
            if v is not None:
                checks = vector_checks(v, board, app)
                out["vectors"] = {"address": app.start, **checks}
                report_vectors(rep, checks, app.name, app, where=f"{what}: ")
    # the bytes the loader writes into the app region (segments by p_paddr, gaps erased): compared with the MCU
    # image's app region when an app ELF is checked against a manifest
    flash = sorted((ph.p_paddr, d) for ph, d in loaded if app.contains(ph.p_paddr, len(d)))
    if flash:
        start, end = flash[0][0], max(a + len(d) for a, d in flash)
        image = bytearray(bytes([mcu.fill])) * (end - start)
        for a, d in flash:
            image[a - start:a - start + len(d)] = d
        if flash_out is not None:
            flash_out.append((start, bytes(image)))
    return out
