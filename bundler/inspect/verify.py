"""Verifying against the manifest: which artefact a file is, image and region checksums, the first differing
byte (when the artefact file is next to the manifest), fill outside the regions, and single components.
"""

from __future__ import annotations

from typing import Any

from ..checksums import hex32, sha256
from ..errors import BundleError, InputError, hexsize
from ..inputs import stored_form
from .context import Context, FileReport, Loaded, MAX_FILE_SIZE, MAX_LISTED
from .image import cut_longer
from .scan import first_diff, first_not, non_fill_runs
from .sums import run_checksums, run_crc32, run_sha256


def _artefact_image_sums(art: dict[str, Any]) -> dict[str, str]:
    """Checksums of the image bytes an artefact holds (= the file's for a .bin; `image` for a .hex)."""
    src = art.get("image") if art["format"] == "hex" else art
    src = src or art
    return {k: src[k] for k in ("crc32", "sum32", "sha256")}


def match_artefact(item: Loaded, kind: str | None, ctx: Context) -> dict[str, Any] | None:
    """The manifest artefact this file is (by kind and content): an identical file first, then the same image,
    then the one with the most regions whose checksums match, then the same format, then the same size. Regions
    are hashed only for the artefacts the file and image checksums leave in the lead."""
    assert ctx.manifest is not None
    file_sha, image_sha = item.file_sha256, run_sha256(ctx, item.image)

    def region_matches(art: dict[str, Any]) -> int:
        shift = (art["base_address"] if item.base is None else item.base) - art["base_address"]
        if shift < 0:
            return 0
        return sum(0 <= r["offset"] - shift and r["offset"] - shift + r["size"] <= len(item.image) and
                   run_sha256(ctx, item.image, r["offset"] - shift, r["offset"] - shift + r["size"]) == r["sha256"]
                   for r in art["regions"])

    candidates = [(art, (art["sha256"] == file_sha, _artefact_image_sums(art)["sha256"] == image_sha))
                  for art in ctx.manifest["artefacts"] if kind is None or art["kind"] == kind]
    lead = max((same for _, same in candidates), default=None)
    best, best_key = None, None
    for art, same in candidates:
        if same != lead:
            continue  # behind on the file or image checksum: cannot be the best whatever its regions
        key = (*same, region_matches(art), art["format"] == item.fmt, art["size"] == len(item.image))
        if kind is None and not any(key[:3]) and not key[4]:
            continue  # without a kind, only content or size can make the match
        if best_key is None or key > best_key:
            best, best_key = art, key
    return best


def _reference(art: dict[str, Any], ctx: Context) -> bytes | None:
    """The artefact's image bytes, when its file sits next to the manifest unchanged (sha256 as listed): lets a
    mismatch be located to the byte. A .bin of the same kind is preferred (it is the image)."""
    assert ctx.manifest is not None and ctx.manifest_path is not None
    candidates = [a for a in ctx.manifest["artefacts"] if a["kind"] == art["kind"] and
                  _artefact_image_sums(a)["sha256"] == _artefact_image_sums(art)["sha256"]]
    candidates.sort(key=lambda a: a["format"] != "bin")
    for a in candidates:
        if a["file"] in ctx.references:
            if ctx.references[a["file"]] is not None:
                return ctx.references[a["file"]]
            continue
        path = ctx.manifest_path.parent / a["file"]
        image = None
        try:
            from ..inputs import image_from_bytes, read_file

            if path.is_file():
                raw, source = read_file(path, max_size=MAX_FILE_SIZE)  # a regular file only (never a FIFO)
                if source.sha256 == a["sha256"]:
                    image, base, _ = image_from_bytes(raw, path, fill=a["fill"])
                    if base is not None and base > a["base_address"]:
                        image = bytes([a["fill"]]) * (base - a["base_address"]) + image
                    image = image[:a["size"]] + bytes([a["fill"]]) * max(0, a["size"] - len(image))
        except (OSError, BundleError):
            image = None
        ctx.references[a["file"]] = image
        if image is not None:
            return image
    return None


def verify(rep: FileReport, item: Loaded, ctx: Context) -> dict[str, Any]:
    """Compare an MCU or SFLASH image file with its manifest artefact: whole-file and whole-image checksums, every
    region, and fill everywhere outside the regions. Mismatches name the region, the first differing offset and
    address (when the artefact file is next to the manifest) and both checksums."""
    art = match_artefact(item, rep.doc["kind"], ctx)
    if art is None:
        rep.add("fail", "no_artefact", f"the manifest has no {rep.doc['kind']} artefact")
        return {"artefact": None, "result": "fail"}
    fill, size, abase = art["fill"], art["size"], art["base_address"]
    out: dict[str, Any] = {"artefact": art["file"], "result": "pass", "identical_file": False}
    if art["sha256"] == item.file_sha256:
        out["identical_file"] = True
        rep.add("note", "identical", f"identical to {art['file']} (sha256 {art['sha256']})")
    # place the image at the artefact's base
    image = item.image
    base = abase if item.base is None else item.base
    notes_before = len(rep.findings)
    if base > abase:
        image = bytes([fill]) * (base - abase) + image
    elif base < abase:
        first = first_not(image, fill, 0, abase - base)
        if first is not None:
            rep.add("fail", "before_artefact", f"data at 0x{base + first:08X}, before the artefact's base "
                    f"0x{abase:08X}", address=base + first)
        image = image[abase - base:]
    if len(image) > size:
        image = cut_longer(rep, image, size, fill, art["file"], abase, "image",
                            f": compared on the first {hexsize(size)}")
    elif len(image) < size:
        if item.fmt == "hex":
            rep.add("note", "hex_partial", f"HEX records end at offset 0x{len(image):X}; the remaining "
                    f"{hexsize(size - len(image))} are taken as erased (0x{fill:02X})")
            image = image + bytes([fill]) * (size - len(image))
        else:
            rep.add("fail", "truncated", f"{hexsize(len(image))} is shorter than {art['file']} ({hexsize(size)}): "
                    f"{hexsize(size - len(image))} missing from offset 0x{len(image):X} (address "
                    f"0x{abase + len(image):08X})", offset=len(image), address=abase + len(image))
    expected = _artefact_image_sums(art)
    actual = run_checksums(ctx, image)
    out["expected"], out["actual"] = expected, actual
    out["size"] = {"expected": size, "actual": len(item.image)}
    same = actual["sha256"] == expected["sha256"] and len(image) == size
    reference = None if same else _reference(art, ctx)
    out["reference_available"] = reference is not None
    if not same and len(image) == size:
        rep.add("fail", "image_checksum", f"image differs from {art['file']}: crc32 {actual['crc32']} expected "
                f"{expected['crc32']}, sha256 {actual['sha256'][:16]}… expected {expected['sha256'][:16]}…")
    regions = []
    for r in art["regions"]:
        off, rsize = r["offset"], r["size"]
        entry = {"name": r["name"], "offset": off, "address": abase + off, "size": rsize,
                 "expected": {"crc32": r["crc32"], "sha256": r["sha256"]}, "actual": None, "status": "ok",
                 "first_difference": None}
        if rsize and len(image) < off + rsize:
            entry["status"] = "missing"
            rep.add("fail", "region_missing", f"region {r['name']} (offset 0x{off:X}, address 0x{abase + off:08X}, "
                    f"{hexsize(rsize)}) is not all in the file: it ends at offset 0x{len(image):X}",
                    region=r["name"], offset=off, address=abase + off)
        else:
            entry["actual"] = {"crc32": hex32(run_crc32(ctx, image, off, off + rsize)),
                               "sha256": run_sha256(ctx, image, off, off + rsize)}
            if entry["actual"]["sha256"] != r["sha256"]:
                entry["status"] = "mismatch"
                where = ""
                chunk = image[off:off + rsize]
                if reference is not None:
                    d = first_diff(chunk, reference[off:off + rsize])
                    if d is not None:
                        entry["first_difference"] = {"offset": off + d, "address": abase + off + d,
                                                     "actual": chunk[d], "expected": reference[off + d]}
                        where = (f"; first difference at offset 0x{off + d:X} (address 0x{abase + off + d:08X}): "
                                 f"0x{chunk[d]:02X}, expected 0x{reference[off + d]:02X}")
                else:
                    where = ("; first differing byte unknown (the artefact file is not next to the manifest, or "
                             "differs from it)")
                fd = entry["first_difference"]
                rep.add("fail", "region_mismatch", f"region {r['name']} (offset 0x{off:X}, address 0x{abase + off:08X}, "
                        f"{hexsize(rsize)}) differs: crc32 {entry['actual']['crc32']} expected {r['crc32']}, sha256 "
                        f"{entry['actual']['sha256'][:16]}… expected {r['sha256'][:16]}…{where}", region=r["name"],
                        offset=fd["offset"] if fd else off, address=fd["address"] if fd else abase + off)
        regions.append(entry)
    out["regions"] = regions
    out["outside_regions"] = _check_outside(rep, image, art, ctx)
    out["result"] = "fail" if any(f["severity"] in ("fail", "error") for f in rep.findings[notes_before:]) else "pass"
    return out


def _check_outside(rep: FileReport, image: bytes, art: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """Every byte outside the artefact's regions must be the fill; report each run of other bytes with its address
    and where it is (board region / SFLASH sector and LUT entry)."""
    fill, abase = art["fill"], art["base_address"]
    # the gaps between the regions, scanned for runs of non-fill bytes
    gaps, at = [], 0
    for r in sorted(art["regions"], key=lambda r: r["offset"]):
        gaps.append((at, max(at, r["offset"])))
        at = max(at, r["offset"] + r["size"])
    gaps.append((at, max(at, len(image))))
    bad = [run for a, b in gaps if b > a for run in non_fill_runs(image, fill, a, b)]
    runs: list[dict[str, Any]] = []
    for s, e in bad[:MAX_LISTED]:
        where = _where(art, s, ctx)
        runs.append({"offset": s, "address": abase + s, "size": e - s, "where": where, "first_value": image[s]})
        what = "byte" if e - s == 1 else f"{e - s} bytes"
        rep.add("fail", "not_erased", f"{what} at offset 0x{s:X} (address 0x{abase + s:08X}) in {where} should be "
                f"erased (0x{fill:02X}) but read 0x{image[s]:02X}" + ("" if e - s == 1 else " ..."),
                region=where.split(" ")[0], offset=s, address=abase + s)
    if len(bad) > MAX_LISTED:
        rep.add("fail", "not_erased", f"... and {len(bad) - MAX_LISTED} more runs of non-erased bytes outside "
                "every region")
    return {"fill": fill, "non_fill_bytes": sum(e - s for s, e in bad), "runs": runs}


def _where(art: dict[str, Any], offset: int, ctx: Context) -> str:
    """Name the place of an unexpected byte: the board layout region (MCU) or the LUT entry / sector (SFLASH)."""
    address = art["base_address"] + offset
    if art["kind"] == "mcu":
        for r in ctx.board.mcu.regions:
            if r.start <= address < r.end:
                used = [m for m in art["regions"] if m["name"] == r.name]
                return f"{r.name} ({'erased area' if not used else 'after its content'})"
        return "flash outside every region"
    sector = ctx.manifest["chip"]["sector_size"] if ctx.manifest else ctx.board.sflash.sector_size
    s = offset // sector
    for e in (ctx.manifest or {}).get("lut", []):
        if e["sector_count"] and e["start_sector"] <= s < e["start_sector"] + e["sector_count"]:
            return f"{e['name']} (sector {s}, after its content)"
    return f"sector {s} (unused, erased area)"


def verify_component(rep: FileReport, kind: str, data: bytes, ctx: Context,
                     flash_image: tuple[int, bytes] | None = None) -> dict[str, Any]:
    """A single component file (a stored app, the DCT, the filesystem, the firmware): compared with the region of
    the same content, if the manifest has one; an app ELF also by the bytes it loads into the MCU's app region."""
    assert ctx.manifest is not None
    digest = sha256(data)
    if flash_image is not None:
        start, image = flash_image
        loaded = sha256(image)
        for art in ctx.manifest["artefacts"]:
            for r in art["regions"]:
                if art["kind"] == "mcu" and art["base_address"] + r["offset"] == start and r["sha256"] == loaded:
                    rep.add("note", "matches_region", f"loads the same {hexsize(len(image))} as region {r['name']} of "
                            f"{art['file']} (at 0x{start:08X})", region=r["name"])
                    return {"artefact": art["file"], "region": r["name"], "result": "pass"}
    for art in ctx.manifest["artefacts"]:
        for r in art["regions"]:
            if r["sha256"] == digest:
                rep.add("note", "matches_region", f"identical to region {r['name']} of {art['file']}", region=r["name"])
                return {"artefact": art["file"], "region": r["name"], "result": "pass"}
    stored_digest = None
    if kind == "app":  # an unstripped ELF (symbols, debug sections): what the build stores of it is its stripped form
        try:
            stored = stored_form(data, rep.doc["file"])
        except InputError:  # an ELF pyelftools cannot walk: the decode above has said what is wrong with it
            stored = data
        stored_digest = sha256(stored) if stored is not data else None
        for art in ctx.manifest["artefacts"]:
            for r in art["regions"]:
                if r["sha256"] == stored_digest:
                    rep.add("note", "matches_region", f"its stripped form ({hexsize(len(stored))}: ELF header, program "
                            f"headers and loadable segments, as the SDK stores *.stripped.elf) is region {r['name']} "
                            f"of {art['file']}", region=r["name"])
                    return {"artefact": art["file"], "region": r["name"], "result": "pass"}
    # a read-back of a slot (a whole DCT copy, a component's sectors): the region's bytes then only fill
    for art in ctx.manifest["artefacts"]:
        for r in art["regions"]:
            size = r["size"]
            if 0 < size < len(data) and first_not(data, art["fill"], size) is None and \
                    sha256(data[:size]) == r["sha256"]:
                rep.add("note", "matches_region", f"its first {hexsize(size)} are region {r['name']} of "
                        f"{art['file']}; the remaining {hexsize(len(data) - size)} are all 0x{art['fill']:02X} (fill)",
                        region=r["name"])
                return {"artefact": art["file"], "region": r["name"], "result": "pass"}
    # a filesystem image the build padded for the device's reader (checks.filesystem_padding): the region is the
    # image and the zero bytes the build added
    for art in ctx.manifest["artefacts"]:
        for r in art["regions"]:
            if kind == "filesystem" and r["name"] == "filesystem" and len(data) < r["size"] and \
                    sha256(data + bytes(r["size"] - len(data))) == r["sha256"]:
                rep.add("note", "matches_region", f"with the {hexsize(r['size'] - len(data))} of zeros the build "
                        f"added for the WicedFS reader, it is region {r['name']} of {art['file']}", region=r["name"])
                return {"artefact": art["file"], "region": r["name"], "result": "pass"}
    names = {"dct": ("dct1", "dct_image"), "app": ("fr_app", "ota_app", "app0", "app1", "app2", "app"),
             "filesystem": ("filesystem",), "wifi_firmware": ("wifi_firmware",)}[kind]
    cands = [(a, r) for a in ctx.manifest["artefacts"] for r in a["regions"] if r["name"] in names]
    if not cands:
        rep.add("note", "no_region", f"the manifest lists no region holding a {kind}")
        return {"artefact": None, "region": None, "result": "pass"}
    a, r = cands[0]
    hint = ("; this ELF has symbols and neither it nor its stripped form is stored: if the build was given the "
            "SDK's *.stripped.elf, inspect that file") if kind == "app" and stored_digest else ""
    rep.add("fail", "component_mismatch", f"matches no region of the manifest; {r['name']} of {a['file']} has sha256 "
            f"{r['sha256'][:16]}… ({hexsize(r['size'])}), this file {digest[:16]}… ({hexsize(len(data))}){hint}",
            region=r["name"])
    return {"artefact": a["file"], "region": r["name"], "result": "fail"}


def vouched(content: list[dict[str, Any]], verification: dict[str, Any]) -> None:
    """Identity before content (issue 20): a content finding that fails bytes the manifest vouches for - the whole
    file when it verified, else the regions that matched - becomes a warning; the verification decides."""
    if verification.get("result") == "pass":
        same = None  # every region
    else:
        same = {r["name"] for r in verification.get("regions", []) if r["status"] == "ok"}
    for f in content:
        if f["severity"] == "fail" and (same is None or f["region"] in same):
            f["severity"] = "warning"
            f["message"] += " (these bytes are the manifest's: a content finding, not a verification failure)"
