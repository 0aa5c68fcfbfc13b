"""The line kit's time model (bundler/linetime.py): its counts equal what the emulated board sees when the kit runs
(sectors erased, halfwords programmed, blank checks, bytes sent over the adapter, serial-flash erases, page programs
and reads), its figures come from the layouts, and the estimate `bundle openocd` prints is the one in the kit
README."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from bundler.cli import app
from bundler.layout import load_board, load_chip
from bundler.linekit import make_kit
from bundler.linetime import PHASES, Estimate
from emu.counts import run_and_compare
from emu.kitfixture import BOARD_SPI, write_build
from emu.spinor import SpiNor
from emu.stm32 import FLASH_BASE, FLASH_SECTORS

ROOT = Path(__file__).resolve().parents[1]


def _data_sectors(data: bytes, base: int) -> list[int]:
    """Sizes of the STM32F2 sectors (RM0033 table 5, the emulator's copy) holding a non-0xFF byte of `data`."""
    return [n for s, n in FLASH_SECTORS if s < base + len(data) and base < s + n
            and data[max(s, base) - base:min(s + n, base + len(data)) - base].count(0xFF) != min(n, len(data))]


def test_sample_kit_counts_equal_the_emulator_and_are_printed(tmp_path: Path) -> None:
    r = CliRunner().invoke(app, ["build", str(ROOT / "samples" / "ota_demo" / "bundle.toml"), "--out",
                                 str(tmp_path / "out")])
    assert r.exit_code == 0, r.output
    got: list[Estimate] = []
    make_kit(tmp_path / "out" / "manifest.json", "stlink", tmp_path / "kit", on_estimate=got.append)
    est = got[0]
    bridge = run_and_compare(tmp_path / "kit", est, SpiNor(0x100000, 0xC22014))
    mcu = (tmp_path / "out" / "mcu.bin").read_bytes()
    assert bridge.board.read(FLASH_BASE, len(mcu)) == mcu
    # only the sectors with data are erased and programmed; the others are blank-checked
    assert est.counts.mcu_sectors_erased == tuple(_data_sectors(mcu, FLASH_BASE))
    assert est.counts.mcu_blank_checks == 12 - len(est.counts.mcu_sectors_erased)
    assert est.counts.mcu_halfwords < len(mcu) // 2
    assert list(est.seconds) == list(PHASES) and all(s >= 0 for s in est.seconds.values())
    # `bundle openocd` prints the same table the kit README ends with
    r = CliRunner().invoke(app, ["openocd", str(tmp_path / "out" / "manifest.json"), "-a", "stlink", "-o",
                                 str(tmp_path / "kit2")])
    assert r.exit_code == 0, r.output
    table = "\n".join(est.table())
    assert table in r.output
    assert table in (tmp_path / "kit2" / "README.md").read_text()
    assert f"{est.total:.1f} s" in r.output


def test_figures_come_from_the_layouts(tmp_path: Path) -> None:
    """The seconds are the counts times [mcu.timing] / [chip.timing] (typical values), each figure cited."""
    manifest = write_build(tmp_path / "build", mcu_size=0x40000)
    got: list[Estimate] = []
    make_kit(manifest, "ftdi", tmp_path / "kit", spi=BOARD_SPI, erase_chip=True, on_estimate=got.append)
    est, mcu, chip = got[0], load_board("bcm943362wcd4").mcu.timing, load_chip("MX25L8006E").timing
    assert mcu is not None and chip is not None
    c = est.counts
    assert c.mcu_sectors_erased == (0x4000, 0x4000)           # sectors 0 and 3 hold the data of mcu_image
    erase = 2 * mcu.figures["sector_erase_16k"][0]
    assert abs(est.seconds["MCU erase"] - erase - c.mcu_blank_bytes / 2e6) < 1e-9
    assert est.seconds["MCU program"] == c.mcu_halfwords * mcu.figures["halfword_program"][0]
    assert c.sflash_chip_erases == 1 and c.sflash_sector_erases == 0 and c.sflash_blank_checks == 0
    assert est.seconds["SFLASH erase"] == chip.figures["chip_erase"][0]
    assert any(s.startswith("MX25L8006E, " + chip.source) for s in est.sources)
    assert any(s.startswith(mcu.source) for s in est.sources)
    bridge = run_and_compare(tmp_path / "kit", est, SpiNor(0x100000, 0xC22014))
    assert bridge.board.read(FLASH_BASE, 0x40000) == (tmp_path / "kit" / "mcu.bin").read_bytes()


def test_sst_part_uses_its_own_figures(tmp_path: Path) -> None:
    manifest = write_build(tmp_path / "build", jedec_id=0xBF258E, chip_name="SST25VF080B",
                           layout="bcm943362wcd4-sst")
    got: list[Estimate] = []
    make_kit(manifest, "stlink", tmp_path / "kit", spi={**BOARD_SPI, "page_size": 1, "unprotect": True},
             on_estimate=got.append)
    est = got[0]
    # a 35 ms chip erase beats 18 ms per data sector: the model chose it
    assert est.erase_chip and est.seconds["SFLASH erase"] == 0.035
    # byte program: one program command per non-0xFF byte sent
    sflash = (tmp_path / "kit" / "sflash.bin").read_bytes()
    assert est.counts.sflash_page_programs == sum(1 for b in sflash if b != 0xFF)
    assert any("SST25VF080B datasheet" in s for s in est.sources)
