"""`bundle serialize`: per-unit serial/MAC. Oracles: images built independently by make_bundle from a bundle.toml
holding that unit's serial and MAC, srec_cat laying each per-unit HEX over the base image, zlib and plain byte sums
for the checksums, a hand-written LUT/ELF reader for the SFLASH addresses."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from bundler.build import make_bundle
from bundler.cli import app
from bundler.config import load_project
from bundler.errors import BundleError, ConfigError, OutputError
from bundler.manifest import load as load_manifest
from bundler.serialize import mac_range, serial_range, serialize

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "ota_demo"
PASSPHRASE = b"sample-passphrase-do-not-ship"
FLASH_BASE, DCT1 = 0x08000000, 0x08004000
SECTOR = 4096

# ---- helpers (independent of bundler.serialize) ----


def copy_sample(dest: Path, crc: str = "sdk", serial: str | None = None, mac: str | None = None) -> Path:
    shutil.copytree(SAMPLE, dest)
    toml = dest / "bundle.toml"
    text = toml.read_text()
    text = re.sub(r'(?m)^crc = "sdk".*$', f'crc = "{crc}"', text)
    if serial is not None:
        text = re.sub(r'(?m)^serial_number = ".*"$', f'serial_number = "{serial}"', text)
    if mac is not None:
        text = re.sub(r'(?m)^mac_address = ".*"$', f'mac_address = "{mac}"', text)
    toml.write_text(text)
    return toml


def independent_images(tmp: Path, crc: str, serial: str, mac: str) -> tuple[bytes, bytes]:
    """mcu.bin and sflash.bin of a product whose bundle.toml itself holds this serial and MAC."""
    toml = copy_sample(tmp / f"indep-{serial}", crc, serial, mac)
    bundle = make_bundle(load_project(toml))
    return bundle.mcu.tobytes(), bundle.sflash.tobytes()


def read_csv(out: Path) -> tuple[list[str], list[dict[str, str]]]:
    text = (out / "units.csv").read_text()
    reader = csv.DictReader(io.StringIO(text))
    return list(reader.fieldnames or []), list(reader)


def range_columns(header: list[str]) -> list[tuple[str, str, int, str]]:
    """(column, file, address, field) of every 'file@0xADDRESS:field' column."""
    out = []
    for col in header:
        m = re.fullmatch(r"([^@]+)@0x([0-9A-F]{8}):(.+)", col)
        if m:
            out.append((col, m.group(1), int(m.group(2), 16), m.group(3)))
    return out


def patched(base: bytes, row: dict[str, str], header: list[str], file: str, base_address: int) -> bytes:
    image = bytearray(base)
    for col, f, address, _ in range_columns(header):
        if f == file:
            value = bytes.fromhex(row[col])
            image[address - base_address:address - base_address + len(value)] = value
    return bytes(image)


def sum32(data: bytes) -> int:
    return sum(data) & 0xFFFFFFFF


def cut(data: bytes, ranges: list[tuple[int, int]]) -> bytes:
    """The image with (offset, size) ranges removed, the rest concatenated."""
    keep, pos = bytearray(), 0
    for off, size in sorted(ranges):
        keep += data[pos:off]
        pos = off + size
    return bytes(keep + data[pos:])


def dct_place_in_sflash(image: bytes) -> int:
    """Hand-read: LUT entry 1's first sector, then the ELF's first program header p_offset."""
    count, _, start, _ = struct.unpack_from("<BBHH", image, 34)
    assert count == 1
    elf = start * SECTOR
    assert image[elf:elf + 4] == b"\x7fELF"
    (phoff,) = struct.unpack_from("<I", image, elf + 28)
    (p_offset,) = struct.unpack_from("<I", image, elf + phoff + 4)
    return elf + p_offset


# ---- fixtures: one SDK-style run and one computed-CRC run with --full ----


@pytest.fixture(scope="module")
def sdk_run(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("ser_sdk")
    toml = copy_sample(tmp / "product")
    out = tmp / "out"
    result = serialize(toml, 5, "SN00000101", "02:0A:F7:00:01:FE", out)
    return tmp, out, result


@pytest.fixture(scope="module")
def computed_run(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("ser_crc")
    toml = copy_sample(tmp / "product", crc="computed")
    out = tmp / "out"
    result = serialize(toml, 4, "UNIT-0098", "02:0A:F7:12:34:56", out, full=True)
    return tmp, out, result


# ---- units ----


@pytest.mark.parametrize("run, first_serial, first_mac, n", [
    ("sdk_run", ("SN", 101, 8), 0x020AF70001FE, 5),
    ("computed_run", ("UNIT-", 98, 4), 0x020AF7123456, 4),
])
def test_units_unique_and_consecutive(request, run: str, first_serial, first_mac: int, n: int) -> None:
    _, out, _ = request.getfixturevalue(run)
    _, rows = read_csv(out)
    prefix, number, width = first_serial
    assert [r["index"] for r in rows] == [str(i) for i in range(1, n + 1)]
    assert [r["serial"] for r in rows] == [f"{prefix}{number + i:0{width}d}" for i in range(n)]
    macs = [int(r["mac"].replace(":", ""), 16) for r in rows]
    assert macs == list(range(first_mac, first_mac + n))
    assert len(set(r["serial"] for r in rows)) == n and len(set(macs)) == n


def test_manifest_lists_both_places(sdk_run) -> None:
    _, out, _ = sdk_run
    manifest, _ = load_manifest(out / "manifest.json")  # schema-validated
    sflash = (out / "sflash.bin").read_bytes()
    dct_in_sflash = dct_place_in_sflash(sflash)
    expected = [
        {"name": "mfg_info.serial_number", "file": "mcu.bin", "address": DCT1 + 0x1EC, "offset": 0x41EC, "size": 20},
        {"name": "wifi_config.mac_address", "file": "mcu.bin", "address": DCT1 + 0x1D7C, "offset": 0x5D7C, "size": 6},
        {"name": "mfg_info.serial_number", "file": "sflash.bin", "address": dct_in_sflash + 0x1EC,
         "offset": dct_in_sflash + 0x1EC, "size": 20},
        {"name": "wifi_config.mac_address", "file": "sflash.bin", "address": dct_in_sflash + 0x1D7C,
         "offset": dct_in_sflash + 0x1D7C, "size": 6},
    ]
    assert manifest["serialization"] == expected
    header, _ = read_csv(out)
    assert [(f, a, n) for _, f, a, n in range_columns(header)] == [(e["file"], e["address"], e["name"])
                                                                   for e in expected]


def test_sdk_outputs_are_base_artefacts_manifest_and_csv(sdk_run) -> None:
    _, out, result = sdk_run
    assert result.crc_mode == "sdk"
    assert not (out / "units").exists()
    assert {"mcu.bin", "mcu.hex", "sflash.bin", "manifest.json", "units.csv"} <= {p.name for p in out.iterdir()}
    _, rows = read_csv(out)
    assert all(r[c] == "" for r in rows for c in ("dct_hex", "sflash_dct_hex", "mcu_bin", "sflash_bin"))


def test_sdk_patching_csv_bytes_gives_the_independently_built_unit(sdk_run) -> None:
    tmp, out, _ = sdk_run
    header, rows = read_csv(out)
    base_mcu, base_sflash = (out / "mcu.bin").read_bytes(), (out / "sflash.bin").read_bytes()
    manifest = json.loads((out / "manifest.json").read_text())
    for row in (rows[0], rows[-1]):
        mcu = patched(base_mcu, row, header, "mcu.bin", FLASH_BASE)
        sflash = patched(base_sflash, row, header, "sflash.bin", 0)
        assert (mcu, sflash) == independent_images(tmp, "sdk", row["serial"], row["mac"])
        for name, image in (("mcu", mcu), ("sflash", sflash)):
            assert int(row[f"{name}_crc32"], 16) == zlib.crc32(image)
            assert int(row[f"{name}_sum32"], 16) == sum32(image)
            excluded = [(e["offset"], e["size"]) for e in manifest["serialization"] if e["file"] == f"{name}.bin"]
            rest = cut(image, excluded)
            assert int(row[f"{name}_crc32_excluding"], 16) == zlib.crc32(rest)
            assert int(row[f"{name}_sum32_excluding"], 16) == sum32(rest)


def test_computed_unit_hex_over_base_is_the_unit_image(computed_run, tmp_path: Path) -> None:
    tmp, out, result = computed_run
    assert result.crc_mode == "computed"
    header, rows = read_csv(out)
    assert {n for _, _, _, n in range_columns(header)} == {"mfg_info.serial_number", "wifi_config.mac_address",
                                                           "header.crc32"}
    sflash_base = (out / "sflash.bin").read_bytes()
    count, _, start, sectors = struct.unpack_from("<BBHH", sflash_base, 34)  # hand-read LUT entry 1
    for row in rows:
        mcu_from_hex, sflash_from_hex = tmp_path / "mcu.bin", tmp_path / "sflash.bin"
        subprocess.run(["srec_cat", "(", str(out / "mcu.bin"), "-binary", "-offset", hex(FLASH_BASE), "-exclude",
                        hex(DCT1), hex(DCT1 + 0x4000), str(out / row["dct_hex"]), "-intel", ")",
                        "-offset", hex(-FLASH_BASE), "-o", str(mcu_from_hex), "-binary"], check=True)
        subprocess.run(["srec_cat", str(out / "sflash.bin"), "-binary", "-exclude", hex(start * SECTOR),
                        hex((start + sectors) * SECTOR), str(out / row["sflash_dct_hex"]), "-intel",
                        "-o", str(sflash_from_hex), "-binary"], check=True)
        mcu, sflash = (out / row["mcu_bin"]).read_bytes(), (out / row["sflash_bin"]).read_bytes()
        assert mcu_from_hex.read_bytes() == mcu and sflash_from_hex.read_bytes() == sflash
        assert (mcu, sflash) == independent_images(tmp, "computed", row["serial"], row["mac"])
        assert patched((out / "mcu.bin").read_bytes(), row, header, "mcu.bin", FLASH_BASE) == mcu
        assert patched(sflash_base, row, header, "sflash.bin", 0) == sflash
        for name, image in (("mcu", mcu), ("sflash", sflash)):
            assert int(row[f"{name}_crc32"], 16) == zlib.crc32(image)
            assert int(row[f"{name}_sum32"], 16) == sum32(image)


def test_computed_unit_dct_decodes_with_valid_crc(computed_run) -> None:
    from bundler.dct.codec import decode_dct
    from bundler.dct.locate import load_dct_input

    _, out, _ = computed_run
    _, rows = read_csv(out)
    row = rows[2]
    for file in (row["dct_hex"], row["sflash_bin"], row["mcu_bin"]):
        data, options, note = load_dct_input(out / file, "bcm943362wcd4")
        model = decode_dct(data, options)
        assert model["mfg_info"]["serial_number"] == row["serial"]
        assert model["wifi_config"]["mac_address"] == row["mac"]
        assert model["crc"]["kind"] == "computed" and "matches" in note


def test_excluded_checksums_equal_for_every_unit(computed_run) -> None:
    _, out, _ = computed_run
    header, rows = read_csv(out)
    manifest = json.loads((out / "manifest.json").read_text())
    for name in ("mcu", "sflash"):
        excluded = [(e["offset"], e["size"]) for e in manifest["serialization"] if e["file"] == f"{name}.bin"]
        for row in rows:
            rest = cut((out / row[f"{name}_bin"]).read_bytes(), excluded)
            assert int(row[f"{name}_crc32_excluding"], 16) == zlib.crc32(rest)
            assert int(row[f"{name}_sum32_excluding"], 16) == sum32(rest)


def test_nineteen_character_serial_fits(tmp_path: Path) -> None:
    from bundler.dct.codec import decode_dct
    from bundler.dct.locate import load_dct_input

    toml = copy_sample(tmp_path / "p")
    serialize(toml, 2, "ABCDEFGHIJKLM000001", "02:0A:F7:00:00:10", tmp_path / "out")
    _, rows = read_csv(tmp_path / "out")
    assert [r["serial"] for r in rows] == ["ABCDEFGHIJKLM000001", "ABCDEFGHIJKLM000002"]
    header, _ = read_csv(tmp_path / "out")
    sflash = patched((tmp_path / "out" / "sflash.bin").read_bytes(), rows[1], header, "sflash.bin", 0)
    (tmp_path / "unit.bin").write_bytes(sflash)
    data, options, _ = load_dct_input(tmp_path / "unit.bin", "bcm943362wcd4")
    assert decode_dct(data, options)["mfg_info"]["serial_number"] == "ABCDEFGHIJKLM000002"


# ---- secrets ----


def test_secrets_never_in_csv_manifest_sheet_or_console(sample_copy: Path, tmp_path: Path) -> None:
    key_pem = (sample_copy.parent / "certs" / "device_key.pem").read_text().splitlines()
    key_line = next(line for line in key_pem if line and not line.startswith("-----")).encode()
    res = CliRunner().invoke(app, ["serialize", str(sample_copy), "--count", "3", "--serial-start", "SN00000001",
                                   "--mac-start", "02:0A:F7:00:00:01", "--out", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    texts = {"console": res.output.encode()}
    for name in ("units.csv", "manifest.json", "JOBSHEET.md", "jobsheet.html"):
        if (tmp_path / "out" / name).exists():
            texts[name] = (tmp_path / "out" / name).read_bytes()
    assert "units.csv" in texts and "manifest.json" in texts
    for name, data in texts.items():
        for secret in (PASSPHRASE, key_line):
            assert secret not in data, name
            assert secret.hex().encode() not in data.lower(), name
    assert "SN00000001..SN00000003" in res.output and "02:0A:F7:00:00:01..02:0A:F7:00:00:03" in res.output


# ---- state file ----


def test_state_prevents_reuse_across_runs(tmp_path: Path) -> None:
    toml = copy_sample(tmp_path / "p")
    state = tmp_path / "state" / "issued.json"
    serialize(toml, 3, "SN00000001", "02:0A:F7:00:00:10", tmp_path / "run1", state=state)
    doc = json.loads(state.read_text())
    assert doc["runs"][0]["serial_first"] == "SN00000001" and doc["runs"][0]["serial_last"] == "SN00000003"
    assert doc["runs"][0]["mac_last"] == "02:0A:F7:00:00:12"
    before = state.read_bytes()
    with pytest.raises(ConfigError, match="serials SN00000003..SN00000004 overlap"):
        serialize(toml, 2, "SN00000003", "02:0A:F7:00:01:00", tmp_path / "run2", state=state)
    with pytest.raises(ConfigError, match="MACs .* overlap"):
        serialize(toml, 2, "SN00000100", "02:0A:F7:00:00:0F", tmp_path / "run3", state=state)
    assert state.read_bytes() == before
    assert not (tmp_path / "run2").exists() and not (tmp_path / "run3").exists()
    # the same digits with another width or prefix are other serials
    serialize(toml, 2, "SN0000004", "02:0A:F7:00:00:13", tmp_path / "run4", state=state)
    serialize(toml, 2, "SN00000004", "02:0A:F7:00:00:15", tmp_path / "run5", state=state)
    assert len(json.loads(state.read_text())["runs"]) == 3
    res = CliRunner().invoke(app, ["serialize", str(toml), "-n", "1", "--serial-start", "SN00000005",
                                   "--mac-start", "02:0A:F7:00:00:16", "--out", str(tmp_path / "run6"),
                                   "--state", str(state)])
    assert res.exit_code == 2 and res.output.startswith("error:") and "already issued" in res.output
    assert not (tmp_path / "run6").exists()


def test_state_untouched_when_publishing_fails(tmp_path: Path) -> None:
    toml = copy_sample(tmp_path / "p")
    state = tmp_path / "issued.json"
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("not a bundle")
    with pytest.raises(OutputError):
        serialize(toml, 2, "SN00000001", "02:0A:F7:00:00:10", busy, state=state)
    assert not state.exists() and sorted(p.name for p in busy.iterdir()) == ["notes.txt"]
    with pytest.raises(OutputError, match="overwrite input"):  # a state inside the output folder would be lost
        serialize(toml, 2, "SN00000001", "02:0A:F7:00:00:10", tmp_path / "o", state=tmp_path / "o" / "s.json")


def test_bad_state_file_refused(tmp_path: Path) -> None:
    toml = copy_sample(tmp_path / "p")
    state = tmp_path / "issued.json"
    state.write_text("{not json")
    res = CliRunner().invoke(app, ["serialize", str(toml), "-n", "1", "--serial-start", "SN1",
                                   "--mac-start", "02:0A:F7:00:00:01", "--out", str(tmp_path / "o"),
                                   "--state", str(state)])
    assert res.exit_code == 2 and "state" in res.output and "Traceback" not in res.output
    assert not (tmp_path / "o").exists()


# ---- refusals ----


@pytest.mark.parametrize("count, serial, mac, message", [
    ("0", "SN00000001", "02:0A:F7:00:00:01", "at least 1"),
    ("-3", "SN00000001", "02:0A:F7:00:00:01", "at least 1"),
    ("1", "SN000000000000000001", "02:0A:F7:00:00:01", "at most 19"),
    ("2", "SERIAL", "02:0A:F7:00:00:01", "no trailing decimal digits"),
    ("2", "SN 0001", "02:0A:F7:00:00:01", "printable ASCII"),
    ("3", "SN98", "02:0A:F7:00:00:01", "run past SN99"),
    ("2", "SN00000001", "02:0A:F7:FF:FF:FF", "OUI block"),
    ("300", "SN00000001", "00:11:22:FF:FF:00", "OUI block"),
    ("1", "SN00000001", "02:0A:F7:00:00", "not a MAC"),
    ("1", "SN00000001", "02:0A:F7:00:00:0G", "not a MAC"),
    ("1", "SN00000001", "03:0A:F7:00:00:01", "multicast"),
])
def test_bad_input_refused_cleanly(tmp_path: Path, count: str, serial: str, mac: str, message: str) -> None:
    toml = copy_sample(tmp_path / "p")
    out, state = tmp_path / "out", tmp_path / "state.json"
    res = CliRunner().invoke(app, ["serialize", str(toml), "--count", count, "--serial-start", serial,
                                   "--mac-start", mac, "--out", str(out), "--state", str(state)])
    assert res.exit_code == 2, res.output
    assert res.output.startswith("error:") and res.output.count("\n") == 1 and message in res.output
    assert "Traceback" not in res.output
    assert not out.exists() and not state.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]  # no staging left


def test_fixed_crc_value_refused(tmp_path: Path) -> None:
    toml = copy_sample(tmp_path / "p")
    toml.write_text(toml.read_text().replace('crc = "sdk"', "crc = 0x12345678"))
    # the base build already refuses it: a DCT copy 1 with that CRC is one the device does not accept (checks.py)
    with pytest.raises(BundleError, match="fixed|not valid as DCT copy 1"):
        serialize(toml, 1, "SN1", "02:0A:F7:00:00:01", tmp_path / "out")
    assert not (tmp_path / "out").exists()


# ---- number ranges (property tests) ----


@given(st.text("ABCXYZ-_", max_size=6), st.integers(0, 10**6), st.integers(1, 8), st.integers(1, 200))
def test_serial_numbers_keep_prefix_and_width(prefix: str, first: int, extra: int, count: int) -> None:
    width = len(str(first)) + extra - 1
    start = f"{prefix}{first:0{width}d}"
    if len(start) > 19:
        with pytest.raises(ConfigError):
            list(serial_range(start, count, 20))
        return
    if len(str(first + count - 1)) > width:
        with pytest.raises(ConfigError, match="keep their width"):
            list(serial_range(start, count, 20))
        return
    serials = list(serial_range(start, count, 20))
    assert serials[0] == start and len(serials) == count
    assert all(s.startswith(prefix) and len(s) == len(start) for s in serials)
    assert [int(s[len(prefix):]) for s in serials] == list(range(first, first + count))


@given(st.integers(0, (1 << 48) - 1).map(lambda v: v & ~(1 << 40)), st.integers(1, 5000))
def test_mac_addresses_stay_in_their_oui_block(value: int, count: int) -> None:
    start = ":".join(f"{b:02X}" for b in value.to_bytes(6, "big"))
    if (value & 0xFFFFFF) + count > 1 << 24:
        with pytest.raises(ConfigError, match="OUI block"):
            list(mac_range(start, count))
        return
    macs = list(mac_range(start, count))
    values = [int(m.replace(":", ""), 16) for m in macs]
    assert values == list(range(value, value + count))
    assert {v >> 24 for v in values} == {value >> 24}


def test_without_sflash_dct_image_only_mcu_ranges(tmp_path: Path) -> None:
    toml = copy_sample(tmp_path / "p")
    toml.write_text(re.sub(r'(?m)^dct_image = .*$', "", toml.read_text()))
    result = serialize(toml, 2, "SN00000001", "02:0A:F7:00:00:10", tmp_path / "out")
    assert {r.file for r in result.ranges} == {"mcu.bin"}
    manifest, _ = load_manifest(tmp_path / "out" / "manifest.json")
    assert [e["file"] for e in manifest["serialization"]] == ["mcu.bin", "mcu.bin"]
    header, rows = read_csv(tmp_path / "out")
    mcu = patched((tmp_path / "out" / "mcu.bin").read_bytes(), rows[1], header, "mcu.bin", FLASH_BASE)
    assert int(rows[1]["sflash_crc32"], 16) == zlib.crc32((tmp_path / "out" / "sflash.bin").read_bytes())
    assert int(rows[1]["mcu_crc32"], 16) == zlib.crc32(mcu)


def test_numbers_stay_reserved_when_publishing_fails_late(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A publish that fails after the checks (disk full, kill) must not let the next run issue the same numbers."""
    import errno

    import bundler.publish as publish

    toml = copy_sample(tmp_path / "p")
    state = tmp_path / "issued.json"

    def fail(*args, **kwargs):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(publish.os, "rename", fail)  # the swap into place (the state is written with os.replace)
    with pytest.raises(OutputError, match="stay reserved"):
        serialize(toml, 2, "SN00000001", "02:0A:F7:00:00:10", tmp_path / "o", state=state)
    monkeypatch.undo()
    assert not (tmp_path / "o").exists()
    with pytest.raises(BundleError, match="already issued"):
        serialize(toml, 2, "SN00000002", "02:0A:F7:00:00:20", tmp_path / "o", state=state)


# ---- signed manifest ----


def test_signed_serialized_manifest_verifies_and_a_bad_key_reserves_nothing(tmp_path: Path) -> None:
    from bundler.errors import VerificationError
    from bundler.signing import keygen, verify

    toml = copy_sample(tmp_path / "p")
    key, pub = keygen(tmp_path / "keys")
    state = tmp_path / "issued.json"
    result = CliRunner().invoke(app, ["serialize", str(toml), "-n", "2", "--serial-start", "SN00000001",
                                      "--mac-start", "02:0A:F7:00:00:10", "--out", str(tmp_path / "run"),
                                      "--state", str(state), "--sign", str(key)])
    assert result.exit_code == 0, result.output
    out = tmp_path / "run"
    verify(out / "manifest.json", pub)  # the signature covers the manifest with its serialization ranges
    assert json.loads((out / "manifest.json").read_text())["serialization"]
    doc = json.loads((out / "manifest.json").read_text())
    doc["serialization"][0]["size"] += 1
    (out / "manifest.json").write_text(json.dumps(doc, indent=2) + "\n")
    with pytest.raises(VerificationError):
        verify(out / "manifest.json", pub)
    before = state.read_bytes()
    bad = CliRunner().invoke(app, ["serialize", str(toml), "-n", "2", "--serial-start", "SN00000003",
                                   "--mac-start", "02:0A:F7:00:00:12", "--out", str(tmp_path / "run2"),
                                   "--state", str(state), "--sign", str(tmp_path / "missing.key")])
    assert bad.exit_code == 2 and "missing.key" in bad.output and "Traceback" not in bad.output
    assert state.read_bytes() == before and not (tmp_path / "run2").exists()


# ---- the state file's lock: two runs at once cannot both pass the reuse check ----


def test_a_state_file_locked_by_another_run_is_refused(tmp_path: Path) -> None:
    fcntl = pytest.importorskip("fcntl")
    toml = copy_sample(tmp_path / "p")
    state = tmp_path / "issued.json"
    with open(tmp_path / "issued.json.lock", "a+") as other:  # another run holds it (flock: per open file)
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(OutputError, match="another `bundle serialize` run holds this state file"):
            serialize(toml, 2, "SN00000001", "02:0A:F7:00:00:10", tmp_path / "run", state=state)
    assert not state.exists() and not (tmp_path / "run").exists()
    serialize(toml, 2, "SN00000001", "02:0A:F7:00:00:10", tmp_path / "run", state=state)  # released: it runs
    assert json.loads(state.read_text())["runs"][0]["serial_last"] == "SN00000002"


def test_without_fcntl_the_lock_is_msvcrt_locking(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Windows has no fcntl: the lock file's first byte is locked with msvcrt.locking (simulated here)."""
    import sys
    import types

    calls: list[tuple[int, int, int]] = []
    held = {"yes": False}

    def locking(fd: int, mode: int, nbytes: int) -> None:
        calls.append((fd, mode, nbytes))
        if held["yes"]:
            raise OSError(36, "Resource deadlock avoided")

    monkeypatch.setitem(sys.modules, "fcntl", None)  # import fcntl -> ImportError
    monkeypatch.setitem(sys.modules, "msvcrt", types.SimpleNamespace(LK_NBLCK=2, locking=locking))
    toml = copy_sample(tmp_path / "p")
    state = tmp_path / "issued.json"
    serialize(toml, 1, "SN00000001", "02:0A:F7:00:00:10", tmp_path / "run", state=state)
    assert len(calls) == 1 and calls[0][1:] == (2, 1)
    held["yes"] = True
    with pytest.raises(OutputError, match="another `bundle serialize` run holds this state file"):
        serialize(toml, 1, "SN00000002", "02:0A:F7:00:00:11", tmp_path / "run2", state=state)
    assert len(json.loads(state.read_text())["runs"]) == 1
