"""Each DCT generation's Construct declarations against the sizes and offsets compiled from that SDK's own headers
(tools/sdkfacts/dct_layout.json, made by tools/sdkfacts/dct_layout.py with arm-none-eabi-gcc from the mirrors)."""

from __future__ import annotations

import hashlib
import json
import shutil
import struct
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner
from construct import Array, Bytes, Construct, Padded, Renamed, Struct, Union

import bundler.formats.dct as F
from bundler.build import build_bundle
from bundler.cli import app
from bundler.config import load_project
from bundler.dct.generation import check, detect
from bundler.errors import ConfigError, InputError
from bundler.manifest import load_with_layouts
from dct_facts import AML, ENTRIES, TABLE


def _struct_of(gen: F.DctGeneration, flags: tuple[bool, bool, bool], c_name: str) -> Construct | None:
    """The declaration a generation uses for the C typedef `c_name` (None: not a DCT structure we declare)."""
    data_t = F.platform_dct_data_t(*flags, gen=gen)
    if c_name == "platform_dct_data_t":
        return data_t
    if c_name == "platform_dct_header_t":
        return gen.header
    sections = {name: sub for name, sub, _ in gen.fixed + gen.optional}
    by_type = {"platform_dct_bt_config_t": "bt_config", "platform_dct_p2p_config_t": "p2p_config",
               "platform_dct_ota2_config_t": "ota2_config", "platform_dct_version_t": "dct_version"}
    if c_name in by_type:
        return sections.get(by_type[c_name])
    found = getattr(F, c_name, None)
    return found if isinstance(found, Construct) else None


def _walk(con: Construct, path: list[str]) -> tuple[int, Construct]:
    """(offset, member) of a dotted member path, computed from the Construct tree (C offsetof)."""
    offset = 0
    for name in path:
        while isinstance(con, (Renamed, Padded)):
            con = con.subcon
        assert not isinstance(con, Array), path
        if isinstance(con, Bytes) and name in ("octet", "value"):  # wiced_mac_t / wiced_hostname_t: { uint8_t x[] }
            continue
        if isinstance(con, Union):  # union members all start at 0; 3.1.x spells filesystem "filesytem"
            con = next(s for s in con.subcons if s.name == name.replace("filesytem", "filesystem"))
            continue
        assert isinstance(con, Struct), (path, con)
        for sub in con.subcons:
            if sub.name == name:
                con = sub
                break
            offset += sub.sizeof()
        else:
            raise AssertionError(f"no member {name!r} (path {'.'.join(path)})")
    return offset, con


@pytest.mark.parametrize("entry", sorted(ENTRIES))
def test_generation_matches_compiled_headers(entry: str) -> None:
    gen_name, *flags = ENTRIES[entry]
    gen = F.GENERATIONS[gen_name]
    facts: dict[str, Any] = TABLE[entry]
    checked = 0
    for c_name, size in facts["sizeof"].items():
        con = _struct_of(gen, tuple(flags), c_name)  # type: ignore[arg-type]
        if con is None:
            continue
        assert con.sizeof() == size, (c_name, con.sizeof(), size)
        checked += 1
        for key, offset in facts["offsetof"].items():
            if key.startswith(c_name + "."):
                got, _member = _walk(con, key.split(".")[1:])
                assert got == offset, (key, got, offset)
                checked += 1
    # every structure of the DCT was compared, down to the members (a typedef the test skipped would show here)
    assert {"platform_dct_header_t", "platform_dct_data_t", "platform_dct_mfg_info_t", "platform_dct_wifi_config_t",
            "image_location_t", "boot_detail_t"} <= {c for c in facts["sizeof"] if _struct_of(gen, tuple(flags), c)}
    assert checked > 100


def test_every_compiled_entry_is_mapped() -> None:
    """A new table entry needs a generation here; 3.1.0 is the only one without (no apps_locations: no LUT)."""
    assert set(TABLE) - set(ENTRIES) == {AML + "v3.1.0"}
    assert "platform_dct_header_t.apps_locations" not in TABLE[AML + "v3.1.0"]["offsetof"]
    with pytest.raises(KeyError, match="3.1.0"):
        F.generation("3.1.0")


def test_sdk_versions_map_to_their_generation() -> None:
    assert F.generation("3.1.1") is F.GENERATIONS["3.1.2"]
    assert F.generation("3.5.2").header is F.platform_dct_header_t  # the header `bundle` always built
    assert [g.copy_rule for g in F.GENERATIONS.values()] == ["is_current_dct"] * 3 + ["header_crc", "version_crc"]


# ---------------------------------------------------------------------------------------------------------------
# Generation of a DCT from its bytes; the layout's `sdk` (board, bundle.toml), recorded in the manifest
# ---------------------------------------------------------------------------------------------------------------
def _hand_made(entry: str, version_struct: bool = False) -> bytes:
    """A DCT copy of a generation, packed at the compiled offsets of the table (not with the Constructs)."""
    off = TABLE[entry]["offsetof"]
    size = TABLE[entry]["sizeof"]["platform_dct_data_t"]
    blob = bytearray(0x4000)
    struct.pack_into("<II", blob, 0, 0x4000, size)  # full_size, used_size
    struct.pack_into("<I", blob, off["platform_dct_header_t.magic_number"], 0x4D435242)
    if version_struct:
        at = off["platform_dct_data_t.dct_version"]
        struct.pack_into("<I", blob, at + off["platform_dct_version_t.magic_number"], 0xDC0200CD)
        struct.pack_into("<H", blob, at + off["platform_dct_version_t.version"], 0x0370)
    return bytes(blob)


@pytest.mark.parametrize(("entry", "version_struct", "expected"), [
    (AML + "v3.5.2", False, ("3.5.2",)),
    (AML + "v3.3.1", False, ("3.1.2", "3.3.1", "3.4.0")),
    (AML + "v3.1.2", False, ("3.1.2", "3.3.1", "3.4.0")),
    (AML + "v3.7.0", True, ("3.7.0",)),
    (AML + "v3.7.0", False, ("3.1.2", "3.3.1", "3.4.0")),  # no version struct: read as an older 388-byte DCT
])
def test_generation_detected_from_bytes(entry: str, version_struct: bool, expected: tuple[str, ...]) -> None:
    found = detect(_hand_made(entry, version_struct))
    assert found is not None and found.generations == expected
    assert detect(bytes(0x4000)) is None  # no magic anywhere


def test_dct_of_another_generation_refused_naming_both(tmp_path: Path) -> None:
    f = tmp_path / "dct331.bin"
    f.write_bytes(_hand_made(AML + "v3.3.1"))
    res = CliRunner().invoke(app, ["dct", "decode", str(f)])  # the default board: sdk 3.5.2
    assert res.exit_code == 2 and "Traceback" not in res.output
    line = res.output.strip()
    assert "\n" not in line and "SDK 3.1.1/3.1.2/3.3.1/3.4.0" in line and "SDK is 3.5.2" in line, line
    with pytest.raises(InputError, match="the DCT is SDK 3.7.0 .* but the layout's SDK is 3.3.1"):
        check(_hand_made(AML + "v3.7.0", True), "3.3.1", "x")


def _built(toml: Path, out: Path) -> dict[str, bytes]:
    build_bundle(toml, out)
    return {p.name: p.read_bytes() for p in sorted(out.iterdir()) if p.is_file()}


def test_sdk_override_in_bundle_toml(sample_copy: Path, sample_build: Any, tmp_path: Path) -> None:
    base_out, _bundle = sample_build
    text = sample_copy.read_text()
    # explicit sdk = "3.5.2" (the board's): every output byte-identical to the sample's
    sample_copy.write_text('sdk = "3.5.2"\n' + text)
    same = _built(sample_copy, tmp_path / "same")
    base = {p.name: p.read_bytes() for p in sorted(base_out.iterdir()) if p.is_file()}
    images = ("mcu.bin", "mcu.hex", "sflash.bin")
    assert {n: same[n] for n in images} == {n: base[n] for n in images}
    # the manifest differs only by bundle.toml's SHA-256 (its text gained a line)
    old_sha, new_sha = (hashlib.sha256(t.encode()).hexdigest().encode() for t in (text, sample_copy.read_text()))
    assert same["manifest.json"] == base["manifest.json"].replace(old_sha, new_sha)
    assert json.loads(same["manifest.json"])["board"]["sdk"] == "3.5.2"
    # another SDK: its generation's DCT (tests/test_dct_generations_build.py), the other images unchanged
    sample_copy.write_text('sdk = "3.3.1"\n' + text)
    other = _built(sample_copy, tmp_path / "o331")
    assert json.loads(other["manifest.json"])["board"]["sdk"] == "3.3.1"
    assert other["mcu.bin"] != base["mcu.bin"]
    dct1 = slice(0x4000, 0x8000)
    assert other["mcu.bin"][:dct1.start] == base["mcu.bin"][:dct1.start]
    assert other["mcu.bin"][dct1.stop:] == base["mcu.bin"][dct1.stop:]
    # an SDK without a DCT generation: refused listing the known ones
    sample_copy.write_text('sdk = "3.1.0"\n' + text)
    with pytest.raises(ConfigError, match=r"sdk: SDK '3.1.0' has no known DCT generation \(known: 3.1.1, 3.1.2, "):
        load_project(sample_copy)


def test_manifest_sdk_is_what_inspect_reads_with(sample_build: Any, tmp_path: Path) -> None:
    """The manifest's board.sdk is the SDK the bundle was built for: a bundle whose manifest says 3.3.1 (as a
    bundle.toml override would record) holds a 3.5.2 DCT, which inspect reports as a generation failure."""
    base_out, _bundle = sample_build
    out = tmp_path / "b"
    shutil.copytree(base_out, out)
    doc = json.loads((out / "manifest.json").read_text())
    doc["board"]["sdk"] = "3.3.1"
    (out / "manifest.json").write_text(json.dumps(doc, indent=2))
    _doc, _sha, board, _chip, _notes = load_with_layouts(out / "manifest.json")
    assert board.sdk == "3.3.1"
    res = CliRunner().invoke(app, ["inspect", str(out / "mcu.bin"), "--manifest", str(out / "manifest.json"),
                                   "--json"])
    report = json.loads(res.output)
    text = json.dumps(report)
    # a content finding in bytes the manifest vouches for is a warning (bundler/inspect's --manifest rule)
    assert res.exit_code == 0, res.output[-2000:]
    assert "dct_generation" in text and "the DCT is SDK 3.5.2" in text and "layout's SDK is 3.3.1" in text
    assert '"generation": {"sdk": "SDK 3.5.2", "evidence": "magic_number at 0x08' in text
    # without the manifest's vouching (the bytes alone, read with a 3.3.1 board) it is a failure
    board = tmp_path / "board331.toml"
    board.write_text('extends = "bcm943362wcd4"\nsdk = "3.3.1"\n')
    res = CliRunner().invoke(app, ["inspect", str(out / "mcu.bin"), "--board", str(board)])
    assert res.exit_code == 1 and "dct_generation" in res.output and "layout's SDK is 3.3.1" in res.output, res.output
