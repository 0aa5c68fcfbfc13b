"""`bundle dct decode` finds the DCT inside an SFLASH image (LUT entry 1 -> stored ELF -> its one PT_LOAD) and
inside an Intel HEX MCU image. Oracles: a hand-written LUT reader here, arm-none-eabi-readelf on the stored ELF,
srec_cat for HEX files."""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from bundler.cli import app
from bundler.dct.locate import find_dct_in_sflash, load_dct_input
from bundler.dct.options import DctOptions
from bundler.errors import InputError

BOARD = "bcm943362wcd4"
SECTOR = 4096
ELF_HEADER = 52


def lut_entry(image: bytes, index: int) -> tuple[int, list[tuple[int, int]]]:
    """Hand-written reader of app_header_t[index] (34 bytes: count u8, secure u8, 8 x {start u16, count u16})."""
    count, _secure = struct.unpack_from("<BB", image, 34 * index)
    runs = [struct.unpack_from("<HH", image, 34 * index + 2 + 4 * i) for i in range(8)]
    return count, runs[:count]


def dct_by_readelf(elf: bytes, tmp: Path) -> bytes:
    """The one LOAD segment's file bytes, located by arm-none-eabi-readelf (the stored ELF has no sections, so
    objcopy cannot be used)."""
    src = tmp / "dct_image.elf"
    src.write_bytes(elf)
    text = subprocess.run(["arm-none-eabi-readelf", "-lW", str(src)], check=True, capture_output=True,
                          text=True).stdout
    loads = [line.split() for line in text.splitlines() if line.strip().startswith("LOAD")]
    assert len(loads) == 1, text
    offset, filesz = int(loads[0][1], 16), int(loads[0][4], 16)
    return elf[offset:offset + filesz]


needs_tools = pytest.mark.skipif(any(shutil.which(t) is None for t in ("arm-none-eabi-readelf", "srec_cat")),
                                 reason="needs arm-none-eabi-readelf and srec_cat")


@needs_tools
def test_sflash_image_dct_equals_objcopy_of_stored_elf(sample_build, tmp_path: Path) -> None:
    out, bundle = sample_build
    image = (out / "sflash.bin").read_bytes()
    count, runs = lut_entry(image, 1)
    assert count == 1
    start, sectors = runs[0]
    component = image[start * SECTOR:(start + sectors) * SECTOR]
    expected = dct_by_readelf(component, tmp_path)
    assert expected == bundle.dct
    data, _, note = load_dct_input(out / "sflash.bin", BOARD)
    assert data == expected
    assert "SFLASH image" in note and "valid" in note
    found = find_dct_in_sflash(image, 0, SECTOR)
    (p_offset,) = struct.unpack_from("<I", component, ELF_HEADER + 4)  # Elf32_Phdr.p_offset, hand-read
    assert found.runs == ((start * SECTOR, sectors * SECTOR),)
    assert found.segment_offset == p_offset and found.load_address == 0x08004000
    assert image[found.image_offset(0, 4):found.image_offset(0, 4) + 4] == expected[:4]


@needs_tools
def test_intel_hex_mcu_image_whole_and_dct_sector_only(sample_build, tmp_path: Path) -> None:
    out, bundle = sample_build
    data, _, note = load_dct_input(out / "mcu.hex", BOARD)
    assert data == bundle.dct and "Intel HEX" in note and "copy 1" in note
    # only the DCT sector, as srec_cat cuts it out of the raw image (an independent HEX writer)
    sector = tmp_path / "dct_sector.hex"
    subprocess.run(["srec_cat", str(out / "mcu.bin"), "-binary", "-offset", "0x08000000", "-crop", "0x08004000",
                    "0x08008000", "-o", str(sector), "-intel"], check=True)
    data, _, _ = load_dct_input(sector, BOARD)
    assert data == bundle.dct


def test_cli_decode_sflash_and_hex(sample_build) -> None:
    out, _ = sample_build
    runner = CliRunner()
    for name in ("sflash.bin", "mcu.hex", "mcu.bin"):
        res = runner.invoke(app, ["dct", "decode", str(out / name), "--json"])
        assert res.exit_code == 0, res.output
        model = json.loads(res.output)
        assert model["mfg_info"]["serial_number"] == "SN00000001"
        assert model["wifi_config"]["mac_address"] == "02:0A:F7:00:00:01"
        assert "sample-passphrase-do-not-ship" not in res.output
    res = runner.invoke(app, ["dct", "decode", str(out / "sflash.bin")])
    assert res.exit_code == 0 and "SFLASH image" in res.output


def _sflash_with_split_dct(dct_elf: bytes, gap_sectors: int = 3) -> bytes:
    """A 1 MiB SFLASH image whose LUT entry 1 has two sector runs with a gap between them (the ELF split at a
    sector boundary), written by hand."""
    image = bytearray(b"\xff" * 0x100000)
    first, second = 2, 2 + 1 + gap_sectors
    head, tail = dct_elf[:SECTOR], dct_elf[SECTOR:]
    image[first * SECTOR:first * SECTOR + len(head)] = head
    image[second * SECTOR:second * SECTOR + len(tail)] = tail
    lut = bytearray(34 * 8)
    struct.pack_into("<BBHHHH", lut, 34, 2, 0, first, 1, second, 2)
    image[:len(lut)] = lut
    return bytes(image)


def test_dct_split_over_two_sector_runs(sample_build, tmp_path: Path) -> None:
    out, bundle = sample_build
    image = (out / "sflash.bin").read_bytes()
    _, runs = lut_entry(image, 1)
    start, sectors = runs[0]
    elf = image[start * SECTOR:(start + sectors) * SECTOR]
    split = _sflash_with_split_dct(elf)
    (tmp_path / "split.bin").write_bytes(split)
    data, _, _ = load_dct_input(tmp_path / "split.bin", BOARD)
    assert data == bundle.dct
    found = find_dct_in_sflash(split, 0, SECTOR)
    # the MAC (DCT offset 0x1D7C) is in the second run: its image offset must be there
    at = found.image_offset(0x1D7C, 6)
    assert 6 * SECTOR <= at < 8 * SECTOR and split[at:at + 6] == bundle.dct[0x1D7C:0x1D82]


@pytest.mark.parametrize("damage, message", [
    ("no_entry", "count 0"),
    ("not_elf", "not an ELF"),
    ("past_end", "not inside the image"),
    ("two_loads", "2 loadable segments"),
])
def test_sflash_refusals(sample_build, tmp_path: Path, damage: str, message: str) -> None:
    out, _ = sample_build
    image = bytearray((out / "sflash.bin").read_bytes())
    _, runs = lut_entry(image, 1)
    start = runs[0][0] * SECTOR
    if damage == "no_entry":
        image[34:68] = bytes(34)
    elif damage == "not_elf":
        image[start:start + 4] = b"JUNK"
    elif damage == "past_end":
        struct.pack_into("<H", image, 36, 0xFFF0)
    elif damage == "two_loads":  # e_phnum 2 with a second copy of the PT_LOAD header after the first
        struct.pack_into("<H", image, start + 44, 2)
        image[start + ELF_HEADER + 32:start + ELF_HEADER + 64] = image[start + ELF_HEADER:start + ELF_HEADER + 32]
    with pytest.raises(InputError, match=message):
        find_dct_in_sflash(bytes(image), 0, SECTOR)
    (tmp_path / "bad.bin").write_bytes(bytes(image))
    res = CliRunner().invoke(app, ["dct", "decode", str(tmp_path / "bad.bin")])
    assert res.exit_code == 2 and "Traceback" not in res.output and res.output.startswith("error:")


def test_hex_outside_mcu_flash_refused(tmp_path: Path) -> None:
    hexfile = tmp_path / "low.hex"
    hexfile.write_text(":0400000001020304F2\n:00000001FF\n")  # 4 bytes at address 0
    with pytest.raises(InputError, match="not inside the MCU flash"):
        load_dct_input(hexfile, BOARD)
    res = CliRunner().invoke(app, ["dct", "decode", str(hexfile)])
    assert res.exit_code == 2 and "Traceback" not in res.output


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, 0x3FFF), st.integers(0, 255)), min_size=1, max_size=24))
def test_find_never_crashes_on_mutated_lut_and_elf(sample_build, patches: list[tuple[int, int]]) -> None:
    """Byte flips in the LUT sector and the stored ELF's first sectors: the finder answers or says why."""
    out, _ = sample_build
    image = bytearray((out / "sflash.bin").read_bytes())
    lut_and_elf = [0, 2 * SECTOR]
    for pos, value in patches:
        base = lut_and_elf[pos % 2]
        image[base + (pos // 2) % 0x2000] = value
    try:
        found = find_dct_in_sflash(bytes(image), 0, SECTOR)
    except InputError:
        return
    assert len(found.data) == found.size and DctOptions().copy_size > 0
