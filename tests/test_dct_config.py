"""DCT from configuration: SDK defaults, CRC (checked with zlib), copy selection, errors, round trips."""

from __future__ import annotations

import json
import struct
import tomllib
import zlib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bundler.dct.codec import decode_dct
from bundler.dct.config import build_dct
from bundler.dct.copies import choose_current, copy_status, dct_crc
from bundler.dct.options import DctOptions
from bundler.dct.secrets import redact, secret_fields, secret_values
from bundler.dct.toml_out import dct_to_toml
from bundler.errors import ConfigError, InputError
from bundler.formats.dct import GENERATIONS

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "ota_demo"
OPT = DctOptions()
HERE = Path(".")
G352 = GENERATIONS["3.5.2"]


def zlib_crc(copy: bytes, size: int = 0x4000) -> int:
    """Independent oracle: SDK crc32() = zlib CRC-32 without the final XOR, crc32 field (@0x14) as 0, 0xFF pad."""
    area = bytearray(copy.ljust(size, b"\xff"))
    area[0x14:0x18] = bytes(4)
    return zlib.crc32(bytes(area)) ^ 0xFFFFFFFF


def u32(data: bytes, off: int) -> int:
    return struct.unpack_from("<I", data, off)[0]


# ---- SDK defaults (WICED/internal/dct.c 3.5.2) ----


def test_sdk_initial_dct_defaults() -> None:
    d = build_dct({}, HERE, OPT)
    assert len(d) == 7600
    assert (u32(d, 0), u32(d, 4), u32(d, 8)) == (0x4000, 7600, 0x4D435242)
    assert d[0xC:0x10] == bytes([0, 1, 0, 1])  # write_incomplete 0, app_valid 1, mfg_info_programmed 0, initial 1
    assert u32(d, 0x10) == 0 and u32(d, 0x14) == 0  # sequence 0, crc32 0
    assert d[0x18] == 0 and d[0x3C] == 1 and d[0x61] == 0  # source NONE, destination INTERNAL, not valid
    for i in range(8):
        base = 0x68 + 36 * i
        assert d[base] == 2 and u32(d, base + 4) == 34 * i and u32(d, base + 8) == 0
    assert d[0x228 + 6144: 0x228 + 6160] == b"abcdabcdabcdabcd"
    wifi = 0x1A38
    assert d[wifi] == 0  # device_configured WICED_FALSE
    assert d[wifi + 1: wifi + 1 + 13] == b"\x0cYOUR_AP_SSID"
    assert struct.unpack_from("<i", d, wifi + 1 + 46)[0] == 0x00400006  # WPA2_MIXED_PSK
    assert d[wifi + 1 + 50: wifi + 1 + 52] == b"\x01\x01"  # channel 1, band 2.4 GHz (= 1)
    assert d[wifi + 1 + 56: wifi + 1 + 57 + 18] == b"\x12YOUR_AP_PASSPHRASE"
    assert d[wifi + 608: wifi + 608 + 13] == b"\x0cWICED Device"
    assert d[wifi + 720: wifi + 720 + 13] == b"\x0cWICED Config"
    assert u32(d, wifi + 720 + 108) == 0xCA1BDF58
    assert d[wifi + 832: wifi + 836] == b"US\0\0"
    assert d[0x1D8C] == 0 and d[0x1D8D: 0x1D8D + 9] == b"WICED IP\0"


@pytest.mark.parametrize("entry, band", [
    ({"SSID": "A", "channel": 11}, 1),           # a 2.4 GHz channel: WICED_802_11_BAND_2_4GHZ (1)
    ({"SSID": "A"}, 1),                          # channel 0 (any): 2.4 GHz, as the SDK's CLIENT_AP default
    ({"SSID": "A", "channel": 36}, 0),           # a 5 GHz channel: WICED_802_11_BAND_5GHZ (0)
    ({"SSID": "A", "channel": 6, "band": "5GHZ"}, 0),  # an explicit band wins
])
def test_stored_ap_band_follows_its_channel(entry: dict[str, Any], band: int) -> None:
    d = build_dct({"wifi_config": {"stored_ap_list": [entry, {"SSID": "B"}]}}, HERE, OPT)
    wifi, ap_size = 0x1A38, 121  # wiced_config_ap_entry_t: wiced_ap_info_t (56, packed) + key length + key[64]
    assert d[wifi + 1 + 51] == band
    assert d[wifi + 1 + ap_size + 51] == 1  # the second entry (channel 0)
    assert d[wifi + 1 + 2 * ap_size: wifi + 1 + 3 * ap_size] == bytes(ap_size)  # unused slots stay all zero
    assert roundtrip(d) == d


def test_apps_locations_follow_lut_location() -> None:
    d = build_dct({}, HERE, DctOptions(apps_lut_header_loc=0x20000))
    assert [u32(d, 0x68 + 36 * i + 4) for i in range(8)] == [0x20000 + 34 * i for i in range(8)]


# ---- CRC ----


def test_sdk_style_keeps_crc_zero_and_initial_write() -> None:
    d = build_dct({"crc": "sdk", "mfg_info": {"serial_number": "A"}}, HERE, OPT)
    assert u32(d, 0x14) == 0 and d[0xF] == 1
    assert copy_status(d, 1, 0x4000, G352).valid
    assert not copy_status(d, 2, 0x4000, G352).valid  # copy 2 always needs a good CRC


def test_computed_crc_matches_zlib() -> None:
    d = build_dct({"crc": "computed", "mfg_info": {"serial_number": "SN42"}}, HERE, OPT)
    assert u32(d, 0x14) == zlib_crc(d) != 0
    assert dct_crc(d, 0x4000, G352) == zlib_crc(d)
    assert copy_status(d, 2, 0x4000, G352).valid and copy_status(d, 2, 0x4000, G352).crc_ok


def test_computed_crc_with_initial_write_zero() -> None:
    d = build_dct({"crc": "computed", "header": {"initial_write": 0, "sequence": 3}}, HERE, OPT)
    assert d[0xF] == 0 and u32(d, 0x14) == zlib_crc(d)


def test_sdk_crc_needs_initial_write() -> None:
    with pytest.raises(ConfigError, match=r"\[dct\] crc"):
        build_dct({"header": {"initial_write": 0}}, HERE, OPT)


# ---- choosing the current copy (doc §2.2) ----


def mk(seq: int, initial: int, crc: str = "computed", **hdr: Any) -> bytes:
    return build_dct({"crc": crc, "header": {"sequence": seq, "initial_write": initial, **hdr}}, HERE, OPT)


ERASED = b"\xff" * 0x4000


def test_choose_both_valid_copy2_newer() -> None:
    assert choose_current(mk(1, 0), mk(2, 0), 0x4000, G352)[0] == 2
    assert choose_current(mk(5, 0), mk(2, 0), 0x4000, G352)[0] == 1


def test_choose_both_valid_copy1_initial_write_wins() -> None:
    which, why = choose_current(mk(0, 1, "sdk"), mk(9, 0), 0x4000, G352)
    assert which == 1 and "initial_write" in why


def test_choose_same_sequence_copy1() -> None:
    assert choose_current(mk(4, 0), mk(4, 0), 0x4000, G352)[0] == 1


def test_choose_bad_crc() -> None:
    bad = bytearray(mk(7, 0))
    bad[0x18C] ^= 0xFF  # corrupt mfg_info after the CRC was computed
    assert not copy_status(bytes(bad), 1, 0x4000, G352).valid
    assert choose_current(bytes(bad), mk(1, 0), 0x4000, G352)[0] == 2
    assert choose_current(mk(1, 0), bytes(bad), 0x4000, G352)[0] == 1


def test_choose_write_incomplete() -> None:
    inc = bytearray(mk(8, 0))
    inc[0xC] = 1  # write_incomplete (the CRC is over the stored byte, so it also stops matching)
    status = copy_status(bytes(inc), 2, 0x4000, G352)
    assert not status.valid and "write_incomplete" in status.reason
    assert choose_current(mk(1, 0), bytes(inc), 0x4000, G352)[0] == 1


def test_choose_neither_valid() -> None:
    which, why = choose_current(ERASED, ERASED, None, G352)
    assert which is None and "neither" in why


def test_choose_copy2_only() -> None:
    assert choose_current(ERASED, mk(1, 0).ljust(0x4000, b"\xff"), None, G352)[0] == 2


# ---- errors: one line, ConfigError naming the field ----

ERRORS = [
    ({"mfg_info": {"serial_number": "X" * 20}}, r"\[dct\.mfg_info\] serial_number: .*at most 19"),
    ({"mfg_info": {"manufactur": "x"}}, r"\[dct\.mfg_info\] manufactur: unknown field; did you mean 'manufacturer'"),
    ({"wifi_config": {"mac_address": "00:11:22:33:44"}}, r"\[dct\.wifi_config\] mac_address: .*not a MAC"),
    ({"wifi_config": {"country_code": "QQ"}}, r"\[dct\.wifi_config\] country_code: unknown country code"),
    ({"wifi_config": {"stored_ap_list": [{"SSID": "a", "security": "WPA2_AES", "security_key": "short"}]}},
     r"\[dct\.wifi_config\.stored_ap_list\[0\]\] security_key: WPA/WPA2 passphrase must be 8\.\.63"),
    ({"wifi_config": {"stored_ap_list": [{"security": "WPA2_AES", "security_key": "x" * 64}]}},
     r"security_key: WPA/WPA2 passphrase"),
    ({"wifi_config": {"soft_ap_settings": {"SSID": "s" * 33}}}, r"soft_ap_settings\] SSID: .*at most 32"),
    ({"wifi_config": {"stored_ap_list": [{"security": "WPA3"}]}}, r"security: unknown value 'WPA3'"),
    ({"wifi_config": {"stored_ap_list": [{}] * 6}}, r"stored_ap_list: 6 entries: at most 5"),
    ({"wifi_confg": {}}, r"\[dct\] wifi_confg: unknown field; did you mean 'wifi_config'"),
    ({"network_config": {"hostname": "h" * 33}}, r"\[dct\.network_config\] hostname: .*at most 32"),
    ({"network_config": {"interface": "WLAN"}}, r"interface: unknown value"),
    ({"security_credentials": {"cooee_key": "abc"}}, r"cooee_key: must be exactly 16 bytes"),
    ({"security_credentials": {"private_key": {"pem": "nope.pem"}}}, r"private_key: cannot read nope\.pem"),
    ({"bt_config": {}}, r"\[dct\] bt_config: section not in this DCT layout"),
    ({"crc": "maybe"}, r"\[dct\] crc: 'maybe'"),
    ({"header": {"sequence": -1}}, r"\[dct\.header\] sequence: -1 is outside"),
    ({"app": {"struct": [{"name": "a", "type": "uint9"}]}}, r"type: unknown type 'uint9'"),
    ({"app": {"hex": "00" * 0x4000}}, r"\[dct\] app: DCT of .* does not fit"),
]


@pytest.mark.parametrize("table,pattern", ERRORS)
def test_errors_name_the_field(table: dict[str, Any], pattern: str) -> None:
    with pytest.raises(ConfigError, match=pattern) as exc:
        build_dct(table, HERE, OPT)
    assert "\n" not in str(exc.value)


def test_bad_pem_refused(tmp_path: Path) -> None:
    (tmp_path / "k.pem").write_text("-----BEGIN PRIVATE KEY-----\nnot base64!\n-----END PRIVATE KEY-----\n")
    with pytest.raises(ConfigError, match=r"\[dct\.security_credentials\] private_key: k\.pem is not a PEM"):
        build_dct({"security_credentials": {"private_key": {"pem": "k.pem"}}}, tmp_path, OPT)


def test_passphrase_64_hex_and_enterprise_ok() -> None:
    """64 hex digits are a WPA2 PSK given as text (stored as the 64 characters, as the SDK stores
    CLIENT_AP_PASSPHRASE); an enterprise entry takes an empty key. Read back at the fixed offsets."""
    wifi, key_len, key = 0x1A38, 1 + 56, 1 + 57  # stored_ap_list[0]: wiced_ap_info_t (56) + key length + key[64]
    d = build_dct({"wifi_config": {"stored_ap_list": [{"security": "WPA2_AES", "security_key": "ab" * 32}]}}, HERE, OPT)
    assert struct.unpack_from("<i", d, wifi + 1 + 46)[0] == 0x00400004  # WICED_SECURITY_WPA2_AES_PSK
    assert d[wifi + key_len] == 64 and d[wifi + key: wifi + key + 64] == b"ab" * 32
    d = build_dct({"wifi_config": {"stored_ap_list": [{"security": "WPA2_AES_ENT", "security_key": ""}]}}, HERE, OPT)
    assert struct.unpack_from("<i", d, wifi + 1 + 46)[0] == 0x02400004  # WICED_SECURITY_WPA2_AES_ENT
    assert d[wifi + key_len] == 0 and d[wifi + key: wifi + key + 64] == bytes(64)
    with pytest.raises(ConfigError, match="8..63 characters or 64 hex digits"):  # 64 characters, not all hex
        build_dct({"wifi_config": {"stored_ap_list": [{"security": "WPA2_AES", "security_key": "g" * 64}]}}, HERE, OPT)


# ---- app section ----


def test_app_struct_natural_alignment() -> None:
    fields = [{"name": "a", "type": "uint8", "value": 1}, {"name": "b", "type": "uint32", "value": 0x01020304},
              {"name": "c", "type": "int16", "value": -2}, {"name": "s", "type": "string", "size": 5, "value": "hi"}]
    d = build_dct({"app": {"struct": fields}}, HERE, OPT)
    # C: uint8 a @0, pad 3, uint32 b @4, int16 c @8, char s[5] @10, tail pad to 16
    assert d[7600:] == bytes([1, 0, 0, 0, 4, 3, 2, 1, 0xFE, 0xFF]) + b"hi\0\0\0" + b"\0"
    assert u32(d, 4) == 7616
    packed = build_dct({"app": {"struct": fields, "packed": True}}, HERE, OPT)
    assert packed[7600:] == bytes([1, 4, 3, 2, 1, 0xFE, 0xFF]) + b"hi\0\0\0"


def test_app_file(tmp_path: Path) -> None:
    (tmp_path / "app_dct.bin").write_bytes(b"\x11\x22\x33\x44")
    d = build_dct({"app": {"file": "app_dct.bin"}}, tmp_path, OPT)
    assert d[7600:] == b"\x11\x22\x33\x44" and u32(d, 4) == 7604


# ---- prebuilt DCT (file) ----


def test_prebuilt_raw_and_elf(tmp_path: Path) -> None:
    from bundler.formats.elf import PT_LOAD, build_elf

    d = build_dct({"mfg_info": {"serial_number": "PRE"}}, HERE, OPT)
    (tmp_path / "dct.bin").write_bytes(d + b"\xff" * 100)  # an erased tail is trimmed to used_size
    assert build_dct({"file": "dct.bin"}, tmp_path, OPT) == d
    phdr = {"p_type": PT_LOAD, "p_vaddr": 0x08004000, "p_paddr": 0x08004000, "p_memsz": len(d), "p_flags": 6,
            "p_align": 4}
    (tmp_path / "dct.elf").write_bytes(build_elf([(phdr, d)], entry=0))
    assert build_dct({"file": "dct.elf"}, tmp_path, OPT) == d
    computed = build_dct({"file": "dct.bin", "crc": "computed"}, tmp_path, OPT)
    assert u32(computed, 0x14) == zlib_crc(computed)


def test_prebuilt_refused(tmp_path: Path) -> None:
    (tmp_path / "junk.bin").write_bytes(b"\0" * 500)
    with pytest.raises(InputError, match="magic_number"):
        build_dct({"file": "junk.bin"}, tmp_path, OPT)
    (tmp_path / "big.bin").write_bytes(build_dct({}, HERE, OPT) + b"\0" * 0x4000)
    with pytest.raises(InputError, match="larger than the DCT copy"):
        build_dct({"file": "big.bin"}, tmp_path, OPT)
    with pytest.raises(ConfigError, match="cannot be combined"):
        build_dct({"file": "big.bin", "mfg_info": {}}, tmp_path, OPT)


# ---- decode / secrets ----


def test_decode_redacts_secrets() -> None:
    t = {"security_credentials": {"private_key": "PRIVATE"},
         "wifi_config": {"stored_ap_list": [{"SSID": "n", "security": "WPA2_AES", "security_key": "hunter2hunter2"}]}}
    d = build_dct(t, HERE, OPT)
    m = decode_dct(d, OPT)
    text = json.dumps(m)
    assert "hunter2" not in text and "PRIVATE" not in text
    assert m["wifi_config"]["stored_ap_list"][0]["security_key"] == {"redacted": True, "length": 14}
    shown = decode_dct(d, OPT, show_secrets=True)
    assert shown["wifi_config"]["stored_ap_list"][0]["security_key"] == "hunter2hunter2"
    assert "hunter2" not in json.dumps(redact(shown))
    assert set(secret_fields(t)) == {"security_credentials.private_key", "wifi_config.stored_ap_list.0.security_key"}
    assert b"hunter2hunter2" in secret_values(d, OPT)
    toml_text = dct_to_toml(d, OPT)
    assert "hunter2" not in toml_text and "PRIVATE" not in toml_text and "omitted" in toml_text


# ---- round trips: decode -> TOML -> build is byte-identical ----


def roundtrip(data: bytes, options: DctOptions = OPT) -> bytes:
    text = dct_to_toml(data, options, show_secrets=True)
    assert "WARNING" not in text
    return build_dct(tomllib.loads(text)["dct"], HERE, options)


def test_roundtrip_sample_dct() -> None:
    """The sample's [dct] table (a stored network, PEM credentials, manufacturing info) round-trips via --toml."""
    table = tomllib.loads((SAMPLE / "bundle.toml").read_text())["dct"]
    assert {"mfg_info", "security_credentials", "wifi_config"} <= set(table) and table["wifi_config"]["stored_ap_list"]
    d = build_dct(table, SAMPLE, OPT)
    assert roundtrip(d) == d


def test_roundtrip_odd_bytes() -> None:
    """Values the friendly forms cannot express come back as { hex } and still round-trip."""
    t = {"crc": 0x12345678, "header": {"initial_write": 0, "apps_locations": [{"id": "NONE", "detail": {"hex": "ff" * 32}}]},
         "mfg_info": {"manufacturer": {"hex": "41" * 32}, "product_name": {"hex": "00ff"}},
         "wifi_config": {"stored_ap_list": [{}, {"SSID": {"hex": "00" * 32, "length": 40},
                                                 "security_key": {"hex": "01", "length": 70}}],
                         "country_code": 0x00FF4142, "device_configured": 7},
         "network_config": {"interface": 9}, "app": {"hex": "00112233"}}
    d = build_dct(t, HERE, OPT)
    assert roundtrip(d) == d
    all_opts = DctOptions(include_bt=True, include_p2p=True, include_ota2=True)
    d2 = build_dct({"bt_config": {"bluetooth_device_name": "x"}, "ota2_config": {"update_count": 3}}, HERE, all_opts)
    assert roundtrip(d2, all_opts) == d2


printable = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12).filter(lambda s: len(s.encode()) <= 19)
mac = st.binary(min_size=6, max_size=6).map(lambda b: ":".join(f"{x:02x}" for x in b))
passphrase = st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=8, max_size=63)
ap_entry = st.fixed_dictionaries(
    {},
    optional={
        "SSID": st.text(st.characters(blacklist_categories=("Cs",)), max_size=8),
        "BSSID": mac,
        "signal_strength": st.integers(-32768, 32767),
        "channel": st.integers(0, 255),
        "band": st.sampled_from(["2_4GHZ", "5GHZ"]),
        "bss_type": st.sampled_from(["INFRASTRUCTURE", "ADHOC", "ANY", "UNKNOWN"]),
    },
).flatmap(lambda entry: st.one_of(  # security and key agree: an open network has none, a WPA one has one
    st.just(entry), st.just({**entry, "security": "OPEN"}),
    st.builds(lambda sec, key: {**entry, "security": sec, "security_key": key},
              st.sampled_from(["WPA2_AES", "WPA_TKIP_PSK", "WPA2_MIXED_PSK"]), passphrase)))
tables = st.fixed_dictionaries(
    {"crc": st.sampled_from(["sdk", "computed"])},
    optional={
        "mfg_info": st.fixed_dictionaries({}, optional={"serial_number": printable, "manufacturer": printable,
                                                        "BOM_rev": st.text(max_size=7).filter(lambda s: len(s.encode()) <= 7)}),
        "wifi_config": st.fixed_dictionaries({}, optional={
            "mac_address": mac,
            "country_code": st.sampled_from(["US", "DE", "JP", "XX", "0B"]) | st.builds(
                lambda c, r: {"code": c, "revision": r}, st.sampled_from(["US", "KR"]), st.integers(1, 0xFFFF)),
            "device_configured": st.booleans(),
            "stored_ap_list": st.lists(ap_entry, max_size=5),
            "soft_ap_settings": st.fixed_dictionaries({}, optional={"SSID": printable, "channel": st.integers(0, 14),
                                                                    "security_key": passphrase}),
        }),
        "header": st.fixed_dictionaries({}, optional={"sequence": st.integers(0, 2**32 - 1),
                                                      "app_valid": st.integers(0, 255),
                                                      "mfg_info_programmed": st.integers(0, 1)}),
        "network_config": st.fixed_dictionaries({}, optional={"hostname": printable,
                                                              "interface": st.sampled_from(["STA", "AP", "CONFIG"])}),
        "app": st.binary(min_size=1, max_size=40).map(lambda b: {"hex": b.hex()}),
    },
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables)
def test_roundtrip_generated(table: dict[str, Any]) -> None:
    d = build_dct(table, HERE, OPT)
    assert roundtrip(d) == d
    assert decode_dct(d, OPT)["crc"]["kind"] == ("sdk" if table["crc"] == "sdk" else "computed")


# ---- CLI ----


def test_cli_decode(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from bundler.cli import app

    d = build_dct({"crc": "computed", "mfg_info": {"serial_number": "CLI1"},
                   "wifi_config": {"stored_ap_list": [{"SSID": "n", "security": "WPA2_AES",
                                                       "security_key": "topsecret1"}]}}, HERE, OPT)
    f = tmp_path / "dct.bin"
    f.write_bytes(d)
    runner = CliRunner()
    res = runner.invoke(app, ["dct", "decode", str(f)])
    assert res.exit_code == 0, res.output
    assert "CLI1" in res.output and "topsecret1" not in res.output and "redacted" in res.output
    res = runner.invoke(app, ["dct", "decode", str(f), "--json"])
    assert json.loads(res.output)["mfg_info"]["serial_number"] == "CLI1"
    res = runner.invoke(app, ["dct", "decode", str(f), "--toml", "--show-secrets"])
    assert build_dct(tomllib.loads(res.output)["dct"], HERE, OPT) == d
    mcu = bytearray(b"\xff" * 0x100000)
    mcu[0x4000: 0x4000 + len(d)] = d
    (tmp_path / "mcu.bin").write_bytes(bytes(mcu))
    res = runner.invoke(app, ["dct", "decode", str(tmp_path / "mcu.bin"), "--json"])
    assert res.exit_code == 0 and json.loads(res.output)["mfg_info"]["serial_number"] == "CLI1"
    (tmp_path / "bad.bin").write_bytes(b"\0" * 600)
    res = runner.invoke(app, ["dct", "decode", str(tmp_path / "bad.bin")])
    assert res.exit_code == 2 and "magic_number" in res.output and "Traceback" not in res.output


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, 7599), st.integers(0, 255)), min_size=1, max_size=40))
def test_decode_mutated_dct_never_crashes(patches: list[tuple[int, int]]) -> None:
    """The decoder is a parser: any bytes decode or give an InputError, and what decodes round-trips exactly
    (the magic and used_size are kept valid so most mutations reach the field decoders)."""
    base = bytearray(build_dct({"crc": "computed"}, HERE, OPT))
    for off, val in patches:
        if not 4 <= off < 12:
            base[off] = val
    data = bytes(base)
    try:
        model = decode_dct(data, OPT, show_secrets=True)
    except InputError:
        return
    json.dumps(model)
    text = dct_to_toml(data, OPT, show_secrets=True)
    if "WARNING" not in text:
        assert build_dct(tomllib.loads(text)["dct"], HERE, OPT) == data
