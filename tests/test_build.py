"""`bundle build` on the sample, checked against independent oracles: srec_cat, arm-none-eabi-objcopy/readelf,
zlib, hashlib, and readers written here from the documented formats (wiced-formats.md)."""

from __future__ import annotations

import hashlib
import json
import re
import struct
import subprocess
import zlib
from pathlib import Path

import jsonschema
import pytest

from bundler.manifest import schema
from bundler.stream import to_bytes
from conftest import SAMPLE

FLASH_BASE, FLASH_SIZE, SECTOR = 0x08000000, 0x100000, 4096
BUILD = SAMPLE / "build"


def run(*cmd: str | Path) -> str:
    return subprocess.run([str(c) for c in cmd], check=True, capture_output=True, text=True).stdout


def objcopy_bin(elf: Path, out: Path) -> bytes:
    run("arm-none-eabi-objcopy", "-O", "binary", "--gap-fill", "0xff", elf, out)
    return out.read_bytes()


def readelf_loads(elf: Path) -> list[tuple[int, int, int]]:
    """(offset, paddr, filesz) of each LOAD program header with file bytes, as readelf prints them."""
    rows = re.findall(r"^\s+LOAD\s+(0x[0-9a-f]+)\s+0x[0-9a-f]+\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)", run("arm-none-eabi-readelf", "-lW", elf), re.M)
    return [(int(o, 16), int(p, 16), int(s, 16)) for o, p, s in rows if int(s, 16)]


def test_artefacts_exist_and_validate(sample_build) -> None:
    out, bundle = sample_build
    doc = json.loads((out / "manifest.json").read_text())
    jsonschema.validate(doc, schema())
    files = {a["file"] for a in doc["artefacts"]}
    assert {"mcu.bin", "mcu.hex", "sflash.bin"} <= files
    assert len((out / "mcu.bin").read_bytes()) == FLASH_SIZE
    assert len((out / "sflash.bin").read_bytes()) == doc["chip"]["size"] == 0x100000


def test_manifest_checksums_match_zlib_hashlib_and_plain_sum(sample_build) -> None:
    out, _ = sample_build
    doc = json.loads((out / "manifest.json").read_text())
    for art in doc["artefacts"]:
        data = (out / art["file"]).read_bytes()
        assert art["crc32"] == f"0x{zlib.crc32(data):08x}"
        assert art["sha256"] == hashlib.sha256(data).hexdigest()
        assert art["sum32"] == f"0x{sum(data) & 0xFFFFFFFF:08x}"
        image = (out / "mcu.bin").read_bytes() if art["format"] == "hex" else data
        for region in art["regions"]:
            chunk = image[region["offset"]:region["offset"] + region["size"]]
            assert region["sha256"] == hashlib.sha256(chunk).hexdigest()
            assert region["crc32"] == f"0x{zlib.crc32(chunk):08x}"


def test_mcu_image_equals_srec_cat_assembly(sample_build, tmp_path: Path) -> None:
    """srec_cat assembles the MCU image from objcopy's binaries of the same ELFs and our DCT bytes."""
    out, bundle = sample_build
    boot = tmp_path / "boot.bin"
    app = tmp_path / "app.bin"
    objcopy_bin(BUILD / "bootloader.elf", boot)
    objcopy_bin(BUILD / "app.elf", app)
    dct = tmp_path / "dct.bin"
    dct.write_bytes(bundle.dct)
    ref = tmp_path / "ref.bin"
    run("srec_cat", "(", boot, "-binary", "-offset", hex(FLASH_BASE), dct, "-binary", "-offset", "0x08004000",
        app, "-binary", "-offset", "0x0800C000", ")", "-fill", "0xFF", hex(FLASH_BASE), hex(FLASH_BASE + FLASH_SIZE),
        "-offset", hex(-FLASH_BASE), "-o", ref, "-binary")
    assert ref.read_bytes() == (out / "mcu.bin").read_bytes()


def test_srec_cat_reads_our_hex_back_to_our_bin(sample_build, tmp_path: Path) -> None:
    out, _ = sample_build
    back = tmp_path / "back.bin"
    run("srec_cat", out / "mcu.hex", "-intel", "-offset", hex(-FLASH_BASE), "-o", back, "-binary")
    assert back.read_bytes() == (out / "mcu.bin").read_bytes()


def test_hex_skip_fill_loads_the_same_bytes(sample_copy: Path, tmp_path: Path) -> None:
    from bundler.build import build_bundle

    bundle = build_bundle(sample_copy, tmp_path / "o", hex_skip_fill=True)
    art = next(a for a in bundle.manifest["artefacts"] if a["format"] == "hex")
    assert art["hex_skip_fill"] is True
    hexfile = tmp_path / "o" / "mcu.hex"
    assert hexfile.stat().st_size < 0.5 * (tmp_path / "o" / "mcu.bin").stat().st_size
    back = tmp_path / "back.bin"
    run("srec_cat", hexfile, "-intel", "-fill", "0xFF", hex(FLASH_BASE), hex(FLASH_BASE + FLASH_SIZE),
        "-offset", hex(-FLASH_BASE), "-o", back, "-binary")
    assert back.read_bytes() == (tmp_path / "o" / "mcu.bin").read_bytes()


@pytest.mark.parametrize("elf", ["bootloader.elf", "app.elf", "ota_fr.elf", "app.stripped.elf"])
def test_readelf_agrees_with_our_elf_reading(elf: str) -> None:
    from bundler.inputs import load_input

    path = BUILD / elf
    raw = path.read_bytes()
    ours = [(s.address, s.data) for s in load_input(path).segments]
    theirs = [(paddr, raw[off:off + size]) for off, paddr, size in sorted(readelf_loads(path), key=lambda r: r[1])]
    assert ours == theirs


def _lut(sflash: bytes) -> list[tuple[int, int, list[tuple[int, int]]]]:
    """app_header_t x 8 at SFLASH 0 (wiced_apps_common.h): u8 count, u8 secure, 8 x (u16 start, u16 count)."""
    rows = []
    for i in range(8):
        count, secure, *runs = struct.unpack_from("<BB16H", sflash, 34 * i)
        rows.append((count, secure, list(zip(runs[0::2], runs[1::2]))))
    return rows


def test_lut_and_components(sample_build, tmp_path: Path) -> None:
    out, bundle = sample_build
    sflash = (out / "sflash.bin").read_bytes()
    doc = bundle.manifest
    lut = _lut(sflash)
    assert set(sflash[272:SECTOR]) == {0xFF}
    expected_files = {"fr_app": BUILD / "ota_fr.stripped.elf", "ota_app": BUILD / "ota_fr.stripped.elf",
                      "wifi_firmware": SAMPLE / "firmware" / "43362A2-PLACEHOLDER.bin",
                      "filesystem": SAMPLE / "filesystem.bin"}
    sector = 1
    regions = {r["name"]: r for r in next(a for a in doc["artefacts"] if a["file"] == "sflash.bin")["regions"]}
    for entry in doc["lut"]:
        count, secure, runs = lut[entry["index"]]
        if entry["name"] not in regions:
            assert count == 0 and entry["sector_count"] == 0
            continue
        size = regions[entry["name"]]["size"]
        assert (count, secure, runs[0]) == (1, 0, (sector, size // SECTOR + 1))
        assert (entry["start_sector"], entry["sector_count"]) == runs[0]
        stored = sflash[sector * SECTOR:sector * SECTOR + size]
        assert set(sflash[sector * SECTOR + size:(sector + runs[0][1]) * SECTOR]) <= {0xFF}
        if entry["name"] in expected_files:
            assert stored == expected_files[entry["name"]].read_bytes(), entry["name"]
        sector += runs[0][1]
    assert set(sflash[sector * SECTOR:]) == {0xFF}
    # the DCT image is an ELF with one LOAD at 0x08004000 holding DCT copy 1 exactly as in the MCU image
    dct_region = regions["dct_image"]
    elf = tmp_path / "dct.elf"
    elf.write_bytes(sflash[dct_region["offset"]:dct_region["offset"] + dct_region["size"]])
    loads = readelf_loads(elf)
    assert len(loads) == 1 and loads[0][1] == 0x08004000
    off, _, size = loads[0]
    mcu = (out / "mcu.bin").read_bytes()
    assert elf.read_bytes()[off:off + size] == mcu[0x4000:0x4000 + size] == bundle.dct


def test_factory_reset_app_reproduces_the_application(sample_build, tmp_path: Path) -> None:
    """Loading the stored FR app by its segments' physical addresses gives the same flash bytes as objcopy of the
    original ELF (what the bootloader's factory reset does)."""
    out, bundle = sample_build
    region = next(r for r in bundle.sflash.regions if r.name == "fr_app")
    stored = tmp_path / "fr.elf"
    stored.write_bytes(to_bytes(bundle.sflash.region_bytes(region)))
    assert objcopy_bin(stored, tmp_path / "a.bin") == objcopy_bin(BUILD / "ota_fr.elf", tmp_path / "b.bin")
    app = objcopy_bin(BUILD / "app.elf", tmp_path / "app.bin")
    assert (out / "mcu.bin").read_bytes()[0xC000:0xC000 + len(app)] == app


def test_dct_header_decodes_to_the_sdk_initial_dct(sample_build) -> None:
    """Offsets from wiced-formats.md §2.1, read here with struct (independent of the Construct declarations)."""
    out, bundle = sample_build
    mcu = (out / "mcu.bin").read_bytes()
    dct = mcu[0x4000:0x8000]
    full_size, used_size, magic = struct.unpack_from("<III", dct, 0)
    write_incomplete, app_valid, _mfg, initial_write, sequence, crc = struct.unpack_from("<BBBBII", dct, 0x0C)
    assert (full_size, magic, write_incomplete, app_valid, initial_write, sequence, crc) == (0x4000, 0x4D435242, 0, 1, 1, 0, 0)
    assert used_size == len(bundle.dct) == bundle.manifest["dct"]["used_size"]
    for i in range(8):
        loc_id, location, size = struct.unpack_from("<B3xII", dct, 0x68 + 36 * i)
        assert (loc_id, location, size) == (2, 34 * i, 0)
    assert set(dct[used_size:]) == {0xFF} and set(mcu[0x8000:0xC000]) == {0xFF}


def _reference_crc(data: bytes) -> int:
    """Bitwise CRC-32 as libraries/utilities/crc/crc.c computes it: reflected 0xEDB88320, init ~0, no final XOR."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0xEDB88320 if crc & 1 else 0)
    return crc


def test_computed_crc_is_accepted_by_an_independent_crc(sample_copy: Path, tmp_path: Path) -> None:
    from bundler.build import build_bundle

    text = sample_copy.read_text().replace('crc = "sdk"', 'crc = "computed"')
    sample_copy.write_text(text)
    bundle = build_bundle(sample_copy, tmp_path / "o")
    copy = bytearray((tmp_path / "o" / "mcu.bin").read_bytes()[0x4000:0x8000])
    (field,) = struct.unpack_from("<I", copy, 0x14)
    assert field != 0 and bundle.manifest["dct"]["crc32_field"] == f"0x{field:08x}"
    struct.pack_into("<I", copy, 0x14, 0)
    assert _reference_crc(bytes(copy)) == field


def test_same_inputs_give_identical_outputs(sample_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bundler.build import build_bundle

    build_bundle(sample_copy, tmp_path / "a")
    build_bundle(sample_copy, tmp_path / "b")
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "b").iterdir())
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert "created" not in json.loads((tmp_path / "a" / "manifest.json").read_text())
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764028800")
    build_bundle(sample_copy, tmp_path / "c")
    assert json.loads((tmp_path / "c" / "manifest.json").read_text())["created"] == "2025-11-25T00:00:00Z"


def test_manifest_load_validates(sample_build, tmp_path: Path) -> None:
    from bundler.errors import InputError
    from bundler.manifest import load

    out, bundle = sample_build
    doc, digest = load(out / "manifest.json")
    assert doc == bundle.manifest and digest == hashlib.sha256((out / "manifest.json").read_bytes()).hexdigest()
    broken = tmp_path / "m.json"
    broken.write_text(json.dumps({**bundle.manifest, "artefacts": [{"file": "x"}]}))
    with pytest.raises(InputError, match=r"m.json: not a valid manifest at artefacts/0"):
        load(broken)
    broken.write_text("{")
    with pytest.raises(InputError, match="not JSON"):
        load(broken)


def test_unstripped_app_is_reduced_to_header_phdrs_and_segments(sample_copy: Path, tmp_path: Path) -> None:
    """fr_app given as the unstripped ELF: stored without sections or symbols, same loadable bytes."""
    from bundler.build import build_bundle

    sample_copy.write_text(sample_copy.read_text().replace('fr_app = "build/ota_fr.stripped.elf"',
                                                           'fr_app = "build/ota_fr.elf"'))
    bundle = build_bundle(sample_copy, tmp_path / "o")
    region = next(r for r in bundle.sflash.regions if r.name == "fr_app")
    stored = tmp_path / "fr.elf"
    stored.write_bytes(to_bytes(bundle.sflash.region_bytes(region)))
    original = sample_copy.parent / "build" / "ota_fr.elf"
    assert stored.stat().st_size < original.stat().st_size
    headers = run("arm-none-eabi-readelf", "-hSs", stored)
    assert "There are no sections in this file" in headers and "Number of section headers:         0" in headers
    entry = re.search(r"Entry point address:\s+(0x[0-9a-f]+)", headers).group(1)
    assert entry == re.search(r"Entry point address:\s+(0x[0-9a-f]+)", run("arm-none-eabi-readelf", "-h", original)).group(1)
    assert [(p, s) for _, p, s in readelf_loads(stored)] == [(p, s) for _, p, s in readelf_loads(original)]
    # load it as the WICED loader does (each phdr with p_filesz and p_type & 1: file bytes to p_paddr); objcopy
    # cannot read an ELF without sections, so it only gives the reference image from the original
    raw = stored.read_bytes()
    _, _, _, _, phoff, _, _, _, phentsize, phnum = struct.unpack_from("<HHIIIIIHHH", raw, 16)
    reference = objcopy_bin(original, tmp_path / "b.bin")
    loaded = bytearray(b"\xff" * len(reference))
    for i in range(phnum):
        p_type, p_offset, _, p_paddr, p_filesz = struct.unpack_from("<5I", raw, phoff + i * phentsize)
        if p_filesz and p_type & 1:
            loaded[p_paddr - 0x0800C000:p_paddr - 0x0800C000 + p_filesz] = raw[p_offset:p_offset + p_filesz]
    assert loaded == reference
