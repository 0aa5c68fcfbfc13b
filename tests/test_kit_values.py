"""No value is ever code (issue 22): hostile product names, chip names, file names and serials either are refused
where they enter, with one line, or reach OpenOCD intact as data.

Oracles: real `sh` running program.sh with a fake `openocd` that records its arguments, real `tclsh` and Debian's
real `openocd` (Jim Tcl) reading kit_config.tcl, and the file system (no file appears anywhere)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from bundler.cli import app
from bundler.linekit import make_kit, tcl_word
from emu.kitfixture import BOARD_SPI, plain_and_serialized_kits, write_build

HOSTILE = [
    "demo $(touch pwned)", "demo `touch pwned`", "demo; touch pwned", "demo & touch pwned", "demo | touch pwned",
    "demo %PATH% 100%", "demo ^& echo", 'demo " & echo pwned', "demo ' ; touch pwned '", "ota demo {beta",
    "} ; exec touch pwned2 ;#", "demo [exec touch pwned]", "demo $env(HOME)", "demo\ntouch pwned", "demo\rtouch",
    "demo\0x", "x" * 5000, "demo > pwned", "..", "../../etc/passwd", "-c shutdown", "demo\\", "demo!x!",
]


def _files_under(*folders: Path) -> set[str]:
    return {str(p) for folder in folders for p in folder.rglob("*")}


def _edited_build(tmp_path: Path, edit) -> Path:  # type: ignore[no-untyped-def]
    manifest = write_build(tmp_path / "build")
    doc = json.loads(manifest.read_text())
    edit(doc)
    manifest.write_text(json.dumps(doc))
    return manifest


@pytest.mark.parametrize("field", ["name", "chip.name", "file"])
@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_manifest_values_are_refused_with_one_line(tmp_path: Path, field: str, value: str) -> None:
    def edit(doc: dict) -> None:  # type: ignore[type-arg]
        if field == "name":
            doc["name"] = value
        elif field == "chip.name":
            doc["chip"]["name"] = value
        else:
            doc["artefacts"][2]["file"] = value
    manifest = _edited_build(tmp_path, edit)
    before = _files_under(tmp_path)
    r = CliRunner().invoke(app, ["openocd", str(manifest), "--adapter", "stlink", "--out", str(tmp_path / "kit")])
    assert r.exit_code == 2, r.output
    assert len(r.output.splitlines()) == 1 and "Traceback" not in r.output
    expect = {"name": "name: ", "chip.name": "chip.name: ", "file": "artefacts[2].file: "}[field]
    assert expect in r.output and "letters, digits" in r.output
    assert _files_under(tmp_path) == before and not (tmp_path / "pwned").exists()


@pytest.mark.parametrize("name", ["ota demo 2", "Widget+ v1.2, rev-B", "A", "x" * 64])
def test_ordinary_names_reach_sh_tcl_and_openocd_intact(tmp_path: Path, name: str) -> None:
    manifest = _edited_build(tmp_path, lambda doc: doc.update(name=name))
    kit = tmp_path / "kit"
    make_kit(manifest, "stlink", kit, spi=BOARD_SPI)
    label = f"{name} (version not recorded)"  # manifest.product_label: the kit's logs name the release
    r = subprocess.run(["tclsh"], input="source kit_config.tcl\nputs $kit_name\nputs $kit_chip_name\n", cwd=kit,
                       capture_output=True, text=True, timeout=30)
    assert r.stdout.splitlines() == [label, "MX25L8006E"], r.stderr
    r = subprocess.run(["openocd", "-f", "kit_config.tcl", "-c", "puts \"<$kit_name>\"", "-c", "shutdown"], cwd=kit,
                       capture_output=True, text=True, timeout=30)
    assert f"<{label}>" in (r.stdout + r.stderr).splitlines(), r.stdout + r.stderr
    args, marker = _fake(tmp_path)
    p = subprocess.run(["sh", str(kit / "program.sh"), "SN1"], cwd=tmp_path, env={**os.environ, "OPENOCD": str(args)},
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stdout + p.stderr
    log = kit / p.stdout.splitlines()[-1][len("log: "):]
    assert log.read_text().splitlines()[0] == f"kit: {label} ({kit})"


def _fake(tmp_path: Path) -> tuple[Path, Path]:
    """A fake openocd recording each argument on its own line (NUL-free arguments cannot hide a newline there:
    the record is the repr of argv)."""
    marker = tmp_path / "openocd-args"
    fake = tmp_path / "fake-openocd"
    fake.write_text(f"#!{sys.executable}\nimport sys\nopen({str(marker)!r}, 'a').write(repr(sys.argv[1:]) + '\\n')\n"
                    "print('PASS')\n")
    fake.chmod(0o755)
    return fake, marker


@pytest.fixture(scope="module")
def kits(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return plain_and_serialized_kits(tmp_path_factory.mktemp("valkits"))


SERIAL_HOSTILE = [v for v in HOSTILE if "\0" not in v] + ["SN00001001;touch pwned", "SN00001001\n", "SN00001001 x",
                                                            "SN00001001/../../x", "*", "SN0000100?"]


@pytest.mark.parametrize("which", ["plain", "serial"])
@pytest.mark.parametrize("value", SERIAL_HOSTILE)
def test_hostile_unit_ids_on_the_command_line_run_nothing(kits: dict[str, Path], tmp_path: Path, which: str,
                                                          value: str) -> None:
    kit = tmp_path / "kit"
    shutil.copytree(kits[which], kit)
    work = tmp_path / "cwd"
    work.mkdir()
    fake, marker = _fake(tmp_path)
    before = _files_under(kit, work)
    for extra in ([], ["--again"], [value]) if which == "serial" else ([],):
        args = [value, *extra] if extra != [value] else ["SN00001001", value]
        r = subprocess.run(["sh", str(kit / "program.sh"), *args], cwd=work, env={**os.environ, "OPENOCD": str(fake)},
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        assert r.stdout.startswith("FAIL: ") and r.stdout.endswith("; nothing programmed\n") and r.stderr == ""
        assert len(r.stdout.splitlines()) == 1
        assert not marker.exists()                                   # OpenOCD never started
        assert _files_under(kit, work) == before and not (tmp_path / "pwned").exists()


def test_serial_reaches_openocd_as_one_word(kits: dict[str, Path], tmp_path: Path) -> None:
    kit = tmp_path / "kit"
    shutil.copytree(kits["serial"], kit)
    fake, marker = _fake(tmp_path)
    r = subprocess.run(["sh", str(kit / "program.sh"), "SN00001002"], cwd=tmp_path,
                       env={**os.environ, "OPENOCD": str(fake), "OPENOCD_INTERFACE": "my adapter $(x).cfg"},
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr
    argv = eval(marker.read_text())  # noqa: S307 - our fake wrote repr(list of str)
    assert argv[:2] == ["-f", "my adapter $(x).cfg"] and argv[-2:] == ["-c", "kit_main SN00001002"]


def test_hostile_serial_in_units_csv_is_refused(kits: dict[str, Path], tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(kits["serial"].parent / "run", run)
    csv_path = run / "units.csv"
    csv_path.write_text(csv_path.read_text().replace(",SN00001002,", ",SN0$(touch pwned),"))
    doc = json.loads((run / "manifest.json").read_text())
    raw = csv_path.read_bytes()
    doc["units_csv"].update(size=len(raw), sha256=hashlib.sha256(raw).hexdigest())
    (run / "manifest.json").write_text(json.dumps(doc))
    r = CliRunner().invoke(app, ["openocd", str(run / "manifest.json"), "--adapter", "stlink", "--out",
                                 str(tmp_path / "kit")])
    assert r.exit_code == 2 and "column 'serial'" in r.output and "letters, digits, . _ -" in r.output
    assert not (tmp_path / "kit").exists() and not (tmp_path / "pwned").exists()


@settings(max_examples=15, deadline=None)
@given(st.lists(st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40), min_size=1,
                max_size=30))
def test_tcl_word_is_data_in_tclsh_and_jim(values: list[str]) -> None:
    """Any printable ASCII text as tcl_word, read back by real tclsh and by OpenOCD's Jim: the same text."""
    script = "".join(f"set v {tcl_word(v)}\nputs \"<[string length $v]:$v>\"\n" for v in values)
    expected = [f"<{len(v)}:{v}>" for v in values]
    r = subprocess.run(["tclsh"], input=script, capture_output=True, text=True, timeout=30)
    assert r.stdout.splitlines() == expected, r.stderr
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "t.tcl").write_text(script)
        r = subprocess.run(["openocd", "-f", "t.tcl", "-c", "shutdown"], cwd=tmp, capture_output=True, text=True,
                           timeout=30)
        lines = [line for line in (r.stdout + r.stderr).splitlines() if line.startswith("<")]
        assert lines == expected, r.stdout + r.stderr
