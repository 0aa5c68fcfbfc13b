"""`bundle inspect` on the sample build and on damaged copies of it, checked against the manifest, hashlib/zlib and
readers written here from the documented formats (wiced-formats.md §2, §3)."""

from __future__ import annotations

import hashlib
import io
import json
import re
import struct
import subprocess
import zlib
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from elftools.elf.elffile import ELFFile
from typer.testing import CliRunner

from bundler.cli import app
from conftest import SAMPLE

FLASH_BASE, SECTOR = 0x08000000, 4096
DCT1, DCT2, APP = 0x4000, 0x8000, 0xC000  # offsets in the MCU image
PASSPHRASE = "sample-passphrase-do-not-ship"


def schema() -> dict[str, Any]:
    return json.loads(resources.files("bundler").joinpath("schemas/inspect.schema.json").read_text())


def run(*args: Any) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["inspect", *map(str, args)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout


def run_json(*args: Any) -> tuple[int, dict[str, Any]]:
    code, out = run(*args, "--json")
    doc = json.loads(out)
    jsonschema.validate(doc, schema())
    assert doc["exit_code"] == code
    assert PASSPHRASE not in out
    for f in doc["files"]:
        assert not [x for x in f["findings"] if x["code"] == "internal"], f["findings"]
    return code, doc


def findings(doc: dict[str, Any], index: int = 0) -> list[dict[str, Any]]:
    return doc["files"][index]["findings"]


def codes(doc: dict[str, Any], index: int = 0, severity: str | None = None) -> set[str]:
    return {x["code"] for x in findings(doc, index) if severity is None or x["severity"] == severity}


@pytest.fixture(scope="module")
def built(sample_build) -> dict[str, Any]:
    out, bundle = sample_build
    return {"out": out, "bundle": bundle, "manifest": json.loads((out / "manifest.json").read_text()),
            "mcu": (out / "mcu.bin").read_bytes(), "sflash": (out / "sflash.bin").read_bytes()}


def artefact(manifest: dict[str, Any], name: str) -> dict[str, Any]:
    return next(a for a in manifest["artefacts"] if a["file"] == name)


def lut_entries(sflash: bytes) -> list[tuple[int, list[tuple[int, int]]]]:
    """Independent reader of wiced_apps_lut (§3.1): 8 x {u8 count, u8 secure, 8 x {u16 start, u16 count}}."""
    out = []
    for i in range(8):
        count, _secure = struct.unpack_from("<BB", sflash, 34 * i)
        runs = [struct.unpack_from("<HH", sflash, 34 * i + 2 + 4 * j) for j in range(count)]
        out.append((count, runs))
    return out


# ------------------------------------------------------------------------------------------- decoding the build


def test_mcu_bin_decodes_to_what_the_build_put_in(built) -> None:
    code, doc = run_json(built["out"] / "mcu.bin")
    assert code == 0
    f = doc["files"][0]
    mcu = built["mcu"]
    art = artefact(built["manifest"], "mcu.bin")
    assert (f["kind"], f["format"], f["status"]) == ("mcu", "bin", "ok")
    assert (f["crc32"], f["sum32"], f["sha256"]) == (art["crc32"], art["sum32"], art["sha256"])
    assert f["sha256"] == hashlib.sha256(mcu).hexdigest() and f["crc32"] == f"0x{zlib.crc32(mcu):08x}"
    regions = {r["name"]: r for r in f["mcu"]["regions"]}
    for r in art["regions"]:  # the manifest's regions start where the layout's do
        lay = regions[r["name"]]
        assert lay["offset"] == r["offset"]
        assert lay["used_size"] == r["size"]
        whole = mcu[lay["offset"]:lay["offset"] + lay["size"]]
        assert lay["sha256"] == hashlib.sha256(whole).hexdigest()
    assert regions["dct2"]["erased"]

    # DCT copy 1: header fields as an independent reader sees them (§2.1 offsets)
    copies = f["mcu"]["dct"]["copies"]
    full_size, used_size, magic = struct.unpack_from("<III", mcu, DCT1)
    wi, av, mfg, iw, seq, crc = struct.unpack_from("<BBBBII", mcu, DCT1 + 12)
    h = copies[0]["header"]
    assert (h["full_size"], h["used_size"], h["magic_number"]) == (full_size, used_size, magic) == (0x4000, 7600, 0x4D435242)
    assert (h["write_incomplete"], h["app_valid"], h["initial_write"], h["sequence"], h["crc32"]) == (wi, av, iw, seq, crc)
    assert used_size == built["manifest"]["dct"]["used_size"]
    locs = [struct.unpack_from("<BxxxII", mcu, DCT1 + 0x68 + 36 * i) for i in range(8)]
    assert [(a["id"], a["location"]) for a in h["apps_locations"]] == [("EXTERNAL_FIXED_LOCATION", loc) for _, loc, _ in locs]
    assert [loc for _, loc, _ in locs] == [34 * i for i in range(8)]
    assert copies[0]["valid"] and copies[1]["state"] == "erased"
    assert f["mcu"]["dct"]["current"]["copy"] == 1
    assert "reset vector" in f["mcu"]["dct"]["boot"]["summary"]
    # secrets redacted with their length
    sec = copies[0]["decoded"]["security_credentials"]
    assert sec["private_key"]["redacted"] is True and sec["private_key"]["length"] > 0
    key = copies[0]["decoded"]["wifi_config"]["stored_ap_list"][0]["security_key"]
    assert key == {"redacted": True, "length": len(PASSPHRASE)}

    # vector tables
    sp, reset = struct.unpack_from("<II", mcu, APP)
    v = f["mcu"]["vectors"]["app"]
    assert (v["initial_sp"], v["reset_handler"], v["ok"]) == (sp, reset, True)
    with open(SAMPLE / "build" / "app.elf", "rb") as fh:
        assert ELFFile(fh)["e_entry"] == reset


def test_sflash_decodes_to_what_the_build_put_in(built) -> None:
    code, doc = run_json(built["out"] / "sflash.bin")
    assert code == 0
    f = doc["files"][0]
    s = f["sflash"]
    man = built["manifest"]
    art = artefact(man, "sflash.bin")
    assert f["sha256"] == art["sha256"]
    assert s["chip"]["name"] == man["chip"]["name"]
    ours = lut_entries(built["sflash"])
    for e, m, (count, runs) in zip(s["entries"], man["lut"], ours):
        assert (e["index"], e["name"], e["count"]) == (m["index"], m["name"], count)
        assert [(r["start_sector"], r["sector_count"]) for r in e["runs"]] == runs
        if m["sector_count"]:
            assert runs == [(m["start_sector"], m["sector_count"])]
        assert not e["relocated"]
    comps = {c["name"]: c for c in s["components"]}
    for r in art["regions"]:
        if r["name"] == "lut":
            continue
        c = comps[r["name"]]
        assert (c["address"], c["size"], c["sha256"], c["crc32"]) == (r["offset"], r["size"], r["sha256"], r["crc32"])
    with open(SAMPLE / "build" / "ota_fr.stripped.elf", "rb") as fh:
        elf = ELFFile(fh)
        loads = [(seg["p_paddr"], seg["p_filesz"]) for seg in elf.iter_segments() if seg["p_type"] == "PT_LOAD"]
        entry = elf["e_entry"]
    fr = comps["fr_app"]["elf"]
    assert fr["e_entry"] == entry
    assert [(x["p_paddr"], x["p_filesz"]) for x in fr["segments"] if x["loaded"]] == loads
    assert fr["vectors"]["ok"]
    assert comps["dct_image"]["dct"]["valid"]
    assert comps["dct_image"]["dct"]["header"]["used_size"] == man["dct"]["used_size"]
    # the filesystem's files equal the sample's resources folder
    files = {x["path"]: x for x in comps["filesystem"]["filesystem"]["files"] if not x["is_dir"]}
    res = SAMPLE / "resources"
    expected = {p.relative_to(res).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in res.rglob("*") if p.is_file()}
    assert {k: v["sha256"] for k, v in files.items()} == expected
    fw = (SAMPLE / "firmware" / "43362A2-PLACEHOLDER.bin").read_bytes()
    assert comps["wifi_firmware"]["sha256"] == hashlib.sha256(fw).hexdigest()
    assert s["unused_not_erased"] == [] and s["extra_header_slots"] == []


def test_folder_with_manifest_all_pass(built) -> None:
    code, doc = run_json(built["out"], "--manifest", built["out"] / "manifest.json")
    assert code == 0
    assert [Path(f["file"]).name for f in doc["files"]] == ["mcu.bin", "mcu.hex", "sflash.bin"]
    for f in doc["files"]:
        assert f["verification"]["result"] == "pass"
        assert f["verification"]["identical_file"]
        assert all(r["status"] == "ok" for r in f["verification"]["regions"])
    assert doc["manifest"]["name"] == "ota_demo"


def test_text_output_plain_and_rich_without_secrets(built) -> None:
    code, out = run(built["out"] / "mcu.bin", built["out"] / "sflash.bin")
    assert code == 0
    assert "DCT copies" in out and "apps look-up table" in out and "redacted, 29 bytes" in out
    assert PASSPHRASE not in out and "PRIVATE KEY" not in out
    assert "\x1b[" not in out  # CliRunner is not a terminal: plain text
    from bundler.inspect import inspect_paths
    from bundler.report import render

    buf = io.StringIO()
    render(inspect_paths([built["out"] / "sflash.bin"]), file=buf, terminal=True)
    assert "apps look-up table" in buf.getvalue() and PASSPHRASE not in buf.getvalue()


def test_help_documents_exit_codes() -> None:
    result = CliRunner().invoke(app, ["inspect", "--help"])
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    assert "0 all good" in text and "1 a verification failed" in text and "2 an input could not be read" in text


# ------------------------------------------------------------------------------------------- flipped bytes

MCU_FLIPS = {"bootloader": 0x100, "dct1": DCT1 + 0x1000, "app": APP + 0x200}


def flipped(built, tmp_path: Path, image: str, offset: int, mask: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Inspect the built `image` ("mcu" or "sflash") with one byte flipped against the manifest: (report, regions
    that are not ok)."""
    data = bytearray(built[image])
    data[offset] ^= mask
    path = tmp_path / f"{image}.bin"
    path.write_bytes(data)
    code, doc = run_json(path, "--manifest", built["out"] / "manifest.json")
    assert code == 1
    return doc, [r for r in doc["files"][0]["verification"]["regions"] if r["status"] != "ok"]


@pytest.mark.parametrize("region", sorted(MCU_FLIPS))
def test_flipped_byte_in_mcu_region_names_it(built, tmp_path: Path, region: str) -> None:
    offset = MCU_FLIPS[region]
    doc, bad = flipped(built, tmp_path, "mcu", offset, 0x01)
    assert [r["name"] for r in bad] == [region]
    assert bad[0]["first_difference"]["address"] == FLASH_BASE + offset
    assert bad[0]["actual"]["crc32"] != bad[0]["expected"]["crc32"]
    msg = [x for x in findings(doc) if x["code"] == "region_mismatch"][0]
    assert msg["region"] == region and f"0x{FLASH_BASE + offset:08X}" in msg["message"]


def sflash_flips(manifest: dict[str, Any]) -> dict[str, int]:
    art = artefact(manifest, "sflash.bin")
    flips = {r["name"]: r["offset"] + r["size"] // 2 for r in art["regions"]}
    flips["lut"] = 0x10  # inside entry 0's first run: still a plausible table
    return flips


@pytest.mark.parametrize("region", ["lut", "fr_app", "dct_image", "ota_app", "filesystem", "wifi_firmware"])
def test_flipped_byte_in_sflash_region_names_it(built, tmp_path: Path, region: str) -> None:
    offset = sflash_flips(built["manifest"])[region]
    _, bad = flipped(built, tmp_path, "sflash", offset, 0x80)
    assert [r["name"] for r in bad] == [region]
    assert bad[0]["first_difference"]["offset"] == offset


@pytest.mark.parametrize("kind,offset,where", [("sflash", 0x80000 + 7, "sector 128"), ("sflash", 0x1000 + 3000, "fr_app"),
                                               ("mcu", DCT2 + 0x10, "dct2"), ("mcu", 0x80000, "app")])
def test_flipped_byte_in_erased_area_reported_with_address(built, tmp_path: Path, kind: str, offset: int,
                                                           where: str) -> None:
    data = bytearray(built[kind])
    data[offset] ^= 0x04
    path = tmp_path / f"{kind}.bin"
    path.write_bytes(data)
    code, doc = run_json(path, "--manifest", built["out"] / "manifest.json")
    assert code == 1
    v = doc["files"][0]["verification"]
    assert all(r["status"] == "ok" for r in v["regions"])
    base = FLASH_BASE if kind == "mcu" else 0
    assert v["outside_regions"]["non_fill_bytes"] == 1
    run0 = v["outside_regions"]["runs"][0]
    assert (run0["offset"], run0["address"], run0["size"], run0["first_value"]) == (offset, base + offset, 1, 0xFB)
    assert run0["where"].startswith(where)
    msg = [x for x in findings(doc) if x["code"] == "not_erased"][0]
    assert f"0x{base + offset:08X}" in msg["message"] and "erased" in msg["message"]


def test_flip_without_reference_file_still_names_region(built, tmp_path: Path) -> None:
    """The programming house may have only the manifest: mismatches are found from the checksums alone."""
    manifest = tmp_path / "only" / "manifest.json"
    manifest.parent.mkdir()
    manifest.write_text((built["out"] / "manifest.json").read_text())
    data = bytearray(built["mcu"])
    data[APP + 4] ^= 0xFF
    (tmp_path / "mcu.bin").write_bytes(data)
    code, doc = run_json(tmp_path / "mcu.bin", "--manifest", manifest)
    assert code == 1
    v = doc["files"][0]["verification"]
    assert v["reference_available"] is False
    assert [r["name"] for r in v["regions"] if r["status"] == "mismatch"] == ["app"]
    assert "not next to the manifest" in [x for x in findings(doc) if x["code"] == "region_mismatch"][0]["message"]


# ------------------------------------------------------------------------------------------- sizes and formats


def test_truncated_files_fail_with_reason(built, tmp_path: Path) -> None:
    for kind, cut in (("sflash", 0x80000), ("mcu", 0x20000)):
        path = tmp_path / f"{kind}.bin"
        path.write_bytes(built[kind][:cut])
        code, doc = run_json(path, "--manifest", built["out"] / "manifest.json")
        assert code == 1, kind
        msg = [x for x in findings(doc) if x["code"] == "truncated"][0]["message"]
        assert "shorter" in msg and f"0x{cut:X}" in msg
        code, doc = run_json(path)  # without a manifest: shorter than the flash / chip
        assert code == 1 and "truncated" in codes(doc)


def test_dump_padded_with_ff_passes_with_note_and_zero_padding_fails(built, tmp_path: Path) -> None:
    ff = tmp_path / "readback_ff.bin"
    ff.write_bytes(built["sflash"] + b"\xff" * 0x100000)  # read from a 2 MiB part
    code, doc = run_json(ff, "--manifest", built["out"] / "manifest.json")
    assert code == 0
    assert "longer_fill" in codes(doc, severity="note")
    assert doc["files"][0]["verification"]["result"] == "pass"
    code, doc = run_json(ff)  # alone: a 2 MiB chip image with the same content
    assert code == 0 and doc["files"][0]["sflash"]["chip"]["size"] == 0x200000
    zero = tmp_path / "readback_00.bin"
    zero.write_bytes(built["sflash"] + b"\x00" * 0x100000)
    code, doc = run_json(zero, "--manifest", built["out"] / "manifest.json")
    assert code == 1
    msg = [x for x in findings(doc) if x["code"] == "longer"][0]
    assert msg["offset"] == 0x100000
    # the same extra bytes without a manifest (checked against the chip) and in an MCU dump (address from the base)
    zero.write_bytes(built["sflash"] + b"\xff" * 0x100 + b"\x00" * 0x10)
    code, doc = run_json(zero)
    msg = [x for x in findings(doc) if x["code"] == "longer"][0]
    size = doc["files"][0]["sflash"]["chip"]["size"]
    assert code == 1 and (msg["offset"], msg["address"]) == (size + 0x100, size + 0x100)
    mcu = tmp_path / "mcu_dump.bin"
    mcu.write_bytes(built["mcu"] + b"\xff" * 0x20 + b"\x01")
    for manifest in ([], ["--manifest", built["out"] / "manifest.json"]):
        code, doc = run_json(mcu, *manifest)
        msg = [x for x in findings(doc) if x["code"] == "longer"][0]
        assert code == 1 and msg["offset"] == len(built["mcu"]) + 0x20
        assert msg["address"] == FLASH_BASE + msg["offset"] and f"0x{msg['offset']:X}" in msg["message"]


def test_hex_and_bin_of_same_bytes_are_the_same_image(built, tmp_path: Path) -> None:
    from bundler.writers import intel_hex

    sparse = tmp_path / "sparse.hex"
    sparse.write_bytes(intel_hex(built["mcu"], FLASH_BASE, skip_fill=0xFF))
    code, doc = run_json(built["out"] / "mcu.bin", built["out"] / "mcu.hex", sparse, "--manifest",
                         built["out"] / "manifest.json")
    assert code == 0
    images = {f["verification"]["actual"]["sha256"] for f in doc["files"]}
    assert images == {artefact(built["manifest"], "mcu.bin")["sha256"]}
    assert "hex_partial" in codes(doc, 2, severity="note")  # the sparse HEX leaves the erased tail out
    assert [f["kind"] for f in doc["files"]] == ["mcu"] * 3
    # a flipped byte in the HEX is found like in the BIN
    data = bytearray(built["mcu"])
    data[APP + 0x20] ^= 1
    bad = tmp_path / "bad.hex"
    bad.write_bytes(intel_hex(bytes(data), FLASH_BASE, skip_fill=None))
    code, doc = run_json(bad, "--manifest", built["out"] / "manifest.json")
    assert code == 1
    assert [r["name"] for r in doc["files"][0]["verification"]["regions"] if r["status"] != "ok"] == ["app"]


# ------------------------------------------------------------------------------------------- DCT states


def sdk_crc(copy: bytes) -> int:
    """§2.2: reflected CRC-32, init 0xFFFFFFFF, no final XOR, over the 16 KiB copy with the crc32 field as 0."""
    area = bytearray(copy)
    area[0x14:0x18] = bytes(4)
    return zlib.crc32(bytes(area)) ^ 0xFFFFFFFF


def with_header(copy: bytes, **fields: int) -> bytes:
    """Set header fields with an independent writer (§2.1 offsets)."""
    offsets = {"write_incomplete": (0x0C, "<B"), "initial_write": (0x0F, "<B"), "sequence": (0x10, "<I"),
               "crc32": (0x14, "<I")}
    out = bytearray(copy)
    for name, value in fields.items():
        off, fmt = offsets[name]
        struct.pack_into(fmt, out, off, value)
    return bytes(out)


def sealed(copy: bytes, **fields: int) -> bytes:
    """Header fields set, then a correct CRC."""
    copy = with_header(copy, crc32=0, **fields)
    return with_header(copy, crc32=sdk_crc(copy))


def test_bare_dct_with_bad_crc_fails_and_good_crc_passes(built, tmp_path: Path) -> None:
    dct = built["bundle"].dct
    good = tmp_path / "dct.bin"
    good.write_bytes(dct)
    code, doc = run_json(good)
    assert code == 0 and doc["files"][0]["kind"] == "dct"
    assert doc["files"][0]["dct"]["copy"]["valid"]
    bad = tmp_path / "dct_badcrc.bin"
    bad.write_bytes(with_header(dct, initial_write=0, crc32=0x12345678))
    code, doc = run_json(bad)
    assert code == 1
    assert "dct_invalid" in codes(doc)
    copy = doc["files"][0]["dct"]["copy"]
    assert copy["crc"]["ok"] is False and copy["crc"]["stored"] == "0x12345678"
    full = dct + b"\xff" * (0x4000 - len(dct))
    assert copy["crc"]["computed"] == f"0x{sdk_crc(with_header(full, initial_write=0)):08x}"
    computed = tmp_path / "dct_crc.bin"
    computed.write_bytes(sealed(full, initial_write=0)[:len(dct)])
    code, doc = run_json(computed)
    assert code == 0 and doc["files"][0]["dct"]["copy"]["crc"]["ok"]


def mcu_with_copies(mcu: bytes, copy1: bytes, copy2: bytes) -> bytes:
    out = bytearray(mcu)
    out[DCT1:DCT1 + 0x4000] = copy1
    out[DCT2:DCT2 + 0x4000] = copy2
    return bytes(out)


def test_mcu_with_bad_crc_and_no_other_copy_fails(built, tmp_path: Path) -> None:
    copy1 = built["mcu"][DCT1:DCT1 + 0x4000]
    path = tmp_path / "mcu.bin"
    path.write_bytes(mcu_with_copies(built["mcu"], with_header(copy1, initial_write=0, crc32=1), b"\xff" * 0x4000))
    code, doc = run_json(path)
    assert code == 1
    assert "no_valid_dct" in codes(doc)
    assert doc["files"][0]["mcu"]["dct"]["current"]["copy"] is None


def test_mcu_dct_copy2_current_by_sequence(built, tmp_path: Path) -> None:
    copy1 = sealed(built["mcu"][DCT1:DCT1 + 0x4000], initial_write=0, sequence=4)
    copy2 = sealed(copy1, sequence=5)
    path = tmp_path / "mcu.bin"
    path.write_bytes(mcu_with_copies(built["mcu"], copy1, copy2))
    code, doc = run_json(path)
    assert code == 0
    dct = doc["files"][0]["mcu"]["dct"]
    assert dct["current"]["copy"] == 2 and "sequence 5 > copy 1 sequence 4" in dct["current"]["reason"]
    assert [c["valid"] for c in dct["copies"]] == [True, True]
    assert [c["crc"]["ok"] for c in dct["copies"]] == [True, True]
    # copy 2 with a bad CRC: copy 1 is used and copy 2 reported
    path.write_bytes(mcu_with_copies(built["mcu"], copy1, with_header(copy2, crc32=7)))
    code, doc = run_json(path)
    assert code == 0
    assert doc["files"][0]["mcu"]["dct"]["current"]["copy"] == 1
    assert "dct_copy_invalid" in codes(doc, severity="warning")


# ------------------------------------------------------------------------------------------- LUT problems


def test_lut_entry_past_the_chip_is_a_finding(built, tmp_path: Path) -> None:
    data = bytearray(built["sflash"])
    struct.pack_into("<BBHH", data, 34 * 6, 1, 0, 300, 4)  # app1: sectors 300..303 on a 256-sector chip
    path = tmp_path / "sflash.bin"
    path.write_bytes(data)
    code, doc = run_json(path)
    assert code == 1
    msg = [x for x in findings(doc) if x["code"] == "lut_past_chip"][0]
    assert msg["region"] == "app1" and msg["address"] == 300 * SECTOR
    entry = doc["files"][0]["sflash"]["entries"][6]
    assert entry["runs"][0]["past_chip"] is True
    code, doc = run_json(path, "--manifest", built["out"] / "manifest.json")
    assert code == 1
    assert [r["name"] for r in doc["files"][0]["verification"]["regions"] if r["status"] != "ok"] == ["lut"]


def test_unused_sector_not_erased_is_flagged(built, tmp_path: Path) -> None:
    data = bytearray(built["sflash"])
    data[0xF0000:0xF0004] = b"junk"
    path = tmp_path / "sflash.bin"
    path.write_bytes(data)
    code, doc = run_json(path)
    assert code == 0  # the device would work; the warning says where
    stale = doc["files"][0]["sflash"]["unused_not_erased"]
    assert stale == [{"first_sector": 0xF0, "last_sector": 0xF0, "first_address": 0xF0000}]
    assert "unused_not_erased" in codes(doc, severity="warning")


# ------------------------------------------------------------------------------------------- kinds and errors


def test_unknown_and_missing_inputs_exit_2(tmp_path: Path) -> None:
    junk = tmp_path / "junk.bin"
    junk.write_bytes(bytes(range(256)) * 7)
    code, doc = run_json(junk)
    assert code == 2 and "--kind" in findings(doc)[0]["message"]
    code, doc = run_json(tmp_path / "absent.bin")
    assert code == 2 and "not found" in findings(doc)[0]["message"]
    code, out = run(junk, "--kind", "nonsense")
    assert code == 2
    code, out = run(junk, "--manifest", junk)
    assert code == 2


def test_kind_forced_and_component_files_against_manifest(built) -> None:
    fw = SAMPLE / "firmware" / "43362A2-PLACEHOLDER.bin"
    code, doc = run_json(fw, "--kind", "wifi_firmware", "--manifest", built["out"] / "manifest.json")
    assert code == 0
    assert doc["files"][0]["verification"]["region"] == "wifi_firmware"
    code, doc = run_json(SAMPLE / "build" / "ota_fr.stripped.elf", "--manifest", built["out"] / "manifest.json")
    assert code == 0 and doc["files"][0]["kind"] == "app"
    assert doc["files"][0]["verification"]["region"] in ("fr_app", "ota_app")
    code, doc = run_json(SAMPLE / "build" / "app.elf")
    assert code == 0 and doc["files"][0]["app"]["vectors"]["ok"]
    # an app ELF is checked by the bytes it loads into the MCU's app region
    code, doc = run_json(SAMPLE / "build" / "app.elf", "--manifest", built["out"] / "manifest.json")
    assert code == 0 and doc["files"][0]["verification"] == {"artefact": "mcu.bin", "region": "app", "result": "pass"}
    code, doc = run_json(SAMPLE / "build" / "bootloader.elf", "--manifest", built["out"] / "manifest.json")
    assert code == 1 and doc["files"][0]["verification"]["result"] == "fail"  # not an app-region image


def test_unstripped_app_elf_matches_the_stripped_copy_the_build_stored(sample_copy: Path, tmp_path: Path) -> None:
    """bundle.toml names the unstripped ELF (the build stores its stripped form): QA may inspect that same ELF."""
    text = sample_copy.read_text()
    sample_copy.write_text(text.replace('fr_app = "build/ota_fr.stripped.elf"', 'fr_app = "build/ota_fr.elf"'))
    out = tmp_path / "out"
    assert CliRunner().invoke(app, ["build", str(sample_copy), "--out", str(out)]).exit_code == 0
    elf = sample_copy.parent / "build" / "ota_fr.elf"
    code, doc = run_json(elf, "--manifest", out / "manifest.json")
    assert code == 0 and doc["files"][0]["verification"] == {"artefact": "sflash.bin", "region": "fr_app",
                                                             "result": "pass"}
    note = next(f for f in doc["files"][0]["findings"] if f["code"] == "matches_region")
    assert "stripped form" in note["message"]
    # the stored bytes, cut from sflash.bin by the manifest, load what the unstripped ELF loads (readelf, objcopy)
    manifest = json.loads((out / "manifest.json").read_text())
    region = next(r for r in artefact(manifest, "sflash.bin")["regions"] if r["name"] == "fr_app")
    stored = tmp_path / "stored.elf"
    stored.write_bytes((out / "sflash.bin").read_bytes()[region["offset"]:region["offset"] + region["size"]])
    assert stored.stat().st_size < elf.stat().st_size
    def loads(f: Path) -> list[tuple[str, str, str, str, bytes]]:
        """(vaddr, paddr, filesz, memsz, file bytes) of each LOAD program header, as readelf prints them."""
        rows = re.findall(r"^\s+LOAD\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)", subprocess.run(
            ["arm-none-eabi-readelf", "-lW", str(f)], capture_output=True, text=True, check=True).stdout, re.M)
        raw = f.read_bytes()
        return [(v, p, n, m, raw[int(o, 16):int(o, 16) + int(n, 16)]) for o, v, p, n, m in rows]

    assert loads(elf) and loads(elf) == loads(stored)
    # an unstripped ELF whose stripped form was not what the build stored: fails, saying what to inspect instead
    code, doc = run_json(elf, "--manifest", built_default_manifest(tmp_path))
    assert code == 1 and "inspect that file" in doc["files"][0]["findings"][-1]["message"]


def built_default_manifest(tmp_path: Path) -> Path:
    out = tmp_path / "default"
    assert CliRunner().invoke(app, ["build", str(SAMPLE / "bundle.toml"), "--out", str(out)]).exit_code == 0
    return out / "manifest.json"
