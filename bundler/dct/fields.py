"""Field codecs: one DCT value (a C string, bytes, a MAC, an enum, a passphrase, an SSID, a country code) between
its model form (what a `[dct]` table gives and `decode_dct` returns) and its bytes. Every encoder raises a
`ConfigError` naming the `[dct]` field it came from.
"""

from __future__ import annotations

import difflib
import re
import string
from pathlib import Path
from typing import Any, Mapping

from ..errors import ConfigError, hexsize
from ..formats import dct as F


class Ctx:
    """Where a value comes from, for error messages, and the folder relative paths start from."""

    def __init__(self, base_dir: Path) -> None:
        self.base_dir = base_dir


def field_where(path: tuple[str, ...]) -> str:
    table, field = ".".join(path[:-1]), path[-1]
    return f"[{table}] {field}" if table else field


def field_error(path: tuple[str, ...], msg: str) -> ConfigError:
    return ConfigError(f"{field_where(path)}: {msg}")


def read_value_file(ctx: Ctx, name: Any, path: tuple[str, ...]) -> bytes:
    if not isinstance(name, str):
        raise field_error(path, "file must be a path string")
    from ..errors import InputError
    from ..inputs import MAX_TEXT_BYTES, read_file

    p = (ctx.base_dir / name) if not Path(name).is_absolute() else Path(name)
    try:
        return read_file(p, name, MAX_TEXT_BYTES)[0]  # a regular file of sane size (a field's value, a PEM)
    except InputError as exc:
        raise field_error(path, f"cannot read {exc}") from None


def parse_hex(value: Any, path: tuple[str, ...]) -> bytes:
    """Hex digits (':' and ' ' ignored). A bad value is told by position and length only: it may be a secret."""
    if not isinstance(value, str):
        raise field_error(path, "hex must be a string of hex digits")
    digits = value.replace(":", "").replace(" ", "")
    bad = next((i for i, c in enumerate(digits) if c not in string.hexdigits), None)
    if bad is not None:
        raise field_error(path, f"not valid hex: character {bad + 1} of {len(digits)} is not a hex digit")
    if len(digits) % 2:
        raise field_error(path, f"not valid hex: {len(digits)} digits, expected an even number")
    return bytes.fromhex(digits)


def _printable(text: str, multiline: bool = False) -> bool:
    ok = "\n\r\t" if multiline else ""
    return all(c.isprintable() or c in ok for c in text)


def _raw_form(value: Mapping[str, Any], ctx: Ctx, path: tuple[str, ...], allowed: set[str]) -> bytes:
    """{ hex = "..." } or { file = "..." } (or { pem = "..." } where allowed). `{ omitted = N }` is what
    `dct decode --toml` writes for a secret it leaves out: refused, so a decoded table never builds a blank."""
    if "omitted" in value:
        raise field_error(path, "secret omitted by dct decode: give it (the value, { hex = ... } or { file = ... })")
    keys = set(value) - {"length"}
    if len(keys) != 1 or not keys <= allowed:
        raise field_error(path, f"expected one of {', '.join(sorted('{ %s = ... }' % k for k in allowed))}")
    (kind,) = keys
    if kind == "hex":
        return parse_hex(value["hex"], path)
    data = read_value_file(ctx, value[kind], path)
    if kind == "pem":
        data = _check_pem(data, value["pem"], path)
    return data


def _check_pem(data: bytes, name: str, path: tuple[str, ...]) -> bytes:
    """Keep the PEM text as the SDK does (generated_security_dct.h holds the PEM file as a C string)."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        if path[-1] == "certificate":
            x509.load_pem_x509_certificates(data)
        else:
            load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        what = "certificate" if path[-1] == "certificate" else "unencrypted private key"
        raise field_error(path, f"{name} is not a PEM {what} ({str(exc).splitlines()[0][:80]})") from None
    return data


def enc_cstr(value: Any, size: int, ctx: Ctx, path: tuple[str, ...], multiline: bool = False) -> bytes:
    """char[size] holding a NUL-terminated string: text of at most size-1 bytes, or raw bytes (hex/file/pem) of at
    most size bytes; NUL padded."""
    if isinstance(value, str):
        data = value.encode("utf-8")
        if len(data) > size - 1:
            raise field_error(path, f"{len(data)} bytes is too long: at most {size - 1} bytes "
                       f"(char[{size}] with its NUL terminator)")
        return data.ljust(size, b"\0")
    if isinstance(value, Mapping):
        data = _raw_form(value, ctx, path, {"hex", "file", "pem"} if multiline else {"hex", "file"})
        limit = size - 1 if "pem" in value else size
        if len(data) > limit:
            raise field_error(path, f"{hexsize(len(data))} is too long: at most {limit} bytes")
        return data.ljust(size, b"\0")
    raise field_error(path, f"expected a string or {{ hex = ... }}, got {type(value).__name__}")


def dec_cstr(data: bytes, multiline: bool = False) -> Any:
    nul = data.find(b"\0")
    if nul >= 0 and not any(data[nul:]):
        try:
            text = data[:nul].decode("utf-8")
            if _printable(text, multiline):
                return text
        except UnicodeDecodeError:
            pass
    return {"hex": data.hex()}


def enc_bytes(value: Any, size: int, ctx: Ctx, path: tuple[str, ...], exact: bool = False) -> bytes:
    """uint8_t[size]: a text string (its bytes, no terminator) or { hex } / { file }; zero padded."""
    if isinstance(value, str):
        data = value.encode("utf-8")
    elif isinstance(value, Mapping):
        data = _raw_form(value, ctx, path, {"hex", "file"})
    else:
        raise field_error(path, f"expected a string or {{ hex = ... }}, got {type(value).__name__}")
    if exact and len(data) != size:
        raise field_error(path, f"must be exactly {size} bytes, got {len(data)}")
    if len(data) > size:
        raise field_error(path, f"{len(data)} bytes is too long: at most {size} bytes")
    return data.ljust(size, b"\0")


def dec_bytes(data: bytes, exact: bool = False) -> Any:
    try:
        text = data.decode("ascii")
        if text.isprintable() and (not exact or len(text) == len(data)) and "\0" not in text:
            return text
    except UnicodeDecodeError:
        pass
    return {"hex": data.hex()}


_MAC_RE = re.compile(r"^[0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2}){5}$")


def enc_mac(value: Any, path: tuple[str, ...]) -> bytes:
    if not isinstance(value, str) or not _MAC_RE.match(value):
        raise field_error(path, f"{value!r} is not a MAC address like \"00:11:22:33:44:55\"")
    return bytes.fromhex(value.replace(":", "").replace("-", ""))


def dec_mac(data: bytes) -> str:
    return ":".join(f"{b:02X}" for b in data)


def enc_int(value: Any, path: tuple[str, ...], lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise field_error(path, f"expected an integer, got {value!r}")
    if not lo <= value <= hi:
        raise field_error(path, f"{value} is outside {lo}..{hi}")
    return value


def enc_bool(value: Any, path: tuple[str, ...]) -> int:
    if isinstance(value, bool):
        return int(value)
    return enc_int(value, path, 0, 255)


def dec_bool(v: int) -> Any:
    return bool(v) if v in (0, 1) else v


def enum_lookup(value: Any, table: Mapping[str, int], prefix: str, path: tuple[str, ...],
                 aliases: Mapping[str, str] | None = None, bits: int = 8, signed: bool = False) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
        return enc_int(value, path, lo, hi)
    if not isinstance(value, str):
        raise field_error(path, f"expected a name, got {value!r}")
    key = value.strip().upper().replace(" ", "_").replace(".", "_")
    if aliases and key in aliases:
        key = aliases[key]
    for cand in (key, prefix + key):
        if cand in table:
            return table[cand]
    names = [n[len(prefix):] for n in table]
    near = difflib.get_close_matches(key, names, n=1)
    hint = f"; did you mean {near[0]!r}?" if near else f"; one of {', '.join(names)}"
    raise field_error(path, f"unknown value {value!r}{hint}")


def enum_name(v: int, table: Mapping[str, int], prefix: str) -> Any:
    for name, num in table.items():
        if num == v:
            return name[len(prefix):]
    return v


# wiced_security_t: accept "WPA2_AES" for WICED_SECURITY_WPA2_AES_PSK etc.
_SEC_PREFIX = "WICED_SECURITY_"
_SEC_ALIASES = {k[len(_SEC_PREFIX):-4]: k[len(_SEC_PREFIX):] for k in F.WICED_SECURITY if k.endswith("_PSK")}
_SEC_ALIASES.update({"NONE": "OPEN", "WEP": "WEP_PSK", "WPA2": "WPA2_AES_PSK", "WPA": "WPA_AES_PSK"})


def enc_security(value: Any, path: tuple[str, ...]) -> int:
    return enum_lookup(value, F.WICED_SECURITY, _SEC_PREFIX, path, _SEC_ALIASES, bits=32, signed=True)


def dec_security(v: int) -> Any:
    return enum_name(v, F.WICED_SECURITY, _SEC_PREFIX)


# wiced_security_t bits (wwd_constants.h): WEP_ENABLED, WPA_SECURITY, WPA2_SECURITY, WPA3_SECURITY (later SDKs);
# ENTERPRISE_ENABLED and WPS_ENABLED networks get their credentials otherwise; IBSS_ENABLED / WPS alone are open.
_KEYED = 0x0001 | 0x00200000 | 0x00400000 | 0x01000000
_NO_PSK = 0x02000000 | 0x10000000
_OPEN_FLAGS = 0x10000000 | 0x20000000


def _check_key_presence(security: int, length: int, path: tuple[str, ...]) -> None:
    """A WEP/WPA/WPA2/WPA3 pre-shared-key network needs its key; an open network (OPEN, IBSS_OPEN, WPS_OPEN) has
    none. A blank passphrase would leave the unit unable to join, silently."""
    name = dec_security(security)
    if security >= 0 and security & _KEYED and not security & _NO_PSK and not length:
        raise field_error(path, f"security {name} needs a security_key (WPA: 8..63 characters or 64 hex digits)")
    if security >= 0 and not security & ~_OPEN_FLAGS and length:
        raise field_error(path, f"an open network ({name}) has no security_key: give security, or security_key = \"\"")


def enc_key(value: Any, security: int, ctx: Ctx, path: tuple[str, ...]) -> tuple[int, bytes]:
    """security_key[64] + security_key_length. WPA/WPA2 PSK: a passphrase of 8..63 characters or 64 hex digits
    (wwd: WPA_KEYLEN_BAD 'between 8 & 64'). Raw form { hex, length } is stored as given; otherwise the key must
    agree with the security type (_check_key_presence)."""
    if isinstance(value, Mapping):
        data = _raw_form(value, ctx, path, {"hex", "file"})
        if len(data) > F.SECURITY_KEY_SIZE:
            raise field_error(path, f"{len(data)} bytes is too long: at most {F.SECURITY_KEY_SIZE}")
        length = enc_int(value.get("length", len(data.rstrip(b"\0"))), path[:-1] + (path[-1] + ".length",), 0, 255)
        if "length" not in value:  # with its length, the raw form is bytes as a device stored them (dct decode)
            _check_key_presence(security, length, path)
        return length, data.ljust(F.SECURITY_KEY_SIZE, b"\0")
    if not isinstance(value, str):
        raise field_error(path, f"expected a passphrase string, got {type(value).__name__}")
    data = value.encode("utf-8")
    _check_key_presence(security, len(data), path)
    # WPA_SECURITY | WPA2_SECURITY without ENTERPRISE_ENABLED (wwd_constants.h): a PSK passphrase
    wpa = security > 0 and bool(security & (F.WPA_SECURITY | F.WPA2_SECURITY)) and not security & F.ENTERPRISE_ENABLED
    if wpa and data and not (8 <= len(data) <= 63 or (len(data) == 64 and re.fullmatch(r"[0-9A-Fa-f]{64}", value))):
        raise field_error(path, f"WPA/WPA2 passphrase must be 8..63 characters or 64 hex digits, got {len(data)}")
    if len(data) > F.SECURITY_KEY_SIZE:
        raise field_error(path, f"{len(data)} bytes is too long: at most {F.SECURITY_KEY_SIZE}")
    return len(data), data.ljust(F.SECURITY_KEY_SIZE, b"\0")


def dec_key(length: int, data: bytes) -> Any:
    if length <= len(data) and not any(data[length:]):
        try:
            text = data[:length].decode("utf-8")
            if _printable(text) and "\0" not in text:
                return text
        except UnicodeDecodeError:
            pass
    return {"hex": data.hex(), "length": length}


def dec_key_for(length: int, data: bytes, security: int) -> Any:
    """dec_key, but a text key that enc_key would refuse for this security type (e.g. a 5-character WPA2
    passphrase written by other tools) is given in raw form so that it still round-trips."""
    value = dec_key(length, data)
    if isinstance(value, str):
        try:
            enc_key(value, security, Ctx(Path(".")), ("dct", "security_key"))
        except ConfigError:
            return {"hex": data.hex(), "length": length}
    return value


def enc_ssid(value: Any, ctx: Ctx, path: tuple[str, ...]) -> dict[str, Any]:
    """wiced_ssid_t: up to 32 bytes, length-counted (no terminator needed)."""
    if isinstance(value, Mapping):
        data = _raw_form(value, ctx, path, {"hex", "file"})
        if len(data) > F.SSID_NAME_SIZE:
            raise field_error(path, f"{len(data)} bytes is too long: at most {F.SSID_NAME_SIZE}")
        length = enc_int(value.get("length", len(data.rstrip(b"\0"))), path, 0, 255)
        return {"length": length, "value": data.ljust(F.SSID_NAME_SIZE, b"\0")}
    if not isinstance(value, str):
        raise field_error(path, f"expected a string, got {type(value).__name__}")
    data = value.encode("utf-8")
    if len(data) > F.SSID_NAME_SIZE:
        raise field_error(path, f"{len(data)} bytes is too long: at most {F.SSID_NAME_SIZE} bytes")
    return {"length": len(data), "value": data.ljust(F.SSID_NAME_SIZE, b"\0")}


def dec_ssid(c: Mapping[str, Any]) -> Any:
    return dec_key(c["length"], c["value"])


def enc_country(value: Any, path: tuple[str, ...]) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return enc_int(value, path, 0, 0xFFFFFFFF)
    rev = 0
    if isinstance(value, Mapping):
        extra = set(value) - {"code", "revision"}
        if extra or "code" not in value:
            raise field_error(path, "expected \"US\" or { code = \"US\", revision = N }")
        rev = enc_int(value.get("revision", 0), path, 0, 0xFFFF)
        value = value["code"]
    if not isinstance(value, str) or value.upper() not in F.WICED_COUNTRY_CODES:
        near = difflib.get_close_matches(str(value).upper(), sorted(F.WICED_COUNTRY_CODES), n=1)
        hint = f"; did you mean {near[0]!r}?" if near else ""
        raise field_error(path, f"unknown country code {value!r} (not in wiced_country_code_t){hint}")
    code = value.upper()
    return F.MK_CNTRY(code[0], code[1], rev)


def dec_country(v: int) -> Any:
    code = bytes([v & 0xFF, (v >> 8) & 0xFF]).decode("latin-1")
    rev = v >> 16
    if code not in F.WICED_COUNTRY_CODES:
        return v
    return code if rev == 0 else {"code": code, "revision": rev}


def unknown_field(key: str, known: set[str], path: tuple[str, ...]) -> ConfigError:
    near = difflib.get_close_matches(key, sorted(known), n=1)
    hint = f"; did you mean {near[0]!r}?" if near else f"; known: {', '.join(sorted(known))}"
    return field_error(path + (key,), f"unknown field{hint}")
