"""Issue 15: hostile inputs give a one-line error (or the right result) within a time and memory bound. Every case
runs `bundle` as a child process and measures it with the kernel's own accounting (os.wait4 -> rusage: CPU time
and peak RSS of that child). The bounds are generous (several times what is expected), not a benchmark; the child
also gets hard limits (CPU, address space, wall clock) so a regression fails the test instead of the machine."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

from bundler.writers import intel_hex

MiB = 1 << 20
CPU_S = 10.0  # the "no command longer than 10 s", as CPU time of the child
RSS_MIB = 300  # ~60 MiB is an idle `bundle`; a 1 GiB use would be a defect


@dataclass
class Run:
    rc: int
    out: str
    err: str
    cpu: float  # user + system seconds of the child
    rss_mib: float  # peak resident set of the child


# The child's peak RSS must be its own: ru_maxrss of a process forked (or vforked) from this pytest process starts at
# this process's RSS, since exec records the old address space's high-water mark. So a small Python process forks
# and execs `bundle` under the hard limits, waits for it and writes its rusage to a file.
_MEASURE = """import os, resource, sys
resource.setrlimit(resource.RLIMIT_CPU, (60, 60))
resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as fh:
    fh.write(f"{os.waitstatus_to_exitcode(status)} {usage.ru_utime + usage.ru_stime} {usage.ru_maxrss}")
"""


def bundle(*args: str | Path, wall: float = 120.0) -> Run:
    """`bundle ARGS` in a grandchild (see _MEASURE): exit code, output, CPU time and peak RSS of that process only."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile("r") as usage:
        child = subprocess.Popen([sys.executable, "-c", _MEASURE, usage.name, sys.executable, "-m", "bundler.cli",
                                  *map(str, args)], stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                 start_new_session=True)
        timer = threading.Timer(wall, os.killpg, (child.pid, 9))
        timer.start()
        try:
            child.wait()
        finally:
            timer.cancel()
        rc, cpu, rss_kib = usage.read().split() or ("-9", "0", "0")
        out.seek(0)
        err.seek(0)
        return Run(int(rc), out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace"),
                   float(cpu), int(rss_kib) / 1024)


def assert_one_line_error(run: Run, *fragments: str, rc: int = 2, cpu: float = CPU_S, rss: float = RSS_MIB) -> None:
    assert run.rc == rc, (run.rc, run.out[-2000:], run.err[-2000:])
    assert "Traceback" not in run.out + run.err
    assert run.err.startswith("error: ") and run.err.count("\n") == 1, run.err
    for fragment in fragments:
        assert fragment in run.err, (fragment, run.err)
    assert run.cpu < cpu and run.rss_mib < rss, (run.cpu, run.rss_mib)


@pytest.fixture(scope="module")
def built(sample_build):
    out, _ = sample_build
    return out


# ------------------------------------------------------------------ only regular files, never past a kind's size


@pytest.mark.parametrize("argv", [
    ["dct", "decode", "/dev/zero"],
    ["fs", "ls", "/dev/zero"],
    ["fs", "extract", "/dev/zero", "{tmp}/x"],
])
def test_devices_are_refused_by_name(argv: list[str], tmp_path: Path) -> None:
    run = bundle(*(a.format(tmp=tmp_path) for a in argv))
    assert_one_line_error(run, "/dev/zero: is a character device, expected a regular file", cpu=5)


def test_inspect_of_a_device_and_a_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.bin"
    os.mkfifo(fifo)
    run = bundle("inspect", "/dev/zero", fifo, wall=60)  # a FIFO nobody writes to: opening it must not block
    assert run.rc == 2 and "Traceback" not in run.out + run.err
    assert "/dev/zero: is a character device, expected a regular file" in run.out
    assert f"{fifo}: is a FIFO (named pipe), expected a regular file" in run.out
    assert run.cpu < 5 and run.rss_mib < RSS_MIB


def test_keys_from_devices(built: Path, sample_copy: Path, tmp_path: Path) -> None:
    run = bundle("inspect", built / "mcu.bin", "--manifest", built / "manifest.json", "--pubkey", "/dev/zero")
    assert_one_line_error(run, "/dev/zero: is a character device", cpu=5)
    run = bundle("build", sample_copy, "--out", tmp_path / "out", "--sign", "/dev/zero")
    assert_one_line_error(run, "/dev/zero: is a character device", cpu=10)
    assert not (tmp_path / "out").exists()


def test_oversized_image_is_refused_unread(tmp_path: Path) -> None:
    big = tmp_path / "dump.bin"
    with open(big, "wb") as fh:
        fh.truncate(65 * MiB)  # sparse: larger than the largest chip, never read
    run = bundle("fs", "ls", big)
    assert_one_line_error(run, "larger than this kind of input can be", cpu=5, rss=150)
    run = bundle("dct", "decode", big)
    assert_one_line_error(run, "larger than this kind of input can be", cpu=5, rss=150)


# ------------------------------------------------------------------ Intel HEX


def test_huge_app_hex_is_refused_at_the_first_record_past_the_flash(sample_copy: Path, tmp_path: Path) -> None:
    # 8 MiB of data from the flash base: 22 MiB of text; the flash is 1 MiB, so the record at 0x08100000 ends it
    (sample_copy.parent / "app.hex").write_bytes(intel_hex(bytes(8 * MiB), 0x08000000))
    sample_copy.write_text(sample_copy.read_text().replace('app = "build/app.elf"', 'app = "app.hex"'))
    run = bundle("build", sample_copy, "--out", tmp_path / "out")
    assert_one_line_error(run, "app.hex: invalid Intel HEX: line", "data at 0x08100000-0x0810000F is outside the MCU flash",
                          rss=200)
    assert not (tmp_path / "out").exists()


def test_hex_read_back_costs_about_what_the_bin_does(built: Path, tmp_path: Path) -> None:
    """The same SFLASH read-back as .bin and .hex, verified against the manifest: both pass; the HEX run stays within
    a few times the .bin run's CPU and memory (intelhex needed ~100 bytes per data byte and ~6 s per 16 MiB)."""
    sflash = (built / "sflash.bin").read_bytes()
    (tmp_path / "rb.hex").write_bytes(intel_hex(sflash, 0))
    shutil.copy(built / "sflash.bin", tmp_path / "rb.bin")
    as_bin = bundle("inspect", tmp_path / "rb.bin", "--manifest", built / "manifest.json")
    as_hex = bundle("inspect", tmp_path / "rb.hex", "--manifest", built / "manifest.json")
    assert as_bin.rc == 0 and as_hex.rc == 0, as_hex.out[-3000:]
    assert as_hex.rss_mib < 2 * as_bin.rss_mib + 30, (as_hex.rss_mib, as_bin.rss_mib)
    assert as_hex.cpu < 5 * as_bin.cpu + 2, (as_hex.cpu, as_bin.cpu)


# ------------------------------------------------------------------ WicedFS


def chain_image(depth: int) -> bytes:
    """A 32-bit WicedFS image (written here field by field) of `depth` directories, each holding the next."""
    out = bytearray(b"BRCM" + (1).to_bytes(4, "little") + (12).to_bytes(4, "little"))
    for level in range(depth + 1):
        last = level == depth
        out += (16).to_bytes(4, "little", signed=True) + (0 if last else 1).to_bytes(4, "little")
        out += (14).to_bytes(4, "little") + (2).to_bytes(4, "little")  # file_header_size, filename_size
        if not last:  # type 0 (dir), offset 14 (the nested header follows this entry), size 0, name "d"
            out += (0).to_bytes(4, "little") + (14).to_bytes(4, "little", signed=True) + bytes(4) + b"d\0"
    return bytes(out)


def test_deep_wicedfs_is_refused_quickly(tmp_path: Path) -> None:
    image = tmp_path / "deep.bin"
    image.write_bytes(chain_image(20_000))  # 600 KB: was 56 s / 472 MB (fs ls), 87 s / 4.75 GB (inspect)
    assert_one_line_error(bundle("fs", "ls", image), "nested more than 64 deep", cpu=5, rss=150)
    run = bundle("inspect", image, "--kind", "filesystem")
    assert run.rc == 1 and "nested more than 64 deep" in run.out and run.cpu < 5 and run.rss_mib < 150  # FAIL: unreadable


def test_depth_64_is_read_65_is_not(tmp_path: Path) -> None:
    from bundler.errors import InputError
    from bundler.wicedfs import list_image

    entries = list_image(chain_image(64))
    assert len(entries) == 64 and entries[-1].path == "/".join(["d"] * 64)
    with pytest.raises(InputError, match="nested more than 64 deep"):
        list_image(chain_image(65))


# ------------------------------------------------------------------ nesting, numbers, key types


def test_deeply_nested_manifest_and_state(built: Path, sample_copy: Path, tmp_path: Path) -> None:
    deep = tmp_path / "manifest.json"
    deep.write_text("[" * 100_000)
    assert_one_line_error(bundle("inspect", built / "mcu.bin", "--manifest", deep), "nested deeper than 64", cpu=5)
    state = tmp_path / "issued.json"
    state.write_text('{"runs": ' + "[" * 100_000)
    run = bundle("serialize", sample_copy, "--count", "1", "--serial-start", "SN01", "--mac-start",
                 "02:0A:F7:00:00:01", "--out", tmp_path / "run", "--state", state)
    assert_one_line_error(run, "issued.json", "nested deeper than 64", cpu=10)


def test_deeply_nested_bundle_toml(sample_copy: Path, tmp_path: Path) -> None:
    sample_copy.write_text(sample_copy.read_text() + "\ndeep = " + "[" * 5000 + "]" * 5000 + "\n")
    assert_one_line_error(bundle("build", sample_copy, "--out", tmp_path / "out"), "bundle.toml: invalid TOML: nested "
                          "deeper than 64 levels", cpu=5)


def test_unsupported_public_key_type(built: Path, tmp_path: Path) -> None:
    import base64

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    der = ec.generate_private_key(ec.BrainpoolP256R1()).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    # the curve OID brainpoolP256r1 (1.3.36.3.3.2.8.1.1.7) made brainpoolP160r1 (...1.1.1): cryptography raises
    # UnsupportedAlgorithm for it (a brainpool curve it does support loads, and is refused as "not an Ed25519 key")
    der = der.replace(bytes.fromhex("2b2403030208010107"), bytes.fromhex("2b2403030208010101"))
    body = base64.encodebytes(der).decode().replace("\n", "")
    pem = "-----BEGIN PUBLIC KEY-----\n" + "\n".join(body[i:i + 64] for i in range(0, len(body), 64))
    (tmp_path / "brainpool.pub").write_text(pem + "\n-----END PUBLIC KEY-----\n")
    run = bundle("inspect", built / "mcu.bin", "--manifest", built / "manifest.json", "--pubkey",
                 tmp_path / "brainpool.pub")
    assert_one_line_error(run, "brainpool.pub: a key of a type that cannot be loaded; expected an Ed25519 key", cpu=5)


def test_manifest_numbers_are_range_checked(built: Path, tmp_path: Path) -> None:
    doc = json.loads((built / "manifest.json").read_text())
    doc["chip"]["size"] = 2 ** 40
    shutil.copy(built / "mcu.bin", tmp_path)
    shutil.copy(built / "sflash.bin", tmp_path)
    (tmp_path / "manifest.json").write_text(json.dumps(doc))
    run = bundle("openocd", tmp_path / "manifest.json", "--adapter", "stlink", "--out", tmp_path / "kit")
    assert_one_line_error(run, "manifest.json", "chip", cpu=5)
    assert not (tmp_path / "kit").exists()


# ------------------------------------------------------------------ terminal output is inert


def test_control_characters_from_a_manifest_are_escaped(built: Path, tmp_path: Path) -> None:
    doc = json.loads((built / "manifest.json").read_text())
    doc["name"] = "demo\x1b[2J\x1b[1;1H1 file(s): 1 ok\r\n\u202efake"
    doc["artefacts"][0]["regions"][0]["name"] = "boot\x1b]0;title\x07\x9b31m"
    for name in ("mcu.bin", "sflash.bin"):
        shutil.copy(built / name, tmp_path)
    (tmp_path / "manifest.json").write_text(json.dumps(doc))
    odd = tmp_path / "line\nbreak\x1b[31m.bin"
    shutil.copy(built / "mcu.bin", odd)
    for args in ([tmp_path, "--manifest", tmp_path / "manifest.json"], [tmp_path / "mcu.bin", "--manifest",
                 tmp_path / "manifest.json", "--quiet"]):
        run = bundle("inspect", *args)
        text = run.out + run.err
        assert "Traceback" not in text
        assert not any(ch in text for ch in "\x1b\x07\r\x9b\u202e"), repr(text[:3000])
        assert "\\x1b[2J" in text
    assert "line\\nbreak\\x1b[31m.bin" in bundle("inspect", tmp_path, "--manifest", tmp_path / "manifest.json").out


def test_dct_value_file_and_helper_from_devices(built: Path, sample_copy: Path, tmp_path: Path) -> None:
    sample_copy.write_text(sample_copy.read_text() + '\n[dct.app]\nfile = "/dev/zero"\n')
    run = bundle("build", sample_copy, "--out", tmp_path / "out")
    assert_one_line_error(run, "/dev/zero: is a character device, expected a regular file", cpu=10)
    assert not (tmp_path / "out").exists()
    run = bundle("openocd", built / "manifest.json", "--adapter", "stlink", "--out", tmp_path / "kit", "--helper",
                 "/dev/zero")
    assert_one_line_error(run, "/dev/zero: is a character device, expected a regular file", cpu=5)


# ------------------------------------------------------------------ inspect streams its batch


def test_batch_memory_does_not_grow_with_the_number_of_files(built: Path, tmp_path: Path) -> None:
    """2 and 24 (MCU + SFLASH) pairs of the sample's 1 MiB images in one `inspect --manifest --quiet` run: the peak
    RSS stays that of a couple of files (holding the batch would add ~44 MiB); one verdict line per file."""
    runs = {}
    for n in (2, 24):
        folder = tmp_path / f"batch{n}"
        folder.mkdir()
        for i in range(n):
            for name in ("mcu.bin", "sflash.bin"):
                os.link(built / name, folder / f"unit{i:02}.{name}")
        runs[n] = bundle("inspect", folder, "--manifest", built / "manifest.json", "--quiet")
        assert runs[n].rc == 0, runs[n].out[-2000:]
        verdicts = [line for line in runs[n].out.splitlines() if line.startswith("OK ")]
        assert len(verdicts) == 2 * n and runs[n].out.rstrip().endswith(f"{2 * n} ok, 0 failed, 0 not understood -> exit 0")
        # MCU images as they come, SFLASH images after them (their LUT headers may be located through an MCU DCT)
        assert [v.split()[1].endswith("mcu.bin:") for v in verdicts] == [True] * n + [False] * n
    assert runs[24].rss_mib < runs[2].rss_mib + 12, (runs[2].rss_mib, runs[24].rss_mib)


def test_a_file_read_ahead_reuses_the_memory_of_the_last(built: Path, tmp_path: Path) -> None:
    """16 MiB SFLASH dumps (the sample's image, padded), one and two (with their MCU images): the second is read on
    the read-ahead thread after the first was freed, and must reuse its memory — with glibc's default of one malloc
    arena per thread, two dumps' worth stayed mapped (+16 MiB: 62 against 46 MiB)."""
    dump = built.joinpath("sflash.bin").read_bytes()
    runs = {}
    for n in (1, 2):
        folder = tmp_path / f"batch{n}"
        folder.mkdir()
        for i in range(n):
            (folder / f"u{i}.sflash.bin").write_bytes(dump + b"\xff" * (16 * MiB - len(dump)))
            os.link(built / "mcu.bin", folder / f"u{i}.mcu.bin")
        runs[n] = bundle("inspect", folder, "--chip-size", "16M", "--quiet")
        assert runs[n].rc == 0 and runs[n].out.rstrip().endswith(f"{2 * n} ok, 0 failed, 0 not understood -> exit 0")
    assert runs[2].rss_mib < runs[1].rss_mib + 8, (runs[1].rss_mib, runs[2].rss_mib)


def test_a_batch_does_not_hold_the_reports_it_has_given(built: Path, tmp_path: Path) -> None:
    """What Python keeps alive while a batch of 40 (MCU + SFLASH) pairs goes by, counted with tracemalloc after each
    file is reported: a summarised SFLASH report (its decoded filesystem listing, ~35 KiB each) must be let go, so
    the live memory after the 80th file is that after the 41st plus the summary entries (well under 256 KiB)."""
    import tracemalloc

    from bundler.inspect import inspect_paths

    for i in range(40):
        for name in ("mcu.bin", "sflash.bin"):
            os.link(built / name, tmp_path / f"unit{i:02}.{name}")
    live: list[int] = []

    class Counting:
        def begin(self, head: dict) -> None:
            pass

        def file(self, doc: dict) -> None:
            live.append(tracemalloc.get_traced_memory()[0])

    tracemalloc.start()
    try:
        doc = inspect_paths([tmp_path], manifest=built / "manifest.json", listener=Counting(), keep_files=False)
    finally:
        tracemalloc.stop()
    assert doc["exit_code"] == 0 and len(live) == 80
    assert live[-1] - live[40] < 256 * 1024, (live[40], live[-1])


def test_nesting_limit_is_64_levels() -> None:
    from bundler.errors import ConfigError, InputError
    from bundler.inputs import parse_json, parse_toml

    assert json.dumps(parse_json(b"[" * 64 + b"]" * 64, "m.json")) == "[" * 64 + "]" * 64
    with pytest.raises(InputError, match=r"^m\.json: not JSON: nested deeper than 64 levels$"):
        parse_json(b"[" * 65 + b"]" * 65, "m.json")
    assert parse_toml(b"a = " + b"[" * 63 + b"]" * 63, "b.toml")["a"] is not None  # the document is level 1
    with pytest.raises(ConfigError, match=r"^b\.toml: invalid TOML: nested deeper than 64 levels$"):
        parse_toml(b"a = " + b"[" * 64 + b"]" * 64, "b.toml", ConfigError)


def test_dct_decode_shows_dct_strings_inert(sample_copy: Path, tmp_path: Path) -> None:
    text = sample_copy.read_text()
    assert 'SSID = "FactoryNet"' in text
    # rich markup and an emoji code (control characters in an SSID are shown as hex by the decoder itself)
    sample_copy.write_text(text.replace('SSID = "FactoryNet"', 'SSID = "[bold]Fx:smile:"'))
    assert bundle("build", sample_copy, "--out", tmp_path / "out").rc == 0
    run = bundle("dct", "decode", tmp_path / "out" / "mcu.bin")
    assert run.rc == 0 and "Traceback" not in run.out + run.err
    assert "\U0001f604" not in run.out and "\x1b" not in run.out
    assert "[bold]Fx:smile:" in run.out


def test_batch_keeps_one_copy_of_an_app_shared_by_its_mcu_images(built: Path, tmp_path: Path) -> None:
    """The factory-reset comparison keeps each distinct MCU app once, not once per MCU image of the batch (memory
    and per-file notes would grow with the batch)."""
    from bundler.inspect import inspect_paths

    for i in range(6):
        for name in ("mcu.bin", "sflash.bin"):
            os.link(built / name, tmp_path / f"unit{i}.{name}")
    doc = inspect_paths([tmp_path], manifest=built / "manifest.json")
    assert doc["exit_code"] == 0
    for f in doc["files"]:
        if f["kind"] == "sflash":
            notes = [x for x in f["findings"] if x["code"] == "factory_reset_app"]
            assert len(notes) == 1 and "and of 5 other MCU image(s) holding the same app" in notes[0]["message"]
