"""Every DCT generation end to end: a DCT built from a [dct] table puts each field at the offset compiled from that
SDK's own headers (tools/sdkfacts/dct_layout.json, read here with struct, not with the Construct declarations);
dct decode -> TOML -> build gives the same bytes; two-copy images packed by hand at the compiled offsets, with CRCs
from zlib, pick the copy that generation's wiced_dct_get_current_address picks."""

from __future__ import annotations

import json
import re
import struct
import tomllib
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import bundler.formats.dct as F
from bundler.cli import app
from bundler.dct.config import build_dct
from bundler.dct.copies import choose_current, copy_status
from bundler.dct.options import DctOptions
from bundler.dct.toml_out import dct_to_toml
from bundler.errors import ConfigError, InputError
from dct_copy_cases import COPY, TWO_COPY_CASES, pack_copy
from dct_facts import AML, ENTRIES, TABLE

BRCM = 0x4D435242
VERSION_MAGIC = 0xDC0200CD


def _s(text: str, size: int) -> bytes:
    return text.encode().ljust(size, b"\0")


def _u8(v: int) -> bytes:
    return struct.pack("<B", v)


def _u16(v: int) -> bytes:
    return struct.pack("<H", v)


def _u32(v: int) -> bytes:
    return struct.pack("<I", v)


# (C member path under platform_dct_data_t, [dct] table path, value, the bytes at the compiled offset); a row
# applies where the compiled table has that member
H = "dct_header."
FIELDS: list[tuple[str, str, Any, bytes]] = [
    (H + "app_valid", "header.app_valid", 7, _u8(7)),
    (H + "mfg_info_programmed", "header.mfg_info_programmed", 3, _u8(3)),
    (H + "write_incomplete", "header.write_incomplete", 0, _u8(0)),
    (H + "load_app_func", "header.load_app_func", 0x08012345, _u32(0x08012345)),
    (H + "boot_detail.entry_point", "header.boot_detail.entry_point", 0x0800ABCD, _u32(0x0800ABCD)),
    (H + "boot_detail.load_details.valid", "header.boot_detail.load_details.valid", 1, _u8(1)),
    (H + "boot_detail.load_details.load_once", "header.boot_detail.load_details.load_once", 1, _u8(1)),
    (H + "boot_detail.load_details.source.id", "header.boot_detail.load_details.source",
     {"id": "EXTERNAL_FIXED_LOCATION", "location": 0x1234, "size": 0x5678}, _u8(2)),
    (H + "boot_detail.load_details.source.detail.external_fixed.location", "", None, _u32(0x1234)),
    (H + "boot_detail.load_details.source.detail.external_fixed.size", "", None, _u32(0x5678)),
    (H + "sequence", "header.sequence", 0x01020304, _u32(0x01020304)),
    (H + "initial_write", "header.initial_write", 1, _u8(1)),
    (H + "is_current_dct", "header.is_current_dct", 1, _u8(1)),
    (H + "magic_number", "", None, _u32(BRCM)),
    ("mfg_info.manufacturer", "mfg_info.manufacturer", "ACME Devices", _s("ACME Devices", 32)),
    ("mfg_info.serial_number", "mfg_info.serial_number", "SN-000042", _s("SN-000042", 20)),
    ("mfg_info.bootloader_version", "mfg_info.bootloader_version", "BL1", _s("BL1", 8)),
    ("security_credentials.cooee_key", "security_credentials.cooee_key", "0123456789abcdef", b"0123456789abcdef"),
    ("security_credentials.certificate", "security_credentials.certificate", "CERT", _s("CERT", 8)),
    ("wifi_config.device_configured", "wifi_config.device_configured", True, _u8(1)),
    ("wifi_config.country_code", "wifi_config.country_code", "GB", b"GB\0\0"),
    ("wifi_config.mac_address", "wifi_config.mac_address", "02:11:22:33:44:55", bytes.fromhex("021122334455")),
    ("wifi_config.soft_ap_settings.channel", "wifi_config.soft_ap_settings.channel", 11, _u8(11)),
    ("wifi_config.soft_ap_settings.security", "wifi_config.soft_ap_settings.security", "WPA2_TKIP_PSK",
     _u32(0x00400002)),
    ("wifi_config.config_ap_settings.SSID.length", "wifi_config.config_ap_settings.SSID", "cfg-ap", _u8(6)),
    ("wifi_config.config_ap_settings.SSID.value", "", None, b"cfg-ap\0"),
    ("wifi_config.config_ap_settings.details_valid", "wifi_config.config_ap_settings.details_valid", 0x11223344,
     _u32(0x11223344)),
    ("ethernet_config.mac_address", "ethernet_config.mac_address", "02:EE:00:00:00:01",
     bytes.fromhex("02EE00000001")),
    ("network_config.interface", "network_config.interface", "AP", _u8(1)),
    ("network_config.hostname", "network_config.hostname", "dev-1", _s("dev-1", 33)),
    ("bt_config.bluetooth_device_address", "bt_config.bluetooth_device_address", "AA:BB:CC:DD:EE:FF",
     bytes.fromhex("AABBCCDDEEFF")),
    ("bt_config.bluetooth_device_name", "bt_config.bluetooth_device_name", "Speaker", _s("Speaker", 12)),
    ("bt_config.bluetooth_device_class", "bt_config.bluetooth_device_class", {"hex": "010203"},
     bytes.fromhex("010203")),
    ("bt_config.ssp_debug_mode", "bt_config.ssp_debug_mode", True, _u8(1)),
    ("p2p_config.p2p_group_owner_settings.channel", "p2p_config.p2p_group_owner_settings.channel", 6, _u8(6)),
    ("ota2_config.update_count", "ota2_config.update_count", 0x0102, _u16(0x0102)),
    ("ota2_config.boot_type", "ota2_config.boot_type", 3, _u8(3)),
    ("ota2_config.force_factory_reset", "ota2_config.force_factory_reset", 1, _u8(1)),
    ("dct_version.magic_number", "", None, _u32(VERSION_MAGIC)),
    ("dct_version.data_dct_usage_flags", "dct_version.data_dct_usage_flags", 5, _u16(5)),
    ("dct_version.version", "dct_version.version", 0x0370, _u16(0x0370)),
    ("dct_version.initial_write", "dct_version.initial_write", 1, _u8(1)),
    ("dct_version.sequence", "dct_version.sequence", 9, _u8(9)),
    ("dct_version.crc32", "", None, _u32(0)),  # crc = "sdk": the factory form
]


def _options(entry: str) -> DctOptions:
    sdk, bt, p2p, ota2 = ENTRIES[entry]
    return DctOptions(copy_size=COPY, include_bt=bt, include_p2p=p2p, include_ota2=ota2, sdk=sdk)


def _table(entry: str) -> dict[str, Any]:
    """A [dct] table setting every FIELDS row the compiled layout of `entry` has."""
    offsets = TABLE[entry]["offsetof"]
    table: dict[str, Any] = {}
    for c_path, key, value, _ in FIELDS:
        if key and "platform_dct_data_t." + c_path in offsets:
            *parents, leaf = key.split(".")
            node = table
            for p in parents:
                node = node.setdefault(p, {})
            node[leaf] = value
    if "header" in table:
        table["header"]["apps_locations"] = [{}, {}, {}, {"location": 0xABC00, "size": 0x100}]
    return table


@pytest.mark.parametrize("entry", sorted(ENTRIES))
def test_built_fields_at_compiled_offsets(entry: str) -> None:
    facts = TABLE[entry]
    offsets = facts["offsetof"]
    data = build_dct(_table(entry), Path("."), _options(entry))
    size = facts["sizeof"]["platform_dct_data_t"]
    assert len(data) == size  # no app section: used_size = sizeof(platform_dct_data_t)
    checked = 0
    for c_path, _key, _value, expected in FIELDS:
        at = offsets.get("platform_dct_data_t." + c_path)
        if at is None:
            continue
        assert data[at:at + len(expected)] == expected, (c_path, hex(at), data[at:at + len(expected)].hex())
        checked += 1
    at = offsets["platform_dct_data_t.dct_header.used_size"]
    assert struct.unpack_from("<II", data, offsets["platform_dct_data_t.dct_header.full_size"]) == (COPY, size)
    assert struct.unpack_from("<I", data, at)[0] == size
    # apps_locations[3] (36-byte image_location_t each): id, then the union's {location, size}
    loc = offsets["platform_dct_data_t.dct_header.apps_locations"] + 3 * facts["sizeof"]["image_location_t"]
    union = offsets["image_location_t.detail"]
    assert data[loc] == 2 and struct.unpack_from("<II", data, loc + union) == (0xABC00, 0x100)
    assert checked >= 25, checked


@pytest.mark.parametrize("entry", sorted(ENTRIES))
def test_decode_toml_build_round_trip(entry: str) -> None:
    options = _options(entry)
    data = build_dct({**_table(entry), **({"crc": "computed"} if "3.5.2" in entry or "3.7.0" in entry else {})},
                     Path("."), options)
    text = dct_to_toml(data, options, show_secrets=True)
    assert "WARNING" not in text
    again = build_dct(tomllib.loads(text)["dct"], Path("."), options)
    assert again == data


def test_generation_specific_keys_refused_elsewhere() -> None:
    with pytest.raises(ConfigError, match=r"\[dct\] network_config: section not in the DCT of SDK 3.1.2"):
        build_dct({"network_config": {"hostname": "x"}}, Path("."), DctOptions(sdk="3.1.2"))
    with pytest.raises(ConfigError, match=r"\[dct\] dct_version: section not in the DCT of SDK 3.5.2"):
        build_dct({"dct_version": {"sequence": 2}}, Path("."), DctOptions())
    with pytest.raises(ConfigError, match=r"crc: 'computed': the DCT of SDK 3.3.1 has no CRC"):
        build_dct({"crc": "computed"}, Path("."), DctOptions(sdk="3.3.1"))
    with pytest.raises(ConfigError, match=r"\[dct.header\] is_current_dct: unknown field"):
        build_dct({"header": {"is_current_dct": 1}}, Path("."), DctOptions())
    with pytest.raises(ConfigError, match=r"\[dct.dct_version\] initial_write = 1"):
        build_dct({"dct_version": {"initial_write": 0}}, Path("."), DctOptions(sdk="3.7.0"))


def test_prebuilt_dct_of_another_generation_refused_naming_both(tmp_path: Path) -> None:
    (tmp_path / "old.bin").write_bytes(build_dct({}, tmp_path, DctOptions(sdk="3.3.1")))
    with pytest.raises(InputError, match=r"the DCT is SDK 3.1.1/3.1.2/3.3.1/3.4.0 .* but the layout's SDK is 3.7.0"):
        build_dct({"file": "old.bin"}, tmp_path, DctOptions(sdk="3.7.0"))
    assert build_dct({"file": "old.bin"}, tmp_path, DctOptions(sdk="3.4.0")) == (tmp_path / "old.bin").read_bytes()


# ---------------------------------------------------------------------------------------------------------------
# Two-copy images, packed by hand at the compiled offsets; CRCs from zlib (tests/dct_copy_cases.py)
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", sorted(TWO_COPY_CASES))
def test_two_copy_choice(case: str) -> None:
    c = TWO_COPY_CASES[case]
    which, reason = choose_current(c.copy1, c.copy2, COPY, F.GENERATIONS[c.generation])
    assert which == c.expected, reason
    assert re.search(c.why, reason), reason


def test_copy2_needs_its_crc() -> None:
    """3.5.2: copy 2 in the factory form (crc32 0) is not valid (its rules in depth: test_dct_config.py)."""
    gen, e = F.generation("3.5.2"), AML + "v3.5.2"
    assert not copy_status(pack_copy(e, initial_write=1), 2, COPY, gen).valid


# ---------------------------------------------------------------------------------------------------------------
# `bundle build` with sdk = "...": the DCT of that generation in the images; decode -> TOML -> build; inspect
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("sdk", ["3.3.1", "3.7.0"])
def test_build_decode_rebuild_inspect(sdk: str, sample_copy: Path, tmp_path: Path) -> None:
    text = sample_copy.read_text()
    sample_copy.write_text(f'sdk = "{sdk}"\n' + text)
    runner = CliRunner()
    out = tmp_path / "o"
    res = runner.invoke(app, ["build", str(sample_copy), "--out", str(out)])
    assert res.exit_code == 0, res.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["board"]["sdk"] == sdk
    mcu = (out / "mcu.bin").read_bytes()
    gen = F.generation(sdk)
    entry = AML + "v" + gen.name
    offsets = TABLE[entry]["offsetof"]
    dct = mcu[0x4000:0x8000]  # DCT copy 1 of the sample's board (0x08004000)
    assert struct.unpack_from("<I", dct, offsets["platform_dct_header_t.magic_number"])[0] == BRCM
    serial = offsets["platform_dct_data_t.mfg_info.serial_number"]
    assert dct[serial:serial + 10] == b"SN00000001"
    # the SDK's factory DCT of that generation (its WICED/internal/dct.c): is_current_dct 1; 3.7.0's version struct
    # DCT_BOOTLOADER_SDK_CURRENT with crc32 0, initial_write 1, sequence 1
    assert dct[offsets["platform_dct_header_t.is_current_dct"]] == 1
    if sdk == "3.7.0":
        at = offsets["platform_dct_data_t.dct_version"]
        assert struct.unpack_from("<IHHIBB", dct, at) == (VERSION_MAGIC, 0, 0x0370, 0, 1, 1)
    # decode -> TOML (with the secrets) -> the sample's [dct] replaced by it -> the same images
    res = runner.invoke(app, ["dct", "decode", str(out / "mcu.bin"), "--manifest", str(out / "manifest.json"),
                              "--toml", "--show-secrets"])
    assert res.exit_code == 0, res.output
    assert "WARNING" not in res.output
    before, _dct, after = _split_dct(sample_copy.read_text())
    sample_copy.write_text(before + res.output + after)
    again = tmp_path / "again"
    res = runner.invoke(app, ["build", str(sample_copy), "--out", str(again)])
    assert res.exit_code == 0, res.output
    for name in ("mcu.bin", "sflash.bin"):
        assert (again / name).read_bytes() == (out / name).read_bytes(), name
    # dct decode names the generation it found
    res = runner.invoke(app, ["dct", "decode", str(out / "mcu.bin"), "--manifest", str(out / "manifest.json")])
    found = {"3.3.1": "SDK 3.1.1/3.1.2/3.3.1/3.4.0 DCT", "3.7.0": "SDK 3.7.0 DCT"}[sdk]
    assert res.exit_code == 0 and f"mcu.bin: {found}; MCU image: DCT copy 1" in res.output, res.output
    # inspect: which copy this generation's bootloader picks and why, and the generation line
    res = runner.invoke(app, ["inspect", str(out / "mcu.bin"), "--manifest", str(out / "manifest.json")])
    assert res.exit_code == 0, res.output
    rule = {"3.3.1": "is_current_dct 1", "3.7.0": "version struct initial_write 1 with crc32 0"}[sdk]
    assert f"generation: the layout's bootloader is SDK {sdk} (DCT generation {gen.name}, 388-byte header, " \
           f"copy chosen by {gen.copy_rule})" in res.output
    assert re.search(rf"current DCT copy: 1 — copy 1: {rule}", res.output), res.output
    res = runner.invoke(app, ["inspect", str(out / "mcu.bin"), "--manifest", str(out / "manifest.json"), "--json"])
    current = json.loads(res.output)["files"][0]["mcu"]["dct"]["current"]
    assert current["copy"] == 1 and current["copy_rule"] == gen.copy_rule and current["sdk"] == sdk


def _split_dct(text: str) -> tuple[str, str, str]:
    """bundle.toml text -> (before [dct], the [dct] tables, after them)."""
    lines = text.splitlines(keepends=True)

    def table(line: str, dct: bool) -> bool:
        return line.startswith("[") and line.lstrip("[").startswith(("dct]", "dct.")) == dct

    start = next(i for i, line in enumerate(lines) if table(line, True))
    end = next((i for i in range(start, len(lines)) if table(lines[i], False)), len(lines))
    return "".join(lines[:start]), "".join(lines[start:end]), "".join(lines[end:])


def test_dct_image_file_of_another_generation_refused_naming_both(sample_copy: Path, tmp_path: Path) -> None:
    """[sflash] dct_image given as a file (no [dct]): its DCT must be the layout's generation."""
    from bundler.config import load_project
    from bundler.dct.image import dct_image_elf

    dct37 = build_dct({}, tmp_path, DctOptions(sdk="3.7.0"))
    (sample_copy.parent / "DCT.elf").write_bytes(dct_image_elf(load_project(sample_copy).board, dct37))
    text = sample_copy.read_text()
    text = text[:text.index("[dct]")].replace('dct_image = "generated"', 'dct_image = "DCT.elf"')
    sample_copy.write_text(text)
    runner = CliRunner()
    res = runner.invoke(app, ["build", str(sample_copy), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "\n" not in res.output.strip(), res.output
    assert "DCT.elf" in res.output and "the DCT is SDK 3.7.0" in res.output and "layout's SDK is 3.5.2" in res.output
    assert not (tmp_path / "o").exists()
    sample_copy.write_text('sdk = "3.7.0"\n' + text)
    res = runner.invoke(app, ["build", str(sample_copy), "--out", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "o" / "mcu.bin").read_bytes()[0x4000:0x4000 + len(dct37)] == dct37
