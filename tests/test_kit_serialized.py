"""`bundle openocd` on a `bundle serialize` output: a kit that programs one unit per run, chosen by its serial.

Oracles: units.csv read with the csv module and patched over the base images in plain Python (offsets from the
manifest's `serialization`), zlib for the CRC-32, the per-unit whole images of `serialize --full`; the kit's Tcl
runs under tclsh against the emulated STM32F2 + SPI NOR (tests/emu), and under Debian's real OpenOCD (Jim Tcl)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bundler.cli import app
from bundler.errors import InputError, VerificationError
from bundler.linekit import make_kit
from bundler.serialize import serialize
from emu.bridge import Bridge
from emu.spinor import SpiNor
from emu.stm32 import FLASH_BASE, Board

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "samples" / "ota_demo"
FAKE = Path(__file__).resolve().parent / "emu" / "jim_fake_target.tcl"
needs_tclsh = pytest.mark.skipif(shutil.which("tclsh") is None, reason="tclsh not installed")
needs_openocd = pytest.mark.skipif(shutil.which("openocd") is None, reason="openocd not installed")


def _run(tmp: Path, crc: str, full: bool) -> Path:
    shutil.copytree(SAMPLE, tmp / "product")
    toml = tmp / "product" / "bundle.toml"
    toml.write_text(re.sub(r'(?m)^crc = "sdk".*$', f'crc = "{crc}"', toml.read_text()))
    serialize(toml, 3, "SN00001001", "02:0A:F7:00:10:00", tmp / "run", full=full)
    return tmp / "run"


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two serialize outputs of the sample (3 units each) and a kit for each."""
    root = tmp_path_factory.mktemp("serkit")
    out = {"sdk": _run(root / "sdk", "sdk", False), "computed": _run(root / "computed", "computed", True)}
    for mode, run in list(out.items()):
        make_kit(run / "manifest.json", "stlink", root / f"kit-{mode}")
        out[f"kit-{mode}"] = root / f"kit-{mode}"
    return out


def rows(run: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO((run / "units.csv").read_text())))


def unit_images(run: Path, serial: str) -> dict[str, bytes]:
    """The base images with the unit's bytes from units.csv at every manifest serialization range."""
    doc = json.loads((run / "manifest.json").read_text())
    row = next(r for r in rows(run) if r["serial"] == serial)
    images = {name: bytearray((run / name).read_bytes()) for name in ("mcu.bin", "sflash.bin")}
    for r in doc["serialization"]:
        value = bytes.fromhex(row[f"{r['file']}@0x{r['address']:08X}:{r['name']}"])
        assert len(value) == r["size"]
        images[r["file"]][r["offset"]:r["offset"] + r["size"]] = value
    assert zlib.crc32(images["mcu.bin"]) == int(row["mcu_crc32"], 16)
    assert zlib.crc32(images["sflash.bin"]) == int(row["sflash_crc32"], 16)
    return {k: bytes(v) for k, v in images.items()}


# ---- end to end under the emulator ----


@needs_tclsh
@pytest.mark.parametrize("mode, serial", [("sdk", "SN00001002"), ("computed", "SN00001003")])
def test_unit_programmed_is_base_plus_its_csv_bytes(runs: dict[str, Path], mode: str, serial: str) -> None:
    run, kit = runs[mode], runs[f"kit-{mode}"]
    expect = unit_images(run, serial)
    assert expect["mcu.bin"] != (run / "mcu.bin").read_bytes()       # the unit really differs from the base
    nor = SpiNor(0x100000, 0xC22014)
    nor.mem[0x2240:0x2250] = b"\x00" * 16                            # stale bytes where the serial goes
    board = Board(nor)
    result = Bridge(board, kit).run(serial=serial)
    assert result.returncode == 0 and result.output[-1] == "PASS", result.text
    assert bytes(nor.mem) == expect["sflash.bin"]
    assert board.read(FLASH_BASE, 0x100000) == expect["mcu.bin"]
    if mode == "computed":                                          # serialize --full's own per-unit images
        index = next(r["index"] for r in rows(run) if r["serial"] == serial)
        stem = run / "units" / f"{int(index):04d}-{serial}"
        assert expect == {"mcu.bin": Path(f"{stem}.mcu.bin").read_bytes(),
                          "sflash.bin": Path(f"{stem}.sflash.bin").read_bytes()}
    row = next(r for r in rows(run) if r["serial"] == serial)
    assert f"unit: {serial} ({row['mac']}), units.csv index {row['index']}" in result.output
    assert f"CRC: mcu.bin: {row['mcu_crc32']} OK (unit {serial})" in result.output
    assert f"CRC: sflash.bin: {row['sflash_crc32']} OK (unit {serial})" in result.output
    assert result.output[-2] == f"unit {serial} ({row['mac']}): programmed and verified"


@needs_tclsh
@pytest.mark.parametrize("serial, message", [
    ("SN00009999", "FAIL: unit SN00009999: not in this kit's units.csv (3 units, SN00001001..SN00001003); "
                   "nothing programmed"),
    ("", "FAIL: this kit programs a serialized run: give the unit's serial number (3 units, "
         "SN00001001..SN00001003 in units.csv); nothing programmed"),
])
def test_unknown_or_missing_serial_refused_before_the_target_is_touched(runs: dict[str, Path], serial: str,
                                                                        message: str) -> None:
    nor = SpiNor(0x100000, 0xC22014)
    board = Board(nor)
    result = Bridge(board, runs["kit-sdk"]).run(serial=serial)
    assert result.returncode == 1 and result.output == [message]
    target = [c for c in result.calls if not c[0].endswith("_port")]  # server ports are configuration only
    assert target == [("shutdown", "error")]                         # no init, no flash, no memory write
    assert nor.page_programs == nor.sector_erases == nor.chip_erases == 0
    assert board.read(FLASH_BASE, 0x100000) == b"\xff" * 0x100000


@needs_tclsh
def test_flipped_byte_fails_naming_unit_and_artefact(runs: dict[str, Path]) -> None:
    nor = SpiNor(0x100000, 0xC22014)
    done: list[bool] = []

    def flip(cmd: str, args: list[str]) -> None:                    # before the SFLASH CRC command
        if cmd == "mww" and int(args[0], 0) == 0x20000014 and int(args[1], 0) == 0x100 and not done:
            nor.mem[0x2245] ^= 0x01                                  # inside the unit's serial
            done.append(True)
    result = Bridge(Board(nor), runs["kit-sdk"], flip).run(serial="SN00001001")
    row = rows(runs["sdk"])[0]
    assert result.returncode == 1
    assert result.output[-1] == "FAIL: unit SN00001001 (02:0A:F7:00:10:00): CRC mismatch: sflash.bin"
    assert any(line.startswith("CRC: sflash.bin: target ") and f"units.csv {row['sflash_crc32']} MISMATCH" in line
               for line in result.output)


# ---- the kit's contents ----


def test_kit_carries_units_csv_and_blanked_mcu_image(runs: dict[str, Path]) -> None:
    run, kit = runs["computed"], runs["kit-computed"]
    assert (kit / "units.csv").read_bytes() == (run / "units.csv").read_bytes()
    assert (kit / "sflash.bin").read_bytes() == (run / "sflash.bin").read_bytes()
    assert not (kit / "mcu.bin").exists()                           # only the blanked image is written
    doc = json.loads((run / "manifest.json").read_text())
    blank = bytearray((run / "mcu.bin").read_bytes())
    for r in doc["serialization"]:
        if r["file"] == "mcu.bin":
            blank[r["offset"]:r["offset"] + r["size"]] = b"\xff" * r["size"]
    assert (kit / "mcu.unit-blank.bin").read_bytes() == bytes(blank)
    config = (kit / "kit_config.tcl").read_text()
    assert config.count("{1 SN00001001 02:0A:F7:00:10:00 ") == 1 and "{3 SN00001003 " in config
    sh = (kit / "program.sh").read_text()
    assert "if [ 1 = 1 ]; then" in sh
    bat = (kit / "program.bat").read_text()
    assert 'if not "1"=="1" goto unitok' in bat and 'set "MAIN=kit_main %UNIT%"' in bat


def test_kit_is_deterministic(runs: dict[str, Path], tmp_path: Path) -> None:
    make_kit(runs["sdk"] / "manifest.json", "stlink", tmp_path / "again")
    for path in runs["kit-sdk"].iterdir():
        if path.is_file():
            assert (tmp_path / "again" / path.name).read_bytes() == path.read_bytes(), path.name


def _damaged(runs: dict[str, Path], tmp_path: Path, edit) -> Path:  # type: ignore[no-untyped-def]
    """units.csv edited and the (unsigned) manifest's units_csv entry made to match it, as a hand-edited manifest
    would: what the kit's own checks of the CSV's contents must then catch."""
    run = tmp_path / "run"
    shutil.copytree(runs["sdk"], run)
    text = (run / "units.csv").read_text()
    (run / "units.csv").write_text(edit(text))
    doc = json.loads((run / "manifest.json").read_text())
    raw = (run / "units.csv").read_bytes()
    doc["units_csv"].update(size=len(raw), sha256=hashlib.sha256(raw).hexdigest())
    (run / "manifest.json").write_text(json.dumps(doc))
    return run / "manifest.json"


SERIAL_COL = "mcu.bin@0x080041EC:mfg_info.serial_number"


@pytest.mark.parametrize("edit, error, message", [
    (lambda t: t.replace(f",{SERIAL_COL}", ",renamed"), InputError,
     f"units.csv: column '{SERIAL_COL}' missing"),
    (lambda t: t.replace("534e303030303130303200000000000000000000", "534e3030303031303032000000000000000000"),
     InputError, f"units.csv: line 3, column '{SERIAL_COL}': expected 40 hex digits (20 bytes (0x14), manifest "
                 "serialization), got '534e3030303031303032000000000000000000'"),
    (lambda t: t.replace(",SN00001003,", ",SN00001001,"), InputError,
     "units.csv: line 4, column 'serial': SN00001001 already on line 2"),
    (lambda t: t.replace(",02:0A:F7:00:10:02,", ",02:0A:F7:00:10:00,"), InputError,
     "units.csv: line 4, column 'mac': 02:0A:F7:00:10:00 already on line 2"),
    (lambda t: t.replace(",SN00001002,", ",SN00001009,"), InputError,
     f"units.csv: line 3, column '{SERIAL_COL}': does not hold serial SN00001009 (column serial)"),
    (lambda t: t.replace(",mcu_crc32,", ",mcu_crc,"), InputError, "units.csv: column 'mcu_crc32' missing"),
    (lambda t: t.splitlines()[0] + "\n", InputError, "units.csv: no unit rows"),
])
def test_units_csv_not_matching_the_manifest_refused(runs: dict[str, Path], tmp_path: Path, edit, error: type,
                                                     message: str) -> None:
    manifest = _damaged(runs, tmp_path, edit)
    with pytest.raises(error) as exc:
        make_kit(manifest, "stlink", tmp_path / "kit")
    assert message in str(exc.value) and "\n" not in str(exc.value)
    assert not (tmp_path / "kit").exists()


def test_units_csv_of_another_build_refused(runs: dict[str, Path], tmp_path: Path) -> None:
    row = rows(runs["sdk"])[1]
    manifest = _damaged(runs, tmp_path, lambda t: t.replace(row["sflash_crc32"], "0x00000000"))
    with pytest.raises(VerificationError, match=r"units.csv: line 3, column 'sflash_crc32': 0x00000000, but "
                                                r"sflash.bin with this unit's bytes has CRC-32 0x"):
        make_kit(manifest, "stlink", tmp_path / "kit")
    assert not (tmp_path / "kit").exists()


def test_missing_units_csv_and_bad_range_refused(runs: dict[str, Path], tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(runs["sdk"], run)
    (run / "units.csv").unlink()
    with pytest.raises(InputError, match="units.csv: file not found: a manifest with serialization needs"):
        make_kit(run / "manifest.json", "stlink", tmp_path / "kit")
    shutil.copy(runs["sdk"] / "units.csv", run / "units.csv")
    doc = json.loads((run / "manifest.json").read_text())
    doc["serialization"][0]["address"] += 1
    (run / "manifest.json").write_text(json.dumps(doc))
    with pytest.raises(InputError, match=r"manifest.json: serialization\[0\].address: 0x080041ED, but offset "
                                         r"0x41EC of mcu.bin \(at 0x08000000\) is 0x080041EC"):
        make_kit(run / "manifest.json", "stlink", tmp_path / "kit")
    assert not (tmp_path / "kit").exists()


def test_cli_serialized_kit(runs: dict[str, Path], tmp_path: Path) -> None:
    r = CliRunner().invoke(app, ["openocd", str(runs["sdk"] / "manifest.json"), "--adapter", "jlink",
                                 "--out", str(tmp_path / "kit")])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "kit" / "units.csv").is_file()
    bad = _damaged(runs, tmp_path / "bad", lambda t: t.replace(",SN00001003,", ",SN00001001,"))
    r = CliRunner().invoke(app, ["openocd", str(bad), "--adapter", "jlink", "--out", str(tmp_path / "kit2")])
    assert r.exit_code == 2 and len(r.output.strip().splitlines()) == 1 and "Traceback" not in r.output
    assert "units.csv: line 4, column 'serial'" in r.output


# ---- under Debian's real OpenOCD (Jim Tcl) ----


def _openocd(kit: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["openocd", "-c", "adapter driver dummy", "-c", "transport select jtag", "-f",
                           "target/stm32f2x.cfg", "-f", "kit_config.tcl", "-f", "sflash_kit.tcl", "-f", str(FAKE),
                           *args], cwd=kit, capture_output=True, text=True, timeout=60)


@needs_openocd
def test_jim_programs_the_units_bytes(runs: dict[str, Path]) -> None:
    r = _openocd(runs["kit-computed"], "-c", "kit_main SN00001002")
    assert r.returncode == 0, r.stdout + r.stderr
    out = r.stdout.splitlines()
    assert out[-1] == "PASS" and "CRC: mcu.bin: " in r.stdout
    row = rows(runs["computed"])[1]
    # the fake target prints each flash command: the halfwords are the unit's bytes, little-endian
    mac = bytes.fromhex(row["mcu.bin@0x08005D7C:wifi_config.mac_address"])
    fills = [line for line in out if line.startswith("fake: flash fillh")]
    assert len(fills) == 2 + 10 + 3                                 # CRC, serial, MAC halfwords
    for i in range(3):
        value = mac[2 * i] | mac[2 * i + 1] << 8
        assert f"fake: flash fillh 0x{0x08005D7C + 2 * i:08x} 0x{value:04x} 1" in out
    sflash_serial = bytes.fromhex(row["sflash.bin@0x00002240:mfg_info.serial_number"])
    writes = [line for line in out if line.startswith("fake: mwb ")]
    assert f"fake: mwb 0x{0x2000001C + 0x2240:08x} 0x{sflash_serial[0]:02x}" in writes


@needs_openocd
def test_jim_refuses_unknown_serial(runs: dict[str, Path]) -> None:
    r = _openocd(runs["kit-sdk"], "-c", "kit_main SN1")
    assert r.returncode != 0
    assert r.stdout.splitlines()[-1].startswith("FAIL: unit SN1: not in this kit's units.csv")
    assert "fake:" not in r.stdout


@needs_openocd
@pytest.mark.skipif(shutil.which("sh") is None, reason="no POSIX shell")
def test_program_sh_serialized(runs: dict[str, Path], tmp_path: Path) -> None:
    kit = tmp_path / "kit"
    shutil.copytree(runs["kit-sdk"], kit)
    marker = tmp_path / "openocd-started"
    wrapper = tmp_path / "openocd-wrapper"
    wrapper.write_text(
        f"#!{sys.executable}\n"
        "import subprocess, sys\n"
        f"open({str(marker)!r}, 'a').write(' '.join(sys.argv[1:]) + '\\n')\n"
        "args = sys.argv[1:]\n"
        "i = next(n for n, a in enumerate(args) if a.startswith('kit_main')) - 1\n"
        f"args[i:i] = ['-f', {str(FAKE)!r}]\n"
        "sys.exit(subprocess.call(['openocd', *args]))\n")
    wrapper.chmod(0o755)
    (tmp_path / "dummy.cfg").write_text("adapter driver dummy\ntransport select jtag\n")
    env = {**os.environ, "OPENOCD": str(wrapper), "OPENOCD_INTERFACE": str(tmp_path / "dummy.cfg")}

    def program(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["sh", str(kit / "program.sh"), *args], cwd=tmp_path, env=env, capture_output=True,
                              text=True, timeout=60)

    for args, message in [(("SN00009999",), "FAIL: unit SN00009999: not in this kit's units.csv; nothing programmed"),
                          (("SN0000100$",), "FAIL: unit id: 1..64 letters, digits and . _ - : (starting with a "
                                            "letter or digit); nothing programmed"),
                          ((), "FAIL: this kit programs a serialized run: give the unit's serial number "
                               "(./program.sh SERIAL, see units.csv); nothing programmed")]:
        r = program(*args)
        assert (r.returncode, r.stdout, r.stderr) == (2, message + "\n", "")
    assert not marker.exists() and not (kit / "logs").exists()     # OpenOCD never started

    r = program("SN00001003")
    assert r.returncode == 0, r.stdout + r.stderr
    out = r.stdout.splitlines()
    assert out[-1].startswith("log: logs/") and out[-1].endswith("_SN00001003_02-0A-F7-00-10-02.log")
    assert "-c kit_main SN00001003" in marker.read_text()
    log = (kit / out[-1][len("log: "):]).read_text().splitlines()
    assert "unit: SN00001003 (MAC 02:0A:F7:00:10:02)" in log and "PASS" in log
    assert "unit SN00001003 (02:0A:F7:00:10:02): programmed and verified" in log

    # the same serial again (a label scanned twice): refused before OpenOCD starts, naming the log that passed
    starts = marker.read_text().count("kit_main")
    r = program("SN00001003")
    assert r.returncode == 2 and r.stdout == (f"FAIL: unit SN00001003: already programmed and verified ({out[-1][5:]}); "
                                              "a reworked board: ./program.sh SN00001003 --again; nothing programmed\n")
    r = program("SN00001003", "--later")
    assert r.returncode == 2 and "unexpected second argument" in r.stdout
    assert marker.read_text().count("kit_main") == starts
    r = program("SN00001003", "--again")  # deliberate: programmed and verified again, logged as such
    assert r.returncode == 0 and "PASS" in r.stdout.splitlines()
    assert marker.read_text().count("kit_main") == starts + 1
    # an earlier attempt that failed does not count as programmed
    mac2 = next(row["mac"] for row in rows(runs["sdk"]) if row["serial"] == "SN00001002").replace(":", "-")
    (kit / "logs" / f"20260101T000000Z_SN00001002_{mac2}.log").write_text("unit: SN00001002\nFAIL: CRC mismatch\n")
    r = program("SN00001002")
    assert r.returncode == 0 and "PASS" in r.stdout.splitlines()
