"""Decoding an SFLASH image: the apps look-up table entry by entry (headers found through the DCT's
apps_locations), header slots after the 8th, what each entry holds, and sectors no entry uses but not erased.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..checksums import hex32
from ..errors import hexsize
from .context import Context, FileReport, MAX_LISTED
from .dct import decode_copy
from .elf import decode_elf
from .filesystem import decode_filesystem
from .scan import first_not, last_not
from .sums import region_sums, run_crc32, run_sha256

if TYPE_CHECKING:
    from ..layout import Chip


@dataclass
class _Lut:
    """The SFLASH image being decoded and how its apps look-up table is read: header slots, sector runs, content."""

    rep: FileReport
    data: bytes
    chip_size: int
    sector: int
    loc: int  # the LUT's byte address
    fill: int

    @property
    def default(self) -> list[int]:
        """The header slots as built: entry i at loc + APP_HEADER_SIZE * i."""
        from ..formats.lut import APP_HEADER_SIZE, COMPONENTS

        return [self.loc + APP_HEADER_SIZE * i for i in range(len(COMPONENTS))]

    def header_at(self, address: int) -> Any:
        from ..formats.lut import read_header

        return read_header(self.data, address, self.chip_size)

    def erased_slot(self, address: int) -> bool:
        from ..formats.lut import APP_HEADER_SIZE

        raw = self.data[address:address + APP_HEADER_SIZE]
        return len(raw) == APP_HEADER_SIZE and first_not(raw, self.fill) is None

    def runs_of(self, h: Any, index: int, name: str, report: bool) -> list[dict[str, Any]]:
        """The header's sector runs (address, size, past the chip?); with `report`, findings for a bad count, a run
        past the chip or over the LUT."""
        from ..formats.lut import sector_runs

        rep, sector, chip_size, loc = self.rep, self.sector, self.chip_size, self.loc
        runs = []
        if report and h.count > len(h.sectors):
            rep.add("fail", "lut_count", f"LUT entry {index} ({name}): count {h.count} > {len(h.sectors)} sector "
                    "runs", region="lut")
        for j, (start, n) in enumerate(sector_runs(h, sector)):
            r = {"start_sector": start // sector, "sector_count": n // sector, "address": start, "size": n,
                 "past_chip": start + n > chip_size}
            if report and r["past_chip"]:
                rep.add("fail", "lut_past_chip", f"LUT entry {index} ({name}) run {j}: sectors "
                        f"{start // sector}+{n // sector} (0x{start:X}-0x{start + n - 1:X}) run past the chip "
                        f"({hexsize(chip_size)})", region=name, address=start)
            elif report and start <= loc < start + n:
                rep.add("fail", "lut_overlap", f"LUT entry {index} ({name}) run {j} covers the LUT at 0x{loc:X}",
                        region=name, address=start)
            runs.append(r)
        return runs

    def content(self, runs: list[dict[str, Any]]) -> bytes:
        from ..formats.lut import component_bytes

        return component_bytes(self.data, [(r["address"], r["size"]) for r in runs], self.chip_size)


def decode_sflash(rep: FileReport, data: bytes, chip: Chip, ctx: Context,
                  mcu_locations: tuple[str, list[Any]] | None) -> dict[str, Any]:
    """The apps look-up table entry by entry (headers found through the DCT's apps_locations), what each entry
    holds, header slots after the 8th, and sectors that no entry uses but are not erased."""
    from ..formats.lut import COMPONENTS

    sf = ctx.board.sflash
    lut = _Lut(rep, data, chip.size, sf.sector_size, sf.apps_lut_header_loc, sf.fill)
    lut_headers, locations, located_by, from_dct = _locate_headers(lut, ctx, mcu_locations)
    slot_headers = _written_slots(lut)
    how = ["dct" if from_dct else "lut_slot"] * len(COMPONENTS)
    if mcu_locations is None:
        _infer_grown(lut, locations, how, slot_headers)
    entries, covered = _entries(lut, locations, how, located_by)
    _check_overlaps(rep, covered)
    extra = _extra_slots(lut, slot_headers, locations, located_by, covered)
    # the headers left in the original slots of relocated entries still name (a subset of) the same sectors
    for i, h in enumerate(lut_headers):
        if h is not None and entries[i]["relocated"]:
            covered.extend(_spans(lut.runs_of(h, i, COMPONENTS[i], False), COMPONENTS[i]))
    components = [_component(lut, e, ctx) for e in entries if e["runs"]]
    stale = _unused_not_erased(lut, covered)
    loc, sector = lut.loc, lut.sector
    sums = [{"name": "lut", "address": loc, "offset": loc, "size": sector,
             **region_sums(ctx, data, loc, loc + sector, lut.fill)}]
    return {"chip": rep.doc.get("chip"), "sector_size": sector, "lut_address": loc, "located_by": located_by,
            "entries": entries, "extra_header_slots": extra, "components": components,
            "unused_not_erased": [{"first_sector": a, "last_sector": b, "first_address": c} for a, b, c in stale],
            "regions": sums}


def _locate_headers(lut: _Lut, ctx: Context, mcu_locations: tuple[str, list[Any]] | None
                    ) -> tuple[list[Any], list[int | None], str, bool]:
    """Where each entry's header is: the slots as built (34 x index), or the apps_locations of the current DCT (an
    MCU image inspected in the same run, else the DCT image found through slot 1). Returns (the headers in the
    built slots, each entry's header address or None if not in serial flash, how they were located, whether a DCT
    gave them)."""
    from ..formats.lut import COMPONENTS

    rep, default = lut.rep, lut.default
    lut_headers = [lut.header_at(a) for a in default]
    if any(h is None for h in lut_headers):
        rep.add("fail", "lut_missing", f"the apps look-up table at 0x{lut.loc:X} is not in the file", region="lut",
                address=lut.loc)
    located_by = "LUT slots (34 x index)"
    locations: list[int | None] = list(default)
    dct_model = None
    dct_index = COMPONENTS.index("dct_image")
    if lut_headers[dct_index] is not None and lut_headers[dct_index].count:
        probe = FileReport("")
        blob = lut.content(lut.runs_of(lut_headers[dct_index], dct_index, "dct_image", False))
        elf = decode_elf(probe, blob, ctx.board, region="dct_image", role="dct_image")
        from ..dct.codec import dec_header

        header = ctx.dct_options.generation.header  # the layout's generation
        if len(elf.get("_dct_blob", b"")) >= header.sizeof():  # the header is all dec_header reads
            dct_model = dec_header(header.parse(elf["_dct_blob"]))
    if mcu_locations is not None:
        located_by = f"apps_locations of the current DCT in {mcu_locations[0]}"
        source_locations = mcu_locations[1]
    elif dct_model is not None:
        located_by = "apps_locations of the DCT image (LUT entry 1)"
        source_locations = dct_model["apps_locations"]
    else:
        source_locations = None
    if source_locations is not None:
        for i, a in enumerate(source_locations[:len(COMPONENTS)]):
            locations[i] = a.get("location") if a.get("id") == "EXTERNAL_FIXED_LOCATION" else None
    if mcu_locations is not None:
        # a slot the MCU's DCT points at but that was never written cannot be this chip's header: the images are
        # from different devices (or states); use the built-in slot for that entry
        for i, address in enumerate(locations):
            if address is not None and address != default[i] and lut.erased_slot(address):
                rep.add("warning", "lut_dct_mismatch", f"the DCT in {mcu_locations[0]} points LUT entry {i} "
                        f"({COMPONENTS[i]}) at slot 0x{address:X}, which is erased here: slot "
                        f"0x{default[i]:X} used instead (images of different devices?)", region="lut",
                        address=address)
                locations[i] = default[i]
    return lut_headers, locations, located_by, source_locations is not None


def _written_slots(lut: _Lut) -> list[tuple[int, int, Any]]:
    """(slot, address, header) of each written header slot after the 8th, in the LUT's sector:
    wiced_apps_set_size (OTA growth) writes the grown header to the next free slot without erasing and repoints the
    DCT entry in internal flash."""
    from ..formats.lut import APP_HEADER_SIZE, COMPONENTS, read_header

    out = []
    for k in range(len(COMPONENTS), (lut.sector - (lut.loc % lut.sector)) // APP_HEADER_SIZE):
        address = lut.loc + APP_HEADER_SIZE * k
        raw = lut.data[address:address + APP_HEADER_SIZE]
        if len(raw) < APP_HEADER_SIZE or first_not(raw, lut.fill) is None:
            continue
        out.append((k, address, read_header(lut.data, address)))
    return out


def _infer_grown(lut: _Lut, locations: list[int | None], how: list[str],
                 slot_headers: list[tuple[int, int, Any]]) -> None:
    """Without the DCT in internal flash: a written slot whose runs extend an entry's runs (same first runs, more of
    them) is taken as that entry's current header."""
    from ..formats.lut import COMPONENTS

    for i in range(len(COMPONENTS)):
        h = lut.header_at(locations[i]) if locations[i] is not None else None
        if h is None or not 0 < h.count <= len(h.sectors):
            continue
        mine = [(r.start, r.count) for r in h.sectors[:h.count]]
        for k, address, sh in slot_headers:
            theirs = [(r.start, r.count) for r in sh.sectors[:min(sh.count, len(sh.sectors))]]
            if len(theirs) > len(mine) and theirs[:len(mine)] == mine and address != locations[i]:
                locations[i], how[i] = address, "inferred"


def _spans(runs: list[dict[str, Any]], owner: str) -> list[tuple[int, int, str]]:
    """(start, end, owner) of the runs that are inside the chip."""
    return [(r["address"], r["address"] + r["size"], owner) for r in runs if not r["past_chip"]]


def _entries(lut: _Lut, locations: list[int | None], how: list[str], located_by: str
             ) -> tuple[list[dict[str, Any]], list[tuple[int, int, str]]]:
    """Each LUT entry read through its header's location, and the (start, end, entry) spans its runs cover."""
    from ..formats.lut import APP_HEADER_SIZE, COMPONENTS

    rep, default = lut.rep, lut.default
    entries = []
    covered: list[tuple[int, int, str]] = []
    for i, name in enumerate(COMPONENTS):
        address = locations[i]
        e: dict[str, Any] = {"index": i, "name": name, "header_address": address,
                             "relocated": address is not None and address != default[i], "located_by": how[i],
                             "count": 0, "secure": 0, "runs": [], "size": 0}
        if address is None:
            e["note"] = "apps_locations id is not EXTERNAL_FIXED_LOCATION: not in serial flash"
            entries.append(e)
            continue
        h = lut.header_at(address)
        if h is None:
            rep.add("fail", "lut_header_past_chip", f"apps_locations[{i}] ({name}) points at 0x{address:X}, past the "
                    f"{'chip' if address + APP_HEADER_SIZE > lut.chip_size else 'file'}", region="lut",
                    address=address)
            entries.append(e)
            continue
        if how[i] == "inferred":
            rep.add("note", "lut_relocated", f"LUT entry {i} ({name}): header slot 0x{address:X} extends the header "
                    f"at 0x{default[i]:X} (grown by an OTA update); it is used, as the DCT in internal flash would "
                    "point at it (inspect the MCU image in the same run to confirm)", region="lut", address=address)
        elif e["relocated"]:
            rep.add("note", "lut_relocated", f"LUT entry {i} ({name}) header was moved to slot 0x{address:X} "
                    f"(found through {located_by})", region="lut", address=address)
        e["count"], e["secure"] = h.count, h.secure
        e["runs"] = lut.runs_of(h, i, name, True)
        e["size"] = sum(r["size"] for r in e["runs"])
        covered.extend(_spans(e["runs"], name))
        entries.append(e)
    return entries, covered


def _extra_slots(lut: _Lut, slot_headers: list[tuple[int, int, Any]], locations: list[int | None],
                 located_by: str, covered: list[tuple[int, int, str]]) -> list[dict[str, Any]]:
    """The written slots after the 8th as reported (which entry uses each); their runs join `covered`."""
    from ..formats.lut import COMPONENTS

    extra = []
    for k, address, h in slot_headers:
        runs = lut.runs_of(h, k, f"slot {k}", False)
        used_by = [COMPONENTS[i] for i, a in enumerate(locations) if a == address]
        slot = {"slot": k, "address": address, "count": h.count, "runs": runs, "used_by": used_by[0] if used_by else None}
        if not used_by:
            lut.rep.add("note", "lut_extra_slot", f"header slot {k} at 0x{address:X} is written but no LUT entry uses "
                        f"it (headers located by {located_by}): a stale header from an earlier relocation?",
                        region="lut", address=address)
        covered.extend(_spans(runs, f"slot {k}"))
        extra.append(slot)
    return extra


def _component(lut: _Lut, e: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """What one entry holds, decoded from its runs inside the chip."""
    runs = [r for r in e["runs"] if not r["past_chip"]]
    # runs back to back (as built): the blob is one stretch of the image, checksummed once with its region
    origin = runs[0]["address"] if runs and all(a["address"] + a["size"] == b["address"]
                                                for a, b in zip(runs, runs[1:])) else None
    comp = decode_component(lut.rep, e["index"], e["name"], lut.content(runs), ctx, lut.fill,
                            origin=None if origin is None else (lut.data, origin))
    comp["address"] = e["runs"][0]["address"]
    return comp


def _unused_not_erased(lut: _Lut, covered: list[tuple[int, int, str]]) -> list[tuple[int, int, int]]:
    """Sectors used by nothing (no entry, slot or the LUT) but not erased, reported as warnings."""
    rep, data, sector, loc, fill = lut.rep, lut.data, lut.sector, lut.loc, lut.fill
    n_sectors = min(len(data), lut.chip_size) // sector
    used = bytearray(n_sectors)
    for s in range(loc // sector, (loc + sector - 1) // sector + 1):
        if s < n_sectors:
            used[s] = 1
    for start, end, _ in covered:
        for s in range(start // sector, min(-(-end // sector), n_sectors)):
            used[s] = 1
    stale = _stale_sectors(data, sector, fill, used)
    for first, last, at in stale[:MAX_LISTED]:
        rep.add("warning", "unused_not_erased", f"sectors {first}-{last} (0x{first * sector:X}-"
                f"0x{(last + 1) * sector - 1:X}) are used by no LUT entry but are not erased (first byte not "
                f"0x{fill:02X} at 0x{at:X})", address=at, offset=at)
    if len(stale) > MAX_LISTED:
        rep.add("warning", "unused_not_erased", f"... and {len(stale) - MAX_LISTED} more runs of such sectors")
    return stale


def _check_overlaps(rep: FileReport, covered: list[tuple[int, int, str]]) -> None:
    ordered = sorted(covered)
    for (a0, a1, an), (b0, b1, bn) in zip(ordered, ordered[1:]):
        if b0 < a1 and an != bn:
            rep.add("fail", "lut_overlap", f"{bn} sectors at 0x{b0:X} overlap {an} (0x{a0:X}-0x{a1 - 1:X})",
                    region=bn, address=b0)


def _stale_sectors(data: bytes, sector: int, fill: int, used: bytearray) -> list[tuple[int, int, int]]:
    """Runs (first sector, last sector, first non-fill address) of sectors s < len(used) with used[s] == 0 that
    are not erased."""
    blank = bytes([fill]) * sector
    out: list[tuple[int, int, int]] = []
    for s in range(len(used)):
        if used[s] or data.startswith(blank, s * sector):
            continue
        at = first_not(data, fill, s * sector, (s + 1) * sector) or 0
        if out and out[-1][1] == s - 1:
            out[-1] = (out[-1][0], s, out[-1][2])
        else:
            out.append((s, s, at))
    return out


def decode_component(rep: FileReport, index: int, name: str, blob: bytes, ctx: Context, fill: int,
                     origin: tuple[bytes, int] | None = None) -> dict[str, Any]:
    """What one LUT entry holds: a stored app (ELF), the DCT image (ELF + decoded DCT), the filesystem (file list),
    the Wi-Fi firmware (size and hash; its exact size comes from the manifest when there is one). `origin`:
    (image, offset) when `blob` is image[offset:offset + len(blob)]."""
    from ..formats.lut import APP_COMPONENTS

    comp: dict[str, Any] = {"index": index, "name": name}
    if first_not(blob, fill) is None:
        comp.update({"kind": "erased", "size": 0, "sha256": None, "crc32": None})
        rep.add("note", "component_erased", f"{name}: its {hexsize(len(blob))} of sectors are erased", region=name)
        return comp
    if name in APP_COMPONENTS:
        flash: list[tuple[int, bytes]] = []
        elf = decode_elf(rep, blob, ctx.board, region=name, flash_out=flash)
        comp.update({"kind": "app", "elf": elf})
        size = elf.get("size", 0)
        if name == "fr_app":
            _factory_reset(rep, flash[0] if flash else None, ctx)
    elif name == "dct_image":
        elf = decode_elf(rep, blob, ctx.board, region=name, role="dct_image")
        dct_blob = elf.pop("_dct_blob", None)
        comp.update({"kind": "dct_image", "elf": elf})
        size = elf.get("size", 0)
        if dct_blob is not None:
            dct1 = ctx.board.mcu.region(ctx.board.dct.copies[0])
            copy = decode_copy(rep, dct_blob[:dct1.size], 1, name, dct1.start, ctx)
            comp["dct"] = copy
            if copy["state"] == "present" and not copy["valid"]:
                rep.add("fail", "dct_invalid", f"{name}: the DCT it holds is not valid as copy 1 ({copy['reason']})",
                        region=name)
    elif name == "filesystem":
        fs = decode_filesystem(rep, blob, region=name, readable=len(blob))  # blob: the entry's whole sectors
        comp.update({"kind": "filesystem", "filesystem": fs})
        size = fs["size"]
    else:
        size = _manifest_region_size(ctx, name)
        comp["size_from"] = "manifest" if size is not None else "trailing fill trimmed"
        if size is None:
            last = last_not(blob, fill)
            size = 0 if last is None else last + 1
        comp["kind"] = "blob"
    src, at = origin or (blob, 0)
    size = min(size, len(blob))
    comp.update({"size": size, "sha256": run_sha256(ctx, src, at, at + size),
                 "crc32": hex32(run_crc32(ctx, src, at, at + size))})
    return comp


def _manifest_region_size(ctx: Context, name: str) -> int | None:
    if ctx.manifest is None:
        return None
    for art in ctx.manifest["artefacts"]:
        if art["kind"] == "sflash":
            for r in art["regions"]:
                if r["name"] == name:
                    return int(r["size"])
    return None


def _factory_reset(rep: FileReport, fr_app: tuple[int, bytes] | None, ctx: Context) -> None:
    """Say whether a factory reset installs the program of each MCU image inspected in the same run."""
    from ..checks import factory_reset_app

    for (address, _), (app, files) in ctx.mcu_apps.items():
        text = factory_reset_app(fr_app, (address, app), ctx.board.mcu.fill)
        if text:
            others = f" (and of {len(files) - 1} other MCU image(s) holding the same app)" if len(files) > 1 else ""
            rep.add("note", "factory_reset_app", f"{text} of {files[0]}{others}", region="fr_app")
