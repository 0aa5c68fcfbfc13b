"""`program.sh --read-back DIR`: both chips of an emulated board read into DIR, nothing written, then `bundle inspect`.

End to end: real `sh` runs program.sh, whose `openocd` is tests/emu/fake_openocd.py (the kit's Tcl under tclsh, the
board in unicorn with the real helper ELF); the verdict comes from the real `bundle inspect`. Oracles: the kit's
own image files, the board's bytes before and after, the command log of the run, zlib.crc32 for the Tcl CRC under
real OpenOCD (Jim Tcl)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bundler.cli import app
from bundler.linekit import make_kit
from emu.bridge import Bridge
from emu.fake_openocd import new_board
from emu.kitfixture import BOARD_SPI, serialized_kit, unit_images, write_build
from emu.spinor import SpiNor
from emu.stm32 import FLASH_BASE, Board

ROOT = Path(__file__).resolve().parents[1]
FAKE = ROOT / "tests" / "emu" / "fake_openocd.py"
CMD_LOC = 0x20000014
READS = 0x40 | 0x100 | 0x200 | 0x400  # helper READ, CRC32_SFLASH, CRC32_MEMORY, READ_ID


def fake_openocd(folder: Path) -> Path:
    wrapper = folder / "openocd"
    wrapper.write_text(f"#!/bin/sh\nexec {sys.executable} {FAKE} \"$@\"\n")
    wrapper.chmod(0o755)
    return wrapper


def program_sh(kit: Path, boards: Path, *args: str, bundle: bool = True) -> subprocess.CompletedProcess[str]:
    """program.sh run from the boards' parent folder (a relative DIR is taken from there)."""
    env = {**os.environ, "OPENOCD": str(fake_openocd(boards.parent)), "EMU_BOARDS": str(boards),
           "PYTHONPATH": str(ROOT / "tests")}
    env["BUNDLE"] = str(Path(sys.executable).with_name("bundle")) if bundle else "no-such-bundle-command"
    return subprocess.run(["sh", str(kit / "program.sh"), *args], cwd=boards.parent, env=env, capture_output=True,
                          text=True, timeout=900)


def board_holding(boards: Path, mcu: bytes, sflash: bytes, chip_size: int, serial: str = "default") -> Path:
    """A board whose chips hold `mcu` (at the flash base) and `sflash` (at 0), as the kit leaves them."""
    folder = boards / serial
    new_board(folder, chip_size)
    flash = bytearray((folder / "flash.bin").read_bytes())
    flash[:len(mcu)] = mcu
    (folder / "flash.bin").write_bytes(bytes(flash))
    nor = bytearray((folder / "nor.bin").read_bytes())
    nor[:len(sflash)] = sflash
    (folder / "nor.bin").write_bytes(bytes(nor))
    return folder


def snapshot(folder: Path) -> tuple[bytes, bytes]:
    return (folder / "flash.bin").read_bytes(), (folder / "nor.bin").read_bytes()


def writes_in(calls: list[list[str]]) -> list[list[str]]:
    """The commands of a run that could change a chip: OpenOCD flash writes/erases, byte writes, and mailbox
    commands other than the helper's reads."""
    bad = []
    for c in calls:
        if c[0] in ("flash", "mwb") or (c[0] == "load_image" and not c[1].endswith(".elf")):
            bad.append(c)
        elif c[0] == "mww" and int(c[1], 0) == CMD_LOC and int(c[2], 0) & ~READS:
            bad.append(c)
    return bad


@pytest.fixture(scope="module")
def sample_kit(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("sample")
    r = CliRunner().invoke(app, ["build", str(ROOT / "samples" / "ota_demo" / "bundle.toml"), "--out", str(root / "out")])
    assert r.exit_code == 0, r.output
    make_kit(root / "out" / "manifest.json", "stlink", root / "kit")
    return root / "kit"


def test_read_back_of_a_programmed_board_is_the_kit_images_and_inspect_passes(sample_kit: Path, tmp_path: Path) -> None:
    mcu, sflash = (sample_kit / "mcu.bin").read_bytes(), (sample_kit / "sflash.bin").read_bytes()
    board = board_holding(tmp_path / "boards", mcu, sflash, 0x100000)
    before = snapshot(board)
    r = program_sh(sample_kit, tmp_path / "boards", "--read-back", "qa/board1", "B0001")
    assert r.returncode == 0, r.stdout + r.stderr
    out = r.stdout.splitlines()
    assert out[-2] == "PASS" and out[-1].startswith("log: logs/") and "_read-back_B0001.log" in out[-1]
    assert (tmp_path / "qa" / "board1" / "mcu.bin").read_bytes() == mcu
    assert (tmp_path / "qa" / "board1" / "sflash.bin").read_bytes() == sflash
    assert "inspect exit code: 0" in r.stdout and "2 ok" in r.stdout
    assert snapshot(board) == before                     # the read-back wrote nothing to either chip
    calls = [json.loads(line) for line in (board / "calls.jsonl").read_text().splitlines()]
    assert writes_in(calls) == []
    assert any(c[0] == "dump_image" for c in calls)
    assert sum(1 for c in calls if c[0] == "mww" and int(c[1], 0) == CMD_LOC and int(c[2], 0) == 0x40) == 64
    assert not (sample_kit / "logs" / f".read-back-{os.getpid()}").exists()
    assert sorted(p.name for p in (sample_kit / "logs").iterdir() if p.name.startswith(".")) == []

    # a flipped byte on the board: inspect names the region, exit 1; the files are still written for QA
    nor = bytearray((board / "nor.bin").read_bytes())
    nor[0x30000] ^= 0x01
    (board / "nor.bin").write_bytes(bytes(nor))
    r = program_sh(sample_kit, tmp_path / "boards", "--read-back", str(tmp_path / "qa" / "board2"))
    assert r.returncode == 1, r.stdout + r.stderr
    assert "region" in r.stdout and "differs" in r.stdout and "first difference at offset 0x30000" in r.stdout
    assert r.stdout.splitlines()[-2] == "FAIL: bundle inspect: the read-back differs from the manifest (above)"
    assert (tmp_path / "qa" / "board2" / "sflash.bin").read_bytes() == bytes(nor)


def test_read_back_refuses_to_overwrite_and_prints_inspect_without_bundle(tmp_path: Path) -> None:
    manifest = write_build(tmp_path / "build", chip_size=0x20000)
    make_kit(manifest, "stlink", tmp_path / "kit", spi=BOARD_SPI)
    kit = tmp_path / "kit"
    mcu, sflash = (kit / "mcu.bin").read_bytes(), (kit / "sflash.bin").read_bytes()
    board_holding(tmp_path / "boards", mcu, sflash, 0x20000)
    (tmp_path / "qa").mkdir()
    (tmp_path / "qa" / "sflash.bin").write_bytes(b"someone's file")
    r = program_sh(kit, tmp_path / "boards", "--read-back", "qa")
    assert (r.returncode, r.stdout) == (2, f"FAIL: {tmp_path}/qa/sflash.bin exists: read back into an empty or new "
                                           "folder; nothing read\n")
    assert (tmp_path / "qa" / "sflash.bin").read_bytes() == b"someone's file"
    assert not (tmp_path / "boards" / "default" / "calls.jsonl").exists()   # openocd never started

    r = program_sh(kit, tmp_path / "boards", "--read-back", "qa2", bundle=False)
    assert r.returncode == 0, r.stdout + r.stderr
    assert (f"READ BACK, NOT INSPECTED: bundle is not on the PATH; check with: bundle inspect {tmp_path}/qa2 "
            f"--manifest {kit}/manifest.json") in r.stdout
    assert (tmp_path / "qa2" / "sflash.bin").read_bytes() == sflash + b"\xff" * (0x20000 - len(sflash))

    r = program_sh(kit, tmp_path / "boards", "--read-back")
    assert (r.returncode, r.stdout) == (2, "FAIL: ./program.sh --read-back DIR [SERIAL]; nothing read\n")


def _small_kit(tmp_path: Path) -> tuple[Path, Board, SpiNor]:
    manifest = write_build(tmp_path / "build", chip_size=0x20000)
    make_kit(manifest, "stlink", tmp_path / "kit", spi=BOARD_SPI)
    nor = SpiNor(0x20000, 0xC22014)
    board = Board(nor)
    assert Bridge(board, tmp_path / "kit").run().output[-1] == "PASS"
    (tmp_path / "kit" / "rb").mkdir()
    return tmp_path / "kit", board, nor


def test_a_chunk_damaged_in_transfer_fails_naming_it_and_leaves_no_file(tmp_path: Path) -> None:
    """The host's CRC-32 of each chunk is compared with the helper's on the target: a word changed between the
    target and the host (here in the read_memory answer of the third chunk) is caught."""
    kit, board, nor = _small_kit(tmp_path)
    bridge = Bridge(board, kit)
    reads = []
    real = bridge.handle

    def handle(cmd: str, args: list[str]) -> str:
        answer = real(cmd, args)
        if cmd == "read_memory" and int(args[2]) > 1:
            reads.append(1)
            if len(reads) == 3:
                words = answer.split()
                words[100] = f"0x{int(words[100], 0) ^ 0x00010000:08x}"
                return " ".join(words)
        return answer
    bridge.handle = handle  # type: ignore[method-assign]
    run = bridge.run(main="kit_readback_main rb")
    assert run.returncode == 1, run.text
    assert run.output[-1].startswith("FAIL: serial flash: chunk at 0x00008000 (16384 bytes): CRC-32 0x")
    assert run.output[-1].endswith("on the target: transfer error")
    assert sorted(p.name for p in (kit / "rb").iterdir()) == ["mcu.bin.part", "sflash.bin.part"]  # never as results


def test_read_only_mode_refuses_every_helper_write_command(tmp_path: Path) -> None:
    kit, board, nor = _small_kit(tmp_path)
    before = bytes(nor.mem), board.read(FLASH_BASE, 0x10000)
    for cmd in (0x02, 0x04, 0x80, 0x88, 0x01, 0x10, 0x1000):
        run = Bridge(board, kit).run_script(["source kit_config.tcl", "source sflash_kit.tcl", "set kit_readonly 1",
                                             f"puts [catch {{kit_command {cmd} 0 16 1000}} msg]", "puts $msg",
                                             "shutdown"])
        assert run.output == ["1", f"read-back: helper command 0x{cmd:08x} would write to the board: refused"]
        assert not any(c[0] == "mww" for c in run.calls)
    assert (bytes(nor.mem), board.read(FLASH_BASE, 0x10000)) == before


@pytest.mark.skipif(shutil.which("openocd") is None, reason="openocd not installed")
def test_host_crc_and_byte_writer_under_real_openocd_jim(tmp_path: Path) -> None:
    """kit_crc_words, kit_word_bytes and kit_file_hex in OpenOCD's own Jim Tcl: zlib.crc32 is the oracle."""
    words = [0x04030201, 0xFFFEFDC8, 0x00807F80, 0xDEADBEEF, 0]
    data = b"".join(w.to_bytes(4, "little") for w in words)
    kit = tmp_path / "kit"
    manifest = write_build(tmp_path / "build")
    make_kit(manifest, "stlink", kit, spi=BOARD_SPI)
    script = (f"set w {{{' '.join(hex(w) for w in words)}}}\n"
              "puts \"crc [kit_crc_words $w]\"\n"
              "set f [open out.bin w]\nfconfigure $f -translation binary\nputs -nonewline $f [kit_word_bytes $w]\n"
              "close $f\nputs \"hex [kit_file_hex out.bin 3 9]\"\nshutdown\n")
    (tmp_path / "t.tcl").write_text(script)
    r = subprocess.run(["openocd", "-c", "adapter driver dummy", "-f", "kit_config.tcl", "-f", "sflash_kit.tcl",
                        "-f", str(tmp_path / "t.tcl")], cwd=kit, capture_output=True, text=True, timeout=60)
    lines = (r.stdout + r.stderr).splitlines()
    assert f"crc {zlib.crc32(data)}" in lines, lines
    assert f"hex {data[3:12].hex()}" in lines
    assert (kit / "out.bin").read_bytes() == data


@pytest.fixture(scope="module")
def serial_kit(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return serialized_kit(tmp_path_factory.mktemp("serialized"), 3)


def test_serialized_read_back_names_the_unit_on_the_board(serial_kit: Path, tmp_path: Path) -> None:
    run = serial_kit.parent / "run"
    mcu, sflash = unit_images(run, 2)
    board = board_holding(tmp_path / "boards", mcu, sflash, 0x100000)
    r = program_sh(serial_kit, tmp_path / "boards", "--read-back", "qa")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "unit: SN00001002 (02:0A:F7:00:10:01) found in the read-back, units.csv index 2" in r.stdout.splitlines()
    assert "unit: SN00001002: both chips as units.csv states" in r.stdout.splitlines()
    assert r.stdout.splitlines()[-2] == "PASS"
    assert ((tmp_path / "qa" / "mcu.bin").read_bytes(), (tmp_path / "qa" / "sflash.bin").read_bytes()) == (mcu, sflash)
    calls = [json.loads(line) for line in (board / "calls.jsonl").read_text().splitlines()]
    assert writes_in(calls) == []


def test_serialized_read_back_refuses_another_unit_or_none(serial_kit: Path, tmp_path: Path) -> None:
    """kit_readback_unit on read-back files: the unit asked for must be the one found; bytes of no unit fail."""
    run = serial_kit.parent / "run"
    kit = tmp_path / "kit"
    shutil.copytree(serial_kit, kit)
    (kit / "rb").mkdir()
    mcu, sflash = unit_images(run, 3)
    (kit / "rb" / "mcu.bin").write_bytes(mcu)
    (kit / "rb" / "sflash.bin").write_bytes(sflash)
    script = ["source kit_config.tcl", "source sflash_kit.tcl",
              "puts [catch {kit_readback_unit rb SN00001001} msg]", "puts $msg", "shutdown"]
    out = Bridge(Board(SpiNor(0x100000, 0xC22014)), kit).run_script(script).output
    assert out == ["unit: SN00001003 (02:0A:F7:00:10:02) found in the read-back, units.csv index 3", "1",
                   "unit: the board holds SN00001003, not SN00001001"]
    (kit / "rb" / "mcu.bin").write_bytes((run / "mcu.bin").read_bytes())     # the base image: no unit's bytes
    out = Bridge(Board(SpiNor(0x100000, 0xC22014)), kit).run_script(script).output
    assert out == ["1", "unit: the read-back holds the per-unit bytes of no unit in this kit's units.csv"]
