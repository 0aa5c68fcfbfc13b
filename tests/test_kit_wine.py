"""program.bat under wine's cmd (Debian `wine`), with a fake openocd.exe built by gcc-mingw-w64.

Where wine differs from Windows, stand-ins built here from tests/emu/win/*.c take the place of the Windows tool,
not a weaker check: wine's certutil prints nothing for -hashfile (stand-in: the same output, hash from the Windows
CryptoAPI), and wine has no PowerShell (stand-in: the UTC time stamp only; runs without it test the numbered
fallback). program.bat uses no findstr (wine's is a stub). Values are typed as an operator would type them at a
cmd prompt: each case is one line of a driver .bat (`program.bat <typed>`, or `cmd /d /c program.bat <typed>`,
which parses the rest of its line as a prompt does)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from emu.kitfixture import plain_and_serialized_kits

WIN = Path(__file__).resolve().parent / "emu" / "win"


def _zpath(path: Path) -> str:
    """A Linux path as wine's Z: drive sees it."""
    return "Z:" + str(path).replace("/", "\\")


class Wine:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.prefix = root / "prefix"
        self.bin = root / "bin"
        self.nops_bin = root / "bin-no-powershell"
        for folder in (self.bin, self.nops_bin):
            folder.mkdir(parents=True)
        for name, libs in (("certutil", ["-ladvapi32"]), ("fake_openocd", []), ("powershell", [])):
            subprocess.run(["x86_64-w64-mingw32-gcc", "-O2", "-o", str(root / f"{name}.exe"), str(WIN / f"{name}.c"),
                            *libs], check=True)
        shutil.copy(root / "fake_openocd.exe", self.bin / "openocd.exe")
        shutil.copy(root / "fake_openocd.exe", self.nops_bin / "openocd.exe")
        shutil.copy(root / "powershell.exe", self.bin / "powershell.exe")
        self.env = {**os.environ, "WINEPREFIX": str(self.prefix), "WINEDEBUG": "-all", "WINEDLLOVERRIDES":
                    "certutil.exe=n;mscoree=;mshtml=", "DISPLAY": ""}
        subprocess.run(["wineboot", "-i"], env=self.env, capture_output=True, timeout=600)
        shutil.copy(root / "certutil.exe", self.prefix / "drive_c" / "windows" / "system32" / "certutil.exe")

    def run_many(self, kit: Path, typed: list[str]) -> list[tuple[int, str]]:
        """Each `program.bat <typed>` through `cmd /d /c` (parsed as a cmd prompt parses a typed line), all in one
        wine start: (exit code, output) per case."""
        lines = ["@echo off"]
        for n, t in enumerate(typed):
            lines += [f"echo ==CASE {n}==", f"cmd /d /c {kit.name}\\program.bat {t.replace('%', '%%')}",
                      "echo ==RC %ERRORLEVEL%=="]
        driver = kit.parent / "drive.bat"
        driver.write_bytes(("\r\n".join(lines) + "\r\n").encode("latin-1"))
        env = {**self.env, "WINEPATH": _zpath(self.bin), "FAKE_OPENOCD_LOG": _zpath(kit.parent / "openocd-args.txt")}
        r = subprocess.run(["wine", "cmd", "/c", driver.name], cwd=kit.parent, env=env, capture_output=True,
                           timeout=600)
        out = r.stdout.decode("latin-1").replace("\r\n", "\n")
        results = []
        for n in range(len(typed)):
            body = out.split(f"==CASE {n}==\n", 1)[1].split("==RC ", 1)
            results.append((int(body[1].split("==", 1)[0]), body[0]))
        return results

    @property
    def c_drive(self) -> Path:
        return self.prefix / "drive_c"

    def run(self, kit: Path, typed: str, *, powershell: bool = True, says: str = "PASS", rc: int = 0,
            openocd: str | None = None, extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        """`program.bat <typed>` as one line of a driver batch file, run by wine's cmd from the kit's parent."""
        driver = kit.parent / "drive.bat"
        driver.write_bytes(f"@echo off\r\n{kit.name}\\program.bat {typed.replace('%', '%%')}\r\n".encode("latin-1"))
        log = kit.parent / "openocd-args.txt"
        env = {**self.env, "WINEPATH": _zpath(self.bin if powershell else self.nops_bin),
               "FAKE_OPENOCD_LOG": _zpath(log), "FAKE_OPENOCD_SAYS": says, "FAKE_OPENOCD_RC": str(rc)}
        if openocd is not None:
            env["OPENOCD"] = openocd
        env.update(extra or {})
        r = subprocess.run(["wine", "cmd", "/c", driver.name], cwd=kit.parent, env=env, capture_output=True,
                           timeout=120)
        return subprocess.CompletedProcess(r.args, r.returncode, r.stdout.decode("latin-1").replace("\r\n", "\n"),
                                           r.stderr.decode("latin-1"))


@pytest.fixture(scope="module")
def wine(tmp_path_factory: pytest.TempPathFactory) -> Wine:
    return Wine(tmp_path_factory.mktemp("wine"))


@pytest.fixture(scope="module")
def kits(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    # a digit at the end of the name: `echo kit: ota demo 2>> log` would lose it
    return plain_and_serialized_kits(tmp_path_factory.mktemp("batkits"), name="ota demo 2")


def _fresh(kits: dict[str, Path], which: str, tmp_path: Path) -> Path:
    kit = tmp_path / "kit"
    shutil.copytree(kits[which], kit)
    return kit


HOSTILE_TYPED = [
    '"SN1&echo PWNED>C:\\pw.txt&rem"', '"SN1|echo PWNED>C:\\pw.txt"', '"SN1^&echo PWNED>C:\\pw.txt"',
    'SN1"&echo PWNED>C:\\pw.txt&rem', 'SN00001001 "x&echo PWNED>C:\\pw.txt&rem"', 'SN00001001 x"&echo PWNED>C:\\pw.txt',
    '"$(touch pwned)"', '`touch pwned`', 'a;touch', '"%PATH%"', "a'b", "{x}", "[x]", "$x", "!x!", "-c", ".x",
    "x" * 65, "SN1 a b", "a/../x", "*", "SN0000100?",
]


@pytest.mark.parametrize("which", ["plain", "serial"])
def test_hostile_arguments_run_nothing(wine: Wine, kits: dict[str, Path], tmp_path: Path, which: str) -> None:
    typed = [t if which == "serial" or not t.startswith("SN00001001 ") else "SN1 " + t.split(" ", 1)[1]
             for t in HOSTILE_TYPED]
    kit = _fresh(kits, which, tmp_path)
    before = {str(p) for p in tmp_path.rglob("*")}
    for t, (rc, out) in zip(typed, wine.run_many(kit, typed)):
        assert rc == 2, (t, out)
        assert out.startswith("FAIL: ") and out.endswith("; nothing programmed\n"), (t, out)
        assert len(out.splitlines()) == 1 and "PWNED" not in out, (t, out)
    assert not (wine.c_drive / "pw.txt").exists() and not (tmp_path / "openocd-args.txt").exists()
    assert {str(p) for p in tmp_path.rglob("*")} - before == {str(tmp_path / "drive.bat")}


def test_pass_fail_and_exit_codes_as_program_sh(wine: Wine, kits: dict[str, Path], tmp_path: Path) -> None:
    kit = _fresh(kits, "plain", tmp_path)
    r = wine.run(kit, "SN0042")
    assert r.returncode == 0 and r.stdout.splitlines()[-2:-1] == ["openocd exit code: 0"], r.stdout
    log_line = r.stdout.splitlines()[-1]
    assert log_line.startswith("log: logs\\") and log_line.endswith("Z_SN0042.log")
    log = (kit / "logs" / log_line.split("\\", 1)[1]).read_text().splitlines()
    assert log[:2] == ["kit: ota demo 2 (version not recorded)", "unit: SN0042"] and "PASS" in log
    args = (tmp_path / "openocd-args.txt").read_text().splitlines()
    assert [a[4:] for a in args if a.startswith("arg=")] == ["-f", "interface/stlink.cfg", "-f", "target/stm32f2x.cfg",
                                                             "-f", "kit_config.tcl", "-f", "sflash_kit.tcl", "-c",
                                                             "kit_main"]
    r = wine.run(kit, "SN0042", says="FAIL: CRC mismatch: mcu.bin", rc=1)
    assert r.returncode == 1 and "FAIL: CRC mismatch: mcu.bin" in r.stdout
    assert "openocd did not finish" not in r.stdout
    r = wine.run(kit, "SN0042", says="Error: open failed", rc=1)
    assert r.returncode == 1 and "FAIL: openocd did not finish (adapter connected? board powered?)" in r.stdout
    logs = sorted((kit / "logs").iterdir())
    assert "FAIL: openocd did not finish (adapter connected? board powered?)" in logs[-1].read_text().splitlines()
    r = wine.run(kit, "SN0042", says="PASS", rc=1)                 # PASS printed but OpenOCD failed: FAIL
    assert r.returncode == 1
    r = wine.run(kit, "02:0A:F7:00:10:00")                          # a MAC as unit id: ':' becomes '-'
    assert r.returncode == 0 and r.stdout.splitlines()[-1].endswith("_02-0A-F7-00-10-00.log")


def test_openocd_as_a_batch_wrapper_returns_its_exit_code(wine: Wine, kits: dict[str, Path], tmp_path: Path) -> None:
    """`call`: control comes back from a .bat OPENOCD and its exit code decides. (wine's `call` passes on only zero
    or non-zero of `exit /b N`: 1 for 3; Windows passes 3.)"""
    kit = _fresh(kits, "plain", tmp_path)
    wrapper = tmp_path / "my openocd.bat"
    wrapper.write_bytes(b"@echo off\r\necho PASS\r\nexit /b 3\r\n")
    r = wine.run(kit, "SN1", openocd=_zpath(wrapper))
    assert r.returncode == 1 and "openocd exit code: 1" in r.stdout.splitlines(), r.stdout
    assert r.stdout.splitlines()[-1].startswith("log: logs\\")               # program.bat went on after it
    wrapper.write_bytes(b"@echo off\r\necho PASS\r\nexit /b 0\r\n")
    r = wine.run(kit, "SN2", openocd=_zpath(wrapper))
    assert r.returncode == 0 and "openocd exit code: 0" in r.stdout.splitlines(), r.stdout


def test_serialized_unit_logs_and_refusals(wine: Wine, kits: dict[str, Path], tmp_path: Path) -> None:
    kit = _fresh(kits, "serial", tmp_path)
    r = wine.run(kit, "SN00009999")
    assert (r.returncode, r.stdout) == (2, "FAIL: unit SN00009999: not in this kit's units.csv; nothing programmed\n")
    r = wine.run(kit, "")
    assert r.returncode == 2 and "give the unit's serial number" in r.stdout
    assert not (tmp_path / "openocd-args.txt").exists()
    r = wine.run(kit, "SN00001002")
    assert r.returncode == 0, r.stdout
    first = r.stdout.splitlines()[-1]
    assert first.endswith("Z_SN00001002_02-0A-F7-00-10-01.log")
    assert "arg=kit_main SN00001002" in (tmp_path / "openocd-args.txt").read_text().splitlines()
    r = wine.run(kit, "SN00001002")
    assert r.returncode == 2 and "already programmed and verified" in r.stdout
    r = wine.run(kit, "SN00001002 --again")
    assert r.returncode == 0 and r.stdout.splitlines()[-1] != first
    # no PowerShell (wine as it is): no UTC time in cmd; each run still gets its own numbered log
    r1, r2 = wine.run(kit, "SN00001001", powershell=False), wine.run(kit, "SN00001001 --again", powershell=False)
    assert r1.stdout.splitlines()[-1] == "log: logs\\run_SN00001001_02-0A-F7-00-10-00.log"
    assert r2.stdout.splitlines()[-1] == "log: logs\\run_SN00001001_02-0A-F7-00-10-00-2.log"


@pytest.mark.parametrize("name", ["mcu.bin", "sflash_helper.elf", "kit_config.tcl", "program.sh", "added&x.txt"])
def test_edited_kit_file_stops_program_bat(wine: Wine, kits: dict[str, Path], tmp_path: Path, name: str) -> None:
    kit = _fresh(kits, "plain", tmp_path)
    path = kit / name
    if path.exists():
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 1
        path.write_bytes(bytes(data))
        shown = name
    else:
        path.write_text("x")
        shown = "(a file not listed in kit.sha256)"
    r = wine.run(kit, "SN1")
    assert (r.returncode, r.stdout) == (2, f"FAIL: kit file {shown} was modified; nothing programmed\n"), r.stderr
    assert not (tmp_path / "openocd-args.txt").exists() and not (kit / "logs").exists()


def test_read_back_moves_both_chips_into_dir_and_inspect_decides(wine: Wine, kits: dict[str, Path],
                                                                 tmp_path: Path) -> None:
    """program.bat --read-back: the folder is the caller's, the chips land there only when OpenOCD says the read-back
    is complete, and `bundle inspect`'s exit code decides (a .bat stand-in for bundle; 9009: not on the PATH)."""
    kit = _fresh(kits, "plain", tmp_path)
    board = tmp_path / "board"
    board.mkdir()
    for name in ("mcu.bin", "sflash.bin"):
        shutil.copy(kit / name, board / name)
    stand_in = tmp_path / "bundle.bat"
    stand_in.write_bytes(b"@echo off\r\necho bundle %*\r\necho 2 file(s): 2 ok\r\nexit /b %FAKE_BUNDLE_RC%\r\n")
    extra = {"FAKE_OPENOCD_BOARD": _zpath(board), "BUNDLE": _zpath(stand_in), "FAKE_BUNDLE_RC": "0"}
    r = wine.run(kit, "--read-back qa\\b1 SN7", says="READ-BACK COMPLETE", extra=extra)
    assert r.returncode == 0, r.stdout
    out = r.stdout.splitlines()
    assert out[-2:-1] == ["PASS"] and out[-1].startswith("log: logs\\") and out[-1].endswith("_read-back_SN7.log")
    qa = tmp_path / "qa" / "b1"                                   # relative to where program.bat was started
    assert (qa / "mcu.bin").read_bytes() == (kit / "mcu.bin").read_bytes()
    assert (qa / "sflash.bin").read_bytes() == (kit / "sflash.bin").read_bytes()
    assert f"bundle inspect {_zpath(qa)} --manifest {_zpath(kit)}\\manifest.json" in r.stdout
    args = [a[4:] for a in (tmp_path / "openocd-args.txt").read_text().splitlines() if a.startswith("arg=")]
    assert args[-1].startswith("kit_readback_main logs/.read-back-") and " " not in args[-1][18:]
    assert [p.name for p in (kit / "logs").iterdir() if p.name.startswith(".")] == []    # nothing left behind

    r = wine.run(kit, "--read-back qa\\b1", says="READ-BACK COMPLETE", extra=extra)       # never over a file
    assert (r.returncode, r.stdout) == (2, f"FAIL: {_zpath(qa)}\\sflash.bin exists: read back into an empty or new "
                                           "folder; nothing read\n")
    r = wine.run(kit, "--read-back qa\\b2", says="READ-BACK COMPLETE", extra={**extra, "FAKE_BUNDLE_RC": "1"})
    assert r.returncode == 1 and r.stdout.splitlines()[-2] == ("FAIL: bundle inspect: the read-back differs from the "
                                                                "manifest (above)")
    r = wine.run(kit, "--read-back qa\\b3", says="READ-BACK COMPLETE", extra={**extra, "BUNDLE": "no-such-bundle"})
    assert r.returncode == 0 and "READ BACK, NOT INSPECTED: bundle is not on the PATH" in r.stdout
    r = wine.run(kit, "--read-back qa\\b4", says="FAIL: serial flash: read at 0x00000000: timeout", rc=1,
                 extra=extra)
    assert r.returncode == 1 and not (tmp_path / "qa" / "b4" / "mcu.bin").exists()
    for typed in ('--read-back "qa&echo PWNED>C:\\pw.txt"', "--read-back", "--read-back qa SN1 x",
                  '--read-back qa "SN1&echo PWNED"'):
        r = wine.run(kit, typed, extra=extra)
        assert r.returncode == 2 and r.stdout.endswith("; nothing read\n") or r.stdout.endswith(
            "; nothing programmed\n"), (typed, r.stdout)
    assert not (wine.c_drive / "pw.txt").exists()


def test_gang_bat_one_program_bat_per_adapter_and_a_serial_each(wine: Wine, kits: dict[str, Path],
                                                               tmp_path: Path) -> None:
    """gang.bat under wine's cmd: each adapter of the file gets its own program.bat --adapter-serial (its own log),
    a serialized kit's two units go to two adapters, the third gets none; then a line per adapter and a total."""
    kit = _fresh(kits, "serial", tmp_path)
    (tmp_path / "adapters.txt").write_bytes(b"# line PC 2\r\nST-A1\r\nST-A2  # left\r\nST-A3\r\n")
    driver = tmp_path / "drive.bat"
    driver.write_bytes(b"@echo off\r\ncall kit\\gang.bat adapters.txt\r\necho ==RC %ERRORLEVEL%==\r\n")
    env = {**wine.env, "WINEPATH": _zpath(wine.bin), "FAKE_OPENOCD_LOG": _zpath(tmp_path / "openocd-args.txt")}
    r = subprocess.run(["wine", "cmd", "/c", driver.name], cwd=tmp_path, env=env, capture_output=True, timeout=600)
    out = r.stdout.decode("latin-1").replace("\r\n", "\n").splitlines()
    assert out[-1] == "==RC 1==" and out[-2] == "total: 3 adapters, 2 PASS, 1 FAIL", out
    passed = sorted(line.split()[4] for line in out if " PASS unit " in line)
    assert passed == ["SN00001001", "SN00001002"], out
    assert "adapter ST-A3: FAIL: no unused serial left in units.csv; nothing programmed" in out
    args = (tmp_path / "openocd-args.txt").read_text().splitlines()
    assert sorted(a[4:] for a in args if a.startswith("arg=kit_select_adapter ")) == ["kit_select_adapter ST-A1",
                                                                                    "kit_select_adapter ST-A2"]
    logs = sorted(p.name for p in (kit / "logs").iterdir())
    assert len([n for n in logs if "_adapter-ST-A1_SN0000100" in n]) == 1
    assert len([n for n in logs if "_adapter-ST-A2_SN0000100" in n]) == 1
    assert [n for n in logs if n.startswith(".")] == []                              # no claim, no lock left
    (tmp_path / "adapters.txt").write_bytes(b"ST-A1\r\nST&A2\r\n")
    r = subprocess.run(["wine", "cmd", "/c", driver.name], cwd=tmp_path, env=env, capture_output=True, timeout=600)
    out = r.stdout.decode("latin-1").replace("\r\n", "\n").splitlines()
    # (exit /b 2; wine's `call` passes on only zero or non-zero: 1)
    assert out == ["FAIL: adapter serial: 1..64 letters, digits and . _ - only; nothing programmed", "==RC 1=="], out
    assert not list(tmp_path.glob("kit/logs/*_adapter-ST-A1_*"))[2:]              # nothing more was programmed
