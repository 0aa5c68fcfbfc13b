"""`bundle serialize` at factory scale (issue 17). Oracles: zlib.crc32 and plain byte sums of the base image with a
unit's bytes patched in (never the code's own arithmetic), zlib for the SDK's DCT CRC (CRC-32 without the final XOR,
over the 16 KiB copy, crc32 field zeroed, 0xFF padded), srec_cat laying a unit's HEX over the base image,
csv.reader/csv.writer for the CSV text, a pseudo-terminal for the progress bar, SIGKILL for a run cut short."""

from __future__ import annotations

import csv
import io
import json
import os
import random
import re
import signal
import struct
import subprocess
import sys
import threading
import time
import zlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from bundler.checksums import Linear32, crc32_raw, crc32_shift
from bundler.cli import app
from bundler.errors import ConfigError
from bundler.serialize import serialize
from bundler.units import FOLDER_FILES, UNITS_DIR, index_width, unit_folder

from test_serialize import FLASH_BASE, SECTOR, copy_sample, dct_place_in_sflash, patched, range_columns, read_csv

DCT1, DCT_COPY = 0x08004000, 0x4000
CRC_AT = 0x14  # platform_dct_header_t.crc32


# ---- the combine arithmetic against zlib ----

@st.composite
def buffer_and_patch(draw: st.DrawFn) -> tuple[bytes, int, bytes]:
    data = draw(st.binary(min_size=1, max_size=3000))
    where = draw(st.sampled_from(["start", "end", "any"]))
    size = draw(st.integers(0, len(data)))
    offset = {"start": 0, "end": len(data) - size}.get(where) or draw(st.integers(0, len(data) - size))
    return data, offset, draw(st.binary(min_size=size, max_size=size))


@given(buffer_and_patch())
def test_a_patch_changes_the_crc_by_the_shifted_raw_difference(case: tuple[bytes, int, bytes]) -> None:
    """The identity units.UnitTable computes every unit's CRC-32 with: patching n bytes at `offset` XORs the CRC
    with crc32_shift(raw(old) ^ raw(new), bytes after the patch). Oracle: zlib.crc32 of the patched buffer."""
    data, offset, new = case
    old = data[offset:offset + len(new)]
    after = data[:offset] + new + data[offset + len(new):]
    change = crc32_shift(crc32_raw(old) ^ crc32_raw(new), len(data) - offset - len(new))
    assert zlib.crc32(data) ^ change == zlib.crc32(after)


@given(st.binary(min_size=1, max_size=64), st.integers(0, 5000))
def test_shift_is_the_raw_crc_over_trailing_zeros(data: bytes, zeros: int) -> None:
    assert crc32_shift(crc32_raw(data), zeros) == crc32_raw(data + bytes(zeros))


@settings(max_examples=20)
@given(st.integers(0, 1 << 40), st.lists(st.integers(0, 0xFFFFFFFF), min_size=1, max_size=20))
def test_linear32_tables_apply_the_map(n: int, words: list[int]) -> None:
    m = Linear32.of(lambda v: crc32_shift(v, n))
    for w in words:
        assert m(w) == crc32_shift(w, n)


def test_shift_over_a_long_run_of_zeros() -> None:
    """Lengths far beyond any test buffer: 16 MiB of zeros by zlib itself."""
    assert crc32_shift(crc32_raw(b"unit"), 16 << 20) == crc32_raw(b"unit" + bytes(16 << 20))


# ---- names: index width and sub-folders ----

@pytest.mark.parametrize("count", [999, 1000, 1001, 100_000])
@pytest.mark.parametrize("per_unit", [1, 2, 4])
def test_sub_folders_hold_at_most_1000_files_and_names_sort_in_unit_order(count: int, per_unit: int) -> None:
    width = index_width(count)
    assert width == max(4, len(str(count)))
    folders: dict[str, int] = {}
    names = []
    for i in range(1, count + 1):
        folder = unit_folder(i, count, per_unit)
        folders[folder] = folders.get(folder, 0) + per_unit
        names.append(f"{folder}/{i:0{width}d}-SN")
    assert names == sorted(names)  # a plain listing shows the units in order
    assert max(folders.values()) <= FOLDER_FILES
    if count * per_unit <= FOLDER_FILES:
        assert set(folders) == {UNITS_DIR}
    else:
        assert UNITS_DIR not in folders
        for folder in folders:  # units/<first>-<last>, the first and last index it holds
            first, last = (int(x) for x in re.fullmatch(rf"{UNITS_DIR}/(\d+)-(\d+)", folder).groups())
            assert folders[folder] == (last - first + 1) * per_unit
            assert unit_folder(first, count, per_unit) == unit_folder(last, count, per_unit) == folder
            assert len(folder.split("/")[1].split("-")[0]) == width


# ---- a 100,000-unit run: every number as a full recomputation gives ----

def _check_rows(out: Path, rows: list[dict[str, str]], header: list[str], full_sums: int) -> None:
    base = {f: (out / f).read_bytes() for f in ("mcu.bin", "sflash.bin")}
    for k, row in enumerate(rows):
        for name, address in (("mcu", FLASH_BASE), ("sflash", 0)):
            image = patched(base[f"{name}.bin"], row, header, f"{name}.bin", address)
            assert int(row[f"{name}_crc32"], 16) == zlib.crc32(image), (row["index"], name)
            if k < full_sums:  # a plain sum of 1 MiB is slow in Python: the first few units
                assert int(row[f"{name}_sum32"], 16) == sum(image) & 0xFFFFFFFF, (row["index"], name)


def test_100k_units_sampled_against_zlib_and_plain_sums(tmp_path: Path) -> None:
    toml = copy_sample(tmp_path / "p")
    out = tmp_path / "out"
    serialize(toml, 100_000, "SN00100000", "02:0A:F7:10:00:00", out)
    header, rows = read_csv(out)
    assert len(rows) == 100_000 and not (out / "units").exists()
    assert [r["serial"] for r in (rows[0], rows[-1])] == ["SN00100000", "SN00199999"]
    assert rows[-1]["mac"] == "02:0A:F7:11:86:9F"
    sample = random.Random(17).sample(rows, 1000)
    _check_rows(out, [rows[0], rows[-1], *sample], header, full_sums=12)
    # the sums of the other sampled units: the plain sum of the base, changed by this unit's bytes (the CSV's own
    # range columns against the base's bytes there)
    for name, address in (("mcu", FLASH_BASE), ("sflash", 0)):
        image = (out / f"{name}.bin").read_bytes()
        total = sum(image)
        cols = [(c, a - address) for c, f, a, _ in range_columns(header) if f == f"{name}.bin"]
        for row in sample:
            values = [bytes.fromhex(row[c]) for c, _ in cols]
            expect = total + sum(sum(v) - sum(image[o:o + len(v)]) for (_, o), v in zip(cols, values))
            assert int(row[f"{name}_sum32"], 16) == expect & 0xFFFFFFFF


def _sdk_dct_crc(copy: bytes) -> int:
    """wiced_dct_check_crc_valid: CRC-32 (zlib's, without the final XOR) of the 16 KiB copy, crc32 field as 0."""
    area = bytearray(copy)
    area[CRC_AT:CRC_AT + 4] = bytes(4)
    return zlib.crc32(area) ^ 0xFFFFFFFF


def test_computed_crc_units_against_an_independent_dct_crc(tmp_path: Path) -> None:
    toml = copy_sample(tmp_path / "p", crc="computed")
    out = tmp_path / "out"
    result = serialize(toml, 20_000, "UNIT000001", "02:0A:F7:40:00:00", out, unit_files="none")
    assert result.unit_files == "none" and not (out / "units").exists()
    header, rows = read_csv(out)
    assert all(r["dct_hex"] == "" for r in rows)
    sample = [rows[0], rows[-1], *random.Random(4).sample(rows, 200)]
    _check_rows(out, sample, header, full_sums=4)
    base = (out / "mcu.bin").read_bytes()
    sflash = (out / "sflash.bin").read_bytes()
    crc_cols = [(c, f, a) for c, f, a, n in range_columns(header) if n == "header.crc32"]
    place = dct_place_in_sflash(sflash)
    elf = struct.unpack_from("<BBHH", sflash, 34)[2] * SECTOR
    (filesz,) = struct.unpack_from("<I", sflash, elf + struct.unpack_from("<I", sflash, elf + 28)[0] + 16)
    assert [f for _, f, _ in crc_cols] == ["mcu.bin", "sflash.bin"]
    for row in sample:
        copy = patched(base, row, header, "mcu.bin", FLASH_BASE)[DCT1 - FLASH_BASE:DCT1 - FLASH_BASE + DCT_COPY]
        assert int.from_bytes(copy[CRC_AT:CRC_AT + 4], "little") == _sdk_dct_crc(copy), row["index"]
        # the DCT in the SFLASH DCT image (its ELF segment, hand-read): its own header CRC
        unit_sflash = patched(sflash, row, header, "sflash.bin", 0)
        col, _, address = crc_cols[1]
        assert address - CRC_AT == place
        dct = unit_sflash[place:place + filesz] + b"\xff" * (DCT_COPY - filesz)
        assert int.from_bytes(bytes.fromhex(row[col]), "little") == _sdk_dct_crc(dct), row["index"]


# ---- per-unit HEX in sub-folders, overlaid with srec_cat ----

def test_unit_hex_files_in_sub_folders_overlay_to_the_unit_image(tmp_path: Path) -> None:
    toml = copy_sample(tmp_path / "p", crc="computed")
    out = tmp_path / "out"
    serialize(toml, 600, "SN00000001", "02:0A:F7:50:00:00", out)  # default with crc = "computed": hex
    header, rows = read_csv(out)
    folders = sorted(p.name for p in (out / "units").iterdir())
    assert folders == ["0001-0500", "0501-0600"]  # 2 files a unit, 1000 files a folder
    assert [len(list((out / "units" / f).iterdir())) for f in folders] == [1000, 200]
    assert rows[0]["dct_hex"] == "units/0001-0500/0001-SN00000001.dct.hex"
    assert rows[599]["sflash_dct_hex"] == "units/0501-0600/0600-SN00000600.sflash-dct.hex"
    assert {Path(r[c]) for r in rows for c in ("dct_hex", "sflash_dct_hex")} == \
        {p.relative_to(out) for p in (out / "units").rglob("*.hex")}
    base = (out / "mcu.bin").read_bytes()
    for row in (rows[0], rows[500], rows[599]):
        unit = tmp_path / "unit.bin"
        subprocess.run(["srec_cat", "(", str(out / "mcu.bin"), "-binary", "-offset", hex(FLASH_BASE), "-exclude",
                        hex(DCT1), hex(DCT1 + DCT_COPY), str(out / row["dct_hex"]), "-intel", ")",
                        "-offset", hex(-FLASH_BASE), "-o", str(unit), "-binary"], check=True)
        image = unit.read_bytes()
        assert image == patched(base, row, header, "mcu.bin", FLASH_BASE)
        assert int(row["mcu_crc32"], 16) == zlib.crc32(image) and int(row["mcu_sum32"], 16) == sum(image)


def test_unit_files_option_and_the_full_alias(tmp_path: Path) -> None:
    toml = copy_sample(tmp_path / "p")
    args = ["serialize", str(toml), "-n", "2", "--serial-start", "SN00000001", "--mac-start", "02:0A:F7:00:00:10"]
    runner = CliRunner()
    assert runner.invoke(app, [*args, "--out", str(tmp_path / "a"), "--full"]).exit_code == 0
    assert runner.invoke(app, [*args, "--out", str(tmp_path / "b"), "--unit-files", "full"]).exit_code == 0
    for name in ("units.csv", "units/0001-SN00000001.mcu.bin", "units/0002-SN00000002.sflash.bin"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    # crc = "sdk" with hex: the unit's DCT sectors as HEX, whose bytes are the unit's image there
    assert runner.invoke(app, [*args, "--out", str(tmp_path / "c"), "--unit-files", "hex"]).exit_code == 0
    _, rows = read_csv(tmp_path / "c")
    assert rows[1]["dct_hex"] == "units/0002-SN00000002.dct.hex" and rows[1]["mcu_bin"] == ""
    from intelhex import IntelHex

    hx = IntelHex(str(tmp_path / "c" / rows[1]["dct_hex"]))
    unit = (tmp_path / "a" / "units/0002-SN00000002.mcu.bin").read_bytes()
    assert hx.minaddr() == DCT1 and hx.tobinstr() == unit[DCT1 - FLASH_BASE:DCT1 - FLASH_BASE + DCT_COPY]
    for bad, message in ((["--unit-files", "some"], "expected one of hex, full, none"),
                         (["--full", "--unit-files", "none"], "--full is --unit-files full")):
        res = runner.invoke(app, [*args, "--out", str(tmp_path / "d"), *bad])
        assert res.exit_code == 2 and message in res.output and "Traceback" not in res.output
        assert not (tmp_path / "d").exists()
    with pytest.raises(ConfigError):
        serialize(toml, 2, "SN00000001", "02:0A:F7:00:00:10", tmp_path / "e", unit_files="HEX")


# ---- the CSV text is csv.writer's ----

def test_rows_are_what_csv_writer_writes_for_a_serial_needing_quotes(tmp_path: Path) -> None:
    toml = copy_sample(tmp_path / "p")
    serial = 'A,"%d1%%0001'
    serialize(toml, 3, serial, "02:0A:F7:00:00:10", tmp_path / "out", unit_files="hex")
    text = (tmp_path / "out" / "units.csv").read_text()
    rows = list(csv.reader(io.StringIO(text)))
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    assert buf.getvalue() == text
    assert [r[1] for r in rows[1:]] == ['A,"%d1%%0001', 'A,"%d1%%0002', 'A,"%d1%%0003']
    assert rows[3][3] == "units/0003-A___d1__0003.dct.hex" and (tmp_path / "out" / rows[3][3]).is_file()


# ---- progress: a bar on a terminal only ----

def test_progress_bar_on_a_terminal_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pty

    import bundler.progress

    toml = copy_sample(tmp_path / "p")
    args = ["serialize", str(toml), "-n", "9000", "--serial-start", "SN00000001", "--mac-start", "02:0A:F7:00:00:10"]
    plain = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "a")])  # not a terminal
    assert plain.exit_code == 0 and "units/s" not in plain.output and "━" not in plain.output
    assert plain.output.splitlines()[0] == "9000 units: serials SN00000001..SN00009000, MACs 02:0A:F7:00:00:10.." \
                                           "02:0A:F7:00:23:37"
    monkeypatch.setattr(bundler.progress, "DELAY", 0.0)  # the bar as a run past its first second shows it
    master, slave = pty.openpty()
    drawn = bytearray()

    def drain() -> None:  # a terminal is read while it is written to (its buffer is small)
        while True:
            try:
                chunk = os.read(master, 1 << 16)
            except OSError:
                return
            if not chunk:
                return
            drawn.extend(chunk)

    reader = threading.Thread(target=drain)
    reader.start()
    try:
        with open(slave, "w", closefd=True) as terminal:
            monkeypatch.setattr(sys, "stderr", terminal)
            with pytest.raises(SystemExit) as done:
                app([*args, "--out", str(tmp_path / "b")])
            terminal.flush()
    finally:
        reader.join(10)
        os.close(master)
    assert done.value.code in (0, None)
    assert b"units.csv" in drawn and b"units/s" in drawn and b"9000/9000" in drawn


# ---- a run killed part-way: previous folder kept, numbers burnt ----

def test_a_run_killed_at_60_percent_keeps_the_previous_folder_and_burns_its_numbers(tmp_path: Path) -> None:
    toml = copy_sample(tmp_path / "p")
    out, state = tmp_path / "out", tmp_path / "issued.json"
    serialize(toml, 3, "SN00000001", "02:0A:F7:00:00:10", out, state=state)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    count = 300_000
    proc = subprocess.Popen([sys.executable, "-m", "bundler.cli", "serialize", str(toml), "-n", str(count),
                             "--serial-start", "SN00000004", "--mac-start", "02:0A:F7:00:00:13", "--out", str(out),
                             "--state", str(state)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    row = len(before["units.csv"].splitlines()[1]) + 1  # bytes of a row (the index grows by 3 digits: about)
    try:
        while proc.poll() is None:
            staged = [p for p in tmp_path.glob(".out.staging-*/units.csv")]
            if staged and staged[0].stat().st_size >= 0.6 * count * row:
                proc.send_signal(signal.SIGKILL)
                break
            time.sleep(0.005)
        proc.wait(60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read().decode()  # killed, not finished
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    runs = json.loads(state.read_text())["runs"]
    assert runs[-1]["serial_first"] == "SN00000004" and runs[-1]["serial_last"] == f"SN{count + 3:08d}"
    res = CliRunner().invoke(app, ["serialize", str(toml), "-n", "1", "--serial-start", "SN00000100",
                                   "--mac-start", "02:0A:F7:F0:00:00", "--out", str(out), "--state", str(state)])
    assert res.exit_code == 2 and "already issued" in res.output
    ok = serialize(toml, 2, f"SN{count + 4:08d}", "02:0A:F7:F0:00:00", out, state=state)  # after the burnt ones
    assert len(ok.units) == 2 and not list(tmp_path.glob(".out.staging-*"))


# ---- per-unit HEX: only the touched records are made again, and every file reaches the disk ----

@st.composite
def hex_case(draw: st.DrawFn) -> tuple[bytes, int, list[tuple[int, bytes]]]:
    data = draw(st.binary(min_size=1, max_size=0x900))
    base = draw(st.sampled_from([0, 0x08004000, 0xFFF0, 0x0800FF80])) + 16 * draw(st.integers(0, 8))
    patches = []
    for _ in range(draw(st.integers(1, 4))):
        size = draw(st.integers(1, min(40, len(data))))
        offset = draw(st.sampled_from([0, len(data) - size, draw(st.integers(0, len(data) - size))]))
        patches.append((offset, draw(st.binary(min_size=size, max_size=size))))
    return data, base, patches


@given(hex_case())
def test_patched_hex_is_the_hex_of_the_patched_bytes(case: tuple[bytes, int, list[tuple[int, bytes]]]) -> None:
    from bundler.writers import PatchedHex, intel_hex

    data, base, patches = case
    text = PatchedHex(data, base, [(o, len(v)) for o, v in patches])
    unit = bytearray(data)
    for offset, value in patches:
        unit[offset:offset + len(value)] = value
    assert text.variant(patches) == intel_hex(bytes(unit), base)
    assert text.variant([(o, data[o:o + len(v)]) for o, v in patches]) == intel_hex(data, base)


def test_many_unit_files_are_synced_once_the_first_each(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import bundler.publish as publish

    calls = {"fsync": 0, "sync": 0}
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        calls["fsync"] += 1
        real_fsync(fd)

    monkeypatch.setattr(publish.os, "fsync", fsync)
    monkeypatch.setattr(publish.os, "sync", lambda: calls.__setitem__("sync", calls["sync"] + 1))
    toml = copy_sample(tmp_path / "p", crc="computed")
    result = serialize(toml, 100, "SN00000001", "02:0A:F7:00:00:10", tmp_path / "out")
    written = [p for p in (tmp_path / "out").rglob("*.*") if p.name != publish.RECORD]  # + publish's own record
    assert len(result.files) == len(written) > publish.FSYNC_EACH
    assert calls == ({"fsync": publish.FSYNC_EACH, "sync": 1} if sys.platform.startswith("linux") else
                     {"fsync": len(result.files), "sync": 0})
