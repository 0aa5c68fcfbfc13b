"""Decoding a stored ELF (apps, the DCT image) as the WICED loader reads it (wiced-formats.md §3.3).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..checksums import hex32, sha256
from .context import FileReport

if TYPE_CHECKING:
    from ..layout import Board


MAX_SEGMENTS = 64


def decode_elf(rep: FileReport, blob: bytes, board: Board, *, region: str | None, role: str = "app",
               flash_out: list[tuple[int, bytes]] | None = None) -> dict[str, Any]:
    """A stored ELF as the WICED loader reads it (wiced-formats.md §3.3), checked by the device rules
    (bundler.checks: read_elf, then stored_app or dct_image): header, program headers, which are loaded and where,
    the entry point, the vector table at the app region's start. Findings name `region`. `flash_out` receives
    (address, bytes) the loader would write into the app region; a DCT image's segment is returned under
    "_dct_blob" (callers pop it before the report is shown)."""
    from ..checks import app_flash_image, dct_image, read_elf, stored_app
    from ..formats.elf import loaded_by_wiced

    what = region or "ELF"
    elf = read_elf(blob, what)
    rep.add_checks(elf.findings, region=region)
    hdr = elf.header
    if hdr is None:
        return {"valid": False, "size": elf.size}
    out: dict[str, Any] = {"valid": not any(f.code == "elf_class" for f in elf.findings), "e_type": hdr.e_type,
                           "e_machine": hdr.e_machine, "e_entry": hdr.e_entry, "e_flags": hex32(hdr.e_flags),
                           "e_phoff": hdr.e_phoff, "e_phnum": hdr.e_phnum, "e_shoff": hdr.e_shoff,
                           "e_shnum": hdr.e_shnum}
    data_of = {i: data for i, _, data in elf.loaded}
    out["segments"] = [{"index": i, "p_type": ph.p_type, "p_offset": ph.p_offset, "p_vaddr": ph.p_vaddr,
                        "p_paddr": ph.p_paddr, "p_filesz": ph.p_filesz, "p_memsz": ph.p_memsz, "p_flags": ph.p_flags,
                        "loaded": loaded_by_wiced(ph), "sha256": sha256(data_of[i]) if i in data_of else None}
                       for i, ph in elf.phdrs[:MAX_SEGMENTS]]
    if len(elf.phdrs) > MAX_SEGMENTS:
        out["segments_not_listed"] = len(elf.phdrs) - MAX_SEGMENTS
    out["size"] = elf.size
    if role == "dct_image":
        dct, found = dct_image(elf, board, what)
        rep.add_checks(found, region=region)
        if dct is not None:
            out["_dct_blob"] = dct
        return out
    vectors, found = stored_app(elf, board, what)
    rep.add_checks(found, region=region)
    entry = hdr.e_entry
    out["entry_thumb"] = bool(entry & 1)
    out["entry_in_segment"] = any(ph.p_vaddr <= (entry & ~1) < ph.p_vaddr + max(ph.p_memsz, ph.p_filesz)
                                  for _, ph, _ in elf.loaded)
    if vectors is not None:
        out["vectors"] = vectors
    # the bytes the loader writes into the app region: compared with the MCU image's app region when an app ELF is
    # checked against a manifest
    flash = app_flash_image(elf, board)
    if flash is not None and flash_out is not None:
        flash_out.append(flash)
    return out
