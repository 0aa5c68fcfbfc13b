"""gang.sh and program.sh --adapter-serial: one board per adapter, in parallel, each with its own OpenOCD and log;
a serialized kit gives each adapter the next unused serial under a lock.

End to end with real `sh`: the emulated boards (tests/emu/fake_openocd.py: the kit's Tcl under tclsh, the real
helper in unicorn) behind fake adapter serials; the lock and the "already programmed" rule also with a stand-in
openocd that only answers PASS (so many runs can race). Oracles: the units' own images (units.csv over the base
images), the board files, the logs, real OpenOCD 0.12 for `adapter serial`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bundler.linekit import make_kit
from emu.fake_openocd import new_board
from emu.kitfixture import BOARD_SPI, serialized_kit, unit_images, write_build

ROOT = Path(__file__).resolve().parents[1]
FAKE = ROOT / "tests" / "emu" / "fake_openocd.py"


@pytest.fixture(scope="module")
def serial_kit(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return serialized_kit(tmp_path_factory.mktemp("gang"), 8)


def emulated_openocd(folder: Path) -> Path:
    wrapper = folder / "openocd"
    wrapper.write_text(f"#!/bin/sh\nexec {sys.executable} {FAKE} \"$@\"\n")
    wrapper.chmod(0o755)
    return wrapper


def stand_in_openocd(folder: Path) -> Path:
    """An openocd that says PASS after a second (FAIL at once for the adapter BAD), recording the adapter and unit,
    and in stand-in-events.txt when it starts and ends with which unit (a unit is held from start to end)."""
    wrapper = folder / "openocd-stand-in"
    events = folder / "stand-in-events.txt"
    wrapper.write_text("#!/bin/sh\n"
                       f"printf '%s\\n' \"$*\" >>{folder}/stand-in-args.txt\n"
                       "unit=$(printf '%s' \"$*\" | sed -n 's/.*kit_main \\([^ ]*\\).*/\\1/p')\n"
                       f"echo \"start $unit\" >>{events}\n"
                       "case \"$*\" in *'kit_select_adapter BAD'*)\n"
                       f"    echo \"end $unit\" >>{events}; echo 'FAIL: serial flash: timeout'; exit 1 ;;\nesac\n"
                       f"sleep 1\necho \"end $unit\" >>{events}\necho PASS\n")
    wrapper.chmod(0o755)
    return wrapper


def gang(kit: Path, openocd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "OPENOCD": str(openocd), "PYTHONPATH": str(ROOT / "tests"), **env}
    return subprocess.run(["sh", str(kit / "gang.sh"), *args], cwd=kit.parent, env=full, capture_output=True,
                          text=True, timeout=1200)


def test_three_emulated_boards_at_once_three_serials_and_a_failing_adapter(serial_kit: Path, tmp_path: Path) -> None:
    boards = tmp_path / "boards"
    for name in ("ST-A1", "ST-A2", "ST-A3"):
        new_board(boards / name, 0x100000)
    (tmp_path / "adapters.txt").write_text("# line PC 4\nST-A1\nST-A2  # left\nST-A3\nST-GONE\n")
    logs = tmp_path / "logs"
    relative = Path("../..") / tmp_path.relative_to(tmp_path.parents[1]) / "adapters.txt"  # from the kit's parent
    r = gang(serial_kit, emulated_openocd(tmp_path), str(relative), EMU_BOARDS=str(boards), KIT_LOG_DIR=str(logs))
    lines = r.stdout.splitlines()
    assert r.returncode == 1, r.stdout + r.stderr
    assert lines[-1] == "total: 4 adapters, 3 PASS, 1 FAIL"
    passed = {line.split()[1].rstrip(":"): line.split()[4] for line in lines if " PASS unit " in line}
    assert sorted(passed) == ["ST-A1", "ST-A2", "ST-A3"]
    assert sorted(passed.values()) == ["SN00001001", "SN00001002", "SN00001003"]       # three distinct serials
    assert lines[3].startswith("adapter ST-GONE: FAIL: openocd did not finish (adapter connected? board powered?)")
    run = serial_kit.parent / "run"
    for adapter, serial in passed.items():
        board = boards / adapter
        mcu, sflash = unit_images(run, int(serial[-4:]) - 1000)
        assert (board / "flash.bin").read_bytes()[:len(mcu)] == mcu                      # each board its own unit
        assert (board / "nor.bin").read_bytes()[:len(sflash)] == sflash
        calls = [json.loads(line) for line in (board / "calls.jsonl").read_text().splitlines()]
        assert ["adapter", "serial", adapter] in calls                                   # OpenOCD selected it
        log = [p for p in logs.iterdir() if f"_adapter-{adapter}_{serial}_" in p.name]
        assert len(log) == 1 and "PASS" in log[0].read_text().splitlines()               # one log each
    assert sorted(p.name for p in logs.iterdir() if p.name.startswith(".")) == []        # no claim, no lock left
    # the failed adapter's serial was given back: the next run starts at the first serial not verified
    r = gang(serial_kit, stand_in_openocd(tmp_path), str(tmp_path / "adapters.txt"), KIT_LOG_DIR=str(logs))
    got = sorted(line.split()[4] for line in r.stdout.splitlines() if " PASS unit " in line)
    assert got == ["SN00001004", "SN00001005", "SN00001006", "SN00001007"], r.stdout


def test_two_gang_runs_racing_never_share_a_serial(serial_kit: Path, tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    stand_in = stand_in_openocd(tmp_path)
    for name, adapters in (("a.txt", "A1\nA2\nBAD\n"), ("b.txt", "B1\nB2\nB3\n")):
        (tmp_path / name).write_text(adapters)
    env = {**os.environ, "OPENOCD": str(stand_in), "KIT_LOG_DIR": str(logs)}
    runs = [subprocess.Popen(["sh", str(serial_kit / "gang.sh"), str(tmp_path / name)], cwd=tmp_path, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for name in ("a.txt", "b.txt")]
    outs = [p.communicate(timeout=300)[0] for p in runs]
    units = [line.split()[4] for out in outs for line in out.splitlines() if " PASS unit " in line]
    assert len(units) == 5 and len(set(units)) == 5, outs                        # five boards, five serials
    failed = [line for line in outs[0].splitlines() if line.startswith("adapter BAD:")]
    assert failed[0].startswith("adapter BAD: FAIL: serial flash: timeout (unit SN0000100"), outs
    bad = failed[0].split("(unit ")[1][:10]
    given = [line.split("kit_main ")[1] for line in (tmp_path / "stand-in-args.txt").read_text().splitlines()]
    held: set[str] = set()
    for line in (tmp_path / "stand-in-events.txt").read_text().splitlines():   # no serial handed out twice at once
        kind, unit = line.split()
        assert kind == "end" or unit not in held, (line, held)
        (held.add if kind == "start" else held.discard)(unit)
    # the failed board's serial goes back to the next board: handed out twice in all only if that one passed it
    assert len(given) == 6 and all(given.count(u) == 1 for u in given if u != bad) and given.count(bad) <= 2
    assert set(given) == set(units) | {bad} and set(given) <= {f"SN0000{n}" for n in range(1001, 1007)}
    # the "already programmed" rule holds across the gang: the next serial is one no log has verified
    r = gang(serial_kit, stand_in, str(tmp_path / "b.txt"), KIT_LOG_DIR=str(logs))
    assert r.returncode == 0, r.stdout
    again = sorted(line.split()[4] for line in r.stdout.splitlines() if " PASS unit " in line)
    assert set(again).isdisjoint(units) and len(again) == 3
    assert bad in units or bad in again                                           # the failed board's serial
    r = gang(serial_kit, stand_in, str(tmp_path / "a.txt"), KIT_LOG_DIR=str(logs))     # all 8 units verified
    assert r.returncode == 1 and r.stdout.splitlines()[-1] == "total: 3 adapters, 0 PASS, 3 FAIL"
    assert r.stdout.count("FAIL: no unused serial left in units.csv; nothing programmed") == 3, r.stdout


def test_adapters_found_in_sysfs_by_the_kits_kind_and_hostile_serials_refused(tmp_path: Path) -> None:
    manifest = write_build(tmp_path / "build")
    make_kit(manifest, "stlink", tmp_path / "kit", spi=BOARD_SPI)
    kit = tmp_path / "kit"
    sysfs = tmp_path / "sys"
    for dev, vid, pid, serial in (("1-1", "0483", "374b", "0671FF485550755187"), ("1-2", "0483", "3748", "STV2X"),
                                  ("1-3", "1366", "0101", "000260100123"), ("1-4", "0483", "374b", None)):
        (sysfs / dev).mkdir(parents=True)
        (sysfs / dev / "idVendor").write_text(vid + "\n")
        (sysfs / dev / "idProduct").write_text(pid + "\n")
        if serial:
            (sysfs / dev / "serial").write_text(serial + "\n")
    stand_in = stand_in_openocd(tmp_path)
    r = gang(kit, stand_in, KIT_USB_SYSFS=str(sysfs))
    assert r.returncode == 0, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    assert [line.split(":")[0] for line in lines[:-1]] == ["adapter 0671FF485550755187", "adapter STV2X"]  # no J-Link
    assert lines[-1] == "total: 2 adapters, 2 PASS, 0 FAIL"
    assert len(list((kit / "logs").glob("*_adapter-STV2X.log"))) == 1
    r = gang(kit, stand_in, KIT_USB_SYSFS=str(tmp_path / "nothing"))
    assert (r.returncode, r.stdout) == (2, "FAIL: no stlink adapter found (USB 0483:3744 0483:3748 0483:374b 0483:374d "
                                           "0483:374e 0483:374f 0483:3752 0483:3753 0483:3754); give a file of "
                                           "adapter serials; nothing programmed\n")
    for text, says in (("A1\n$(id)>pwned\n", "adapter serial $(id)>pwned"), ("A1\nA1\n", "listed twice"),
                       ("A1\n../x\n", "adapter serial ../x")):
        (tmp_path / "hostile.txt").write_text(text)
        r = gang(kit, stand_in, str(tmp_path / "hostile.txt"))
        assert r.returncode == 2 and says in r.stdout and "nothing programmed" in r.stdout, r.stdout
    assert not (tmp_path / "pwned").exists() and not (kit.parent / "pwned").exists()
    r = subprocess.run(["sh", str(kit / "program.sh"), "--adapter-serial", "a b"], capture_output=True, text=True)
    assert (r.returncode, r.stdout) == (2, "FAIL: --adapter-serial: 1..64 letters, digits and . _ - (starting with a "
                                           "letter or digit); nothing programmed\n")


def test_an_edited_gang_sh_stops_every_board(tmp_path: Path) -> None:
    """gang.sh is a kit file: kit.sha256 lists it and each program.sh it starts checks it first."""
    manifest = write_build(tmp_path / "build")
    make_kit(manifest, "stlink", tmp_path / "kit", spi=BOARD_SPI)
    kit = tmp_path / "kit"
    assert "  gang.sh\n" in (kit / "kit.sha256").read_text()
    with open(kit / "gang.sh", "a") as fh:
        fh.write("# edited\n")
    (tmp_path / "a.txt").write_text("A1\nA2\n")
    r = gang(kit, stand_in_openocd(tmp_path), str(tmp_path / "a.txt"))
    assert r.returncode == 1
    assert r.stdout.splitlines()[:2] == ["adapter A1: FAIL: kit file gang.sh was modified; nothing programmed",
                                         "adapter A2: FAIL: kit file gang.sh was modified; nothing programmed"]
    assert not (tmp_path / "stand-in-args.txt").exists()


def test_kit_select_adapter_falls_back_to_older_openocd_spellings(tmp_path: Path) -> None:
    manifest = write_build(tmp_path / "build")
    make_kit(manifest, "stlink", tmp_path / "kit", spi=BOARD_SPI)
    script = tmp_path / "t.tcl"
    script.write_text("proc kit_say {m} {puts $m}\nsource sflash_kit.tcl\n"
                      "proc adapter {args} {error {invalid command name}}\n"  # OpenOCD 0.10: no `adapter serial`
                      "proc hla_serial {s} {puts \"hla_serial $s\"}\nkit_select_adapter ST1\nrename hla_serial {}\n"
                      "proc ftdi_serial {s} {puts \"ftdi_serial $s\"}\nkit_select_adapter FT1\nrename ftdi_serial {}\n"
                      "puts [catch {kit_select_adapter X2} m]\nputs $m\n")
    r = subprocess.run(["tclsh", str(script)], cwd=tmp_path / "kit", capture_output=True, text=True, timeout=60)
    assert r.stdout.splitlines() == ["hla_serial ST1", "ftdi_serial FT1",
                                     "FAIL: cannot select the adapter with serial X2 (no adapter serial / hla_serial / "
                                     "ftdi_serial / jlink serial in this OpenOCD)", "1", "adapter X2 not selected"]


@pytest.mark.skipif(shutil.which("openocd") is None, reason="openocd not installed")
def test_installed_openocd_takes_adapter_serial(tmp_path: Path) -> None:
    """OpenOCD 0.12 (Debian): kit_select_adapter goes through `adapter serial` before init."""
    manifest = write_build(tmp_path / "build")
    make_kit(manifest, "stlink", tmp_path / "kit", spi=BOARD_SPI)
    r = subprocess.run(["openocd", "-c", "adapter driver dummy", "-f", "kit_config.tcl", "-f", "sflash_kit.tcl", "-c",
                        "rename hla_serial {}", "-c", "kit_select_adapter ABC123", "-c", "puts selected", "-c",
                        "shutdown"], cwd=tmp_path / "kit", capture_output=True, text=True, timeout=60)
    assert "selected" in r.stdout + r.stderr and "cannot select" not in r.stdout + r.stderr, r.stdout + r.stderr
