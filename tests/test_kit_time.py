"""The line kit's time model (bundler/linetime.py): its counts equal what the emulated board sees when the kit runs
(sectors erased, halfwords programmed, bytes sent over the adapter, serial-flash erases and page programs), and the
estimate `bundle openocd` prints is the one in the kit README."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from bundler.cli import app
from bundler.linetime import PHASES, Estimate
from bundler.linekit import make_kit
from emu.bridge import Bridge
from emu.kitfixture import BOARD_SPI, write_build
from emu.spinor import SpiNor
from emu.stm32 import FLASH_BASE, Board

ROOT = Path(__file__).resolve().parents[1]


def _run_and_compare(kit: Path, est: Estimate, nor: SpiNor) -> Bridge:
    board = Board(nor)
    bridge = Bridge(board, kit)
    run = bridge.run()
    assert run.returncode == 0 and run.output[-1] == "PASS", run.text
    names = [call[0] for call in run.calls]
    assert bridge.servers_disabled == ["gdb_port", "telnet_port", "tcl_port"]
    assert names.index("tcl_port") < names.index("init")   # set while OpenOCD is still in its config stage
    c = est.counts
    assert tuple(bridge.mcu_sectors_erased) == c.mcu_sectors_erased
    assert bridge.mcu_halfwords == c.mcu_halfwords
    assert bridge.bytes_sent == c.bytes_sent
    assert (nor.chip_erases, nor.sector_erases, nor.page_programs) == \
        (c.sflash_chip_erases, c.sflash_sector_erases, c.sflash_page_programs)
    return bridge


def test_sample_kit_counts_equal_the_emulator_and_are_printed(tmp_path: Path) -> None:
    r = CliRunner().invoke(app, ["build", str(ROOT / "samples" / "ota_demo" / "bundle.toml"), "--out",
                                 str(tmp_path / "out")])
    assert r.exit_code == 0, r.output
    got: list[Estimate] = []
    make_kit(tmp_path / "out" / "manifest.json", "stlink", tmp_path / "kit", on_estimate=got.append)
    est = got[0]
    _run_and_compare(tmp_path / "kit", est, SpiNor(0x100000, 0xC22014))
    mcu = (tmp_path / "out" / "mcu.bin").read_bytes()
    assert est.counts.mcu_halfwords == len(mcu) // 2 and sum(est.counts.mcu_sectors_erased) >= len(mcu)
    assert list(est.seconds) == list(PHASES) and all(s >= 0 for s in est.seconds.values())
    assert est.seconds["SFLASH erase"] == 9.0        # one MX25L8006E chip erase (tCE typ)
    # `bundle openocd` prints the same table the kit README ends with
    r = CliRunner().invoke(app, ["openocd", str(tmp_path / "out" / "manifest.json"), "-a", "stlink", "-o",
                                 str(tmp_path / "kit2")])
    assert r.exit_code == 0, r.output
    table = "\n".join(est.table())
    assert table in r.output
    assert table in (tmp_path / "kit2" / "README.md").read_text()
    assert f"{est.total:.1f} s" in r.output


def test_counts_follow_the_images_without_chip_erase(tmp_path: Path) -> None:
    """No chip erase: every chunk is sent and written on a blank board; a different MCU size erases other sectors."""
    manifest = write_build(tmp_path / "build", mcu_size=0x40000)
    got: list[Estimate] = []
    make_kit(manifest, "ftdi", tmp_path / "kit", spi=BOARD_SPI, erase_chip=False, on_estimate=got.append)
    est = got[0]
    assert est.counts.mcu_sectors_erased == (0x4000,) * 4 + (0x10000, 0x20000)
    assert est.counts.sflash_chip_erases == 0 and est.seconds["SFLASH erase"] == 0
    board_old = SpiNor(0x100000, 0xC22014)
    bridge = _run_and_compare(tmp_path / "kit", est, board_old)
    assert bridge.board.read(FLASH_BASE, 0x40000) == (tmp_path / "kit" / "mcu.bin").read_bytes()


def test_sst_part_uses_its_own_figures(tmp_path: Path) -> None:
    manifest = write_build(tmp_path / "build", jedec_id=0xBF258E, chip_name="SST25VF080B",
                           layout="bcm943362wcd4-sst")
    got: list[Estimate] = []
    make_kit(manifest, "stlink", tmp_path / "kit", spi={**BOARD_SPI, "page_size": 1, "unprotect": True},
             on_estimate=got.append)
    est = got[0]
    assert est.seconds["SFLASH erase"] == 0.050       # TSCE max
    # byte program: one program command per non-0xFF byte sent
    sflash = (tmp_path / "kit" / "sflash.bin").read_bytes()
    assert est.counts.sflash_page_programs == sum(1 for b in sflash if b != 0xFF)
    assert any("SST25VF080B datasheet" in s for s in est.sources)
