"""Issue 14: the DCT's secrets. A malformed secret is reported by field, position and length, never by its value
(every error of every secret field is searched for the value); a secured network needs a key and an open one may
not have one; `dct decode --toml` writes omitted secrets as placeholders that a build refuses."""

from __future__ import annotations

import re
import shutil
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bundler.cli import app
from conftest import SAMPLE

SECRET = "Qx7Vb2Lm9Pz4Kd8RwT3n"  # chosen to share no 6 characters with any path or message
PEM_BODY = "TW9ja1ZhbHVlTm90QUtleQHqUjX9sQ7vT2cLpW4kN8mB5zR1yF6dG3hJ0aE7oK9xS"  # base64, not a key


def _product(tmp_path: Path) -> Path:
    dest = tmp_path / "product"
    shutil.copytree(SAMPLE, dest)
    return dest / "bundle.toml"


def _build(toml: Path, out: Path) -> tuple[int, str]:
    r = CliRunner().invoke(app, ["build", str(toml), "--out", str(out)])
    assert "Traceback" not in r.output
    return r.exit_code, r.stderr


def _leaks(text: str, secret: str) -> list[str]:
    """Every 6-character piece of `secret` (as text, and as hex) found in `text`."""
    forms = [secret, secret.encode().hex()]
    low = text.lower()
    return [f[i:i + 6] for f in forms for i in range(len(f) - 5) if f[i:i + 6].lower() in low]


AP = "[[dct.wifi_config.stored_ap_list]]\nSSID = \"FactoryNet\"\nsecurity = \"WPA2_AES\"\nchannel = 6\n"
SOFT_AP = "[dct.wifi_config.soft_ap_settings]\n"
CONFIG_AP = "[dct.wifi_config.config_ap_settings]\n"
P2P = "[dct.p2p_config.p2p_group_owner_settings]\n"
CREDS = "[dct.security_credentials]\n"
HEX = SECRET.encode().hex()


# (field table, the line giving the malformed value, the secret it holds)
CASES = {
    "ap key: the sample's passphrase, bad hex": (  # the reproduction of issue 14
        AP, f'security_key = {{ hex = "{b"sample-passphrase-do-not-ship".hex()}ZZ" }}', "sample-passphrase-do-not-ship"),
    "ap key: bad hex digit": (AP, f'security_key = {{ hex = "{HEX}ZZ" }}', SECRET),
    "ap key: odd hex": (AP, f'security_key = {{ hex = "{HEX}7" }}', SECRET),
    "ap key: hex too long": (AP, f'security_key = {{ hex = "{HEX * 4}" }}', SECRET),
    "ap key: text too long": (AP, f'security_key = "{SECRET * 4}"', SECRET),
    "ap key: text too short": (AP, f'security_key = "{SECRET[:6]}"', SECRET[:6]),
    "ap key: length field": (AP, f'security_key = {{ hex = "{HEX}", length = 300 }}', SECRET),
    "soft ap key: bad hex": (SOFT_AP, f'security_key = {{ hex = "{HEX}G0" }}', SECRET),
    "config ap key: too long": (CONFIG_AP, f'security_key = "{SECRET * 4}"', SECRET),
    "p2p key: bad hex": (P2P, f'security_key = {{ hex = "{HEX}ZZ" }}', SECRET),
    "private key: bad hex": (CREDS, f'private_key = {{ hex = "{PEM_BODY.encode().hex()}ZZ" }}', PEM_BODY),
    "private key: not PEM": (CREDS, 'private_key = { pem = "bad.pem" }', PEM_BODY),
    "private key: text too long": (CREDS, f'private_key = "{PEM_BODY * 40}"', PEM_BODY),
    "certificate: bad hex": (CREDS, f'certificate = {{ hex = "{PEM_BODY.encode().hex()}ZZ" }}', PEM_BODY),
    "certificate: not PEM": (CREDS, 'certificate = { pem = "bad.pem" }', PEM_BODY),
    "cooee key: 17 bytes": (CREDS, f'cooee_key = {{ hex = "{HEX[:34]}" }}', SECRET[:17]),
    "cooee key: text of 20": (CREDS, f'cooee_key = "{SECRET}"', SECRET),
    "cooee key: bad hex": (CREDS, f'cooee_key = {{ hex = "{HEX[:30]}ZZ" }}', SECRET[:15]),
}


def _set(toml: Path, table: str, line: str) -> None:
    """Put `line` in `table` of the sample's bundle.toml (replacing the sample's own stored network / credentials)."""
    text = toml.read_text()
    text = re.sub(r"(?ms)^\[dct\.security_credentials\].*?(?=^\[)", "", text) if table == CREDS else text
    text = re.sub(r"(?ms)^\[\[dct\.wifi_config\.stored_ap_list\]\].*\Z", "", text)
    if table == P2P:
        text = text.replace('crc = "sdk"', 'crc = "sdk"\noptions = { include_p2p = true }')
    toml.write_text(text + "\n" + table + line + "\n")


@pytest.mark.parametrize("case", list(CASES))
def test_a_malformed_secret_is_reported_without_its_value(tmp_path: Path, case: str) -> None:
    table, line, secret = CASES[case]
    toml = _product(tmp_path)
    (toml.parent / "bad.pem").write_text(f"-----BEGIN PRIVATE KEY-----\n{PEM_BODY}\n-----END PRIVATE KEY-----\n")
    _set(toml, table, line)
    code, err = _build(toml, tmp_path / "out")
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1, err
    assert re.search(r"security_key|private_key|certificate|cooee_key", err), err  # the field is named
    assert not _leaks(err, secret), err
    assert not (tmp_path / "out").exists()


def test_a_bad_hex_digit_is_given_by_position_and_length(tmp_path: Path) -> None:
    toml = _product(tmp_path)
    _set(toml, AP, f'security_key = {{ hex = "{HEX}ZZ" }}')
    err = _build(toml, tmp_path / "out")[1]
    assert f"character {len(HEX) + 1} of {len(HEX) + 2}" in err, err


# ---- a secured network needs its key; an open one has none --------------------------------------------------------

@pytest.mark.parametrize("table, lines, fragment", [
    (AP, 'security_key = ""', "WPA2_AES_PSK needs a security_key"),
    (AP, "", "WPA2_AES_PSK needs a security_key"),
    (AP, 'security_key = { hex = "" }', "WPA2_AES_PSK needs a security_key"),
    (AP.replace("WPA2_AES", "WPA_TKIP"), 'security_key = ""', "WPA_TKIP_PSK needs a security_key"),
    (AP.replace("WPA2_AES", "WEP"), "", "WEP_PSK needs a security_key"),
    (AP.replace("WPA2_AES", "OPEN"), 'security_key = "abcdefgh"', "an open network (OPEN) has no security_key"),
    (SOFT_AP, 'security = "WPA2_AES"\nsecurity_key = ""', "needs a security_key"),
    (SOFT_AP, 'security = "OPEN"', "an open network (OPEN) has no security_key"),  # the SDK's default key stays
    (CONFIG_AP, 'security = "WPA2_AES"\nsecurity_key = ""', "needs a security_key"),
])
def test_security_and_key_must_agree(tmp_path: Path, table: str, lines: str, fragment: str) -> None:
    toml = _product(tmp_path)
    _set(toml, table, lines)
    code, err = _build(toml, tmp_path / "out")
    assert code == 2 and err.count("\n") == 1 and fragment in err, err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("table, lines", [
    (AP.replace("WPA2_AES", "OPEN"), ""),
    (AP.replace("WPA2_AES", "OPEN"), 'security_key = ""'),
    (SOFT_AP, 'security = "OPEN"\nsecurity_key = ""'),
    (AP.replace("WPA2_AES", "WPA2_AES_ENT"), ""),  # enterprise: no pre-shared key
    (AP, f'security_key = "{SECRET}"'),
])
def test_agreeing_security_and_key_build(tmp_path: Path, table: str, lines: str) -> None:
    toml = _product(tmp_path)
    _set(toml, table, lines)
    code, err = _build(toml, tmp_path / "out")
    assert code == 0, err


# ---- dct decode --toml: placeholders for the secrets it leaves out -------------------------------------------------

def _decoded_product(tmp_path: Path, *extra: str) -> tuple[Path, str]:
    """The sample built, its DCT decoded to TOML, and a product whose [dct] is that TOML."""
    toml = _product(tmp_path)
    assert _build(toml, tmp_path / "out")[0] == 0
    r = CliRunner().invoke(app, ["dct", "decode", str(tmp_path / "out" / "mcu.bin"), "--toml", *extra])
    assert r.exit_code == 0, r.output
    text = toml.read_text()
    head = text[:text.index("[dct]")]
    toml.write_text(head + r.stdout)
    return toml, r.stdout


def test_decode_toml_writes_placeholders_that_a_build_refuses(tmp_path: Path) -> None:
    toml, decoded = _decoded_product(tmp_path)
    table = tomllib.loads(decoded)["dct"]
    assert table["wifi_config"]["stored_ap_list"][0]["security_key"] == {"omitted": 29}  # the sample's passphrase
    assert set(table["security_credentials"]["private_key"]) == {"omitted"}
    assert "sample-passphrase" not in decoded and "BEGIN" not in decoded
    code, err = _build(toml, tmp_path / "rebuilt")
    assert code == 2 and "secret omitted by dct decode: give it" in err and err.count("\n") == 1, err
    assert not (tmp_path / "rebuilt").exists()


def test_decode_toml_with_secrets_rebuilds_the_same_dct(tmp_path: Path) -> None:
    toml, decoded = _decoded_product(tmp_path, "--show-secrets")
    assert "{ omitted" not in decoded
    assert _build(toml, tmp_path / "rebuilt")[0] == 0
    dct = slice(0x4000, 0x8000)
    assert (tmp_path / "rebuilt" / "mcu.bin").read_bytes()[dct] == (tmp_path / "out" / "mcu.bin").read_bytes()[dct]


@pytest.mark.parametrize("entry", [
    {"SSID": "Old", "security": "OPEN", "security_key": {"hex": b"oldpassphrase".hex(), "length": 13}},
    {"SSID": "Blank", "security": "WPA2_AES", "security_key": {"hex": "", "length": 0}},
])
def test_bytes_a_device_stored_still_round_trip(entry: dict) -> None:
    """A device's DCT may hold an open network with an old key left in it, or a WPA2 entry with none: decoded, it
    comes back as the raw form with its length (bytes as stored), which builds to the same bytes."""
    from bundler.dct.config import build_dct
    from bundler.dct.options import DctOptions
    from bundler.dct.toml_out import dct_to_toml

    options = DctOptions()
    dct = build_dct({"wifi_config": {"stored_ap_list": [entry]}}, Path("."), options)
    text = dct_to_toml(dct, options, show_secrets=True)
    assert "WARNING" not in text
    assert build_dct(tomllib.loads(text)["dct"], Path("."), options) == dct
