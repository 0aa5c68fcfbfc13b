"""Job sheet (bundler.jobsheet): contents from the sample build, srec_cat reproduces every quoted checksum,
serialization-aware checksums on a synthetic manifest, determinism, self-containment and no secrets."""

from __future__ import annotations

import copy
import json
import re
import shlex
import shutil
import subprocess
import zlib
from pathlib import Path

import pytest

from bundler.checksums import excluding_checksums, hex32
from bundler.errors import InputError
from bundler.jobsheet import JOBSHEET_HTML, JOBSHEET_MD, MEMORY_MAP_SVG, VERIFY, build_jobsheet, jobsheet_files
from bundler.manifest import dumps
from bundler.stream import to_bytes

SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "ota_demo"
needs_srec = pytest.mark.skipif(shutil.which("srec_cat") is None, reason="srec_cat (Debian srecord) not installed")


@pytest.fixture(scope="module")
def built(sample_build):
    out, bundle = sample_build
    manifest = json.loads((out / "manifest.json").read_text())
    files = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    return out, bundle, manifest, files


def test_build_writes_sheet_and_map_before_manifest(built) -> None:
    out, bundle, manifest, files = built
    for name in (JOBSHEET_MD, JOBSHEET_HTML, MEMORY_MAP_SVG):
        assert (out / name).is_file() and (out / name).stat().st_size > 1000
    names = list(bundle.files)
    assert names[-1] == "manifest.json" or names.index("manifest.json") > names.index(MEMORY_MAP_SVG)
    assert names.index(JOBSHEET_MD) < names.index("manifest.json")


def test_sheet_quotes_the_manifest_checksums(built) -> None:
    out, _, manifest, _ = built
    md, page = (out / JOBSHEET_MD).read_text(), (out / JOBSHEET_HTML).read_text()
    for art in manifest["artefacts"]:
        for text in (md, page):
            assert art["file"] in text
            assert art["sha256"] in text
            assert art["crc32"] in text
            if art["format"] == "bin":  # a .bin's sum32 is the device sum; the .hex's manifest sum32 is of its text
                assert art["sum32"] in text
        for region in art["regions"]:
            assert region["crc32"] in md and region["crc32"] in page
    for entry in manifest["lut"]:
        if entry["sector_count"]:
            assert re.search(rf"\| {entry['index']} \| {entry['name']} \| {entry['start_sector']} \| "
                             rf"{entry['sector_count']} \|", md)


def with_manifest(doc: dict, files: dict) -> dict:
    """The files of a bundle whose manifest.json is `doc` (the sheet prints the manifest file's SHA-256)."""
    return {**files, "manifest.json": dumps(doc).encode()}


def test_sheet_facts_per_chip(built) -> None:
    out, _, manifest, _ = built
    md = (out / JOBSHEET_MD).read_text()
    assert "| Flash | 0x08000000, 1048576 bytes (0x100000), sectors 4 x 16 KiB, 1 x 64 KiB, 7 x 128 KiB |" in md
    assert "| Fill / blank value | 0xFF" in md
    assert "sectors of 4096 bytes (0x1000)" in md
    # the fitted parts by orderable part number; the layout's other part apart
    assert "| Part to select | MX25L8006EM2I-12G (MX25L8006E, JEDEC ID 0xC22014) |" in md
    assert ("| Also supported by this layout, not this build | SST25VF080B-80-4I-S2AF (SST25VF080B, JEDEC ID "
            "0xBF258E) |") in md
    assert "| Part to select | STM32F215RGT6 (STM32F205/F215 xG (1 MiB internal flash)) |" in md
    assert "| Also supported by this layout, not this build | STM32F205RGT6 |" in md
    assert md.count("| Erase whole chip | Yes") == 2
    assert "mcu.bin: file offset 0 at address 0x08000000" in md
    assert md.count(VERIFY) >= 4
    # every footnote used is defined, every defined one is used, numbered by first appearance
    used = re.findall(r"\[\^(\d+)\](?!:)", md)
    defined = re.findall(r"^\[\^(\d+)\]:", md, re.M)
    assert sorted(set(used), key=int) == defined
    assert [int(n) for n in dict.fromkeys(used)] == list(range(1, len(defined) + 1))


def hex_dump_value(text: str) -> int:
    """First line of srec_cat -hex-dump: '00000000: 0F CE 95 B1  #...'."""
    m = re.match(r"[0-9A-Fa-f]+:\s+((?:[0-9A-Fa-f]{2}\s){4})", text)
    assert m, text
    return int(m.group(1).replace(" ", ""), 16)


@needs_srec
def test_every_srec_command_on_the_sheet_reproduces_its_value(built) -> None:
    out, bundle, manifest, files = built
    sheet = build_jobsheet(manifest, files, bundle.project.board)
    md = (out / JOBSHEET_MD).read_text()
    ran = 0
    for chip in sheet.chips:
        for row in chip.rows:
            if not row.reproduce:
                continue
            assert f"`{row.reproduce}`" in md
            argv = shlex.split(row.reproduce)
            target = argv[1]
            result = subprocess.run(argv, cwd=out, check=True, capture_output=True, text=True)
            assert hex32(hex_dump_value(result.stdout)) == row.values[target], (row.label, row.reproduce)
            ran += 1
    assert ran >= 7


def test_values_against_independent_computation(built) -> None:
    out, bundle, manifest, files = built
    sheet = build_jobsheet(manifest, files, bundle.project.board)
    mcu = next(c for c in sheet.chips if c.kind == "mcu")
    image = files["mcu.bin"]
    art = next(a for a in manifest["artefacts"] if a["file"] == "mcu.bin")
    written = b"".join(image[r["offset"]:r["offset"] + r["size"]] for r in art["regions"])
    rows = {r.label: r.values for r in mcu.rows}
    assert rows["CRC-32 (zlib), written part only"]["mcu.bin"] == hex32(zlib.crc32(written))
    assert rows["Sum32, whole device range"]["mcu.bin"] == hex32(sum(image) & 0xFFFFFFFF)
    assert rows["CRC-32 (zlib) of the file as stored"]["mcu.hex"] == hex32(zlib.crc32(files["mcu.hex"]))


@needs_srec
def test_hex_without_fill_records_has_its_own_file_sum(tmp_path: Path) -> None:
    from bundler.build import make_bundle
    from bundler.config import load_project

    bundle = make_bundle(load_project(SAMPLE / "bundle.toml"), hex_skip_fill=True)
    sheet = build_jobsheet(bundle.manifest, bundle.files, bundle.project.board)
    row = next(r for c in sheet.chips if c.kind == "mcu" for r in c.rows if r.label == "Sum32, file data only")
    assert row.values["mcu.hex"] != row.values["mcu.bin"]
    (tmp_path / "mcu.hex").write_bytes(to_bytes(bundle.files["mcu.hex"]))
    result = subprocess.run(shlex.split(row.reproduce), cwd=tmp_path, check=True, capture_output=True, text=True)
    assert hex32(hex_dump_value(result.stdout)) == row.values["mcu.hex"]
    assert "all-0xFF records left out" in to_bytes(bundle.files[JOBSHEET_MD]).decode()


def with_serialization(manifest: dict) -> dict:
    doc = copy.deepcopy(manifest)
    doc["serialization"] = [
        {"name": "serial_number", "address": 0x08004000 + 0x100, "size": 32},
        {"name": "mac_address", "address": 0x08004000 + 0x1C0, "size": 6},
        {"name": "sflash_dct_mac", "address": 0x2000 + 0x400, "size": 6},
    ]
    return doc


def test_serialization_ranges_and_excluding_checksums(built) -> None:
    out, bundle, manifest, files = built
    doc = with_serialization(manifest)
    sheet = build_jobsheet(doc, with_manifest(doc, files), bundle.project.board)
    sflash, mcu = sheet.chips
    assert [r[0] for r in mcu.per_unit] == ["serial_number", "mac_address"]
    assert mcu.per_unit[1][1] == "0x080041C0" and mcu.per_unit[1][3] == "dct1"
    assert [r[0] for r in sflash.per_unit] == ["sflash_dct_mac"] and sflash.per_unit[0][3] == "dct_image"
    rows = {r.label: r.values for r in mcu.rows}
    excl = [(0x4100, 32), (0x41C0, 6)]
    assert rows["CRC-32 (zlib), whole device range, per-unit ranges excluded"]["mcu.bin"] == hex32(
        excluding_checksums(files["mcu.bin"], excl).crc32)
    assert rows["Sum32, whole device range, per-unit ranges excluded"]["mcu.bin"] == hex32(
        excluding_checksums(files["mcu.bin"], excl).sum32)
    # another unit: different MAC and serial, same excluded checksums, different plain ones
    unit = bytearray(files["mcu.bin"])
    unit[0x41C0:0x41C6] = bytes.fromhex("020af7000002")
    unit[0x4100:0x4120] = b"SN00000002".ljust(32, b"\0")
    other = build_jobsheet(doc, {**with_manifest(doc, files), "mcu.bin": bytes(unit)}, bundle.project.board)
    other_rows = {r.label: r.values for r in other.chips[1].rows}
    assert other_rows["CRC-32 (zlib), whole device range"]["mcu.bin"] != rows["CRC-32 (zlib), whole device range"]["mcu.bin"]
    for label in ("CRC-32 (zlib), whole device range, per-unit ranges excluded",
                  "Sum32, whole device range, per-unit ranges excluded"):
        assert other_rows[label]["mcu.bin"] == rows[label]["mcu.bin"]
    md = jobsheet_files(doc, with_manifest(doc, files), bundle.project.board)[JOBSHEET_MD].decode()
    assert "Per-unit ranges (differ on every unit)" in md and "3 range(s) differ per unit" in md


@needs_srec
def test_serialization_excluding_values_match_srec_exclude(built, tmp_path: Path) -> None:
    out, bundle, manifest, files = built
    doc = with_serialization(manifest)
    sheet = build_jobsheet(doc, with_manifest(doc, files), bundle.project.board)
    for chip in sheet.chips:
        for row in chip.rows:
            if "excluded" in row.label:
                assert "-exclude" in row.reproduce
                result = subprocess.run(shlex.split(row.reproduce), cwd=out, check=True, capture_output=True, text=True)
                assert hex32(hex_dump_value(result.stdout)) == row.values[shlex.split(row.reproduce)[1]]


@pytest.mark.parametrize("entry, message", [
    ({"name": "x", "address": 0x20000000, "size": 4}, "in no artefact"),
    ({"name": "x", "address": 0x080FFFFE, "size": 4}, "runs past the end"),
    ({"name": "x", "address": "0x08004000", "size": 4}, "expected"),
])
def test_bad_serialization_is_a_one_line_input_error(built, entry: dict, message: str) -> None:
    _, bundle, manifest, files = built
    doc = copy.deepcopy(manifest)
    doc["serialization"] = [entry]
    with pytest.raises(InputError, match=message):
        build_jobsheet(doc, with_manifest(doc, files), bundle.project.board)


def test_deterministic_and_dated_only_by_the_manifest(built) -> None:
    _, bundle, manifest, files = built
    first = jobsheet_files(manifest, files, bundle.project.board)
    assert first == jobsheet_files(copy.deepcopy(manifest), dict(files), bundle.project.board)
    assert not re.search(rb"20\d\d-\d\d-\d\d", first[JOBSHEET_MD] + first[JOBSHEET_HTML])
    assert b"| Date | not recorded |" in first[JOBSHEET_MD]
    dated = dict(manifest, created="2026-01-02T03:04:05Z")
    assert b"| Date | 2026-01-02T03:04:05Z |" in jobsheet_files(dated, with_manifest(dated, files),
                                                             bundle.project.board)[JOBSHEET_MD]


def test_works_without_a_board(built) -> None:
    _, _, manifest, files = built
    out = jobsheet_files(manifest, files)
    assert b"x 16 KiB" not in out[JOBSHEET_MD] and b"0x08000000" in out[JOBSHEET_MD]
    assert b"| Part to select | STM32F205/F215 xG (1 MiB internal flash) |" in out[JOBSHEET_MD]


def test_missing_artefact_bytes_is_an_input_error(built) -> None:
    _, _, manifest, files = built
    with pytest.raises(InputError, match="sflash.bin"):
        build_jobsheet(manifest, {k: v for k, v in files.items() if k != "sflash.bin"})


def test_html_is_self_contained(built) -> None:
    out, _, _, _ = built
    page = (out / JOBSHEET_HTML).read_text()
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page and "</svg>" in page
    for bad in ("<script", "<link", "<img", "<iframe", "@import", "url(", " src=", "xlink:href"):
        assert bad not in page.lower(), bad
    assert all(h.startswith("#") for h in re.findall(r'href="([^"]*)"', page))


def test_no_secrets_reach_the_sheet_or_map(built) -> None:
    out, bundle, _, _ = built
    outputs = b"".join((out / n).read_bytes() for n in (JOBSHEET_MD, JOBSHEET_HTML, MEMORY_MAP_SVG))
    toml = (SAMPLE / "bundle.toml").read_text()
    passphrase = re.search(r'security_key = "([^"]+)"', toml).group(1)
    assert passphrase.encode() not in outputs
    key_pem = (SAMPLE / "certs" / "device_key.pem").read_text()
    body = [line for line in key_pem.splitlines() if line and not line.startswith("-----")]
    assert body and not any(line.encode() in outputs for line in body)
    assert b"PRIVATE KEY" not in outputs
    # nor any 16-byte window of the DCT (which holds the key and the passphrase)
    dct = bundle.dct
    windows = {dct[i:i + 16] for i in range(0, len(dct) - 16, 7) if len(set(dct[i:i + 16])) > 4}
    assert not any(w in outputs for w in windows)


def test_jobsheet_cost_is_small(built) -> None:
    """Untimed: the sheet takes the .hex data sum from the image, never a per-byte structure (intelhex: ~100 MB)."""
    import tracemalloc

    _, _, manifest, files = built
    tracemalloc.start()
    jobsheet_files(manifest, files)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 40 << 20, peak


def test_serialization_entries_naming_their_file(built) -> None:
    """`bundle serialize` writes {name, file, address, offset, size}; the same field name may appear in both files."""
    _, bundle, manifest, files = built
    doc = copy.deepcopy(manifest)
    doc["serialization"] = [
        {"name": "wifi_config.mac_address", "file": "mcu.bin", "address": 0x080041C0, "offset": 0x41C0, "size": 6},
        {"name": "wifi_config.mac_address", "file": "sflash.bin", "address": 0x2400, "offset": 0x2400, "size": 6},
    ]
    sflash, mcu = build_jobsheet(doc, with_manifest(doc, files), bundle.project.board).chips
    assert mcu.per_unit == [["wifi_config.mac_address", "0x080041C0", "6 bytes (0x6)", "dct1"]]
    assert sflash.per_unit == [["wifi_config.mac_address", "0x00002400", "6 bytes (0x6)", "dct_image"]]
    doc["serialization"][0]["offset"] = 0x41C1
    with pytest.raises(InputError, match="does not match address"):
        build_jobsheet(doc, with_manifest(doc, files), bundle.project.board)
    doc["serialization"] = [{"name": "x", "file": "other.bin", "address": 0, "size": 1}]
    with pytest.raises(InputError, match="no .bin artefact"):
        build_jobsheet(doc, with_manifest(doc, files), bundle.project.board)


def test_markdown_sheet_has_order_one_number_and_sign_off_per_chip(built) -> None:
    """JOBSHEET.md: programming order (SFLASH before assembly, then MCU over SWD), per chip one expected number -
    by default the zlib CRC-32 of the whole device range, i.e. of the .bin (computed here with zlib) - and a
    sign-off block."""
    out, _, _, files = built
    md = (out / JOBSHEET_MD).read_text()
    order = md.split("## Programming order")[1].split("\n## ")[0]
    steps = re.findall(r"^\d+\. (.*)$", order, re.M)
    assert "Before assembly" in steps[0] and "sflash.bin" in steps[0]
    assert "assembled board, over SWD" in steps[2] and "mcu.bin" in steps[2]
    expected = re.findall(r"^### Expected checksum: \*\*`(0x[0-9a-f]{8})`\*\*$", md, re.M)
    assert expected == [hex32(zlib.crc32(files["sflash.bin"])), hex32(zlib.crc32(files["mcu.bin"]))]
    assert md.count("### Sign-off") == 2
    for label in ("Date", "Operator", "Equipment model", "Checksum read back", "Result (PASS / FAIL)"):
        assert md.count(f"| {label} | |") == 2, label
