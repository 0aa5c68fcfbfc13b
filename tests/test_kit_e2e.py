"""End to end: `bundle openocd` kit -> its Tcl under tclsh with OpenOCD mocked -> emulated STM32F2 + SPI NOR.

The kit programs the MCU image (mocked OpenOCD flash driver) and the SFLASH image through the real helper ELF
running in unicorn, reads CRCs back and prints PASS; damage made after programming gives FAIL naming the file."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bundler.linekit import make_kit
from emu.bridge import Bridge
from emu.kitfixture import BOARD_SPI, write_build
from emu.spinor import SpiNor
from emu.stm32 import FLASH_BASE, Board

pytestmark = pytest.mark.skipif(shutil.which("tclsh") is None, reason="tclsh not installed")

CMD_LOC = 0x20000014


def kit_for(tmp_path: Path, erase_chip: bool | None = None, **build: object) -> tuple[Path, Path]:
    manifest = write_build(tmp_path / "build", **build)
    make_kit(manifest, "stlink", tmp_path / "kit", spi=BOARD_SPI, erase_chip=erase_chip)
    return manifest, tmp_path / "kit"


def test_kit_programs_board_and_passes(tmp_path: Path) -> None:
    manifest, kit = kit_for(tmp_path, erase_chip=True)
    nor = SpiNor(0x100000, 0xC22014)
    nor.mem[0x50000:0x50010] = b"\x00" * 16            # old data outside the image: chip erase clears it
    board = Board(nor)
    run = Bridge(board, kit).run()
    assert run.returncode == 0, run.text
    assert run.output[-1] == "PASS" and run.shutdown == ""
    sflash = (kit / "sflash.bin").read_bytes()
    mcu = (kit / "mcu.bin").read_bytes()
    assert bytes(nor.mem) == sflash + b"\xff" * (0x100000 - len(sflash))
    assert board.read(FLASH_BASE, len(mcu)) == mcu
    assert "CRC: sflash.bin: 0x" in run.text and "CRC: mcu.bin: 0x" in run.text
    assert "SFLASH: chip JEDEC ID 0xc22014 (MX25L8006E) OK" in run.text
    skipped = [line for line in run.output if "bytes skipped" in line][0]
    assert "45056 bytes written" in skipped and "53248 bytes skipped" in skipped   # 13 sectors are all 0xFF
    # after the chip erase each SFLASH data command was WRITE | POST_WRITE_VERIFY (0x04 | 0x08): nothing to erase
    commands = [int(c[2], 0) for c in run.calls if c[0] == "mww" and int(c[1], 0) == CMD_LOC]
    assert {c for c in commands if c & 0x8C} == {0x0C}


def _corrupt_before(command: int, action):  # type: ignore[no-untyped-def]
    done = []

    def hook(cmd: str, args: list[str]) -> None:
        if cmd == "mww" and int(args[0], 0) == CMD_LOC and int(args[1], 0) == command and not done:
            action()
            done.append(True)
    return hook


def test_flipped_sflash_byte_fails_naming_artefact(tmp_path: Path) -> None:
    _, kit = kit_for(tmp_path)
    nor = SpiNor(0x100000, 0xC22014)
    board = Board(nor)

    def flip() -> None:
        nor.mem[0x2345] ^= 0x01
    run = Bridge(board, kit, _corrupt_before(0x100, flip)).run()
    assert run.returncode == 1, run.text
    assert run.output[-1] == "FAIL: CRC mismatch: sflash.bin" and run.shutdown == "error"
    assert "CRC: mcu.bin: 0x" in run.text


def test_flipped_mcu_byte_fails_naming_artefact(tmp_path: Path) -> None:
    _, kit = kit_for(tmp_path)
    board = Board(SpiNor(0x100000, 0xC22014))

    def flip() -> None:
        board.write(FLASH_BASE + 0x10, bytes([board.read(FLASH_BASE + 0x10, 1)[0] ^ 0x80]))
    run = Bridge(board, kit, _corrupt_before(0x200, flip)).run()
    assert run.returncode == 1
    assert run.output[-1] == "FAIL: CRC mismatch: mcu.bin"


def test_wrong_chip_fails_with_jedec_message(tmp_path: Path) -> None:
    _, kit = kit_for(tmp_path)
    nor = SpiNor(0x100000, 0xBF258E)
    run = Bridge(Board(nor), kit).run()
    assert run.returncode == 1
    assert run.output[-1].startswith("FAIL: serial flash: JEDEC ID 0xbf258e, expected 0xc22014 (MX25L8006E)")
    assert nor.page_programs == nor.sector_erases == nor.chip_erases == 0


def test_mcu_verify_failure_stops_before_sflash(tmp_path: Path) -> None:
    _, kit = kit_for(tmp_path)
    board = Board(SpiNor(0x100000, 0xC22014))

    def hook(cmd: str, args: list[str]) -> None:
        if cmd == "verify_image":
            board.write(FLASH_BASE, b"\x00")
    run = Bridge(board, kit, hook).run()
    assert run.returncode == 1
    assert run.output[-1].startswith("FAIL: mcu.bin: verify_image failed")
    assert not any(c[0] == "load_image" and c[1].endswith(".elf") for c in run.calls)


def test_sample_build_kit_programs_emulated_board(tmp_path: Path) -> None:
    """A clean clone: `bundle build` the sample, `bundle openocd` it, program the emulated board: PASS."""
    from typer.testing import CliRunner

    from bundler.cli import app

    root = Path(__file__).resolve().parents[1]
    r = CliRunner().invoke(app, ["build", str(root / "samples" / "ota_demo" / "bundle.toml"), "--out",
                                 str(tmp_path / "out")])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(app, ["openocd", str(tmp_path / "out" / "manifest.json"), "--adapter", "stlink",
                                 "--out", str(tmp_path / "kit")])
    assert r.exit_code == 0, r.output
    nor = SpiNor(0x100000, 0xC22014)
    board = Board(nor)
    run = Bridge(board, tmp_path / "kit").run()
    assert run.returncode == 0 and run.output[-1] == "PASS", run.text
    assert bytes(nor.mem) == (tmp_path / "out" / "sflash.bin").read_bytes()
    mcu = (tmp_path / "out" / "mcu.bin").read_bytes()
    assert board.read(FLASH_BASE, len(mcu)) == mcu


def test_no_chip_erase_writes_sector_by_sector(tmp_path: Path) -> None:
    """A board already holding the image: the sectors with data are erased and rewritten, stale bytes in a sector
    the image leaves blank are erased, bytes past the image are left alone."""
    manifest = write_build(tmp_path / "build")
    make_kit(manifest, "ftdi", tmp_path / "kit", spi=BOARD_SPI, erase_chip=False)
    sflash = (tmp_path / "kit" / "sflash.bin").read_bytes()
    nor = SpiNor(0x100000, 0xC22014)
    nor.mem[:len(sflash)] = sflash
    nor.mem[0x9000:0x9004] = b"\x00\x00\x00\x00"             # stale bytes inside the image (blank sector 0x9000)
    nor.mem[0x80000:0x80004] = b"keep"                      # beyond the image: left alone
    run = Bridge(Board(nor), tmp_path / "kit").run()
    assert run.returncode == 0 and run.output[-1] == "PASS", run.text
    assert "chip erase" not in run.text and nor.chip_erases == 0
    assert nor.sector_erases == 11 + 1                      # the 11 sectors with data, the one with stale bytes
    commands = [int(c[2], 0) for c in run.calls if c[0] == "mww" and int(c[1], 0) == CMD_LOC]
    assert {c for c in commands if c & 0x1888} == {0x808, 0x1000}   # ERASE_WRITE | POST_WRITE_VERIFY, ERASE_BLANK
    assert bytes(nor.mem[:len(sflash)]) == sflash and bytes(nor.mem[0x80000:0x80004]) == b"keep"
