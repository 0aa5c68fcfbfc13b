"""The generated kit under Debian's real OpenOCD (Jim Tcl): the scripts parse with every adapter's interface
config, and kit_main runs to PASS/FAIL against a fake target (tests/emu/jim_fake_target.tcl) with the dummy
adapter; program.sh reports the result in its exit code and log."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bundler.linekit import ADAPTERS, make_kit
from emu.kitfixture import write_build

pytestmark = pytest.mark.skipif(shutil.which("openocd") is None, reason="openocd not installed")

FAKE = Path(__file__).resolve().parent / "emu" / "jim_fake_target.tcl"
DUMMY = ["-c", "adapter driver dummy", "-c", "transport select jtag"]
PROCS = ["kit_main", "kit_run", "kit_load_helper", "kit_write_config", "kit_command", "kit_program_mcu",
         "kit_program_sflash", "kit_blank_mcu", "kit_erase_sflash", "kit_target_crc", "kit_check_chip"]


@pytest.fixture(scope="module")
def kits(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("kits")
    manifest = write_build(root / "build")
    return {a: make_kit(manifest, a, root / a)[0].parent for a in ADAPTERS}


def openocd(kit: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["openocd", *args], cwd=kit, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("adapter", sorted(ADAPTERS))
def test_scripts_parse_with_adapter_config(kits: dict[str, Path], adapter: str) -> None:
    check = "foreach p {%s} { if {[info procs $p] eq {}} { puts \"missing $p\" } }; puts \"artefacts [llength $kit_artefacts]\"; shutdown" % " ".join(PROCS)
    r = openocd(kits[adapter], "-f", ADAPTERS[adapter], "-f", "target/stm32f2x.cfg", "-f", "kit_config.tcl",
                "-f", "sflash_kit.tcl", "-c", check)
    assert r.returncode == 0, r.stderr
    assert "artefacts 2" in r.stdout and "missing" not in r.stdout
    assert "rror" not in r.stderr


def test_scripts_parse_with_dummy_adapter(kits: dict[str, Path]) -> None:
    r = openocd(kits["stlink"], *DUMMY, "-f", "target/stm32f2x.cfg", "-f", "kit_config.tcl", "-f", "sflash_kit.tcl",
                "-c", "puts [kit_result_name 8]; puts [kit_hex 0xc22014 6]; shutdown")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["serial-flash JEDEC ID differs from the chip in the manifest (result 8)",
                                     "0xc22014"]


@pytest.mark.parametrize("delta,rc,last", [(0, 0, "PASS"), (1, 1, "FAIL: CRC mismatch: mcu.bin, sflash.bin")])
def test_kit_main_in_jim(kits: dict[str, Path], delta: int, rc: int, last: str) -> None:
    r = openocd(kits["stlink"], *DUMMY, "-f", "target/stm32f2x.cfg", "-f", "kit_config.tcl", "-f", "sflash_kit.tcl",
                "-f", str(FAKE), "-c", f"set fake_crc_delta {delta}", "-c", "kit_main")
    assert r.returncode == rc, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    assert lines[-1] == last
    assert any(x.startswith("SFLASH: sflash.bin: OK, 45056 bytes written, 53248 bytes blank-checked (0 sectors "
                            "erased) (") for x in lines)
    assert "fake: flash erase_address pad 0x08000000 16384" in lines    # only the MCU sectors with data
    assert "MCU: mcu.bin: 2 sectors without data blank-checked, 0 erased" in lines


@pytest.mark.skipif(shutil.which("sh") is None, reason="no POSIX shell")
@pytest.mark.parametrize("delta,rc,last", [("0", 0, "PASS"), ("1", 1, "FAIL: CRC mismatch: mcu.bin, sflash.bin")])
def test_program_sh(tmp_path: Path, delta: str, rc: int, last: str) -> None:
    manifest = write_build(tmp_path / "build")
    kit = make_kit(manifest, "stlink", tmp_path / "kit")[0].parent
    wrapper = tmp_path / "openocd-wrapper"
    wrapper.write_text(
        f"#!{sys.executable}\n"
        "import os, subprocess, sys\n"
        "args = sys.argv[1:]\n"
        "i = args.index('kit_main') - 1\n"
        f"args[i:i] = ['-f', {str(FAKE)!r}, '-c', 'set fake_crc_delta ' + os.environ['FAKE_CRC_DELTA']]\n"
        "sys.exit(subprocess.call(['openocd', *args]))\n")
    wrapper.chmod(0o755)
    (tmp_path / "dummy.cfg").write_text("adapter driver dummy\ntransport select jtag\n")
    env = {**os.environ, "OPENOCD": str(wrapper), "OPENOCD_INTERFACE": str(tmp_path / "dummy.cfg"),
           "FAKE_CRC_DELTA": delta}
    r = subprocess.run(["sh", str(kit / "program.sh"), "SN0042"], cwd=tmp_path, env=env, capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == rc, r.stdout + r.stderr
    out = r.stdout.splitlines()
    assert last in out and out[-1].startswith("log: logs/") and out[-1].endswith("_SN0042.log")
    log = kit / out[-1][len("log: "):]
    text = log.read_text()
    assert "unit: SN0042" in text and last in text.splitlines()
