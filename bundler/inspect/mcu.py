"""Decoding an MCU image: the board's regions, both DCT copies, the bootloader's and the app's vector tables.
"""

from __future__ import annotations

from typing import Any

from .context import Context, FileReport
from .dct import decode_dct_copies
from .scan import first_not, last_not, span
from .sums import region_sums, run_sha256
from .vectors import bootloader_region, check_vectors


def decode_mcu(rep: FileReport, data: bytes, ctx: Context) -> dict[str, Any]:
    """Regions of the board layout, both DCT copies, the copy the bootloader uses, what the next boot does, the
    bootloader's and the app's vector tables."""
    board, mcu = ctx.board, ctx.board.mcu
    regions = []
    for r in mcu.regions:
        off = r.start - mcu.flash_base
        lo, hi = span(data, off, off + r.size)
        regions.append({"name": r.name, "address": r.start, "offset": off, "size": r.size,
                        "present": hi - lo, **region_sums(ctx, data, lo, hi, mcu.fill)})
    dct = decode_dct_copies(rep, data, ctx)
    vectors = {}
    boot_region = bootloader_region(board)
    app = mcu.region(board.sflash.app_region)
    for name, region in (("bootloader", boot_region), (board.sflash.app_region, app)):
        off = region.start - mcu.flash_base
        if first_not(data, mcu.fill, off, off + region.size) is None:  # erased, or not in the file
            vectors[name] = None
            if name == board.sflash.app_region:
                loads = dct.get("boot", {}).get("loads_app")
                if loads:
                    rep.add("note", "app_erased", f"the {name} region is erased; the bootloader will load {loads} "
                            "into it at the next boot", region=name, address=region.start)
                else:
                    rep.add("fail", "nothing_to_boot", f"the {name} region is erased and the DCT does not make the "
                            "bootloader load an app: nothing to run", region=name, address=region.start)
            else:
                rep.add("fail", "no_bootloader", f"the {name} region is erased", region=name, address=region.start)
            continue
        vectors[name] = check_vectors(rep, data, off, board, region, name)
    off = app.start - mcu.flash_base
    first, last = first_not(data, mcu.fill, off, off + app.size), last_not(data, mcu.fill, off, off + app.size)
    if first is not None and last is not None:  # what a factory reset is compared with (sflash)
        key = (mcu.flash_base + first, run_sha256(ctx, data, first, last + 1))
        ctx.mcu_apps.setdefault(key, (data[first:last + 1], []))[1].append(rep.doc["file"])
    return {"flash_base": mcu.flash_base, "flash_size": mcu.flash_size, "fill": mcu.fill, "regions": regions,
            "dct": dct, "vectors": vectors}
