"""Issue 14: no command deletes, overwrites or reissues what the user owns. Each case found by a careless user is
reproduced exactly, with a snapshot of the whole tree before and after; plus the rule itself (publish's record)
as a property over random folders and --out choices."""

from __future__ import annotations

import csv
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from typer.testing import CliRunner

from bundler.cli import app
from bundler.errors import OutputError
from bundler.publish import RECORD, publish
from conftest import SAMPLE


def tree(root: Path) -> dict[str, tuple]:
    """Everything under `root`: files with their bytes, folders, links with their targets."""
    found: dict[str, tuple] = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            p = Path(folder) / name
            rel = p.relative_to(root).as_posix()
            if p.is_symlink():
                found[rel] = ("link", os.readlink(p))
            elif p.is_dir():
                found[rel] = ("dir",)
            else:
                found[rel] = ("file", p.read_bytes(), p.stat().st_mtime_ns)
    return found


def bundle(*args: str | Path) -> tuple[int, str]:
    """Run the CLI; (exit code, stderr) - a refusal must be exactly one line."""
    r = CliRunner().invoke(app, [str(a) for a in args])
    assert "Traceback" not in r.output
    return r.exit_code, r.stderr


def refused(*args: str | Path, root: Path, fragment: str) -> str:
    """Exit 2 with one line holding `fragment`, and not a byte changed under `root` (the state's lock file, which
    serialize leaves beside the state file, aside)."""
    unlocked = lambda t: {k: v for k, v in t.items() if not k.endswith("issued.json.lock")}
    before = tree(root)
    code, err = bundle(*args)
    assert code == 2, err
    assert err.startswith("error: ") and err.count("\n") == 1 and fragment in err, err
    assert unlocked(tree(root)) == unlocked(before), "a refused run changed the tree"
    return err


@pytest.fixture()
def product(tmp_path: Path) -> Path:
    dest = tmp_path / "product"
    shutil.copytree(SAMPLE, dest)
    return dest / "bundle.toml"


# ---- --out deletes foreign files ---------------------------------------------------------------------------------

def test_a_folder_holding_an_npm_manifest_is_not_a_bundle(product: Path, tmp_path: Path) -> None:
    user = tmp_path / "userdir"
    (user / "src").mkdir(parents=True)
    (user / "manifest.json").write_text('{"name": "my-app", "version": "1.0.0"}\n')
    (user / "src" / "index.js").write_text("console.log(1)\n")
    (user / "thesis.txt").write_text("four years of work\n")
    err = refused("build", product, "--out", user, root=tmp_path, fragment="holds no output of `bundle build`")
    assert "manifest.json" in err and "src/" in err and "thesis.txt" in err


def test_rebuilding_keeps_a_users_notes(product: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert bundle("build", product, "--out", out)[0] == 0
    (out / "notes.txt").write_text("programmer settings: verify after write\n")
    refused("build", product, "--out", out, root=tmp_path, fragment="did not write or that changed since: notes.txt")


def test_a_key_pair_made_in_the_output_folder_survives_a_rebuild(product: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert bundle("build", product, "--out", out)[0] == 0
    # `(cd out && bundle keygen)` is refused by keygen itself now; a key pair copied there must survive too
    assert bundle("keygen", "--out", tmp_path / "keys")[0] == 0
    for key in (tmp_path / "keys").iterdir():
        shutil.copy(key, out / key.name)
    err = refused("build", product, "--out", out, root=tmp_path, fragment="did not write")
    assert "bundle-signing.key" in err and "bundle-signing.pub" in err


def test_an_edited_output_is_not_replaced(product: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert bundle("build", product, "--out", out)[0] == 0
    sheet = out / "JOBSHEET.md"
    sheet.write_text(sheet.read_text() + "\nOperator note: use socket B.\n")
    refused("build", product, "--out", out, root=tmp_path, fragment="changed since: JOBSHEET.md")
    assert bundle("build", product, "--out", tmp_path / "out2")[0] == 0
    time.sleep(0.05)  # past the clock tick of the record
    svg = tmp_path / "out2" / "memory-map.svg"
    svg.write_bytes(svg.read_bytes().replace(b"Memory map", b"Memory MAP"))  # same size, other bytes
    refused("build", product, "--out", tmp_path / "out2", root=tmp_path, fragment="changed since: memory-map.svg")


def test_a_line_kit_and_its_logs_are_not_wiped_by_a_build(product: Path, tmp_path: Path) -> None:
    out, kit = tmp_path / "out", tmp_path / "kit"
    assert bundle("build", product, "--out", out)[0] == 0
    assert bundle("openocd", out / "manifest.json", "--adapter", "stlink", "--out", kit)[0] == 0
    (kit / "logs").mkdir()
    log = kit / "logs" / "20261126T101500Z_SN0042.log"
    log.write_text("PASS\n")
    refused("build", product, "--out", kit, root=tmp_path, fragment="holds the output of `bundle openocd`")
    # the kit itself may be remade there: its logs are carried over
    assert bundle("openocd", out / "manifest.json", "--adapter", "jlink", "--out", kit)[0] == 0
    assert log.read_text() == "PASS\n"
    # but not over a folder of the line's that the kit does not know
    (kit / "photos").mkdir()
    refused("openocd", out / "manifest.json", "--adapter", "stlink", "--out", kit, root=tmp_path, fragment="photos/")


def test_a_build_folder_is_not_replaced_by_serialize(product: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert bundle("build", product, "--out", out)[0] == 0
    refused("serialize", product, "-n", "2", "--serial-start", "SN1", "--mac-start", "02:0A:F7:00:00:10",
            "--out", out, root=tmp_path, fragment="holds the output of `bundle build`")


def test_rebuilding_our_own_folder_replaces_it(product: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert bundle("build", product, "--out", out)[0] == 0
    first = tree(out)
    assert bundle("build", product, "--out", out, "--hex-skip-fill")[0] == 0
    assert tree(out).keys() == first.keys()
    assert tree(out)["mcu.hex"] != first["mcu.hex"]
    record = json.loads((out / RECORD).read_text())
    assert record["tool"] == "bundle build" and set(record["files"]) == set(first) - {RECORD}


# ---- --out inside an input folder --------------------------------------------------------------------------------

@pytest.mark.parametrize("inside", ["resources/web", "resources", "resources/web/deeper"])
def test_out_inside_any_input_folder_is_refused(product: Path, tmp_path: Path, inside: str) -> None:
    text = product.read_text()
    if inside.startswith("resources/web"):
        (product.parent / "resources" / "web").mkdir(exist_ok=True)
        (product.parent / "resources" / "web" / "index.html").write_text("<h1>hi</h1>\n")
        product.write_text(text.replace('filesystem = "resources/"', 'filesystem = "resources/web/"'))
    refused("build", product, "--out", product.parent / inside / "out", root=tmp_path,
            fragment="inside the input folder")


def test_out_holding_a_dct_file_is_refused(product: Path, tmp_path: Path) -> None:
    """[dct] files ({ pem }, { file }) are inputs too: an --out that is their folder would replace them."""
    refused("build", product, "--out", product.parent / "certs", root=tmp_path, fragment="would overwrite input")
    blob = tmp_path / "app_dct" / "app.bin"
    blob.parent.mkdir()
    blob.write_bytes(b"\x01\x02")
    product.write_text(product.read_text() + f'\n[dct.app]\nfile = "{blob}"\n')
    refused("build", product, "--out", blob.parent, root=tmp_path, fragment="would overwrite input")


# ---- staging names are not globs ---------------------------------------------------------------------------------

def test_a_glob_in_the_out_name_touches_no_other_folder(product: Path, tmp_path: Path) -> None:
    other = tmp_path / ".abc.staging-0123abcd"  # another build's staging folder (of --out abc)
    other.mkdir()
    (other / "mcu.bin").write_bytes(b"half written")
    prefix = tmp_path / ".a.staging-x.staging-89abcdef"  # staging of --out 'a.staging-x', not of 'a'
    prefix.mkdir()
    assert bundle("build", product, "--out", tmp_path / "a*")[0] == 0
    assert bundle("build", product, "--out", tmp_path / "a")[0] == 0
    assert (other / "mcu.bin").read_bytes() == b"half written" and prefix.is_dir()
    stale = tmp_path / ".a.staging-00000000"  # what a killed run of --out a leaves: removed by the next one
    stale.mkdir()
    assert bundle("build", product, "--out", tmp_path / "a")[0] == 0
    assert not stale.exists()


# ---- the rule as a property --------------------------------------------------------------------------------------

NAMES = st.sampled_from(["mcu.bin", "manifest.json", "notes.txt", "src", "units", "a*", RECORD, "out"])
CONTENT = st.recursive(st.binary(max_size=8), lambda kids: st.dictionaries(NAMES, kids, max_size=3), max_leaves=6)


def _write(folder: Path, content: dict) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, value in content.items():
        if isinstance(value, dict) and not (folder / name).is_file():
            _write(folder / name, value)
        elif isinstance(value, bytes) and not (folder / name).is_dir():
            (folder / name).write_bytes(value)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.dictionaries(NAMES, CONTENT, max_size=4), ours_first=st.booleans(),
       edit=st.sampled_from([None, "add", "change", "remove"]),
       target=st.sampled_from(["out", "out/src", "input", "input/deeper", "root", "new", "out/mcu.bin"]))
def test_publish_replaces_only_its_own_folder(tmp_path_factory: pytest.TempPathFactory, content: dict,
                                              ours_first: bool, edit: str | None, target: str) -> None:
    """Random folder contents, an optional earlier run, an optional user edit and a random --out: either refused
    with the whole tree unchanged, or published with exactly the new files (+ the record) in --out and every other
    path untouched - and published only if --out held nothing but the earlier run's files."""
    root = tmp_path_factory.mktemp("prop")
    (root / "input").mkdir()
    (root / "input" / "app.elf").write_bytes(b"\x7fELF")
    files = {"mcu.bin": b"new image", "manifest.json": b"{}", "units/0001-SN1.dct.hex": b":00000001FF\n"}
    out = root / "out"
    if ours_first:
        publish(out, {"mcu.bin": b"old", "units/0001-SN1.dct.hex": b"old"}, [root / "input"], "bundle serialize")
    if content:
        _write(out, content)
    if edit == "add" and out.is_dir():
        (out / "extra.txt").write_bytes(b"user")
    elif edit == "change" and (out / "mcu.bin").is_file():
        (out / "mcu.bin").write_bytes(b"user's own image")
    elif edit == "remove" and (out / "mcu.bin").is_file():
        (out / "mcu.bin").unlink()
    dest = {"input": root / "input", "input/deeper": root / "input" / "deeper", "root": root,
            "new": root / "fresh"}.get(target, root / target)
    before = tree(root)
    old_out = {k: v for k, v in before.items() if dest in (root / k).parents}
    try:
        publish(dest, files, [root / "input" / "app.elf"], "bundle serialize")
    except OutputError:
        assert tree(root) == before
        return
    after = tree(root)
    # only dest's contents changed, and dest holds exactly the new files
    outside = lambda t: {k: v for k, v in t.items() if not (root / k == dest or dest in (root / k).parents)}
    made = {k for k in outside(after).keys() - before.keys()}
    assert all(after[k] == ("dir",) and root / k in dest.parents for k in made)  # dest's new parent folders
    assert {k: v for k, v in outside(after).items() if k not in made} == outside(before)
    inside = {Path(k).relative_to(dest.relative_to(root)).as_posix() for k, v in after.items()
              if dest in (root / k).parents and v[0] == "file"}
    assert inside == set(files) | {RECORD}
    # what was replaced was only an earlier run's files (a file it wrote, or the folders holding them)
    record_files = {"mcu.bin", "units/0001-SN1.dct.hex", RECORD}
    replaced = {Path(k).relative_to(dest.relative_to(root)).as_posix(): v for k, v in old_out.items()}
    assert all(v[0] == "dir" and k == "units" or k in record_files for k, v in replaced.items()), replaced


# ---- serialize: the state file -------------------------------------------------------------------------------------

def _serialize(product: Path, out: Path, state: Path, count: int = 3, serial: str = "SN00001001",
               mac: str = "02:0A:F7:00:10:00") -> tuple[int, str]:
    return bundle("serialize", product, "-n", str(count), "--serial-start", serial, "--mac-start", mac,
                  "--out", out, "--state", state)


def test_a_state_file_that_is_a_link_is_the_file_it_points_to(product: Path, tmp_path: Path) -> None:
    records = tmp_path / "records"
    records.mkdir()
    real, link = records / "issued.json", tmp_path / "issued.json"
    link.symlink_to(real)
    assert _serialize(product, tmp_path / "run1", link)[0] == 0
    assert link.is_symlink() and os.readlink(link) == str(real)  # the link is kept; its target was written
    assert json.loads(real.read_text())["runs"][0]["serial_first"] == "SN00001001"
    assert (records / "issued.json.lock").exists() and not (tmp_path / "issued.json.lock").exists()
    refused("serialize", product, "-n", "3", "--serial-start", "SN00001001", "--mac-start", "02:0A:F7:00:20:00",
            "--out", tmp_path / "run2", "--state", real, root=tmp_path, fragment="already issued")
    refused("serialize", product, "-n", "3", "--serial-start", "SN00002001", "--mac-start", "02:0A:F7:00:10:02",
            "--out", tmp_path / "run2", "--state", records / ".." / "records" / "issued.json", root=tmp_path,
            fragment="already issued")


@pytest.mark.parametrize("text, fragment", [
    ("[]", "not a serialization state file"),
    ('"x"', "not a serialization state file"),
    ('{"version": 2, "runs": []}', "not a serialization state file"),
    ('{"version": 1, "runs": {}}', "not a serialization state file"),
    ('{"version": 1, "runs": [7]}', "run 1: expected an object"),
    ('{"version": 1, "runs": [{"serial_first": "SN1"}]}', "run 1.serial_last: expected a string"),
    ('{"version": 1, "runs": [{"serial_first": "SN00001010", "serial_last": "SN00001001", "mac_first": '
     '"02:0A:F7:00:10:00", "mac_last": "02:0A:F7:00:10:09"}]}', "is not a range"),
    ('{"version": 1, "runs": [{"serial_first": "SN00001001", "serial_last": "SN1010", "mac_first": '
     '"02:0A:F7:00:10:00", "mac_last": "02:0A:F7:00:10:09"}]}', "is not a range"),
    ('{"version": 1, "runs": [{"serial_first": "SN00001001", "serial_last": "SN00001010", "mac_first": '
     '"02:0A:F7:00:10:09", "mac_last": "02:0A:F7:00:10:00"}]}', "is not a range"),
    ('{"version": 1, "runs": [{"serial_first": "SN 1", "serial_last": "SN 2", "mac_first": '
     '"02:0A:F7:00:10:00", "mac_last": "02:0A:F7:00:10:01"}]}', "printable ASCII"),
    ('{"version": 1, "runs": [{"serial_first": "SN1", "serial_last": "SN2", "mac_first": '
     '"02:0A:F7:00:10", "mac_last": "02:0A:F7:00:10:01"}]}', "not a MAC address"),
    ('{"version": 1, "runs": [{"serial_first": "SN1", "serial_last": "SN2", "mac_first": '
     '"02:0A:F7:00:10:00", "mac_last": "02:0A:F7:00:10:01", "count": 3}]}', "count: 3 is not the number"),
])
def test_a_state_file_off_its_schema_is_refused(product: Path, tmp_path: Path, text: str, fragment: str) -> None:
    state = tmp_path / "issued.json"
    state.write_text(text)
    refused("serialize", product, "-n", "1", "--serial-start", "SN00009001", "--mac-start", "02:0A:F7:00:90:00",
            "--out", tmp_path / "o", "--state", state, root=tmp_path, fragment=fragment)


def test_an_edited_range_still_blocks_what_it_covers(product: Path, tmp_path: Path) -> None:
    """serial_first > serial_last used to block nothing; now it is refused, and every stored run is compared."""
    state = tmp_path / "issued.json"
    assert _serialize(product, tmp_path / "r1", state, 3, "SN00001001", "02:0A:F7:00:10:00")[0] == 0
    assert _serialize(product, tmp_path / "r2", state, 3, "SN00002001", "02:0A:F7:00:20:00")[0] == 0
    doc = json.loads(state.read_text())
    run = doc["runs"][0]
    run["serial_first"], run["serial_last"] = run["serial_last"], run["serial_first"]
    state.write_text(json.dumps(doc))
    refused("serialize", product, "-n", "1", "--serial-start", "SN00001002", "--mac-start", "02:0A:F7:00:90:00",
            "--out", tmp_path / "o", "--state", state, root=tmp_path, fragment="run 1: serial_first SN00001003")
    doc["runs"][0]["serial_first"], doc["runs"][0]["serial_last"] = "SN00001001", "SN00001003"
    state.write_text(json.dumps(doc))
    refused("serialize", product, "-n", "1", "--serial-start", "SN00002003", "--mac-start", "02:0A:F7:00:90:00",
            "--out", tmp_path / "o", "--state", state, root=tmp_path, fragment="(run 2 in")


def test_a_passphrase_of_zeros_is_not_mistaken_for_padding(product: Path, tmp_path: Path) -> None:
    product.write_text(product.read_text().replace('security_key = "sample-passphrase-do-not-ship"',
                                                   'security_key = "00000000"'))
    code, err = _serialize(product, tmp_path / "run", tmp_path / "issued.json")
    assert code == 0, err
    assert "00000000" in (tmp_path / "run" / "units.csv").read_text()  # the padding the old check matched


def test_a_secret_that_would_reach_units_csv_is_bad_input(product: Path, tmp_path: Path) -> None:
    """A passphrase equal to a serial would be printed in units.csv: exit 2, nothing written, nothing reserved."""
    product.write_text(product.read_text().replace('security_key = "sample-passphrase-do-not-ship"',
                                                   'security_key = "SN00001002"'))
    err = refused("serialize", product, "-n", "3", "--serial-start", "SN00001001", "--mac-start",
                  "02:0A:F7:00:10:00", "--out", tmp_path / "run", "--state", tmp_path / "issued.json",
                  root=tmp_path, fragment="units.csv: would hold a secret")
    assert "SN00001002" not in err
    assert not (tmp_path / "issued.json").exists()


# ---- fs extract: all or nothing ----------------------------------------------------------------------------------

def flat_image(entries: list[tuple[bytes, bytes]]) -> bytes:
    """A 32-bit WicedFS image of one folder of files, written here from the format (not by bundler.wicedfs)."""
    names = sorted(entries)
    name_size = max(len(n) for n, _ in names) + 1
    entry_size = 12 + name_size
    table, contents = b"", b""
    start = 16 + len(names) * entry_size
    for i, (name, data) in enumerate(names):
        table += struct.pack("<Iii", 1, start + len(contents) - (16 + i * entry_size), len(data))
        table += name.ljust(name_size, b"\0")
        contents += data
    return struct.pack("<IIi", 0x4D435242, 1, 12) + struct.pack("<iIII", 16, len(names), entry_size,
                                                                  name_size) + table + contents


def test_an_image_whose_second_entry_cannot_be_written_leaves_nothing(tmp_path: Path) -> None:
    img = tmp_path / "fs.bin"
    img.write_bytes(flat_image([(b"a.txt", b"first"), (b"n" * 300, b"a name no host folder can hold")]))
    refused("fs", "extract", img, tmp_path / "x", root=tmp_path, fragment="long")
    (tmp_path / "empty").mkdir()
    refused("fs", "extract", img, tmp_path / "empty", root=tmp_path, fragment="long")


def test_extract_with_force_checks_every_entry_before_writing(tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "b").mkdir(parents=True)
    (src / "a.txt").write_bytes(b"new a")
    (src / "b" / "c.txt").write_bytes(b"new c")
    img = tmp_path / "fs.bin"
    assert bundle("fs", "build", src, "-o", img)[0] == 0
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "a.txt").write_bytes(b"user's a")
    (dest / "b").write_bytes(b"a file where the image has a folder")
    refused("fs", "extract", img, dest, "--force", root=tmp_path, fragment="exists and is not a folder")
    (dest / "b").unlink()
    (dest / "keep.txt").write_bytes(b"mine")
    assert bundle("fs", "extract", img, dest, "--force")[0] == 0
    assert (dest / "a.txt").read_bytes() == b"new a" and (dest / "keep.txt").read_bytes() == b"mine"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".dest.")]
    shutil.copy(img, dest / "a.txt")  # the image itself where the image has a file: an input, never replaced
    refused("fs", "extract", dest / "a.txt", dest, "--force", root=tmp_path, fragment="is an input")


# ---- single files: inspect --map, fs build -o --------------------------------------------------------------------

def test_inspect_map_never_replaces_an_input(sample_build, tmp_path: Path) -> None:
    built, _ = sample_build
    out = tmp_path / "out"
    shutil.copytree(built, out)
    refused("inspect", out / "mcu.bin", "--map", out / "mcu.bin", root=tmp_path, fragment="would overwrite input")
    refused("inspect", out / "mcu.bin", "--manifest", out / "manifest.json", "--map", out / "manifest.json",
            root=tmp_path, fragment="would overwrite input")
    refused("inspect", out, "--map", out / "map.svg", root=tmp_path, fragment="inside the input folder")
    refused("inspect", out / "mcu.bin", "--map", out / "mcu.bin", "--force", root=tmp_path,
            fragment="would overwrite input")


def test_inspect_map_replaces_its_own_map_and_needs_force_for_another_file(sample_build, tmp_path: Path) -> None:
    built, _ = sample_build
    svg, notes = tmp_path / "map.svg", tmp_path / "notes.txt"
    assert bundle("inspect", built / "mcu.bin", "--map", svg)[0] == 0
    assert bundle("inspect", built / "sflash.bin", "--map", svg)[0] == 0  # its own earlier map: replaced
    notes.write_text("my notes\n")
    refused("inspect", built / "mcu.bin", "--map", notes, root=tmp_path, fragment="give --force")
    assert bundle("inspect", built / "mcu.bin", "--map", notes, "--force")[0] == 0
    assert notes.read_bytes().startswith(b"<?xml")


def test_fs_build_output_rules(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "index.html").write_text("<h1>hi</h1>\n")
    refused("fs", "build", src, "-o", src / "fs.bin", root=tmp_path, fragment="inside the input folder")
    report = tmp_path / "report.pdf"
    report.write_bytes(b"%PDF-1.7 the only copy")
    refused("fs", "build", src, "-o", report, root=tmp_path, fragment="give --force")
    img = tmp_path / "fs.bin"
    assert bundle("fs", "build", src, "-o", img)[0] == 0
    (src / "more.txt").write_text("more\n")
    assert bundle("fs", "build", src, "-o", img)[0] == 0  # a WicedFS image: replaced without --force
    assert bundle("fs", "build", src, "-o", report, "--force")[0] == 0
    assert report.read_bytes() == img.read_bytes()


# ---- kill -9 at random moments -----------------------------------------------------------------------------------

KILLS = 20


def _kill_runs(next_argv, check, rng: random.Random, longest: float) -> int:
    """Start `next_argv()` again and again, SIGKILLed after a random delay, until KILLS runs died mid-way (at most
    3x as many tries); `check()` after each. Returns how many were killed. The delays go up to `longest` or to 90 %
    of what one whole run takes on this machine (timed first, then checked), whichever is shorter: on an idle
    machine a run can end before most delays, and a kill after the end tests nothing."""
    started = time.perf_counter()
    subprocess.run(next_argv(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    longest = min(longest, 0.9 * (time.perf_counter() - started))
    check()
    killed = 0
    for _ in range(3 * KILLS):
        proc = subprocess.Popen(next_argv(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.0, longest))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        killed += proc.returncode == -signal.SIGKILL
        check()
        if killed >= KILLS:
            break
    return killed


def test_kill_9_during_fs_extract_leaves_the_target_absent_or_complete(tmp_path: Path) -> None:
    from bundler.wicedfs import build_image

    src = tmp_path / "src"
    rng = random.Random(14)
    for i in range(1500):
        folder = src / f"d{i % 30:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"f{i:04d}.bin").write_bytes(rng.randbytes(rng.randrange(1, 3000)))
    img = tmp_path / "fs.bin"
    img.write_bytes(build_image(src))
    content = lambda root: {k: v[:2] for k, v in tree(root).items()}  # kinds and bytes, not times
    expected = content(src)
    dest = tmp_path / "dest"
    argv = [sys.executable, "-m", "bundler.cli", "fs", "extract", str(img), str(dest)]

    def check() -> None:
        if dest.exists():
            assert content(dest) == expected, "a partial tree"
            shutil.rmtree(dest)  # complete: extract again

    assert _kill_runs(lambda: argv, check, rng, 2.0) >= KILLS
    assert subprocess.run(argv, capture_output=True).returncode == 0  # nothing left behind refuses the next run
    assert content(dest) == expected
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dest", "fs.bin", "src"]


def test_kill_9_during_serialize_keeps_every_reservation_a_published_run_used(product: Path, tmp_path: Path) -> None:
    from bundler.serialize.state import load_state

    product.write_text(product.read_text().replace('crc = "sdk"', 'crc = "computed"'))  # per-unit files too
    state, out = tmp_path / "records" / "issued.json", tmp_path / "run"
    count, tries = 40, []

    def next_argv() -> list[str]:
        first = 1001 + count * len(tries)  # a fresh range each try, as a careful operator would pick it
        code = ("import sys; from bundler.serialize import serialize; "
                f"serialize(sys.argv[1], {count}, 'SN{first:08d}', '02:0A:F7:{first >> 8 & 0xFF:02X}:"
                f"{first & 0xFF:02X}:00', sys.argv[2], state=sys.argv[3])")
        tries.append([sys.executable, "-c", code, str(product), str(out), str(state)])
        return tries[-1]

    def check() -> None:
        doc = load_state(state) if state.exists() else {"runs": []}  # always a valid state (or none yet)
        if not out.exists():
            return
        names = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
        record = json.loads((out / RECORD).read_text())
        assert names == set(record["files"]) | {RECORD}, "a partial output folder"
        with open(out / "units.csv", newline="") as fh:
            serials = [row["serial"] for row in csv.DictReader(fh)]
        assert len(serials) == count and all(
            any(r["serial_first"] <= s <= r["serial_last"] for r in doc["runs"]) for s in serials), \
            "a published unit whose serial is not reserved in the state"

    assert _kill_runs(next_argv, check, random.Random(1414), 4.0) >= KILLS
    assert subprocess.run(next_argv(), capture_output=True).returncode == 0  # a killed run never blocks the next
    check()
