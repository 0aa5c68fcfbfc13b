"""The programming-house job sheet: JOBSHEET.md and a self-contained jobsheet.html (inline CSS, inline SVG map).

Per chip it says what part the file targets, which file to load and how (format, load offset, blank value, erase),
and the checksums to expect in the forms programmers show. Each form is labelled with the equipment families that
show it ONLY where a published statement says so (footnoted); everything else says "verify on your equipment".

Inputs are the manifest and the artefacts' bytes (for checksums the manifest does not carry). Nothing else is read:
no DCT field, key or passphrase can reach the sheet. Output is deterministic: the only date is the manifest's
`created` (set from SOURCE_DATE_EPOCH), if any.

Serialization: a manifest may carry `serialization`: [{name, address, size}, ...] - bytes that differ per unit
(e.g. the DCT's serial number or MAC). `address` is a bus address inside one artefact's range (MCU: 0x08xxxxxx;
SFLASH: offset in the chip). The sheet lists them and adds checksums over the image with those ranges left out.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from .checksums import Data, ProgrammerChecksums, crc32, hex32, merge_ranges, sha256, sum32_ranges
from .errors import ConfigError, InputError, hexsize
from .writers import hex_data_spans

if TYPE_CHECKING:
    from .layout import Board

JOBSHEET_MD, JOBSHEET_HTML, MEMORY_MAP_SVG = "JOBSHEET.md", "jobsheet.html", "memory-map.svg"
VERIFY = "verify on your equipment"
SLOT = 0x7FFF0000  # where the srec_cat commands on the sheet put a checksum (above any image here)

# Published statements behind the equipment labels. Keys are used as {fn:key} markers in text.
SOURCES: dict[str, str] = {
    "st-um0892": "ST UM0892 (STM32 ST-LINK Utility), section \"Memory checksum\": the checksum is an arithmetic sum, "
                 "byte per byte, truncated to a 32-bit word; quoted in the ST community thread "
                 "https://community.st.com/s/question/0D50X00009sVMu7/stlink-utility-checksum-changed",
    "st-gaps": "ST community report (user measurements, not an ST document): ST-LINK Utility sums only the bytes "
               "present in the file (gaps skipped), STM32CubeProgrammer counts gaps as 0xFF - "
               "https://qa-community.st.com/stm32cubeprogrammer-mcus-30/checksum-discrepancy-between-"
               "stm32cubeprogrammer-and-st-link-utility-149894",
    "elnec": "Elnec PG4UW user manual, Checksum dialog: the main checksum covers Buffer start..Buffer end (or a "
             "user From/To range); \"BYTE: sum by bytes to DWORD\", \"CRC-32: standard CRC-32\"; blocks can be "
             "excluded from the checksum for serialization - "
             "https://www.manualshelf.com/manual/elnec/60-038/user-manual-english/page-103.html (the same text, "
             "with the checksum-type list, in the PG4UW-based B&K Precision 866C manual p. 64)",
    "dataio": "Data I/O TaskLink help, \"Checksum\": the checksum of the data in programmer RAM, from the beginning "
              "of RAM to the end of the data that fits the selected device (algorithm and width not stated there) - "
              "https://www.dataio.com/TLHelp/PSV/Content/FLASHPAK/Checksum.htm",
    "dataman": "Dataman, \"Dataman Programmer Checksum Calculation\": a 32-bit number, initial value zero, adding "
               "all bytes - https://www.dataman.com/dataman-programmer-checksum-calculation",
    "jflash-log": "SEGGER forum thread 6731: J-Flash logs \"CRC of data\" and \"CRC of file\" when it opens a data "
                  "file (algorithms not stated there) - https://forum.segger.com/index.php/Thread/"
                  "6731-SOLVED-J-Flash-CRC-checksum-does-not-compute-as-instructed/",
    "jflash-crc": "Embitek (SEGGER distributor, Japan) FAQ Q220106: J-Flash's CRC uses polynomial 0xEDB88320, "
                  "initial value 0x00000000, over the sectors selected in the project, undefined/unused bytes "
                  "counted as 0xFF (refers to wiki.segger.com/UM08003_JFlash#CRC_calculation) - "
                  "https://www.embitek.co.jp/support/faq/jflash/Q220106/",
    "srecord": "srec_input(1), SRecord 1.65: -Checksum_Positive_* inserts the simple byte sum (holes count as "
               "zero); -CRC32_* inserts the standard CRC-32 (initial value all ones), bytes in ascending address "
               "order, holes ignored - https://srecord.sourceforge.net/man/man1/srec_input.1.html",
}


@dataclass
class Row:
    """One checksum form: its values per file, who shows it (text with {fn:key} markers) and how to reproduce."""

    label: str
    definition: str
    values: dict[str, str]
    shown_by: str
    reproduce: str = ""


SUM_DEVICE, CRC_DEVICE = "Sum32, whole device range", "CRC-32 (zlib), whole device range"


@dataclass(frozen=True)
class Equipment:
    """A family of programming equipment: which checksum form (a Row label) it shows per chip kind, and the
    published statement that says so. Only families whose form is documented are here (SOURCES)."""

    label: str
    forms: Mapping[str, str]  # chip kind ("mcu", "sflash") -> Row label
    basis: str  # why this form, with {fn:key} markers


DEFAULT_EQUIPMENT = "crc32"
# `bundle build --equipment FAMILY` / bundle.toml [output] equipment: the one number the sheet prints large per chip.
# SEGGER J-Flash (CRC start/final values not stated) and Data I/O (algorithm not stated) are not offered.
EQUIPMENT: dict[str, Equipment] = {
    "crc32": Equipment("any CRC-32 tool; Elnec PG4UW checksum calculator \"CRC-32\" over the device range",
                       {"mcu": CRC_DEVICE, "sflash": CRC_DEVICE}, "standard CRC-32 of the whole device{fn:elnec}"),
    "elnec": Equipment("Elnec PG4UW, main checksum \"BYTE\" (buffer = device)", {"mcu": SUM_DEVICE, "sflash": SUM_DEVICE},
                       "\"BYTE: sum by bytes to DWORD\" over the buffer{fn:elnec}"),
    "dataman": Equipment("Dataman programmer checksum", {"mcu": SUM_DEVICE, "sflash": SUM_DEVICE},
                         "32-bit sum of all bytes{fn:dataman}"),
    "st-link-utility": Equipment("ST-LINK Utility \"Memory checksum\" (whole flash)", {"mcu": SUM_DEVICE},
                                 "byte sum truncated to 32 bits{fn:st-um0892}"),
    "stm32cubeprogrammer": Equipment("STM32CubeProgrammer checksum (gaps as 0xFF)", {"mcu": SUM_DEVICE},
                                     "byte sum, gaps counted as 0xFF (community report){fn:st-gaps}"),
}
KINDS = ("mcu", "sflash")
# programming order (README flow): the serial flash in a device programmer before assembly, then the MCU over SWD
ORDER = ("sflash", "mcu")


def parse_equipment(values: Sequence[str], where: Any = None) -> tuple[str, ...]:
    """Check `--equipment` values: FAMILY (every chip it documents) or KIND=FAMILY (one chip). Returns them as given."""
    for value in values:
        kind, _, family = value.rpartition("=") if isinstance(value, str) else ("?", "", "?")
        if family not in EQUIPMENT or kind not in ("", *KINDS):
            raise ConfigError(f"equipment {value!r}: expected FAMILY or mcu=FAMILY / sflash=FAMILY, FAMILY one of "
                              f"{', '.join(EQUIPMENT)}", where)
        if kind and kind not in EQUIPMENT[family].forms:
            takes = ", ".join(f for f, e in EQUIPMENT.items() if kind in e.forms)
            raise ConfigError(f"equipment {value!r}: {family} does not program the {kind} chip (for it: {takes})",
                              where)
    return tuple(values)


def equipment_for(kind: str, equipment: Sequence[str]) -> tuple[str, str]:
    """(family, why chosen) for a chip: KIND=FAMILY first, then the last bare FAMILY that documents this chip."""
    for value in reversed(equipment):
        chip, _, family = value.rpartition("=")
        if chip == kind:
            return family, f"--equipment {value}"
    for value in reversed(equipment):
        if "=" not in value and kind in EQUIPMENT[value].forms:
            return value, f"--equipment {value}"
    skipped = [v for v in equipment if "=" not in v]
    why = (f"the default, as {skipped[-1]} does not program this chip" if skipped
           else "the default (bundle build --equipment FAMILY picks another)")
    return DEFAULT_EQUIPMENT, why


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


def _srec(file: str, filters: str, big: str) -> str:
    """An srec_cat command printing a 4-byte result big-endian (reads as the value) via -hex-dump."""
    return (f"srec_cat {file} -binary {filters}{big} {SLOT:#x}{' 4 1' if 'checksum' in big else ''} "
            f"-crop {SLOT:#x} {SLOT + 4:#x} -o - -hex-dump")


def _crop_args(ranges: Sequence[tuple[int, int]]) -> str:
    return " ".join(f"{o:#x} {o + s:#x}" for o, s in merge_ranges(ranges))


def _chip_rows(kind: str, image: Data, base: int, bin_name: str, hex_name: str | None, hex_text: Data | None,
               hex_skip_fill: bool, written: list[tuple[int, int]], excluded: list[tuple[int, int]],
               fill: int) -> list[Row]:
    sums = ProgrammerChecksums.of(image, written, excluded)
    files = [bin_name] + ([hex_name] if hex_name else [])

    def both(bin_value: str, hex_value: str | None = None) -> dict[str, str]:
        values = {bin_name: bin_value}
        if hex_name:
            values[hex_name] = bin_value if hex_value is None else hex_value
        return values

    # the data our .hex holds: every byte of the image, or its records that are not all fill (writers.intel_hex)
    file_sum_hex = None
    if hex_text is not None:
        held = sums.sum32_device if not hex_skip_fill else sum32_ranges(
            image, [(a, b - a) for a, b in hex_data_spans(image, base, fill)])
        file_sum_hex = hex32(held)
    mcu = kind == "mcu"
    dev_sum_by = ("Elnec PG4UW main checksum \"BYTE\" with the buffer covering the device{fn:elnec}; Dataman (32-bit "
                  "sum of all bytes{fn:dataman}; this row when the file covers the whole device); "
                  + ("ST-LINK Utility \"Memory checksum\" over the whole flash{fn:st-um0892}; STM32CubeProgrammer file "
                     "checksum (gaps as 0xFF, community report){fn:st-gaps}; " if mcu else "")
                  + f"Data I/O TaskLink RAM checksum covers the device range{{fn:dataio}} - algorithm: {VERIFY}")
    file_sum_by = ("ST-LINK Utility file checksum (only addresses present in the file, community report){fn:st-gaps}"
                   if mcu else "a .bin holds the whole device range: same number as the row above")
    dev_crc_by = ("Elnec PG4UW checksum calculator \"CRC-32\" with From/To = the device range{fn:elnec}"
                  + ("; SEGGER J-Flash computes a CRC (poly 0xEDB88320) over the selected sectors with unused bytes as "
                     "0xFF{fn:jflash-crc} - whether its start/final values match zlib's is not stated: " + VERIFY
                     if mcu else ""))
    file_crc_by = ((f"J-Flash logs a \"CRC of file\" on opening{{fn:jflash-log}} - algorithm not stated: {VERIFY}; "
                    if mcu else "") + "any crc32 tool (e.g. 7-Zip, Python zlib.crc32)")
    rows = [
        Row("Sum32, whole device range",
            f"32-bit sum of every byte of the device range, blank bytes counted as 0x{fill:02X}",
            both(hex32(sums.sum32_device)), dev_sum_by,
            _srec(bin_name, "", "-checksum-positive-b-e")),
        Row("Sum32, file data only",
            "32-bit sum of the bytes the file holds (a .bin holds the whole device range; a .hex holds the bytes of "
            "its data records)",
            both(hex32(sums.sum32_device), file_sum_hex), file_sum_by,
            f"srec_cat {hex_name} -intel -checksum-positive-b-e {SLOT:#x} 4 1 -crop {SLOT:#x} {SLOT + 4:#x} "
            f"-o - -hex-dump" if hex_name else ""),
        Row("CRC-32 (zlib), whole device range",
            f"zlib/IEEE CRC-32 (reflected 0x04C11DB7, init and final XOR 0xFFFFFFFF) of the device range with blank "
            f"bytes as 0x{fill:02X} - the same bytes as the .bin file",
            both(hex32(sums.crc32_device)), dev_crc_by,
            _srec(bin_name, "", "-crc32-b-e")),
        Row("CRC-32 (zlib) of the file as stored",
            "zlib CRC-32 of the file's bytes on disk (for a .hex: of its text) - a transfer check",
            both(hex32(sums.crc32_device), hex32(crc32(hex_text)) if hex_text is not None else None), file_crc_by),
        Row("CRC-32 (zlib), written part only",
            "zlib CRC-32 over the written regions (listed below) concatenated in ascending address order, the blank "
            "gaps between them skipped - what srec_cat's CRC-32 gives for data with holes{fn:srecord}",
            both(hex32(sums.crc32_written)),
            f"no programmer documented: {VERIFY}",
            _srec(bin_name, f"-crop {_crop_args(written)} ", "-crc32-b-e")),
        Row("SHA-256 of the file",
            "SHA-256 of the file's bytes",
            both(sums.sha256_device, sha256(hex_text) if hex_text is not None else None),
            "file transfer check (sha256sum FILE; certutil -hashfile FILE SHA256)"),
    ]
    if excluded:
        excl = _crop_args(excluded)
        rows += [
            Row("Sum32, whole device range, per-unit ranges excluded",
                "as \"Sum32, whole device range\" but without the per-unit bytes listed below",
                both(hex32(sums.sum32_device_excluding or 0)),
                f"Elnec PG4UW \"Exclude buffer data for checksum\" (made for serialization){{fn:elnec}}; others: {VERIFY}",
                _srec(bin_name, f"-exclude {excl} ", "-checksum-positive-b-e")),
            Row("CRC-32 (zlib), whole device range, per-unit ranges excluded",
                "zlib CRC-32 of the device range with the per-unit bytes cut out (the rest concatenated in address "
                "order){fn:srecord}",
                both(hex32(sums.crc32_device_excluding or 0)),
                f"Elnec PG4UW with excluded blocks{{fn:elnec}} (exclusion semantics for CRC: {VERIFY}); others: {VERIFY}",
                _srec(bin_name, f"-exclude {excl} ", "-crc32-b-e")),
        ]
    for row in rows:
        row.values = {f: row.values[f] for f in files if f in row.values}
    return rows


def _sflash_parts(board: Board | None, chip: Mapping[str, Any]) -> tuple[str, str, list[str]]:
    """(the part to select, what it is, the other parts the layout takes): orderable part numbers where the layout
    names them."""
    name = str(chip.get("name", "?"))
    jedec = f"JEDEC ID 0x{int(str(chip.get('jedec_id', '0')), 16):06X}"
    if board is None:
        return name, jedec, []
    from .layout import load_chip

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
    if serialized:  # units.csv: <stem>_crc32 / <stem>_sum32 of each unit's whole image (serialize._csv_text)
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
    import json

    from .manifest import MANIFEST_FILE, product_label
    from .svgmap import svg_from_manifest

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
        rows = _chip_rows(kind, image, base, art["file"], hx["file"] if hx else None, files[hx["file"]] if hx else None,
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
    from .checks import boot_facts  # what a 3.5.2 device does at a factory reset (issue 20), with its sources

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

def _basis(chip: ChipSheet) -> str:
    e = chip.expected
    assert e is not None
    return f"{e.row.label}, as {EQUIPMENT[e.family].label} shows it ({EQUIPMENT[e.family].basis}); chosen: {e.why}"


def _used_sources(sheet: JobSheet) -> list[str]:
    """Footnote keys in order of first appearance: header, chip pages, then the reference part, then notes."""
    import re

    texts = [v for _, v in sheet.intro] + sheet.order
    for c in sheet.chips:
        texts += [v for _, v in c.facts] + [_basis(c)]
    for c in sheet.chips:
        texts += [r.shown_by for r in c.rows] + [r.definition for r in c.rows]
    texts += sheet.notes
    order: list[str] = []
    for key in re.findall(r"\{fn:([a-z0-9-]+)\}", " ".join(texts)):
        if key not in order:
            order.append(key)
    return order


def _md_cell(text: str, numbers: dict[str, int]) -> str:
    import re

    text = re.sub(r"\{fn:([a-z0-9-]+)\}", lambda m: f"[^{numbers[m.group(1)]}]", text)
    return text.replace("|", "\\|").replace("\n", " ")


def _other_rows(chip: ChipSheet) -> list[Row]:
    return [r for r in chip.rows if chip.expected is None or r is not chip.expected.row]


def _units_note(chip: ChipSheet) -> str:
    e = chip.expected
    return (f"Per-unit data: this is the base image's number; each unit's is in units.csv, column {e.units_column}."
            if e is not None and e.units_column else "")


def render_markdown(sheet: JobSheet) -> str:
    numbers = {k: i + 1 for i, k in enumerate(_used_sources(sheet))}
    out = [f"# {sheet.title}", ""]
    out += ["| | |", "|---|---|"] + [f"| {k} | {_md_cell(v, numbers)} |" for k, v in sheet.intro] + [""]
    out += ["## Programming order", ""] + [f"{i}. {_md_cell(t, numbers)}" for i, t in enumerate(sheet.order, 1)]
    out.append("")
    for n, chip in enumerate(sheet.chips, 1):
        e = chip.expected
        out += [f"## {n}. {chip.heading}", "", "| | |", "|---|---|",
                f"| Part to select | {_md_cell(chip.select(), numbers)} |"]
        if chip.alternatives:
            out.append(f"| Also supported by this layout, not this build | "
                       f"{'; '.join(_md_cell(p, numbers) for p in chip.alternatives)} |")
        out += [f"| {k} | {_md_cell(v, numbers)} |" for k, v in chip.facts]
        if e is not None:
            out += ["", f"### Expected checksum: **`{e.value}`**", "",
                    f"{_md_cell(_basis(chip), numbers)}; of {' and '.join(f'`{f}`' for f in e.row.values)}.",
                    *([f"{_units_note(chip)}"] if _units_note(chip) else [])]
        out += ["", "Other checksum forms (section \"Checksum forms\" says who shows which):", "",
                "| Form | " + " | ".join(f"`{f}`" for f in chip.files) + " |", "|---|" + "---|" * len(chip.files)]
        for row in _other_rows(chip):
            out.append(f"| {_md_cell(row.label, numbers)} | "
                       + " | ".join(f"`{row.values.get(f, '-')}`" for f in chip.files) + " |")
        out += ["", "### Sign-off", "", "| | |", "|---|---|"] + [f"| {k} | |" for k in SIGN_OFF] + [""]
    for n, chip in enumerate(sheet.chips, 1):
        out += [f"## {n}. {chip.heading}: checksum forms and records", "", "### Checksum forms", "",
                "| Form | " + " | ".join(f"`{f}`" for f in chip.files) + " | Shown by |",
                "|---|" + "---|" * len(chip.files) + "---|"]
        for row in chip.rows:
            vals = " | ".join(f"`{row.values.get(f, '-')}`" for f in chip.files)
            out.append(f"| {_md_cell(row.label, numbers)} | {vals} | {_md_cell(row.shown_by, numbers)} |")
        out += ["", "Definitions and how to reproduce:", ""]
        for row in chip.rows:
            out.append(f"- **{_md_cell(row.label, numbers)}**: {_md_cell(row.definition, numbers)}.")
            if row.reproduce:
                out.append(f"  `{row.reproduce}`")
        if chip.per_unit:
            out += ["", "### Per-unit ranges (differ on every unit)", "",
                    "| Name | Address | Size | Inside |", "|---|---|---|---|"]
            out += [f"| {' | '.join(_md_cell(c, numbers) for c in r)} |" for r in chip.per_unit]
        out += ["", "### Written regions", "", "| Region | Addresses | Size written | CRC-32 | Source |",
                "|---|---|---|---|---|"]
        out += [f"| {' | '.join(_md_cell(c, numbers) for c in r)} |" for r in chip.regions]
        if chip.lut:
            out += ["", "### Apps look-up table (LUT) entries", "", "| Index | Component | Start sector | Sectors | Address |",
                    "|---|---|---|---|---|"]
            out += [f"| {' | '.join(r)} |" for r in chip.lut]
        out.append("")
    out += ["## Memory map", "", f"![Memory map]({MEMORY_MAP_SVG})", "", "## Notes", ""]
    out += [f"- {_md_cell(n, numbers)}" for n in sheet.notes]
    out += ["", "## Sources", ""]
    out += [f"[^{numbers[k]}]: {SOURCES[k]}" for k in numbers]
    return "\n".join(out) + "\n"


# Print: the header and programming order on page 1, then exactly one page per chip (parts, file, the expected
# number, the other forms, the sign-off block), then the reference pages (who shows which form, regions, map).
_CSS = """
body{font:14px/1.45 'DejaVu Sans',Arial,sans-serif;color:#222;max-width:1120px;margin:24px auto;padding:0 16px}
h1{font-size:22px;margin:0 0 12px}h2{font-size:18px;margin:28px 0 8px;border-bottom:2px solid #2471a3}
h3{font-size:15px;margin:18px 0 6px}
table{border-collapse:collapse;margin:6px 0 10px;width:100%}
th,td{border:1px solid #bbb;padding:4px 7px;vertical-align:top;text-align:left}
th{background:#eef2f5}td.v{font-family:'DejaVu Sans Mono',Consolas,monospace;overflow-wrap:anywhere;min-width:10ch}
table.sums td:first-child{width:15%}table.sums td:last-child{width:42%}
td.k{width:190px;font-weight:bold;background:#f7f9fa}
code{font-family:'DejaVu Sans Mono',Consolas,monospace;font-size:12px;background:#f3f3f3;padding:1px 3px}
.verify{color:#a04000;font-weight:bold}.map{overflow-x:auto;border:1px solid #ddd;margin:8px 0}
ol.src li{font-size:12px;margin-bottom:4px}sup a{text-decoration:none}
.expect{border:3px solid #222;padding:8px 12px;margin:10px 0}
.expect .big{font:bold 34px/1.2 'DejaVu Sans Mono',Consolas,monospace;letter-spacing:1px;display:block;margin:4px 0}
.part{font-size:17px;font-weight:bold}.also{color:#555}
table.signoff td{height:30px}table.signoff td.k{width:220px}
@page{size:A4;margin:12mm}
@media print{
body{font-size:10.5px;max-width:none;margin:0;padding:0}
h1{font-size:17px}h2{font-size:14px;margin:0 0 6px}h3{font-size:12px;margin:8px 0 4px}
th,td{padding:2px 5px}code{font-size:9px}td.k{width:150px}
section.chip,section.reference{break-before:page;page-break-before:always}
section.chip{break-inside:avoid;page-break-inside:avoid}
table.signoff td{height:26px}.map{border:none;overflow:visible}.map svg{max-width:100%;height:auto}
}
"""


def _h(text: str, numbers: dict[str, int]) -> str:
    import re

    out = html.escape(text, quote=True)
    out = out.replace(html.escape(VERIFY), f'<span class="verify">{html.escape(VERIFY)}</span>')
    return re.sub(r"\{fn:([a-z0-9-]+)\}",
                  lambda m: f'<sup><a href="#src-{numbers[m.group(1)]}">[{numbers[m.group(1)]}]</a></sup>', out)


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], numbers: dict[str, int],
           mono: Sequence[int] = (), cls: str = "") -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    mono_td = '<td class="v">'
    body = "".join("<tr>" + "".join(f"{mono_td if i in mono else '<td>'}{_h(c, numbers)}</td>"
                                    for i, c in enumerate(r)) + "</tr>" for r in rows)
    attr = f' class="{cls}"' if cls else ""
    return f"<table{attr}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _facts(rows: Sequence[tuple[str, str]], numbers: dict[str, int], cls: str = "") -> str:
    body = "".join(f'<tr><td class="k">{html.escape(k)}</td><td>{_h(v, numbers)}</td></tr>' for k, v in rows)
    attr = f' class="{cls}"' if cls else ""
    return f"<table{attr}><tbody>{body}</tbody></table>"


def render_html(sheet: JobSheet) -> str:
    numbers = {k: i + 1 for i, k in enumerate(_used_sources(sheet))}
    parts = ['<!DOCTYPE html>', '<html lang="en"><head><meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f"<title>{html.escape(sheet.title)}</title><style>{_CSS}</style></head><body>",
             f'<section class="header"><h1>{html.escape(sheet.title)}</h1>', _facts(sheet.intro, numbers),
             '<h2 id="order">Programming order</h2><ol class="order">'
             + "".join(f"<li>{_h(t, numbers)}</li>" for t in sheet.order) + "</ol></section>"]
    for n, chip in enumerate(sheet.chips, 1):
        e = chip.expected
        parts.append(f'<section class="chip" id="chip-{chip.kind}" data-kind="{chip.kind}">')
        parts.append(f"<h2>{n}. {html.escape(chip.heading)}</h2>")
        select = [("Part to select", chip.select())]
        if chip.alternatives:
            select.append(("Also supported by this layout, not this build", "; ".join(chip.alternatives)))
        body = "".join(f'<tr><td class="k">{html.escape(k)}</td><td class="{"part" if i == 0 else "also"}">'
                       f"{_h(v, numbers)}</td></tr>" for i, (k, v) in enumerate(select))
        parts.append(f'<table class="parts"><tbody>{body}</tbody></table>')
        parts.append(_facts(chip.facts, numbers))
        if e is not None:
            files = " and ".join(e.row.values)
            note = f"<br>{_h(_units_note(chip), numbers)}" if _units_note(chip) else ""
            parts.append(f'<div class="expect" data-family="{html.escape(e.family)}">Expected checksum '
                         f'({html.escape(files)}):<span class="big">{html.escape(e.value)}</span>'
                         f"{_h(_basis(chip), numbers)}{note}</div>")
        parts.append("<h3>Other checksum forms</h3>")
        parts.append(_table(["Form", *chip.files], [[r.label, *(r.values.get(f, "-") for f in chip.files)]
                                                     for r in _other_rows(chip)], numbers,
                            mono=range(1, 1 + len(chip.files)), cls="others"))
        parts.append("<h3>Sign-off</h3>")
        parts.append(_facts([(k, "") for k in SIGN_OFF], numbers, cls="signoff"))
        parts.append("</section>")
    for n, chip in enumerate(sheet.chips, 1):
        parts.append(f'<section class="reference" id="ref-{chip.kind}">')
        parts.append(f"<h2>{n}. {html.escape(chip.heading)}: checksum forms and records</h2>")
        rows = [[r.label, *(r.values.get(f, "-") for f in chip.files), r.shown_by] for r in chip.rows]
        parts.append("<h3>Checksum forms</h3>")
        parts.append(_table(["Form", *chip.files, "Shown by"], rows, numbers,
                            mono=range(1, 1 + len(chip.files)), cls="sums"))
        parts.append("<h3>Definitions and how to reproduce</h3><ul>")
        for r in chip.rows:
            cmd = f"<br><code>{html.escape(r.reproduce)}</code>" if r.reproduce else ""
            parts.append(f"<li><b>{html.escape(r.label)}</b>: {_h(r.definition, numbers)}.{cmd}</li>")
        parts.append("</ul>")
        if chip.per_unit:
            parts.append("<h3>Per-unit ranges (differ on every unit)</h3>")
            parts.append(_table(["Name", "Address", "Size", "Inside"], chip.per_unit, numbers, mono=(1,)))
        parts.append("<h3>Written regions</h3>")
        parts.append(_table(["Region", "Addresses", "Size written", "CRC-32", "Source"], chip.regions, numbers,
                            mono=(1, 3)))
        if chip.lut:
            parts.append("<h3>Apps look-up table (LUT) entries</h3>")
            parts.append(_table(["Index", "Component", "Start sector", "Sectors", "Address"], chip.lut, numbers,
                                mono=(4,)))
        parts.append("</section>")
    parts.append('<section class="reference" id="map-section"><h2 id="map">Memory map</h2>')
    parts.append(f'<div class="map">{sheet.svg}</div>')
    parts.append("<h2>Notes</h2><ul>" + "".join(f"<li>{_h(n, numbers)}</li>" for n in sheet.notes) + "</ul>")
    parts.append('<h2>Sources</h2><ol class="src">')
    parts += [f'<li id="src-{numbers[k]}">{html.escape(SOURCES[k])}</li>' for k in numbers]
    parts.append("</ol></section></body></html>")
    return "\n".join(parts) + "\n"


def jobsheet_files(manifest: Mapping[str, Any], files: Mapping[str, Data], board: Board | None = None, *,
                   equipment: Sequence[str] = (), signer: str | None = None,
                   device_notes: Sequence[str] = ()) -> dict[str, bytes]:
    """JOBSHEET.md, jobsheet.html and memory-map.svg as bytes, ready to add to a build's outputs. `files` must hold
    the artefacts and the final manifest.json (build_jobsheet)."""
    from .svgmap import svg_from_manifest

    sheet = build_jobsheet(manifest, files, board, equipment=equipment, signer=signer,
                           device_notes=device_notes)
    return {
        JOBSHEET_MD: render_markdown(sheet).encode("utf-8"),
        JOBSHEET_HTML: render_html(sheet).encode("utf-8"),
        MEMORY_MAP_SVG: svg_from_manifest(manifest, board, xml_declaration=True).encode("utf-8"),
    }
