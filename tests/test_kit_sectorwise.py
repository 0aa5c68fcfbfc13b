"""Sector-wise writing by the line kit (issue 21, point 3), end to end on the emulated STM32F2 + SPI NOR: the board
ends byte-identical to the images; the erases are the sectors holding data (oracle: the images' bytes over the
RM0033 sector map and the chip's 4 KiB sectors, computed here); old contents where the image is blank are erased,
anything past the image is left alone; chip erase is chosen when the model says it is faster; the model's counts
equal the emulator's for a serialized kit (one unit) and the bench product."""

from __future__ import annotations

import importlib.util
import json
import random
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from bundler.cli import app
from bundler.linekit import make_kit
from bundler.linetime import Estimate
from emu.bridge import Bridge
from emu.counts import run_and_compare
from emu.kitfixture import BOARD_SPI, plain_and_serialized_kits, write_build
from emu.spinor import SpiNor
from emu.stm32 import FLASH_BASE, FLASH_SECTORS, Board

ROOT = Path(__file__).resolve().parents[1]
SECTOR = 4096


def mcu_data_sectors(data: bytes) -> list[tuple[int, int]]:
    return [(s, n) for s, n in FLASH_SECTORS if s < FLASH_BASE + len(data)
            and data[s - FLASH_BASE:s - FLASH_BASE + n].count(0xFF) != len(data[s - FLASH_BASE:s - FLASH_BASE + n])]


def sflash_data_sectors(data: bytes) -> list[int]:
    return [a for a in range(0, len(data), SECTOR) if data[a:a + SECTOR].count(0xFF) != len(data[a:a + SECTOR])]


def _kit(tmp_path: Path, erase_chip: bool | None, **build: object) -> tuple[Path, Estimate]:
    manifest = write_build(tmp_path / "build", **build)
    got: list[Estimate] = []
    make_kit(manifest, "stlink", tmp_path / "kit", spi=BOARD_SPI, erase_chip=erase_chip, on_estimate=got.append)
    return tmp_path / "kit", got[0]


def test_new_board_erases_exactly_the_sectors_with_data(tmp_path: Path) -> None:
    kit, est = _kit(tmp_path, None, mcu_size=0x40000)
    assert not est.erase_chip                              # the model's choice for this small image
    mcu, sflash = (kit / "mcu.bin").read_bytes(), (kit / "sflash.bin").read_bytes()
    nor = SpiNor(0x100000, 0xC22014)
    bridge = run_and_compare(kit, est, nor)
    assert bridge.board.read(FLASH_BASE, len(mcu)) == mcu
    assert bytes(nor.mem) == sflash + b"\xff" * (0x100000 - len(sflash))
    assert bridge.mcu_sectors_erased == [n for _, n in mcu_data_sectors(mcu)] == [0x4000, 0x4000]
    assert nor.sector_erases == len(sflash_data_sectors(sflash)) == 11 and nor.chip_erases == 0
    assert bridge.mcu_blank_checks == 6 - 2                # the 0x40000 image spans sectors 0..5
    assert bridge.sflash_blank_checks(SECTOR) == len(sflash) // SECTOR - 11


def test_old_contents_where_the_image_is_blank_end_blank(tmp_path: Path) -> None:
    """A used board: junk in sectors the images leave blank is erased (and only those of them), junk past the
    images is left alone; the board ends with exactly the images."""
    kit, _ = _kit(tmp_path, False, mcu_size=0x40000)
    mcu, sflash = (kit / "mcu.bin").read_bytes(), (kit / "sflash.bin").read_bytes()
    nor = SpiNor(0x100000, 0xC22014)
    nor.mem[0x2000:0x2004] = b"\x00" * 4                   # a data sector: erased anyway
    nor.mem[0x9000:0x9004] = b"\x00" * 4                   # blank in the image: must end blank
    nor.mem[0x17ff0:0x17ff4] = b"\x12" * 4                 # the image's last sector, blank in the image
    nor.mem[0x80000:0x80004] = b"keep"                     # past the image: not the kit's
    board = Board(nor)
    board.write(0x08004100, b"\x00" * 8)                   # sector 1: blank in the image
    board.write(0x08030000, b"\x5a" * 2)                   # sector 5: blank in the image
    board.write(0x08003800, b"\x00" * 2)                   # sector 0: has data, is erased anyway
    board.write(0x08040000, b"\x33")                       # sector 6: past the image
    bridge = Bridge(board, kit)
    run = bridge.run()
    assert run.returncode == 0 and run.output[-1] == "PASS", run.text
    assert board.read(FLASH_BASE, len(mcu)) == mcu and board.read(0x08040000, 1) == b"\x33"
    assert bridge.mcu_sectors_erased == [0x4000, 0x4000, 0x4000, 0x20000]   # data 0 and 3, then old 1 and 5
    assert "MCU: mcu.bin: 4 sectors without data blank-checked, 2 erased" in run.output
    assert bytes(nor.mem[:len(sflash)]) == sflash and bytes(nor.mem[0x80000:0x80004]) == b"keep"
    assert nor.sector_erases == len(sflash_data_sectors(sflash)) + 2
    assert any("53248 bytes blank-checked (2 sectors erased)" in line for line in run.output), run.text


def test_chip_erase_when_the_model_says_it_is_faster(tmp_path: Path) -> None:
    """A nearly full image: 256 sector erases (MX25L8006E tSE 60 ms) lose to one chip erase (9 s)."""
    manifest = write_build(tmp_path / "build")
    doc = json.loads(manifest.read_text())
    full = random.Random(5).randbytes(0x100000)
    (tmp_path / "build" / "sflash.bin").write_bytes(full)
    from emu.kitfixture import _entry  # the manifest entry of the new image, checksums and all
    doc["artefacts"][2] = _entry("sflash.bin", "sflash", "bin", 0, full)
    manifest.write_text(json.dumps(doc))
    got: list[Estimate] = []
    make_kit(manifest, "stlink", tmp_path / "kit", spi=BOARD_SPI, on_estimate=got.append)
    assert got[0].erase_chip and got[0].other_total is not None and got[0].total < got[0].other_total
    assert "set kit_erase_chip 1" in (tmp_path / "kit" / "kit_config.tcl").read_text()
    # the small image: sector by sector is faster
    _, est = _kit(tmp_path / "small", None)
    assert not est.erase_chip and est.other_total is not None and est.total < est.other_total
    # the choice can be forced either way from the command line
    for flag, value in (("--chip-erase", "1"), ("--no-chip-erase", "0")):
        r = CliRunner().invoke(app, ["openocd", str(manifest), "-a", "stlink", "-o", str(tmp_path / f"k{value}"),
                                     flag])
        assert r.exit_code == 0, r.output
        assert f"set kit_erase_chip {value}" in (tmp_path / f"k{value}" / "kit_config.tcl").read_text()


def test_serialized_kit_counts_equal_the_emulator(tmp_path: Path) -> None:
    """Per-unit commands (flash fillh/fillb into internal flash, mwb into the helper's buffer) are counted too; the
    sectors holding a per-unit range are written even where the base image is blank."""
    kits = plain_and_serialized_kits(tmp_path)
    doc = json.loads((tmp_path / "run" / "manifest.json").read_text())
    got: list[Estimate] = []
    make_kit(tmp_path / "run" / "manifest.json", "stlink", tmp_path / "serial2", on_estimate=got.append)
    assert (tmp_path / "serial2" / "kit_config.tcl").read_bytes() == (kits["serial"] / "kit_config.tcl").read_bytes()
    nor = SpiNor(0x100000, 0xC22014)
    bridge = run_and_compare(kits["serial"], got[0], nor, serial="SN00001001")
    assert bridge.flash_fills                                   # the unit's bytes went into internal flash
    assert any(r["file"] == "sflash.bin" for r in doc["serialization"])   # and into the serial flash


def test_bench_product_counts_equal_the_emulator(tmp_path: Path) -> None:
    """The bench's product (bench/run.py: bootloader, ~900 KiB app, OTA app, Wi-Fi firmware, filesystem; 2 MiB
    chip), its kit written sector by sector."""
    spec = importlib.util.spec_from_file_location("bench_run", ROOT / "bench" / "run.py")
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = bench            # its dataclasses look their module up
    try:
        spec.loader.exec_module(bench)
    finally:
        del sys.modules[spec.name]
    work = tmp_path / "bench"
    bench.generate_common(work, bench.SEED)
    folder = bench.generate_chip(work, 2, bench.SEED)
    subprocess.run([*bench.bundle_cmd(), "build", str(folder / "bundle.toml"), "--out", str(tmp_path / "out")],
                   check=True, capture_output=True)
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    got: list[Estimate] = []
    make_kit(tmp_path / "out" / "manifest.json", "stlink", tmp_path / "kit", erase_chip=False, on_estimate=got.append)
    chip = manifest["chip"]
    nor = SpiNor(chip["size"], int(chip["jedec_id"], 16))
    bridge = run_and_compare(tmp_path / "kit", got[0], nor)
    mcu, sflash = (tmp_path / "out" / "mcu.bin").read_bytes(), (tmp_path / "out" / "sflash.bin").read_bytes()
    assert bridge.board.read(FLASH_BASE, len(mcu)) == mcu and bytes(nor.mem[:len(sflash)]) == sflash
    assert nor.sector_erases == len(sflash_data_sectors(sflash))
    assert bridge.mcu_sectors_erased == [n for _, n in mcu_data_sectors(mcu)]


def test_sst_board_sector_by_sector(tmp_path: Path) -> None:
    """The SST25VF080B powers up block-protected and takes one byte per program: ERASE_BLANK and ERASE_WRITE clear
    the protection first (EWSR, WRSR), and the counts still equal the model's (one program per non-0xFF byte)."""
    from emu.sst25 import SST25VF080B_ID, Sst25vf080b

    manifest = write_build(tmp_path / "build", jedec_id=SST25VF080B_ID, chip_name="SST25VF080B", sflash_size=0xC000,
                           layout="bcm943362wcd4-sst")
    got: list[Estimate] = []
    make_kit(manifest, "stlink", tmp_path / "kit", erase_chip=False, on_estimate=got.append)
    nor = Sst25vf080b(strict_ewsr=True)
    nor.mem[0xA000:0xA002] = b"\x00\x00"                   # old contents in a sector the image leaves blank
    bridge = Bridge(Board(nor), tmp_path / "kit")
    run = bridge.run()
    assert run.returncode == 0 and run.output[-1] == "PASS", run.text
    sflash = (tmp_path / "kit" / "sflash.bin").read_bytes()
    assert bytes(nor.mem) == sflash + b"\xff" * (0x100000 - len(sflash))
    assert nor.sector_erases == len(sflash_data_sectors(sflash)) + 1 and nor.chip_erases == 0
    assert nor.page_programs == got[0].counts.sflash_page_programs == sum(1 for b in sflash if b != 0xFF)
