"""Decoding DCTs as the device sees them: both copies of an MCU image and the one the bootloader uses
(wiced-formats.md §2.2), what the next boot does (§6), and a DCT file (blob or DCT image ELF).
"""

from __future__ import annotations

from typing import Any

from ..checksums import hex32
from ..errors import BundleError, hexsize
from .context import Context, FileReport, Loaded
from .elf import decode_elf
from .scan import first_not


def generation_of(ctx: Context) -> dict[str, Any]:
    """The layout's DCT generation: what its bootloader reads and how it picks a copy."""
    gen = ctx.dct_options.generation
    return {"sdk": ctx.dct_options.sdk, "generation": gen.name, "header_size": gen.header.sizeof(),
            "copy_rule": gen.copy_rule}


def decode_dct_copies(rep: FileReport, data: bytes, ctx: Context) -> dict[str, Any]:
    from ..dct.copies import choose_current

    board, mcu = ctx.board, ctx.board.mcu
    copy_size = mcu.region(board.dct.copies[0]).size
    blobs = []
    copies = []
    for n, name in enumerate(board.dct.copies, start=1):
        r = mcu.region(name)
        off = r.start - mcu.flash_base
        blob = data[off:off + r.size]
        blobs.append(blob)
        copies.append(decode_copy(rep, blob, n, name, r.start, ctx))
    current, reason = choose_current(blobs[0], blobs[1], copy_size, ctx.dct_options.generation)
    out: dict[str, Any] = {"copies": copies, "current": {"copy": current, "reason": reason, **generation_of(ctx)}}
    if current is None:
        rep.add("fail", "no_valid_dct", f"no valid DCT copy: {reason}", region=board.dct.copies[0],
                address=mcu.region(board.dct.copies[0]).start)
        out["boot"] = {"summary": "no valid DCT: the app erases DCT copy 1 and writes a bare header (all settings "
                       "lost); the bootloader runs the app in internal flash", "loads_app": None,
                       "device_facts": _device_facts(ctx)}
        return out
    for c in copies:
        if c["copy"] != current and c["state"] == "present" and not c["valid"]:
            rep.add("warning", "dct_copy_invalid", f"{c['region']} is not valid ({c['reason']}); copy {current} is used",
                    region=c["region"], address=c["address"])
    header = copies[current - 1]["header"]
    out["boot"] = boot_summary(header, ctx)
    out["current_apps_locations"] = header["apps_locations"]
    return out


def decode_copy(rep: FileReport, blob: bytes, n: int, name: str, address: int, ctx: Context) -> dict[str, Any]:
    from ..dct import generation
    from ..dct.codec import dec_header, decode_dct
    from ..dct.copies import copy_status, dct_crc, stored_crc, version_offset
    from ..formats.dct import platform_dct_version_t

    gen = ctx.dct_options.generation
    fill = ctx.board.mcu.fill
    copy_size = ctx.board.mcu.region(ctx.board.dct.copies[n - 1]).size
    out: dict[str, Any] = {"copy": n, "region": name, "address": address}
    if not blob:
        out.update({"state": "missing", "valid": False, "reason": f"copy {n}: not in the file", "header": None,
                    "crc": None, "decoded": None})
        return out
    if first_not(blob, fill) is None:
        out.update({"state": "erased", "valid": False, "reason": f"copy {n}: erased", "header": None,
                    "crc": None, "decoded": None})
        return out
    st = copy_status(blob, n, copy_size, gen)
    out.update({"state": "present", "valid": st.valid, "reason": st.reason})
    found = generation.detect(blob)  # which SDK's bootloader this copy is for, from its bytes
    out["generation"] = None if found is None else {"sdk": found.sdk_text(), "evidence": found.evidence}
    try:
        generation.check(blob, ctx.dct_options.sdk, name)
    except BundleError as exc:
        rep.add("fail", "dct_generation", str(exc), region=name, address=address)
    if len(blob) < gen.header.sizeof():
        out.update({"header": None, "crc": None, "decoded": None})
        return out
    header = dec_header(gen.header.parse(blob))
    out["header"] = header
    if gen.copy_rule == "version_crc":  # 3.7.0: sequence and initial_write are in platform_dct_version_t
        at = version_offset(gen)
        raw = blob[at:at + platform_dct_version_t.sizeof()]
        out["dct_version"] = None if len(raw) < platform_dct_version_t.sizeof() else \
            {k: v for k, v in platform_dct_version_t.parse(raw).items() if not k.startswith("_") and k != "padding"}
    stored = stored_crc(blob, gen)
    if stored is None:  # 3.1.1 - 3.4.0: no CRC
        out["crc"] = None
    else:
        computed = dct_crc(blob, copy_size, gen)
        out["crc"] = {"stored": hex32(stored), "computed": hex32(computed), "ok": computed == stored}
    try:
        out["decoded"] = decode_dct(blob, ctx.dct_options)
    except BundleError as exc:
        out["decoded"] = None
        if st.valid:
            rep.add("fail", "dct_decode", f"{name}: {exc}", region=name, address=address)
    return out


def boot_summary(header: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """What the bootloader does with boot_detail (wiced-formats.md §6 steps 2-3), and what a factory reset and
    an update do on a 3.5.2 device (bundler.checks.BOOT_FACTS, each with its source: given for 3.5.2 only)."""
    return {**_next_boot(header, ctx), "device_facts": _device_facts(ctx)}


def _device_facts(ctx: Context) -> list[str]:
    """bundler.checks.BOOT_FACTS: confirmed on 3.5.2's code, so given for that generation only."""
    from ..checks import boot_facts

    return boot_facts() if ctx.dct_options.generation.name == "3.5.2" else []


def _next_boot(header: dict[str, Any], ctx: Context) -> dict[str, Any]:
    from ..formats.lut import COMPONENTS

    bd = header["boot_detail"]
    ld = bd["load_details"]
    app = ctx.board.mcu.region(ctx.board.sflash.app_region)
    out: dict[str, Any] = {"valid": ld["valid"], "load_once": ld["load_once"], "entry_point": bd["entry_point"],
                           "source": ld["source"], "destination": ld["destination"], "loads_app": None}
    if ld["valid"]:
        src = ld["source"]
        if ld["destination"].get("id") not in ("INTERNAL", "NONE"):
            out["summary"] = f"load refused: destination {ld['destination'].get('id')} (only INTERNAL is allowed)"
            return out
        if src.get("id") == "EXTERNAL_FIXED_LOCATION":
            loc = src.get("location", 0)
            names = [COMPONENTS[i] for i, a in enumerate(header["apps_locations"])
                     if a.get("id") == "EXTERNAL_FIXED_LOCATION" and a.get("location") == loc and i < len(COMPONENTS)]
            what = names[0] if names else f"the app whose LUT header is at SFLASH 0x{loc:X}"
            out["loads_app"] = what
            once = "once (load_once: the DCT is then rewritten with valid 0)" if ld["load_once"] else "at every boot"
            out["summary"] = (f"load {what} (LUT header at SFLASH 0x{loc:X}) into internal flash {once}, then jump to "
                              "its ELF entry point")
            return out
        if src.get("id") == "EXTERNAL_FILESYSTEM_FILE":
            out["loads_app"] = f"file {src.get('filesystem_filename')!r}"
            out["summary"] = (f"load file {src.get('filesystem_filename')!r} from the filesystem (only with "
                              "BOOTLOADER_LOAD_MAIN_APP_FROM_FILESYSTEM), then jump to its entry point")
            return out
        out["summary"] = f"boot_detail valid but source {src.get('id')}: nothing to load"
    if bd["entry_point"]:
        out["summary"] = (out.get("summary", "") + "; " if "summary" in out else "") + \
            f"jump to entry point 0x{bd['entry_point']:08X}"
    else:
        out["summary"] = (out.get("summary", "") + "; " if "summary" in out else "") + \
            f"run the app in internal flash through its reset vector at 0x{app.start + 4:08X}"
    return out


def decode_dct_file(rep: FileReport, item: Loaded, ctx: Context) -> dict[str, Any]:
    data = item.image
    dct1 = ctx.board.mcu.region(ctx.board.dct.copies[0])
    out: dict[str, Any] = {}
    if item.fmt == "elf":
        elf = decode_elf(rep, data, ctx.board, region=None, role="dct_image")
        out["elf"] = elf
        blob = elf.pop("_dct_blob", None)
        if blob is None:
            return out
        data = blob
    elif item.fmt == "hex" and item.base is not None and item.base != dct1.start:
        rep.add("warning", "dct_address", f"HEX based at 0x{item.base:08X}, DCT copy 1 is at 0x{dct1.start:08X}")
    if len(data) > dct1.size:
        rep.add("fail", "dct_size", f"{hexsize(len(data))} is larger than a DCT copy ({hexsize(dct1.size)})")
        data = data[:dct1.size]
    copy = decode_copy(rep, data, 1, dct1.name, dct1.start, ctx)
    out["copy"] = copy
    if copy["state"] == "erased":
        rep.add("fail", "dct_erased", "the DCT is erased (all fill)")
    elif not copy["valid"]:
        rep.add("fail", "dct_invalid", f"not valid as DCT copy 1: {copy['reason']}", region=dct1.name)
    if copy.get("header"):
        out["boot"] = boot_summary(copy["header"], ctx)
    return out
