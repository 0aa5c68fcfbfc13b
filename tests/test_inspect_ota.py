"""`bundle inspect` on images as a device leaves them after an OTA update (wiced-formats.md §3.1 `wiced_apps_set_size`,
§2.2 DCT update, §6 step 4): APP0 grown with a second sector run, its header written to the first free slot after the
8th without erasing, the DCT's apps_locations[5] pointing at it, DCT copy 2 current with a higher sequence and a good
CRC, boot_detail set to load APP0 once. The images are made here with independent code (struct, zlib) from the
sample build."""

from __future__ import annotations

import hashlib
import json
import struct
import zlib
from pathlib import Path
from typing import Any

import pytest

from test_inspect import DCT1, DCT2, SECTOR, codes, run_json

APP0 = 5
SLOT8 = 34 * 8  # first header slot after the table (0x110)
EXTERNAL_FIXED_LOCATION, INTERNAL = 2, 1


def sdk_crc(copy: bytes) -> int:
    area = bytearray(copy)
    area[0x14:0x18] = bytes(4)
    return zlib.crc32(bytes(area)) ^ 0xFFFFFFFF


def seal(copy: bytearray) -> bytes:
    struct.pack_into("<I", copy, 0x14, 0)
    struct.pack_into("<I", copy, 0x14, sdk_crc(bytes(copy)))
    return bytes(copy)


def app_elf(size: int) -> bytes:
    """An ARM ELF32 with one PT_LOAD at 0x0800C000 whose first words are a vector table (SP, reset | 1)."""
    body = bytearray(struct.pack("<II", 0x20020000, 0x0800C101)) + bytes(range(256)) * (size // 256)
    ident = b"\x7fELF" + bytes([1, 1, 1, 0, 0]) + bytes(7)
    ehdr = ident + struct.pack("<HHIIIIIHHHHHH", 2, 40, 1, 0x0800C101, 52, 0, 0x05000000, 52, 32, 1, 0, 0, 0)
    phdr = struct.pack("<IIIIIIII", 1, 84, 0x0800C000, 0x0800C000, len(body), len(body), 5, 4)
    return ehdr + phdr + bytes(body)


@pytest.fixture(scope="module")
def ota(sample_build, tmp_path_factory) -> dict[str, Any]:
    out, _ = sample_build
    manifest = json.loads((out / "manifest.json").read_text())
    sflash = bytearray((out / "sflash.bin").read_bytes())
    mcu = bytearray((out / "mcu.bin").read_bytes())
    free = max(e["start_sector"] + e["sector_count"] for e in manifest["lut"])  # first sector after all components

    # serial flash: APP0 had one sector (slot 5); the OTA grew it to two and wrote the header to slot 8
    elf = app_elf(6000)
    assert SECTOR < len(elf) <= 2 * SECTOR
    struct.pack_into("<BBHH", sflash, 34 * APP0, 1, 0, free, 1)
    slot8 = struct.pack("<BBHHHH", 2, 0, free, 1, free + 1, 1) + bytes(24)
    sflash[SLOT8:SLOT8 + 34] = slot8
    sflash[free * SECTOR:free * SECTOR + len(elf)] = elf

    # internal flash: copy 1 (sequence 0, sealed) and copy 2 (sequence 1) pointing APP0 at slot 8, load APP0 once
    copy1 = bytearray(mcu[DCT1:DCT1 + 0x4000])
    struct.pack_into("<B", copy1, 0x0F, 0)  # initial_write cleared
    copy1 = bytearray(seal(copy1))
    copy2 = bytearray(copy1)
    struct.pack_into("<I", copy2, 0x10, 1)  # sequence
    struct.pack_into("<BxxxII", copy2, 0x68 + 36 * APP0, EXTERNAL_FIXED_LOCATION, SLOT8, 0)
    struct.pack_into("<BxxxII", copy2, 0x18, EXTERNAL_FIXED_LOCATION, SLOT8, 0)  # boot_detail source
    struct.pack_into("<B", copy2, 0x3C, INTERNAL)  # destination.id
    struct.pack_into("<BB", copy2, 0x60, 1, 1)  # load_once, valid
    mcu[DCT1:DCT1 + 0x4000] = copy1
    mcu[DCT2:DCT2 + 0x4000] = seal(copy2)

    folder = tmp_path_factory.mktemp("ota")
    (folder / "device_sflash.bin").write_bytes(sflash)
    (folder / "device_mcu.bin").write_bytes(mcu)
    return {"folder": folder, "elf": elf, "free": free, "manifest": out / "manifest.json"}


def test_ota_device_images_decoded_together(ota) -> None:
    folder = ota["folder"]
    code, doc = run_json(folder / "device_sflash.bin", folder / "device_mcu.bin")
    assert code == 0, [f["findings"] for f in doc["files"]]
    sf, mcu = doc["files"][0], doc["files"][1]

    dct = mcu["mcu"]["dct"]
    assert dct["current"]["copy"] == 2
    assert "copy 2 sequence 1 > copy 1 sequence 0" in dct["current"]["reason"]
    assert [c["crc"]["ok"] for c in dct["copies"]] == [True, True]
    assert dct["copies"][1]["header"]["apps_locations"][APP0]["location"] == SLOT8
    assert dct["boot"]["loads_app"] == "app0" and "once" in dct["boot"]["summary"]

    s = sf["sflash"]
    assert "device_mcu.bin" in s["located_by"]
    app0 = s["entries"][APP0]
    assert (app0["header_address"], app0["relocated"], app0["located_by"], app0["count"]) == (SLOT8, True, "dct", 2)
    assert [(r["start_sector"], r["sector_count"]) for r in app0["runs"]] == [(ota["free"], 1), (ota["free"] + 1, 1)]
    assert s["extra_header_slots"][0]["used_by"] == "app0" and s["extra_header_slots"][0]["slot"] == 8
    comp = next(c for c in s["components"] if c["name"] == "app0")
    assert comp["kind"] == "app" and comp["size"] == len(ota["elf"])
    assert comp["sha256"] == hashlib.sha256(ota["elf"]).hexdigest()
    assert comp["elf"]["e_entry"] == 0x0800C101 and comp["elf"]["vectors"]["ok"]
    assert s["unused_not_erased"] == []
    assert all(not e["relocated"] for e in s["entries"] if e["index"] != APP0)


def test_ota_sflash_alone_infers_the_relocated_header(ota) -> None:
    code, doc = run_json(ota["folder"] / "device_sflash.bin")
    assert code == 0
    s = doc["files"][0]["sflash"]
    app0 = s["entries"][APP0]
    assert (app0["header_address"], app0["located_by"], app0["count"]) == (SLOT8, "inferred", 2)
    assert "lut_relocated" in codes(doc, severity="note")
    assert s["unused_not_erased"] == []


def test_ota_images_differ_from_the_factory_manifest(ota) -> None:
    code, doc = run_json(ota["folder"], "--manifest", ota["manifest"])
    assert code == 1
    by_name = {Path(f["file"]).name: f for f in doc["files"]}
    bad = {r["name"] for r in by_name["device_sflash.bin"]["verification"]["regions"] if r["status"] != "ok"}
    assert bad == {"lut"}
    where = {run["where"].split(" ")[0] for run in by_name["device_sflash.bin"]["verification"]["outside_regions"]["runs"]}
    assert where == {"sector"}  # APP0's new sectors were erased in the factory image
    bad = {r["name"] for r in by_name["device_mcu.bin"]["verification"]["regions"] if r["status"] != "ok"}
    assert bad == {"dct1"}
    outside = by_name["device_mcu.bin"]["verification"]["outside_regions"]["runs"]
    assert outside and outside[0]["where"].startswith("dct2")


def test_dct_of_another_device_is_not_applied_blindly(ota, sample_build) -> None:
    out, _ = sample_build
    # the post-OTA DCT points APP0 at slot 8, erased in a factory SFLASH image: warned, built-in slot used
    code, doc = run_json(ota["folder"] / "device_mcu.bin", out / "sflash.bin")
    assert code == 0
    assert "lut_dct_mismatch" in codes(doc, 1, severity="warning")
    assert doc["files"][1]["sflash"]["entries"][APP0]["header_address"] == 34 * APP0
    # MCU images that disagree: no DCT is applied to the SFLASH images; the factory files still verify
    code, doc = run_json(ota["folder"], out, "--manifest", ota["manifest"])
    by_name = {Path(f["file"]).name: f for f in doc["files"]}
    assert by_name["sflash.bin"]["status"] == by_name["mcu.bin"]["status"] == "ok"
    assert by_name["device_sflash.bin"]["sflash"]["entries"][APP0]["located_by"] == "inferred"
