"""The SST25VF080B path: the committed helper ELF in unicorn against the SST model (tests/emu/sst25.py), then the
whole kit's Tcl. Oracle: the model's memory against the image bytes (and zlib.crc32 / the kit's PASS line)."""

from __future__ import annotations

import random
import shutil
import dataclasses
import zlib
from pathlib import Path

import pytest

from bundler.layout import LAYOUTS_DIR, load_board, load_chip
from bundler.linekit import make_kit, spi_settings
from emu.bridge import Bridge
from emu.host import Host, config_for
from emu.kitfixture import BOARD_SPI, write_build
from emu.sst25 import SST25VF080B_ID, Sst25vf080b
from emu.stm32 import FLASH_BASE, Board, Wiring

ROOT = Path(__file__).resolve().parents[1]
HELPER = ROOT / "bundler" / "kit" / "sflash_helper.elf"
CHIP = 0x100000
BUF = 16384
ERASE_CHIP, WRITE, POST_VERIFY, READ, WRITE_EIN, CRC_SFLASH = 2, 4, 8, 0x40, 0x80, 0x100
OK, VERIFY_FAILED, WRITE_FAILED = 0, 2, 6
SST_SPI = {"page_size": 1, "unprotect": True}           # what layouts/boards/bcm943362wcd4-sst.toml sets
tclsh = pytest.mark.skipif(shutil.which("tclsh") is None, reason="tclsh not installed")


def helper_on(nor: Sst25vf080b, *, page_size: int, unprotect: bool) -> Host:
    cfg = config_for(Wiring(), jedec_id=SST25VF080B_ID, chip_size=CHIP, page_size=page_size,
                     flags=1 if unprotect else 0)
    return Host(Board(nor), HELPER, cfg)


def image(size: int, seed: int) -> bytes:
    """Random sectors, erased sectors and a ragged end, as an SFLASH image has."""
    rnd = random.Random(seed)
    out = bytearray(b"\xff" * size)
    for start in range(0, size, 4096):
        if rnd.random() < 0.7:
            n = rnd.randrange(1, 4097)
            out[start:start + n] = rnd.randbytes(n)
    return bytes(out)


def program(host: Host, data: bytes) -> list[int]:
    return [host.command(WRITE_EIN | POST_VERIFY, pos, data[pos:pos + BUF]) for pos in range(0, len(data), BUF)]


# ---- the model itself, against the data sheet rules it claims ----

def test_model_powers_up_protected_and_needs_ewsr_or_wren_for_wrsr() -> None:
    nor = Sst25vf080b(strict_ewsr=True)

    def send(*cmd: int) -> list[int]:
        nor.select()
        out = [nor.xfer(b) for b in cmd]
        nor.deselect()
        return out
    assert send(0x9F, 0, 0, 0)[1:] == [0xBF, 0x25, 0x8E]
    assert send(0x05, 0)[1] == 0x1C                                  # BP0..BP2 set at power-up
    send(0x06)
    send(0x02, 0, 0, 0x10, 0x12)
    assert nor.mem[0x10] == 0xFF and "protected:0x02" in nor.ignored
    send(0x06)
    send(0x01, 0)                                                    # strict: WREN alone does not enable WRSR
    assert send(0x05, 0)[1] & 0x3C == 0x1C
    send(0x50)
    send(0x05, 0)                                                    # EWSR arms only the very next command
    send(0x01, 0)
    assert send(0x05, 0)[1] & 0x3C == 0x1C
    send(0x50)
    send(0x01, 0x80)                                                 # BPL reads back, BP cleared
    assert send(0x05, 0)[1] == 0x80
    send(0x06)
    send(0x02, 0, 0, 0x10, 0x12, 0x34, 0x56)                         # one byte per Byte-Program
    while send(0x05, 0)[1] & 1:
        pass
    assert bytes(nor.mem[0x10:0x13]) == b"\x12\xff\xff"
    assert not send(0x05, 0)[1] & 0x02                               # WEL cleared by the program


# ---- the helper against the model ----

@pytest.mark.parametrize("strict", [False, True], ids=["wren-or-ewsr", "ewsr-only"])
def test_byte_program_with_unprotect_writes_image_exactly(strict: bool) -> None:
    nor = Sst25vf080b(strict_ewsr=strict)
    host = helper_on(nor, page_size=1, unprotect=True)
    data = image(40 * 1024 + 77, seed=11)
    assert program(host, data) == [OK] * 3
    assert bytes(nor.mem[:len(data)]) == data
    assert all(b == 0xFF for b in nor.mem[len(data):])
    assert nor.bp == 0
    # every BP clear was EWSR immediately followed by WRSR 0
    assert all(nor.log[i - 1] == 0x50 for i, op in enumerate(nor.log) if op == 0x01)
    assert 0x01 in nor.log
    # one Byte-Program per non-0xFF byte
    assert nor.page_programs == sum(b != 0xFF for b in data)
    assert host.command(CRC_SFLASH, 0, size=len(data)) == OK
    assert int.from_bytes(host.data(4), "little") == zlib.crc32(data)


def test_rewrite_erases_and_merges_on_sst() -> None:
    nor = Sst25vf080b()
    host = helper_on(nor, page_size=1, unprotect=True)
    old = image(3 * 4096, seed=4)
    assert program(host, old) == [OK]
    new = bytes(range(256)) * 3
    assert host.command(WRITE_EIN | POST_VERIFY, 4096 + 100, new) == OK
    expect = bytearray(old)
    expect[4096 + 100:4096 + 100 + len(new)] = new
    assert bytes(nor.mem[:3 * 4096]) == bytes(expect)


def test_chip_erase_after_unprotect() -> None:
    nor = Sst25vf080b()
    nor.mem[0x1000:0x1010] = b"\x00" * 16
    host = helper_on(nor, page_size=1, unprotect=True)
    assert host.command(ERASE_CHIP) == OK
    assert nor.chip_erases == 1 and all(b == 0xFF for b in nor.mem)


@pytest.mark.parametrize("keeps", ["first", "last"])
@pytest.mark.parametrize("unprotect", [False, True], ids=["macronix-defaults", "unprotect-only"])
def test_page_program_settings_fail_cleanly_on_sst(keeps: str, unprotect: bool) -> None:
    """page_size 256 against a byte-program part: the helper must report an error, never a silently wrong flash."""
    nor = Sst25vf080b(byte_program_keeps=keeps)
    host = helper_on(nor, page_size=256, unprotect=unprotect)
    data = image(8192, seed=5)
    results = program(host, data)
    assert results[0] == VERIFY_FAILED
    assert bytes(nor.mem[:len(data)]) != data
    if not unprotect:
        assert nor.page_programs == 0 and any(i.startswith("protected:") for i in nor.ignored)


def test_protection_that_will_not_clear_is_a_write_error() -> None:
    """BPL set and WRSR refused (as with WP# low): the unprotect step itself fails, nothing is programmed."""
    nor = Sst25vf080b()
    host = helper_on(nor, page_size=1, unprotect=True)
    nor._finish = _refuse_wrsr(nor._finish)                 # type: ignore[method-assign]
    assert host.command(WRITE_EIN | POST_VERIFY, 0, b"\x12" * 32) == WRITE_FAILED
    assert nor.page_programs == 0 and bytes(nor.mem[:32]) == b"\xff" * 32


def _refuse_wrsr(finish):  # type: ignore[no-untyped-def]
    def wrapped(cmd: list[int]) -> None:
        if cmd and cmd[0] == 0x01:
            return None
        return finish(cmd)
    return wrapped


# ---- the layout and the whole kit ----

def test_sst_board_layout_differs_only_in_the_chip_settings() -> None:
    """layouts/boards/bcm943362wcd4-sst.toml extends the MX25L8006E layout with the SST chip settings, nothing else."""
    base = load_board("bcm943362wcd4")
    sst = load_board("bcm943362wcd4-sst")
    assert (sst.mcu, sst.dct, sst.name, sst.sdk) == (base.mcu, base.dct, base.name, base.sdk)
    assert sst.sflash == dataclasses.replace(base.sflash, chip="SST25VF080B")
    assert sst.spi == {**base.spi, **SST_SPI}
    assert sst.id == "bcm943362wcd4-sst" and sst.description != base.description
    board = load_board("bcm943362wcd4-sst")
    assert board.name == "BCM943362WCD4"
    settings = spi_settings(board.spi)
    assert settings["page_size"] == 1 and settings["unprotect"] is True and settings["sector_erase_opcode"] == 0x20
    chip = load_chip(board.sflash.chip)
    assert (chip.jedec_id, chip.size, chip.sector_size) == (SST25VF080B_ID, CHIP, 4096)


def _sst_kit(tmp_path: Path, spi: dict | None) -> Path:
    """A kit for an SST25VF080B build: SPI settings from the board layout (spi None) or BOARD_SPI + `spi`."""
    manifest = write_build(tmp_path / "build", jedec_id=SST25VF080B_ID, chip_name="SST25VF080B", sflash_size=0xC000,
                           layout="bcm943362wcd4-sst")
    make_kit(manifest, "stlink", tmp_path / "kit", spi=None if spi is None else {**BOARD_SPI, **spi})
    return tmp_path / "kit"


@tclsh
def test_kit_from_sst_layout_programs_sst_board(tmp_path: Path) -> None:
    kit = _sst_kit(tmp_path, None)                        # manifest board.layout = bcm943362wcd4-sst
    nor = Sst25vf080b(strict_ewsr=True)
    nor.mem[0x80000:0x80010] = b"\x00" * 16               # stale data elsewhere: the chip erase clears it
    board = Board(nor)
    run = Bridge(board, kit).run()
    assert run.returncode == 0 and run.output[-1] == "PASS", run.text
    sflash = (kit / "sflash.bin").read_bytes()
    assert bytes(nor.mem) == sflash + b"\xff" * (CHIP - len(sflash))
    mcu = (kit / "mcu.bin").read_bytes()
    assert board.read(FLASH_BASE, len(mcu)) == mcu
    assert "SFLASH: chip JEDEC ID 0xbf258e (SST25VF080B) OK" in run.text and nor.chip_erases == 1


@tclsh
def test_kit_with_macronix_settings_fails_on_sst_board(tmp_path: Path) -> None:
    kit = _sst_kit(tmp_path, {})
    nor = Sst25vf080b()
    run = Bridge(Board(nor), kit).run()
    assert run.returncode == 1, run.text
    assert run.output[-1].startswith("FAIL: sflash.bin: write at offset 0x00000000: verify after write failed")
    assert "PASS" not in run.output
    assert all(b == 0xFF for b in nor.mem)                 # nothing written, and the kit said so


def test_sample_built_for_sst_layout_gives_sst_kit_settings(tmp_path: Path) -> None:
    """`board = "bcm943362wcd4-sst"` in bundle.toml: the manifest names that layout, and `bundle openocd` gives the
    helper page_size 1 and the unprotect flag (config words read back from kit_config.tcl)."""
    from typer.testing import CliRunner

    from bundler.cli import app
    from emu.host import CONFIG_FIELDS

    sample = tmp_path / "ota_demo"
    shutil.copytree(ROOT / "samples" / "ota_demo", sample)
    toml = sample / "bundle.toml"
    text = toml.read_text()
    assert 'board = "bcm943362wcd4"' in text and 'chip = "MX25L8006E"' in text
    toml.write_text(text.replace('board = "bcm943362wcd4"', 'board = "bcm943362wcd4-sst"')
                    .replace('chip = "MX25L8006E"', 'chip = "SST25VF080B"'))
    r = CliRunner().invoke(app, ["build", str(toml), "--out", str(tmp_path / "out")])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(app, ["openocd", str(tmp_path / "out" / "manifest.json"), "--adapter", "stlink",
                                 "--out", str(tmp_path / "kit")])
    assert r.exit_code == 0, r.output
    line = next(x for x in (tmp_path / "kit" / "kit_config.tcl").read_text().splitlines()
                if x.startswith("set kit_helper_config {"))
    words = dict(zip(CONFIG_FIELDS, (int(w, 0) for w in line.split("{")[1].rstrip("}").split())))
    assert words["expected_jedec_id"] == SST25VF080B_ID and words["chip_size"] == CHIP
    assert words["page_size"] == 1 and words["flags"] == 1 and words["sector_erase_opcode"] == 0x20
