"""The job sheet as data (`build_jobsheet`): per chip what part the file targets, which file to load and how
(format, load offset, blank value, erase), the checksum to expect and the other forms, the per-unit ranges, the
written regions; the programming order and notes; and what both renderings say alike (footnote order, the basis of
the expected number).

Inputs are the manifest and the artefacts' bytes (for checksums the manifest does not carry). Nothing else is read:
no DCT field, key or passphrase can reach the sheet. Output is deterministic: the only date is the manifest's
`created` (set from SOURCE_DATE_EPOCH), if any.

Serialization: a manifest may carry `serialization`: [{name, address, size}, ...] - bytes that differ per unit
(e.g. the DCT's serial number or MAC). `address` is a bus address inside one artefact's range (MCU: 0x08xxxxxx;
SFLASH: offset in the chip). The sheet lists them and adds checksums over the image with those ranges left out.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..checksums import Data, sha256
from ..errors import ConfigError, InputError, hexsize
from .equipment import CRC_DEVICE, EQUIPMENT, VERIFY, equipment_for, parse_equipment
from .forms import Row, chip_rows

if TYPE_CHECKING:
    from ..layout import Board

JOBSHEET_MD, JOBSHEET_HTML, MEMORY_MAP_SVG = "JOBSHEET.md", "jobsheet.html", "memory-map.svg"
# programming order (README flow): the serial flash in a device programmer before assembly, then the MCU over SWD
ORDER = ("sflash", "mcu")


@dataclass
class Expected:
    """The one number the operator compares: form (a Row), family, the value and the srec_cat command."""

    family: str
    why: str
    row: Row
    value: str
    units_column: str = ""  # serialized: the units.csv column holding each unit's number


@dataclass
class ChipSheet:
    kind: str
    heading: str
    part: str  # the part to select in the programmer: the orderable part number where the layout names it
    part_detail: str  # what that part is (chip name, JEDEC ID, MCU description)
    alternatives: list[str]  # "also supported by this layout, not this build"
    facts: list[tuple[str, str]]
    files: list[str]
    rows: list[Row]
    regions: list[list[str]]
    expected: Expected | None = None
    lut: list[list[str]] = field(default_factory=list)
    per_unit: list[list[str]] = field(default_factory=list)

    def select(self) -> str:
        return f"{self.part} ({self.part_detail})" if self.part_detail else self.part


SIGN_OFF = ("Date", "Operator", "Equipment model", "Checksum read back", "Result (PASS / FAIL)")


@dataclass
class JobSheet:
    title: str
    intro: list[tuple[str, str]]
    order: list[str]
    chips: list[ChipSheet]
    notes: list[str]
    svg: str


def _size(n: int) -> str:
    return f"{n} bytes (0x{n:X})"


def _addr(n: int) -> str:
    return f"0x{n:08X}"


def _serialization(manifest: Mapping[str, Any]) -> list[dict[str, Any]]:
    entries = manifest.get("serialization") or []
    if not isinstance(entries, list):
        raise InputError("manifest serialization: expected a list of {name, address, size}")
    out = []
    for i, e in enumerate(entries):
        if not (isinstance(e, Mapping) and isinstance(e.get("name"), str) and isinstance(e.get("address"), int)
                and isinstance(e.get("size"), int) and e["size"] > 0
                and isinstance(e.get("file", ""), str) and isinstance(e.get("offset", 0), int)):
            raise InputError(f"manifest serialization[{i}]: expected {{name: str, address: int, size: int > 0}} "
                             "(optionally file: str, offset: int)")
        out.append({**e, "index": i})
    return out


def _per_unit_ranges(entries: list[dict[str, Any]], art: Mapping[str, Any]) -> list[tuple[int, str, int, int]]:
    """(entry index, name, offset in the artefact, size) of the entries that fall in `art`: by `file` when the entry
    names one (serialize writes {name, file, address, offset, size}), else by its address in the artefact's range."""
    base, size = art["base_address"], art["size"]
    found = []
    for e in entries:
        if "file" in e:
            if e["file"] != art["file"]:
                continue
            offset = e.get("offset", e["address"] - base)
            if "offset" in e and e["offset"] != e["address"] - base:
                raise InputError(f"serialization {e['name']}: offset 0x{e['offset']:X} does not match address "
                                 f"{_addr(e['address'])} in {art['file']} (base {_addr(base)})")
        elif base <= e["address"] < base + size:
            offset = e["address"] - base
        else:
            continue
        if offset < 0 or offset + e["size"] > size:
            raise InputError(f"serialization {e['name']}: {_addr(e['address'])}+{hexsize(e['size'])} runs past "
                             f"the end of {art['file']}")
        found.append((e["index"], e["name"], offset, e["size"]))
    return found


def _inside(offset: int, size: int, regions: Sequence[Mapping[str, Any]]) -> str:
    names = [r["name"] for r in regions if r["offset"] <= offset and offset + size <= r["offset"] + r["size"]]
    return ", ".join(names) or "outside any written region"


def _sflash_parts(board: Board | None, chip: Mapping[str, Any]) -> tuple[str, str, list[str]]:
    """(the part to select, what it is, the other parts the layout takes): orderable part numbers where the layout
    names them."""
    name = str(chip.get("name", "?"))
    jedec = f"JEDEC ID 0x{int(str(chip.get('jedec_id', '0')), 16):06X}"
    if board is None:
        return name, jedec, []
    from ..layout import load_chip

    def part(n: str) -> str:
        return board.sflash.part_number(n) or n

    others = []
    for other in board.sflash.compatible_chips:
        if other == name:
            continue
        try:
            other_id = f"JEDEC ID 0x{load_chip(other).jedec_id:06X}"
        except ConfigError:  # a chip missing from chips.toml is a layout problem the build reports elsewhere
            other_id = "JEDEC ID not in layouts/chips.toml"
        others.append(f"{part(other)} ({other}, {other_id})" if part(other) != other else f"{other} ({other_id})")
    return part(name), (f"{name}, {jedec}" if part(name) != name else jedec), others


def _mcu_parts(board: Board | None, board_info: Mapping[str, Any]) -> tuple[str, str, list[str]]:
    described = str(board_info.get("mcu_part", "MCU"))
    if board is None or board.mcu.part_number is None:
        return described, "", []
    return board.mcu.part_number, described, list(board.mcu.also_supported)


def _expected(kind: str, rows: list[Row], bin_name: str, equipment: Sequence[str], serialized: bool) -> Expected:
    family, why = equipment_for(kind, equipment)
    row = next(r for r in rows if r.label == EQUIPMENT[family].forms[kind])
    values = set(row.values.values())
    assert len(values) == 1, row  # device-range forms: the .bin and the .hex hold the same device bytes
    column = ""
    if serialized:  # units.csv: <stem>_crc32 / <stem>_sum32 of each unit's whole image (units.UnitsCsv)
        column = f"{bin_name.rsplit('.', 1)[0]}_{'crc32' if row.label == CRC_DEVICE else 'sum32'}"
    return Expected(family, why, row, row.values[bin_name], column)


def build_jobsheet(manifest: Mapping[str, Any], files: Mapping[str, Data], board: Board | None = None, *,
                   equipment: Sequence[str] = (), signer: str | None = None,
                   device_notes: Sequence[str] = ()) -> JobSheet:
    """The job sheet model from a manifest dict and the files of the bundle (`files[name]`: bytes or streams): the
    artefacts, for checksums the manifest does not carry, and manifest.json itself, whose SHA-256 the sheet prints
    (so the sheet is made after the manifest's bytes are final). `board` (a bundler.layout.Board) adds part numbers,
    the MCU sector layout and layout regions; `equipment` picks the checksum printed large per chip
    (parse_equipment); `signer` is the fingerprint of the key that signed manifest.json, if it was signed;
    `device_notes` what the build found this device does at a factory reset (build._device_notes)."""
    from ..manifest import MANIFEST_FILE, product_label
    from ..svgmap import svg_from_manifest

    equipment = parse_equipment(equipment)
    if MANIFEST_FILE not in files:
        raise InputError(f"job sheet: the bytes of {MANIFEST_FILE} are needed (the sheet prints its SHA-256)")
    manifest_bytes = files[MANIFEST_FILE]
    try:
        same = json.loads(bytes(manifest_bytes)) == manifest
    except (ValueError, TypeError):
        same = False
    if not same:
        raise InputError(f"job sheet: {MANIFEST_FILE} as given is not the manifest the sheet is made from")
    arts = manifest.get("artefacts", [])
    per_unit = _serialization(manifest)
    board_info, chip = manifest.get("board", {}), manifest.get("chip", {})
    chips: list[ChipSheet] = []
    matched: set[int] = set()
    for kind in ORDER:
        bins = [a for a in arts if a["kind"] == kind and a["format"] == "bin"]
        if not bins:
            continue
        art = bins[0]
        hexes = [a for a in arts if a["kind"] == kind and a["format"] == "hex"]
        hx = hexes[0] if hexes else None
        if art["file"] not in files or (hx is not None and hx["file"] not in files):
            raise InputError(f"job sheet: the bytes of {art['file']} are needed to compute its checksums")
        image = files[art["file"]]
        if len(image) != art["size"]:
            raise InputError(f"{art['file']}: {_size(len(image))}, the manifest says {_size(art['size'])}")
        regions = art["regions"]
        written = [(r["offset"], r["size"]) for r in regions]
        units = _per_unit_ranges(per_unit, art)
        matched.update(i for i, _, _, _ in units)
        base, size, fill = art["base_address"], art["size"], art["fill"]
        rows = chip_rows(kind, image, base, art["file"], hx["file"] if hx else None, files[hx["file"]] if hx else None,
                          bool(hx and hx.get("hex_skip_fill")), written, [(o, s) for _, _, o, s in units], fill)
        region_rows = [[r["name"], f"{_addr(base + r['offset'])}–{_addr(base + r['offset'] + r['size'] - 1)}",
                        _size(r["size"]), r["crc32"], (r.get("source") or {}).get("file", "generated")]
                       for r in regions]
        unit_rows = [[n, _addr(base + o), _size(s), _inside(o, s, regions)] for _, n, o, s in units]
        erase = f"Yes: erase the whole chip first (areas left blank must read 0x{fill:02X})."
        if kind == "mcu":
            part, detail, alternatives = _mcu_parts(board, board_info)
            facts = [("Memory", "MCU internal flash, programmed over SWD (or JTAG) on the assembled board"),
                     ("Flash", f"{_addr(board_info.get('flash_base', base))}, {_size(board_info.get('flash_size', size))}"
                      + (", sectors " + ", ".join(f"{n} x {s // 1024} KiB" for s, n in _runs(board.mcu.sectors))
                         if board is not None else ""))]
            facts += [("File to load", f"{art['file']} (raw binary, {_size(size)})"
                       + (f" or {hx['file']} (Intel HEX, addresses inside; "
                          f"{'all-0xFF records left out' if hx.get('hex_skip_fill') else 'every byte of the .bin'})"
                          if hx else "")),
                      ("Load address", f"{art['file']}: file offset 0 at address {_addr(base)}"
                                       + (f"; {hx['file']}: no offset (addresses inside)" if hx else "")),
                      ("Fill / blank value", f"0x{fill:02X} (erased flash)"),
                      ("Erase whole chip", erase),
                      ("Option bytes", "not in these files; leave as your process specifies (no read-out protection "
                                       "is set by this image)")]
            heading = f"MCU: {part}"
        else:
            part, detail, alternatives = _sflash_parts(board, chip)
            facts = [("Memory", f"serial NOR flash, {_size(chip.get('size', size))}, sectors of "
                                f"{_size(chip.get('sector_size', 4096))}; programmed in a device programmer before "
                                "assembly"),
                     ("File to load", f"{art['file']} (raw binary, exactly the chip size)"),
                     ("Load address", f"file offset 0 at chip address {_addr(base)}"),
                     ("Fill / blank value", f"0x{fill:02X} (erased NOR flash)"),
                     ("Erase whole chip", erase)]
            heading = f"SFLASH: {part}"
        sheet = ChipSheet(kind, heading, part, detail, alternatives, facts, [art["file"]] + ([hx["file"]] if hx else []),
                          rows, region_rows, _expected(kind, rows, art["file"], equipment, bool(units)),
                          per_unit=unit_rows)
        if kind != "mcu":
            sheet.lut = [[str(e["index"]), e["name"], str(e["start_sector"]), str(e["sector_count"]),
                          _addr(e["start_sector"] * chip.get("sector_size", 4096)) if e["sector_count"] else "-"]
                         for e in manifest.get("lut", [])]
        chips.append(sheet)
    unmatched = [e for e in per_unit if e["index"] not in matched]
    if unmatched:
        e = unmatched[0]
        where = f"file {e['file']!r} is no .bin artefact" if "file" in e else "address is in no artefact's range"
        raise InputError(f"serialization {e['name']}: {where}")

    product = manifest.get("product") or {}
    intro = [("Product", str(manifest.get("name", "?"))),
             ("Version", str(product.get("version", "not recorded (bundle.toml sets no version)")))]
    if product.get("revision"):
        intro.append(("Revision", str(product["revision"])))
    intro += [("Manifest SHA-256", f"{sha256(manifest_bytes)} ({MANIFEST_FILE})"),
              ("Manifest signature", f"Ed25519, signing key fingerprint {signer} (SHA-256 of the public key, DER)"
               if signer else "not signed"),
              ("Date", str(manifest.get("created") or "not recorded")),
              ("Board", f"{board_info.get('name', '?')} (layout {board_info.get('layout', '?')}, WICED SDK "
                        f"{board_info.get('sdk', '?')})"),
              ("Made by", f"{manifest.get('tool', {}).get('name', 'bundle')} "
                          f"{manifest.get('tool', {}).get('version', '')}")]
    intro.append(("Per-unit data", f"{len(per_unit)} range(s) differ per unit (see each chip): each unit's "
                  "whole-image checksum is in units.csv; the rows \"per-unit ranges excluded\" are the same for all "
                  "units." if per_unit else "none: every unit gets identical bytes"))
    order = []
    by_kind = {c.kind: (n, c) for n, c in enumerate(chips, 1)}
    if "sflash" in by_kind:
        n, c = by_kind["sflash"]
        order.append(f"Before assembly, in a device programmer: select {c.part}, load "
                     f"{c.files[0]}, erase, program, verify. Compare the checksum with the large number in section {n}; "
                     "sign it off there.")
        order.append("Fit the programmed serial flash on the board.")
    if "mcu" in by_kind:
        n, c = by_kind["mcu"]
        order.append(f"On the assembled board, over SWD: select {c.part}, full chip erase, "
                     f"program {' or '.join(c.files)}, verify. Compare the checksum with the large number in section "
                     f"{n}; sign it off there.")
    if len(by_kind) == 2:
        order.append("A line using the `bundle openocd` kit programs both chips over SWD after assembly instead; "
                     "its log records PASS or FAIL per board.")
    notes = [
        "Checksum forms differ between programmer families: the large number on each chip's page is the form of the "
        "equipment family chosen for this sheet (`bundle build --equipment`); the table below it gives the other "
        "forms. Where a row says \"verify on your equipment\", no published statement was found that a family "
        "computes exactly that form; check it once with a known file.",
        "Dediprog, BPM Microsystems and other families not named here: no published checksum definition was found - "
        f"{VERIFY}, against the definitions on this sheet.",
        "srec_cat commands (Debian package srecord) reproduce each value; -hex-dump prints the 4 bytes most "
        "significant first, i.e. as the value reads.",
    ]
    from ..checks import boot_facts  # what a 3.5.2 device does at a factory reset (issue 20), with its sources

    notes += [f"WICED 3.5.2: {n}" for n in [*device_notes, *boot_facts()]]
    return JobSheet(f"Programming job sheet - {product_label(manifest)}", intro, order, chips, notes,
                    svg_from_manifest(manifest, board, xml_declaration=False))


def _runs(values: Sequence[int]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for v in values:
        if out and out[-1][0] == v:
            out[-1] = (v, out[-1][1] + 1)
        else:
            out.append((v, 1))
    return out


# --- rendering ------------------------------------------------------------------------------------------------------

def basis(chip: ChipSheet) -> str:
    e = chip.expected
    assert e is not None
    return f"{e.row.label}, as {EQUIPMENT[e.family].label} shows it ({EQUIPMENT[e.family].basis}); chosen: {e.why}"


def used_sources(sheet: JobSheet) -> list[str]:
    """Footnote keys in order of first appearance: header, chip pages, then the reference part, then notes."""
    texts = [v for _, v in sheet.intro] + sheet.order
    for c in sheet.chips:
        texts += [v for _, v in c.facts] + [basis(c)]
    for c in sheet.chips:
        texts += [r.shown_by for r in c.rows] + [r.definition for r in c.rows]
    texts += sheet.notes
    order: list[str] = []
    for key in re.findall(r"\{fn:([a-z0-9-]+)\}", " ".join(texts)):
        if key not in order:
            order.append(key)
    return order


def other_rows(chip: ChipSheet) -> list[Row]:
    return [r for r in chip.rows if chip.expected is None or r is not chip.expected.row]


def units_note(chip: ChipSheet) -> str:
    e = chip.expected
    return (f"Per-unit data: this is the base image's number; each unit's is in units.csv, column {e.units_column}."
            if e is not None and e.units_column else "")
