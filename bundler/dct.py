"""The DCT (device configuration table) from a `[dct]` table of bundle.toml, and back.

Library used by `bundle build` (DCT copy 1 in the MCU image, the DCT image in SFLASH), `bundle dct decode`, and
per-unit serialization. Structures: `bundler.formats.dct` (3.5.2 `platform_dct.h`). Rules:
../shared/docs/wiced-formats.md §2.

The *model* is the DCT as nested plain values with SDK field names (what `decode_dct` returns and what a `[dct]`
table overrides). Defaults are the SDK's initial DCT (`WICED/internal/dct.c` 3.5.2 with `default_wifi_config_dct.h`,
`default_network_config_dct.h`, `default_p2p_config_dct.h`, `default_bt_config_dct.h`, `wiced_defaults.h`), except
where the SDK build inserts per-build data we cannot reproduce: the certificate/private key (the SDK links its demo
certificate; here empty unless given) and the MAC address (the SDK makes a random 02:0A:F7:xx:xx:xx per build; here
02:0A:F7:00:00:00 unless given).

`[dct]` keys (all optional):
  crc = "sdk" | "computed" | <int>; file = "dct.bin|dct.elf"; options = { include_bt, include_p2p, include_ota2 }
  [dct.header]      write_incomplete app_valid mfg_info_programmed initial_write sequence full_size load_app_func
                    boot_detail = { entry_point, load_details = { source, destination, load_once, valid } }
                    apps_locations = [ { id, location, size } | { id, filesystem_filename } , ... ] (index-wise)
  [dct.mfg_info]    manufacturer product_name BOM_name BOM_rev serial_number manufacture_date_time
                    manufacture_location bootloader_version
  [dct.security_credentials] private_key certificate ({ pem = "file" } | "text" | { hex } | { file }), cooee_key
  [dct.wifi_config] device_configured country_code ("US" | { code, revision } | int) mac_address ("00:11:22:33:44:55")
                    [[dct.wifi_config.stored_ap_list]] (replaces the list; up to 5): SSID BSSID signal_strength
                    max_data_rate bss_type security channel band (default: 2_4GHZ for channel 0-14, else 5GHZ)
                    next security_key
                    [dct.wifi_config.soft_ap_settings] / [dct.wifi_config.config_ap_settings]:
                    SSID security channel security_key details_valid
  [dct.ethernet_config] mac_address        [dct.network_config] interface hostname
  [dct.bt_config] bluetooth_device_address bluetooth_device_name bluetooth_device_class ssp_debug_mode
  [dct.p2p_config] p2p_group_owner_settings = { ...soft AP fields... }     [dct.ota2_config] update_count boot_type
  [dct.app] file = "app_dct.bin" | hex = "..." | struct = [ { name, type, size, value }, ... ] (+ packed = true)
Any char/byte field also accepts { hex = "..." } or { file = "..." } (raw bytes, NUL padded).
"""

from __future__ import annotations

import copy as _copy
import difflib
import json
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

import crcmod
from construct import Bytes, Construct, ConstructError, Int8sl, Int8ul, Int16sl, Int16ul, Int32sl, Int32ul, Padding, Struct

from .errors import ConfigError, InputError, hexsize
from .formats import dct as F
from .inputs import is_file

# ---------------------------------------------------------------------------------------------------------------
# Options and CRC
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DctOptions:
    """Board-layout facts about the DCT. Defaults = BCM943362WCD4 (wiced-formats.md §1-§3)."""

    copy_size: int = 0x4000  # PLATFORM_DCT_COPY1_SIZE (header full_size; CRC range)
    apps_lut_header_loc: int = 0  # SFLASH byte address of the LUT (apps_locations[i] = loc + 34*i)
    app_header_size: int = 34  # sizeof(app_header_t)
    include_bt: bool = False  # WICED_DCT_INCLUDE_BT_CONFIG
    include_p2p: bool = False  # WICED_DCT_INCLUDE_P2P_CONFIG
    include_ota2: bool = False  # OTA2_SUPPORT


# libraries/utilities/crc/crc.c: reflected CRC-32 (poly 0x04C11DB7), init 0xFFFFFFFF, no final XOR
_crc32_sdk: Callable[[bytes], int] = crcmod.mkCrcFun(0x104C11DB7, initCrc=0xFFFFFFFF, rev=True, xorOut=0)

_HEADER_SIZE = F.platform_dct_header_t.sizeof()


def _crc_field_range() -> tuple[int, int]:
    off = F.member_offset(F.platform_dct_header_t, "crc32")
    return off, off + 4


def dct_crc(copy: bytes, copy_size: int | None = None) -> int:
    """CRC the SDK computes over a DCT copy (wiced_dct_internal_common.c `wiced_dct_check_crc_valid`).

    The range is the whole copy area (`copy_size`, default len(copy)); `copy` is padded with 0xFF (erased flash) to
    it. Only the header's crc32 field is taken as 0; write_incomplete is CRC'd as stored (the writer computes the
    CRC with it 0, and a copy with write_incomplete != 0 is invalid anyway)."""
    size = len(copy) if copy_size is None else copy_size
    if len(copy) > size:
        raise InputError(f"DCT copy is {hexsize(len(copy))}, larger than the copy area {hexsize(size)}")
    start, end = _crc_field_range()
    area = bytearray(copy) + b"\xff" * (size - len(copy))
    area[start:end] = b"\0\0\0\0"
    return _crc32_sdk(bytes(area))


@dataclass(frozen=True)
class CopyStatus:
    valid: bool
    reason: str
    sequence: int = 0
    initial_write: int = 0
    crc_ok: bool = False


def copy_status(copy: bytes, copy_number: int, copy_size: int | None = None) -> CopyStatus:
    """Is this DCT copy valid for the 3.5.2 bootloader/app (`wiced_dct_get_current_address`)?

    Valid iff write_incomplete == 0, magic == BOOTLOADER_MAGIC_NUMBER and (the CRC over the whole copy area matches
    or — copy 1 only — initial_write == 1 and crc32 == 0). Pass the whole copy area (or give copy_size)."""
    if copy_number not in (1, 2):
        raise ValueError("copy_number must be 1 or 2")
    if len(copy) < _HEADER_SIZE:
        return CopyStatus(False, f"copy {copy_number}: shorter than the header ({hexsize(len(copy))})")
    hdr = F.platform_dct_header_t.parse(copy)
    crc_ok = dct_crc(copy, copy_size) == hdr.crc32
    common = dict(sequence=hdr.sequence, initial_write=hdr.initial_write, crc_ok=crc_ok)
    if hdr.write_incomplete != 0:
        return CopyStatus(False, f"copy {copy_number}: write_incomplete is {hdr.write_incomplete}", **common)
    if hdr.magic_number != F.BOOTLOADER_MAGIC_NUMBER:
        return CopyStatus(False, f"copy {copy_number}: magic 0x{hdr.magic_number:08X} is not 0x4D435242", **common)
    if copy_number == 1 and hdr.initial_write == 1 and hdr.crc32 == 0:
        return CopyStatus(True, "copy 1: initial_write 1 with crc32 0 (SDK factory DCT)", **common)
    if crc_ok:
        return CopyStatus(True, f"copy {copy_number}: CRC 0x{hdr.crc32:08X} matches", **common)
    return CopyStatus(False, f"copy {copy_number}: CRC 0x{hdr.crc32:08X} does not match "
                      f"0x{dct_crc(copy, copy_size):08X}", **common)


def choose_current(copy1: bytes, copy2: bytes, copy_size: int | None = None) -> tuple[int | None, str]:
    """Which copy the 3.5.2 code uses (wiced_dct_get_current_address): both valid -> copy 1 if its initial_write is
    1, else the higher sequence, tie -> copy 1; one valid -> that one; none -> None (the SDK then erases copy 1 and
    writes a bare header: all settings lost)."""
    s1, s2 = copy_status(copy1, 1, copy_size), copy_status(copy2, 2, copy_size)
    if s1.valid and s2.valid:
        if s1.initial_write == 1:
            return 1, f"both valid; copy 1 has initial_write 1 ({s1.reason}; {s2.reason})"
        if s1.sequence > s2.sequence:
            return 1, f"both valid; copy 1 sequence {s1.sequence} > copy 2 sequence {s2.sequence}"
        if s2.sequence > s1.sequence:
            return 2, f"both valid; copy 2 sequence {s2.sequence} > copy 1 sequence {s1.sequence}"
        return 1, f"both valid with the same sequence {s1.sequence}; copy 1 used"
    if s1.valid:
        return 1, f"{s1.reason}; {s2.reason}"
    if s2.valid:
        return 2, f"{s2.reason}; {s1.reason}"
    return None, f"neither copy valid ({s1.reason}; {s2.reason}); the SDK would erase copy 1: settings lost"


# ---------------------------------------------------------------------------------------------------------------
# Value codecs (model <-> bytes), each raising ConfigError naming `where`
# ---------------------------------------------------------------------------------------------------------------


class _Ctx:
    """Where a value comes from, for error messages, and the folder relative paths start from."""

    def __init__(self, base_dir: Path) -> None:
        self.base_dir = base_dir


def _where(path: tuple[str, ...]) -> str:
    table, field = ".".join(path[:-1]), path[-1]
    return f"[{table}] {field}" if table else field


def _err(path: tuple[str, ...], msg: str) -> ConfigError:
    return ConfigError(f"{_where(path)}: {msg}")


def _read_file(ctx: _Ctx, name: Any, path: tuple[str, ...]) -> bytes:
    if not isinstance(name, str):
        raise _err(path, "file must be a path string")
    p = (ctx.base_dir / name) if not Path(name).is_absolute() else Path(name)
    try:
        return p.read_bytes()
    except OSError as exc:
        raise _err(path, f"cannot read {name}: {exc.strerror}") from None


def _hex(value: Any, path: tuple[str, ...]) -> bytes:
    if not isinstance(value, str):
        raise _err(path, "hex must be a string of hex digits")
    try:
        return bytes.fromhex(value.replace(":", "").replace(" ", ""))
    except ValueError:
        raise _err(path, f"not valid hex: {value[:40]!r}") from None


def _printable(text: str, multiline: bool = False) -> bool:
    ok = "\n\r\t" if multiline else ""
    return all(c.isprintable() or c in ok for c in text)


def _raw_form(value: Mapping[str, Any], ctx: _Ctx, path: tuple[str, ...], allowed: set[str]) -> bytes:
    """{ hex = "..." } or { file = "..." } (or { pem = "..." } where allowed)."""
    keys = set(value) - {"length"}
    if len(keys) != 1 or not keys <= allowed:
        raise _err(path, f"expected one of {', '.join(sorted('{ %s = ... }' % k for k in allowed))}")
    (kind,) = keys
    if kind == "hex":
        return _hex(value["hex"], path)
    data = _read_file(ctx, value[kind], path)
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
        raise _err(path, f"{name} is not a PEM {what} ({str(exc).splitlines()[0][:80]})") from None
    return data


def enc_cstr(value: Any, size: int, ctx: _Ctx, path: tuple[str, ...], multiline: bool = False) -> bytes:
    """char[size] holding a NUL-terminated string: text of at most size-1 bytes, or raw bytes (hex/file/pem) of at
    most size bytes; NUL padded."""
    if isinstance(value, str):
        data = value.encode("utf-8")
        if len(data) > size - 1:
            raise _err(path, f"{len(data)} bytes is too long: at most {size - 1} bytes "
                       f"(char[{size}] with its NUL terminator)")
        return data.ljust(size, b"\0")
    if isinstance(value, Mapping):
        data = _raw_form(value, ctx, path, {"hex", "file", "pem"} if multiline else {"hex", "file"})
        limit = size - 1 if "pem" in value else size
        if len(data) > limit:
            raise _err(path, f"{hexsize(len(data))} is too long: at most {limit} bytes")
        return data.ljust(size, b"\0")
    raise _err(path, f"expected a string or {{ hex = ... }}, got {type(value).__name__}")


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


def enc_bytes(value: Any, size: int, ctx: _Ctx, path: tuple[str, ...], exact: bool = False) -> bytes:
    """uint8_t[size]: a text string (its bytes, no terminator) or { hex } / { file }; zero padded."""
    if isinstance(value, str):
        data = value.encode("utf-8")
    elif isinstance(value, Mapping):
        data = _raw_form(value, ctx, path, {"hex", "file"})
    else:
        raise _err(path, f"expected a string or {{ hex = ... }}, got {type(value).__name__}")
    if exact and len(data) != size:
        raise _err(path, f"must be exactly {size} bytes, got {len(data)}")
    if len(data) > size:
        raise _err(path, f"{len(data)} bytes is too long: at most {size} bytes")
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
        raise _err(path, f"{value!r} is not a MAC address like \"00:11:22:33:44:55\"")
    return bytes.fromhex(value.replace(":", "").replace("-", ""))


def dec_mac(data: bytes) -> str:
    return ":".join(f"{b:02X}" for b in data)


def enc_int(value: Any, path: tuple[str, ...], lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _err(path, f"expected an integer, got {value!r}")
    if not lo <= value <= hi:
        raise _err(path, f"{value} is outside {lo}..{hi}")
    return value


def enc_bool(value: Any, path: tuple[str, ...]) -> int:
    if isinstance(value, bool):
        return int(value)
    return enc_int(value, path, 0, 255)


def dec_bool(v: int) -> Any:
    return bool(v) if v in (0, 1) else v


def _enum_lookup(value: Any, table: Mapping[str, int], prefix: str, path: tuple[str, ...],
                 aliases: Mapping[str, str] | None = None, bits: int = 8, signed: bool = False) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
        return enc_int(value, path, lo, hi)
    if not isinstance(value, str):
        raise _err(path, f"expected a name, got {value!r}")
    key = value.strip().upper().replace(" ", "_").replace(".", "_")
    if aliases and key in aliases:
        key = aliases[key]
    for cand in (key, prefix + key):
        if cand in table:
            return table[cand]
    names = [n[len(prefix):] for n in table]
    near = difflib.get_close_matches(key, names, n=1)
    hint = f"; did you mean {near[0]!r}?" if near else f"; one of {', '.join(names)}"
    raise _err(path, f"unknown value {value!r}{hint}")


def _enum_name(v: int, table: Mapping[str, int], prefix: str) -> Any:
    for name, num in table.items():
        if num == v:
            return name[len(prefix):]
    return v


# wiced_security_t: accept "WPA2_AES" for WICED_SECURITY_WPA2_AES_PSK etc.
_SEC_PREFIX = "WICED_SECURITY_"
_SEC_ALIASES = {k[len(_SEC_PREFIX):-4]: k[len(_SEC_PREFIX):] for k in F.WICED_SECURITY if k.endswith("_PSK")}
_SEC_ALIASES.update({"NONE": "OPEN", "WEP": "WEP_PSK", "WPA2": "WPA2_AES_PSK", "WPA": "WPA_AES_PSK"})


def enc_security(value: Any, path: tuple[str, ...]) -> int:
    return _enum_lookup(value, F.WICED_SECURITY, _SEC_PREFIX, path, _SEC_ALIASES, bits=32, signed=True)


def dec_security(v: int) -> Any:
    return _enum_name(v, F.WICED_SECURITY, _SEC_PREFIX)


_BAND_ALIASES = {"2_4": "2_4GHZ", "2_4G": "2_4GHZ", "5": "5GHZ", "5G": "5GHZ"}
_IFACE_ALIASES = {"STA": "STA_INTERFACE", "AP": "AP_INTERFACE", "P2P": "P2P_INTERFACE",
                  "ETHERNET": "ETHERNET_INTERFACE", "CONFIG": "CONFIG_INTERFACE"}


def enc_key(value: Any, security: int, ctx: _Ctx, path: tuple[str, ...]) -> tuple[int, bytes]:
    """security_key[64] + security_key_length. WPA/WPA2 PSK: a passphrase of 8..63 characters or 64 hex digits
    (wwd: WPA_KEYLEN_BAD 'between 8 & 64'). Raw form { hex, length } is stored as given."""
    if isinstance(value, Mapping):
        data = _raw_form(value, ctx, path, {"hex", "file"})
        if len(data) > F.SECURITY_KEY_SIZE:
            raise _err(path, f"{len(data)} bytes is too long: at most {F.SECURITY_KEY_SIZE}")
        length = value.get("length", len(data.rstrip(b"\0")))
        return enc_int(length, path[:-1] + (path[-1] + ".length",), 0, 255), data.ljust(F.SECURITY_KEY_SIZE, b"\0")
    if not isinstance(value, str):
        raise _err(path, f"expected a passphrase string, got {type(value).__name__}")
    data = value.encode("utf-8")
    # WPA_SECURITY | WPA2_SECURITY without ENTERPRISE_ENABLED (wwd_constants.h): a PSK passphrase
    wpa = security > 0 and bool(security & 0x00600000) and not security & 0x02000000
    if wpa and data and not (8 <= len(data) <= 63 or (len(data) == 64 and re.fullmatch(r"[0-9A-Fa-f]{64}", value))):
        raise _err(path, f"WPA/WPA2 passphrase must be 8..63 characters or 64 hex digits, got {len(data)}")
    if len(data) > F.SECURITY_KEY_SIZE:
        raise _err(path, f"{len(data)} bytes is too long: at most {F.SECURITY_KEY_SIZE}")
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
            enc_key(value, security, _Ctx(Path(".")), ("dct", "security_key"))
        except ConfigError:
            return {"hex": data.hex(), "length": length}
    return value


def enc_ssid(value: Any, ctx: _Ctx, path: tuple[str, ...]) -> dict[str, Any]:
    """wiced_ssid_t: up to 32 bytes, length-counted (no terminator needed)."""
    if isinstance(value, Mapping):
        data = _raw_form(value, ctx, path, {"hex", "file"})
        if len(data) > F.SSID_NAME_SIZE:
            raise _err(path, f"{len(data)} bytes is too long: at most {F.SSID_NAME_SIZE}")
        length = enc_int(value.get("length", len(data.rstrip(b"\0"))), path, 0, 255)
        return {"length": length, "value": data.ljust(F.SSID_NAME_SIZE, b"\0")}
    if not isinstance(value, str):
        raise _err(path, f"expected a string, got {type(value).__name__}")
    data = value.encode("utf-8")
    if len(data) > F.SSID_NAME_SIZE:
        raise _err(path, f"{len(data)} bytes is too long: at most {F.SSID_NAME_SIZE} bytes")
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
            raise _err(path, "expected \"US\" or { code = \"US\", revision = N }")
        rev = enc_int(value.get("revision", 0), path, 0, 0xFFFF)
        value = value["code"]
    if not isinstance(value, str) or value.upper() not in F.WICED_COUNTRY_CODES:
        near = difflib.get_close_matches(str(value).upper(), sorted(F.WICED_COUNTRY_CODES), n=1)
        hint = f"; did you mean {near[0]!r}?" if near else ""
        raise _err(path, f"unknown country code {value!r} (not in wiced_country_code_t){hint}")
    code = value.upper()
    return F.MK_CNTRY(code[0], code[1], rev)


def dec_country(v: int) -> Any:
    code = bytes([v & 0xFF, (v >> 8) & 0xFF]).decode("latin-1")
    rev = v >> 16
    if code not in F.WICED_COUNTRY_CODES:
        return v
    return code if rev == 0 else {"code": code, "revision": rev}


# ---------------------------------------------------------------------------------------------------------------
# Model <-> Construct containers, section by section
# ---------------------------------------------------------------------------------------------------------------


def enc_location(m: Mapping[str, Any], ctx: _Ctx, path: tuple[str, ...]) -> dict[str, Any]:
    lid = _enum_lookup(m.get("id", "NONE"), F.IMAGE_LOCATION_IDS, "", path + ("id",))
    if "filesystem_filename" in m:
        detail = {"filesystem_filename": enc_cstr(m["filesystem_filename"], 32, ctx, path + ("filesystem_filename",))}
    elif "detail" in m:
        detail = {"filesystem_filename": enc_bytes(m["detail"], 32, ctx, path + ("detail",))}
    else:
        detail = {"external_fixed": {"location": enc_int(m.get("location", 0), path + ("location",), 0, 0xFFFFFFFF),
                                     "size": enc_int(m.get("size", 0), path + ("size",), 0, 0xFFFFFFFF)}}
    return {"id": lid, "detail": detail}


def dec_location(c: Mapping[str, Any]) -> dict[str, Any]:
    lid = int(c["id"])
    name = _enum_name(lid, F.IMAGE_LOCATION_IDS, "")
    raw = c["detail"]["filesystem_filename"]
    if lid == F.IMAGE_LOCATION_IDS["EXTERNAL_FILESYSTEM_FILE"]:
        return {"id": name, "filesystem_filename": dec_cstr(raw)}
    if any(raw[F.fixed_location_t.sizeof():]):  # bytes beyond {location, size} in the 32-byte union
        return {"id": name, "detail": {"hex": raw.hex()}}
    fixed = c["detail"]["external_fixed"]
    return {"id": name, "location": fixed["location"], "size": fixed["size"]}


def enc_header(m: Mapping[str, Any], ctx: _Ctx, p: tuple[str, ...]) -> dict[str, Any]:
    bd = m["boot_detail"]
    ld = bd["load_details"]
    lp = p + ("boot_detail", "load_details")
    return {
        "full_size": enc_int(m["full_size"], p + ("full_size",), 0, 0xFFFFFFFF),
        "used_size": 0,  # set by build_dct
        "magic_number": F.BOOTLOADER_MAGIC_NUMBER,
        **{k: enc_int(m[k], p + (k,), 0, 255) for k in
           ("write_incomplete", "app_valid", "mfg_info_programmed", "initial_write")},
        "sequence": enc_int(m["sequence"], p + ("sequence",), 0, 0xFFFFFFFF),
        "crc32": 0,  # set by build_dct
        "boot_detail": {
            "load_details": {
                "source": enc_location(ld["source"], ctx, lp + ("source",)),
                "destination": enc_location(ld["destination"], ctx, lp + ("destination",)),
                "load_once": enc_int(ld["load_once"], lp + ("load_once",), 0, 255),
                "valid": enc_int(ld["valid"], lp + ("valid",), 0, 255),
            },
            "entry_point": enc_int(bd["entry_point"], p + ("boot_detail", "entry_point"), 0, 0xFFFFFFFF),
        },
        "apps_locations": [enc_location(loc, ctx, p + (f"apps_locations[{i}]",))
                           for i, loc in enumerate(m["apps_locations"])],
        "load_app_func": enc_int(m["load_app_func"], p + ("load_app_func",), 0, 0xFFFFFFFF),
    }


def dec_header(c: Mapping[str, Any]) -> dict[str, Any]:
    ld = c["boot_detail"]["load_details"]
    return {
        "full_size": c["full_size"],
        "used_size": c["used_size"],
        "magic_number": c["magic_number"],
        "write_incomplete": c["write_incomplete"],
        "app_valid": c["app_valid"],
        "mfg_info_programmed": c["mfg_info_programmed"],
        "initial_write": c["initial_write"],
        "sequence": c["sequence"],
        "crc32": c["crc32"],
        "boot_detail": {
            "load_details": {
                "source": dec_location(ld["source"]),
                "destination": dec_location(ld["destination"]),
                "load_once": ld["load_once"],
                "valid": ld["valid"],
            },
            "entry_point": c["boot_detail"]["entry_point"],
        },
        "apps_locations": [dec_location(x) for x in c["apps_locations"]],
        "load_app_func": c["load_app_func"],
    }


MFG_FIELDS = {sc.name: sc.sizeof() for sc in F.platform_dct_mfg_info_t.subcons}


def enc_soft_ap(m: Mapping[str, Any], ctx: _Ctx, p: tuple[str, ...]) -> dict[str, Any]:
    security = enc_security(m["security"], p + ("security",))
    klen, key = enc_key(m["security_key"], security, ctx, p + ("security_key",))
    return {
        "SSID": enc_ssid(m["SSID"], ctx, p + ("SSID",)),
        "security": security,
        "channel": enc_int(m["channel"], p + ("channel",), 0, 255),
        "security_key_length": klen,
        "security_key": key,
        "details_valid": enc_int(m["details_valid"], p + ("details_valid",), 0, 0xFFFFFFFF),
    }


def dec_soft_ap(c: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "SSID": dec_ssid(c["SSID"]),
        "security": dec_security(int(c["security"])),
        "channel": c["channel"],
        "security_key": dec_key_for(c["security_key_length"], c["security_key"], int(c["security"])),
        "details_valid": c["details_valid"],
    }


def enc_ap_entry(m: Mapping[str, Any], ctx: _Ctx, p: tuple[str, ...]) -> dict[str, Any]:
    security = enc_security(m["security"], p + ("security",))
    klen, key = enc_key(m["security_key"], security, ctx, p + ("security_key",))
    return {
        "details": {
            "SSID": enc_ssid(m["SSID"], ctx, p + ("SSID",)),
            "BSSID": enc_mac(m["BSSID"], p + ("BSSID",)),
            "signal_strength": enc_int(m["signal_strength"], p + ("signal_strength",), -32768, 32767),
            "max_data_rate": enc_int(m["max_data_rate"], p + ("max_data_rate",), 0, 0xFFFFFFFF),
            "bss_type": _enum_lookup(m["bss_type"], F.WICED_BSS_TYPE, "WICED_BSS_TYPE_", p + ("bss_type",),
                                     signed=True),
            "security": security,
            "channel": enc_int(m["channel"], p + ("channel",), 0, 255),
            "band": _enum_lookup(m["band"], F.WICED_802_11_BAND, "WICED_802_11_BAND_", p + ("band",), _BAND_ALIASES),
            "next": enc_int(m["next"], p + ("next",), 0, 0xFFFFFFFF),
        },
        "security_key_length": klen,
        "security_key": key,
    }


def dec_ap_entry(c: Mapping[str, Any]) -> dict[str, Any]:
    d = c["details"]
    return {
        "SSID": dec_ssid(d["SSID"]),
        "BSSID": dec_mac(d["BSSID"]),
        "signal_strength": d["signal_strength"],
        "max_data_rate": d["max_data_rate"],
        "bss_type": _enum_name(int(d["bss_type"]), F.WICED_BSS_TYPE, "WICED_BSS_TYPE_"),
        "security": dec_security(int(d["security"])),
        "channel": d["channel"],
        "band": _enum_name(int(d["band"]), F.WICED_802_11_BAND, "WICED_802_11_BAND_"),
        "next": d["next"],
        "security_key": dec_key_for(c["security_key_length"], c["security_key"], int(d["security"])),
    }


def _encode_sections(model: Mapping[str, Any], ctx: _Ctx) -> dict[str, Any]:
    """Model -> dict of Construct build values for platform_dct_data_t."""
    d = ("dct",)
    out: dict[str, Any] = {"dct_header": enc_header(model["header"], ctx, d + ("header",))}
    mfg = model["mfg_info"]
    out["mfg_info"] = {k: enc_cstr(mfg[k], n, ctx, d + ("mfg_info", k)) for k, n in MFG_FIELDS.items()}
    sec, sp = model["security_credentials"], d + ("security_credentials",)
    out["security_credentials"] = {
        "private_key": enc_cstr(sec["private_key"], F.PRIVATE_KEY_SIZE, ctx, sp + ("private_key",), multiline=True),
        "certificate": enc_cstr(sec["certificate"], F.CERTIFICATE_SIZE, ctx, sp + ("certificate",), multiline=True),
        "cooee_key": enc_bytes(sec["cooee_key"], F.COOEE_KEY_SIZE, ctx, sp + ("cooee_key",), exact=True),
    }
    wifi, wp = model["wifi_config"], d + ("wifi_config",)
    aps = wifi["stored_ap_list"]
    if len(aps) > F.CONFIG_AP_LIST_SIZE:
        raise _err(wp + ("stored_ap_list",), f"{len(aps)} entries: at most {F.CONFIG_AP_LIST_SIZE} (CONFIG_AP_LIST_SIZE)")
    aps = list(aps) + [ZERO_AP] * (F.CONFIG_AP_LIST_SIZE - len(aps))
    out["wifi_config"] = {
        "device_configured": enc_bool(wifi["device_configured"], wp + ("device_configured",)),
        "stored_ap_list": [enc_ap_entry(ap, ctx, wp + (f"stored_ap_list[{i}]",)) for i, ap in enumerate(aps)],
        "soft_ap_settings": enc_soft_ap(wifi["soft_ap_settings"], ctx, wp + ("soft_ap_settings",)),
        "config_ap_settings": enc_soft_ap(wifi["config_ap_settings"], ctx, wp + ("config_ap_settings",)),
        "country_code": enc_country(wifi["country_code"], wp + ("country_code",)),
        "mac_address": enc_mac(wifi["mac_address"], wp + ("mac_address",)),
        "padding": b"\0\0",
    }
    out["ethernet_config"] = {
        "mac_address": enc_mac(model["ethernet_config"]["mac_address"], d + ("ethernet_config", "mac_address")),
        "padding": b"\0\0",
    }
    net, np_ = model["network_config"], d + ("network_config",)
    out["network_config"] = {
        "interface": _enum_lookup(net["interface"], F.WICED_INTERFACE, "WICED_", np_ + ("interface",), _IFACE_ALIASES),
        "hostname": enc_cstr(net["hostname"], F.HOSTNAME_SIZE + 1, ctx, np_ + ("hostname",)),
        "padding": b"\0\0",
    }
    if "bt_config" in model:
        bt, bp = model["bt_config"], d + ("bt_config",)
        out["bt_config"] = {
            "bluetooth_device_address": enc_mac(bt["bluetooth_device_address"], bp + ("bluetooth_device_address",)),
            "bluetooth_device_name": enc_cstr(bt["bluetooth_device_name"], 249, ctx, bp + ("bluetooth_device_name",)),
            "bluetooth_device_class": enc_bytes(bt["bluetooth_device_class"], 3, ctx,
                                                bp + ("bluetooth_device_class",), exact=True),
            "ssp_debug_mode": enc_bool(bt["ssp_debug_mode"], bp + ("ssp_debug_mode",)),
            "padding": b"\0\0",
        }
    if "p2p_config" in model:
        out["p2p_config"] = {
            "p2p_group_owner_settings": enc_soft_ap(model["p2p_config"]["p2p_group_owner_settings"], ctx,
                                                    d + ("p2p_config", "p2p_group_owner_settings")),
            "padding": b"\0\0",
        }
    if "ota2_config" in model:
        o, op = model["ota2_config"], d + ("ota2_config",)
        out["ota2_config"] = {
            "update_count": enc_int(o["update_count"], op + ("update_count",), 0, 0xFFFF),
            "boot_type": enc_int(o["boot_type"], op + ("boot_type",), 0, 255),
            "padding": b"\0",
        }
    return out


def _decode_sections(c: Mapping[str, Any]) -> dict[str, Any]:
    m: dict[str, Any] = {"header": dec_header(c["dct_header"])}
    m["mfg_info"] = {k: dec_cstr(c["mfg_info"][k]) for k in MFG_FIELDS}
    s = c["security_credentials"]
    m["security_credentials"] = {
        "private_key": dec_cstr(s["private_key"], multiline=True),
        "certificate": dec_cstr(s["certificate"], multiline=True),
        "cooee_key": dec_bytes(s["cooee_key"], exact=True),
    }
    w = c["wifi_config"]
    m["wifi_config"] = {
        "device_configured": dec_bool(w["device_configured"]),
        "stored_ap_list": [dec_ap_entry(x) for x in w["stored_ap_list"]],
        "soft_ap_settings": dec_soft_ap(w["soft_ap_settings"]),
        "config_ap_settings": dec_soft_ap(w["config_ap_settings"]),
        "country_code": dec_country(w["country_code"]),
        "mac_address": dec_mac(w["mac_address"]),
    }
    m["ethernet_config"] = {"mac_address": dec_mac(c["ethernet_config"]["mac_address"])}
    n = c["network_config"]
    m["network_config"] = {"interface": _iface_name(int(n["interface"])), "hostname": dec_cstr(n["hostname"])}
    if "bt_config" in c:
        b = c["bt_config"]
        m["bt_config"] = {
            "bluetooth_device_address": dec_mac(b["bluetooth_device_address"]),
            "bluetooth_device_name": dec_cstr(b["bluetooth_device_name"]),
            "bluetooth_device_class": {"hex": b["bluetooth_device_class"].hex()},
            "ssp_debug_mode": dec_bool(b["ssp_debug_mode"]),
        }
    if "p2p_config" in c:
        m["p2p_config"] = {"p2p_group_owner_settings": dec_soft_ap(c["p2p_config"]["p2p_group_owner_settings"])}
    if "ota2_config" in c:
        m["ota2_config"] = {"update_count": c["ota2_config"]["update_count"],
                            "boot_type": c["ota2_config"]["boot_type"]}
    return m


def _iface_name(v: int) -> Any:
    name = _enum_name(v, F.WICED_INTERFACE, "WICED_")
    return name[: -len("_INTERFACE")] if isinstance(name, str) else name


# ---------------------------------------------------------------------------------------------------------------
# SDK defaults (model form)
# ---------------------------------------------------------------------------------------------------------------
def _loc(lid: str, location: int = 0, size: int = 0) -> dict[str, Any]:
    return {"id": lid, "location": location, "size": size}


ZERO_AP: dict[str, Any] = {
    "SSID": "", "BSSID": "00:00:00:00:00:00", "signal_strength": 0, "max_data_rate": 0,
    "bss_type": "INFRASTRUCTURE", "security": "OPEN", "channel": 0, "band": "5GHZ", "next": 0, "security_key": "",
}


def _ap_base(entry: Any) -> dict[str, Any]:
    """The zero entry under a [[stored_ap_list]] entry, with the band its channel implies: a zero band is
    WICED_802_11_BAND_5GHZ, which for a 2.4 GHz channel (or "any", 0) would make the device join on the wrong band
    (and a BCM43362 has no 5 GHz radio). An explicit `band` still wins."""
    channel = entry.get("channel", 0) if isinstance(entry, dict) else 0
    return {**ZERO_AP, "band": "2_4GHZ" if isinstance(channel, int) and 0 <= channel <= 14 else "5GHZ"}


def default_model(options: DctOptions) -> dict[str, Any]:
    """The SDK's initial DCT (WICED/internal/dct.c, 3.5.2) as a model."""
    m: dict[str, Any] = {
        "header": {
            "full_size": options.copy_size,  # dct_full_size_loc = LENGTH(DCT1_FLASH)
            "write_incomplete": 0,
            "app_valid": 1,
            "mfg_info_programmed": 0,
            "initial_write": 1,
            "sequence": 0,
            "boot_detail": {  # no BOOTLOADER_LOAD_MAIN_APP_FROM_* define
                "load_details": {"source": _loc("NONE"), "destination": _loc("INTERNAL"), "load_once": 0, "valid": 0},
                "entry_point": 0,
            },
            "apps_locations": [_loc("EXTERNAL_FIXED_LOCATION", options.apps_lut_header_loc + options.app_header_size * i)
                               for i in range(F.DCT_MAX_APP_COUNT)],
            "load_app_func": 0,
        },
        "mfg_info": {k: "" for k in MFG_FIELDS},
        "security_credentials": {"private_key": "", "certificate": "", "cooee_key": "abcdabcdabcdabcd"},
        "wifi_config": {
            "device_configured": False,  # WICED_TRUE only with WIFI_CONFIG_APPLICATION_DEFINED
            "stored_ap_list": [  # DEFAULT_AP_LIST: entry 0 = CLIENT_AP_* of default_wifi_config_dct.h
                {**ZERO_AP, "SSID": "YOUR_AP_SSID", "security": "WPA2_MIXED_PSK", "channel": 1, "band": "2_4GHZ",
                 "security_key": "YOUR_AP_PASSPHRASE"},
            ] + [dict(ZERO_AP) for _ in range(F.CONFIG_AP_LIST_SIZE - 1)],
            "soft_ap_settings": {"SSID": "WICED Device", "security": "WPA2_AES_PSK", "channel": 1,
                                 "security_key": "WICED_PASSPHRASE", "details_valid": 0},
            "config_ap_settings": {"SSID": "WICED Config", "security": "WPA2_AES_PSK", "channel": 1,
                                   "security_key": "12345678", "details_valid": F.CONFIG_VALIDITY_VALUE},
            "country_code": "US",  # WICED_DEFAULT_COUNTRY_CODE
            "mac_address": "02:0A:F7:00:00:00",  # SDK: random 02:0A:F7:xx:xx:xx per build (generated_mac_address)
        },
        "ethernet_config": {"mac_address": "00:00:00:00:00:00"},  # set only with WICED_USE_ETHERNET_INTERFACE
        "network_config": {"interface": "STA", "hostname": "WICED IP"},  # default_network_config_dct.h
    }
    if options.include_bt:  # default_bt_config_dct.h
        m["bt_config"] = {"bluetooth_device_address": "11:22:33:44:55:66", "bluetooth_device_name": "WICED AV Sink",
                          "bluetooth_device_class": {"hex": "20041c"}, "ssp_debug_mode": False}
    if options.include_p2p:  # default_p2p_config_dct.h
        m["p2p_config"] = {"p2p_group_owner_settings": {
            "SSID": "DIRECT-WICED", "security": "WPA2_AES_PSK", "channel": 1, "security_key": "12345678",
            "details_valid": F.CONFIG_VALIDITY_VALUE}}
    if options.include_ota2:
        m["ota2_config"] = {"update_count": 0, "boot_type": 0}
    return m


# ---------------------------------------------------------------------------------------------------------------
# Merging a [dct] table over the defaults (unknown keys refused with a suggestion)
# ---------------------------------------------------------------------------------------------------------------
_TOP_KEYS = {"crc", "file", "options", "header", "mfg_info", "security_credentials", "wifi_config",
             "ethernet_config", "network_config", "bt_config", "p2p_config", "ota2_config", "app"}
_LOC_KEYS = {"id", "location", "size", "filesystem_filename", "detail"}
_LEAF_TABLES = {"SSID", "security_key", "country_code", "private_key", "certificate", "cooee_key",
                "filesystem_filename", "detail", "bluetooth_device_class"} | set(MFG_FIELDS) | {"hostname",
                                                                                               "bluetooth_device_name"}


def _unknown(key: str, known: set[str], path: tuple[str, ...]) -> ConfigError:
    near = difflib.get_close_matches(key, sorted(known), n=1)
    hint = f"; did you mean {near[0]!r}?" if near else f"; known: {', '.join(sorted(known))}"
    return _err(path + (key,), f"unknown field{hint}")


def _merge(base: Any, over: Any, path: tuple[str, ...]) -> Any:
    """Recursively merge table `over` into model `base`. Leaves (and {hex}/{file}/{pem} forms) replace."""
    name = path[-1] if path else ""
    if isinstance(base, dict) and set(base) <= _LOC_KEYS and "id" in base:  # image_location_t
        if not isinstance(over, Mapping):
            raise _err(path, "expected a table { id, location, size } or { id, filesystem_filename }")
        for k in over:
            if k not in _LOC_KEYS:
                raise _unknown(k, _LOC_KEYS, path)
        if {"filesystem_filename", "detail"} & set(over):
            return {"id": over.get("id", base["id"]), **{k: v for k, v in over.items() if k != "id"}}
        return {**{k: v for k, v in base.items() if k in ("id", "location", "size")}, **over}
    if isinstance(base, dict) and name not in _LEAF_TABLES:
        if not isinstance(over, Mapping):
            raise _err(path, f"expected a table, got {type(over).__name__}")
        out = dict(base)
        for k, v in over.items():
            if k not in base:
                raise _unknown(k, set(base), path)
            out[k] = _merge(base[k], v, path + (k,))
        return out
    if isinstance(base, list):
        if not isinstance(over, list):
            raise _err(path, f"expected an array, got {type(over).__name__}")
        if name == "stored_ap_list":  # replaces the whole list; missing entries/fields are zero
            if len(over) > len(base):
                raise _err(path, f"{len(over)} entries: at most {len(base)} (CONFIG_AP_LIST_SIZE)")
            return [_merge(_ap_base(v), v, path[:-1] + (f"{name}[{i}]",)) for i, v in enumerate(over)]
        if len(over) > len(base):
            raise _err(path, f"{len(over)} entries: at most {len(base)}")
        return [_merge(b, over[i], path[:-1] + (f"{name}[{i}]",)) if i < len(over) else b
                for i, b in enumerate(base)]
    return over


# ---------------------------------------------------------------------------------------------------------------
# The application's DCT section
# ---------------------------------------------------------------------------------------------------------------
_APP_TYPES: dict[str, tuple[Construct, int]] = {
    "uint8": (Int8ul, 1), "int8": (Int8sl, 1), "uint16": (Int16ul, 2), "int16": (Int16sl, 2),
    "uint32": (Int32ul, 4), "int32": (Int32sl, 4), "bool": (Int8ul, 1),
}


def app_struct(fields: Any, packed: bool = False, path: tuple[str, ...] = ("dct", "app", "struct")) -> Construct:
    """A Construct Struct for an application DCT struct described in TOML, laid out as GCC would (natural
    alignment, tail padding to the largest member) unless packed."""
    if not isinstance(fields, list) or not fields:
        raise _err(path, "expected a non-empty array of { name, type, size, value }")
    subcons: list[Construct] = []
    pos, max_align = 0, 1
    names: set[str] = set()
    for i, f in enumerate(fields):
        fp = path[:-1] + (f"struct[{i}]",)
        if not isinstance(f, Mapping):
            raise _err(fp, "expected a table { name, type, size, value }")
        for k in f:
            if k not in ("name", "type", "size", "value"):
                raise _unknown(k, {"name", "type", "size", "value"}, fp)
        name, typ = f.get("name"), f.get("type")
        if not isinstance(name, str) or not name.isidentifier() or name in names:
            raise _err(fp + ("name",), f"{name!r} must be a unique C identifier")
        names.add(name)
        if typ in ("string", "bytes"):
            size = f.get("size")
            if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
                raise _err(fp + ("size",), f"type {typ} needs size = N > 0")
            sub, align = Bytes(size), 1
        elif typ in _APP_TYPES:
            sub, align = _APP_TYPES[typ]
        else:
            near = difflib.get_close_matches(str(typ), [*_APP_TYPES, "string", "bytes"], n=1)
            raise _err(fp + ("type",), f"unknown type {typ!r}" + (f"; did you mean {near[0]!r}?" if near else ""))
        if not packed and pos % align:
            subcons.append(Padding(align - pos % align))
            pos += align - pos % align
        subcons.append(name / sub)
        pos += sub.sizeof()
        max_align = max(max_align, align)
    if not packed and pos % max_align:
        subcons.append(Padding(max_align - pos % max_align))
    return Struct(*subcons)


def _app_values(fields: list[Mapping[str, Any]], ctx: _Ctx, path: tuple[str, ...]) -> dict[str, Any]:
    vals: dict[str, Any] = {}
    for i, f in enumerate(fields):
        fp = path + (f"struct[{i}]", str(f["name"]))
        typ, v = f["type"], f.get("value")
        if typ == "string":
            vals[f["name"]] = enc_cstr("" if v is None else v, f["size"], ctx, fp)
        elif typ == "bytes":
            vals[f["name"]] = enc_bytes({"hex": ""} if v is None else ({"hex": v} if isinstance(v, str) else v),
                                        f["size"], ctx, fp)
        else:
            sub, size = _APP_TYPES[typ]
            signed = typ.startswith("int")
            lo, hi = (-(1 << (8 * size - 1)), (1 << (8 * size - 1)) - 1) if signed else (0, (1 << (8 * size)) - 1)
            vals[f["name"]] = enc_bool(v, fp) if typ == "bool" else enc_int(0 if v is None else v, fp, lo, hi)
    return vals


def _build_app(app: Any, ctx: _Ctx) -> bytes:
    path = ("dct", "app")
    if not isinstance(app, Mapping):
        raise _err(path, "expected a table with file, hex or struct")
    for k in app:
        if k not in ("file", "hex", "struct", "packed"):
            raise _unknown(k, {"file", "hex", "struct", "packed"}, path)
    kinds = [k for k in ("file", "hex", "struct") if k in app]
    if len(kinds) != 1:
        raise _err(path, "give exactly one of file, hex or struct")
    if "file" in app:
        return _read_file(ctx, app["file"], path + ("file",))
    if "hex" in app:
        return _hex(app["hex"], path + ("hex",))
    packed = app.get("packed", False)
    st = app_struct(app["struct"], bool(packed), path + ("struct",))
    return st.build(_app_values(app["struct"], ctx, path))


# ---------------------------------------------------------------------------------------------------------------
# build / decode
# ---------------------------------------------------------------------------------------------------------------
def _effective_options(table: Mapping[str, Any], options: DctOptions) -> DctOptions:
    over = table.get("options", {})
    if not isinstance(over, Mapping):
        raise _err(("dct", "options"), "expected a table { include_bt, include_p2p, include_ota2 }")
    allowed = {"include_bt", "include_p2p", "include_ota2"}
    for k, v in over.items():
        if k not in allowed:
            raise _unknown(k, allowed, ("dct", "options"))
        if not isinstance(v, bool):
            raise _err(("dct", "options", k), "expected true or false")
    return replace(options, **dict(over))


def effective_options(table: Mapping[str, Any], options: DctOptions) -> DctOptions:
    """The board's DctOptions as a `[dct] options = {...}` table overrides them (section offsets depend on it)."""
    return _effective_options(table or {}, options)


def build_dct(table: Mapping[str, Any], base_dir: Path, options: DctOptions) -> bytes:
    """DCT copy 1's used bytes (header + platform_dct_data_t + app section) from a `[dct]` table."""
    table = table or {}
    if not isinstance(table, Mapping):
        raise ConfigError("[dct] must be a table")
    for k in table:
        if k not in _TOP_KEYS:
            raise _unknown(k, _TOP_KEYS, ("dct",))
    ctx = _Ctx(Path(base_dir))
    options = _effective_options(table, options)
    crc = table.get("crc", "keep" if "file" in table else "sdk")
    if crc not in ("sdk", "computed", "keep") and (isinstance(crc, bool) or not isinstance(crc, int)):
        raise _err(("dct", "crc"), f"{crc!r}: expected \"sdk\", \"computed\" or an integer")
    if "file" in table:
        other = set(table) - {"file", "crc", "options"}
        if other:
            raise _err(("dct", "file"), f"a prebuilt DCT cannot be combined with [dct] {', '.join(sorted(other))}")
        data = _load_prebuilt(ctx, table["file"], options)
    else:
        if crc == "keep":
            raise _err(("dct", "crc"), "\"keep\" only applies to a prebuilt [dct] file")
        for name in ("bt_config", "p2p_config", "ota2_config"):
            flag = "include_" + name.split("_")[0]
            if name in table and not getattr(options, flag):
                raise _err(("dct", name), f"section not in this DCT layout; set [dct] options = {{ {flag} = true }}"
                           " (or in the board layout)")
        model = _merge(default_model(options), {k: v for k, v in table.items() if k not in
                                                ("crc", "file", "options", "app")}, ("dct",))
        values = _encode_sections(model, ctx)
        data_t = F.platform_dct_data_t(options.include_bt, options.include_p2p, options.include_ota2)
        app = _build_app(table["app"], ctx) if "app" in table else b""
        values["dct_header"]["used_size"] = data_t.sizeof() + len(app)
        data = data_t.build(values) + app
        if crc == "sdk" and model["header"]["initial_write"] != 1:
            raise _err(("dct", "crc"), "\"sdk\" (crc32 0) is only valid with [dct.header] initial_write = 1; "
                       "use crc = \"computed\"")
    if len(data) > options.copy_size:
        raise _err(("dct", "app") if "app" in table else ("dct", "file"),
                   f"DCT of {hexsize(len(data))} does not fit the DCT copy ({hexsize(options.copy_size)})")
    if crc == "keep":
        return data
    return _set_crc(data, 0 if crc == "sdk" else None if crc == "computed" else crc, options.copy_size)


def _set_crc(data: bytes, value: int | None, copy_size: int) -> bytes:
    """Write the header's crc32 field: `value`, or the SDK CRC over the copy padded to copy_size if None."""
    hdr = F.platform_dct_header_t.parse(data)
    hdr.crc32 = 0
    out = F.platform_dct_header_t.build(hdr) + data[_HEADER_SIZE:]
    if value is None:
        value = dct_crc(out, copy_size)
    hdr.crc32 = value
    return F.platform_dct_header_t.build(hdr) + data[_HEADER_SIZE:]


def read_dct_file(path: Path) -> bytes:
    """A DCT from a raw blob or an ELF with one loadable segment (the SDK's DCT.elf / DCT.stripped.elf)."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", path) from None
    if raw[:4] != b"\x7fELF":
        return raw
    import io

    from elftools.common.exceptions import ELFError
    from elftools.elf.elffile import ELFFile

    try:
        elf = ELFFile(io.BytesIO(raw))
        loads = [s for s in elf.iter_segments() if s["p_type"] == "PT_LOAD" and s["p_filesz"] > 0]
    except ELFError as exc:
        raise InputError(f"not a readable ELF: {exc}", path) from None
    if len(loads) != 1:
        raise InputError(f"a DCT ELF has one loadable segment, this one has {len(loads)}", path)
    return loads[0].data()


def _load_prebuilt(ctx: _Ctx, name: Any, options: DctOptions) -> bytes:
    if not isinstance(name, str):
        raise _err(("dct", "file"), "expected a path string")
    path = ctx.base_dir / name
    if not is_file(path):
        raise _err(("dct", "file"), f"{name} does not exist")
    data = read_dct_file(path)
    return _check_dct_blob(data, options, str(name))


def _check_dct_blob(data: bytes, options: DctOptions, name: str) -> bytes:
    """Validate magic and size; trim an erased (0xFF) tail after used_size."""
    if len(data) < _HEADER_SIZE:
        raise InputError(f"{hexsize(len(data))} is shorter than the DCT header ({hexsize(_HEADER_SIZE)})", name)
    hdr = F.platform_dct_header_t.parse(data)
    if hdr.magic_number != F.BOOTLOADER_MAGIC_NUMBER:
        raise InputError(f"magic_number 0x{hdr.magic_number:08X} at offset 0x8 is not 0x4D435242 (\"BRCM\"): "
                         "not a WICED 3.5.2 DCT", name)
    if _HEADER_SIZE <= hdr.used_size < len(data) and all(b == 0xFF for b in data[hdr.used_size:]):
        data = data[: hdr.used_size]
    if len(data) > options.copy_size:
        raise InputError(f"DCT of {hexsize(len(data))} is larger than the DCT copy ({hexsize(options.copy_size)})",
                         name)
    return data


def decode_dct(data: bytes, options: DctOptions, show_secrets: bool = False,
               app: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """DCT bytes -> model (nested dict, SDK names, plain values). `data` may be the used bytes or the whole copy
    area. The app section (bytes used_size - sizeof(platform_dct_data_t)) is `{"hex": ...}`, or its fields if
    `app` (a `[dct.app]` table with `struct`) is given. Secrets are `{"redacted": True, "length": n}` unless
    show_secrets. Also `crc` = {"stored", "computed", "kind"}."""
    whole = bytes(data)
    data = _check_dct_blob(whole, options, "DCT")
    data_t = F.platform_dct_data_t(options.include_bt, options.include_p2p, options.include_ota2)
    size = data_t.sizeof()
    if len(data) < size:
        raise InputError(f"DCT is {hexsize(len(data))}, shorter than platform_dct_data_t ({hexsize(size)})")
    try:
        c = data_t.parse(data)
    except ConstructError as exc:
        raise InputError(f"cannot decode the DCT: {exc}") from None
    model = _decode_sections(c)
    used = model["header"]["used_size"]
    if used < size or used > len(data):
        raise InputError(f"used_size {used} is outside {size}..{len(data)} (bytes present)")
    app_bytes = data[size:used]
    if app_bytes:
        if app is not None and "struct" in app:
            st = app_struct(app["struct"], bool(app.get("packed", False)))
            parsed = st.parse(app_bytes)
            model["app"] = {k: (v.hex() if isinstance(v, bytes) else v) for k, v in parsed.items() if k != "_io"}
        else:
            model["app"] = {"hex": app_bytes.hex()}
    stored = model["header"]["crc32"]
    computed = dct_crc(whole, options.copy_size)  # over the copy as given, 0xFF-padded (erased flash)
    model["crc"] = {"stored": stored, "computed": computed,
                    "kind": "sdk" if stored == 0 else "computed" if stored == computed else "mismatch"}
    return model if show_secrets else redact(model)


# ---------------------------------------------------------------------------------------------------------------
# Secrets
# ---------------------------------------------------------------------------------------------------------------
# Model paths of every secret ("*" = any list index). Other code may check that none of these values appears in
# an output (CSV, manifest, logs): use secret_fields() to get the concrete values.
SECRET_FIELDS: tuple[str, ...] = (
    "security_credentials.private_key",
    "security_credentials.certificate",  # not secret per se, but device identity; treated as sensitive
    "security_credentials.cooee_key",
    "wifi_config.stored_ap_list.*.security_key",
    "wifi_config.soft_ap_settings.security_key",
    "wifi_config.config_ap_settings.security_key",
    "p2p_config.p2p_group_owner_settings.security_key",
)


def _walk(obj: Any, parts: list[str], prefix: str) -> Iterator[tuple[str, Any, Any, Any]]:
    """Yield (concrete path, parent, key, value) for a SECRET_FIELDS pattern."""
    head, rest = parts[0], parts[1:]
    if head == "*":
        if isinstance(obj, list):
            for i, v in enumerate(obj):
                yield from (_walk(v, rest, f"{prefix}.{i}") if rest else [(f"{prefix}.{i}", obj, i, v)])
        return
    if isinstance(obj, Mapping) and head in obj:
        p = f"{prefix}.{head}" if prefix else head
        if rest:
            yield from _walk(obj[head], rest, p)
        else:
            yield p, obj, head, obj[head]


def secret_fields(table_or_model: Mapping[str, Any]) -> dict[str, Any]:
    """Concrete path -> value of every secret present in a `[dct]` table or a decoded model (values as given:
    text, {hex}/{file}/{pem} tables, or redaction markers)."""
    found: dict[str, Any] = {}
    for pattern in SECRET_FIELDS:
        for p, _parent, _key, v in _walk(table_or_model, pattern.split("."), ""):
            found[p] = v
    return found


def secret_values(data: bytes, options: DctOptions) -> list[bytes]:
    """The raw bytes of every non-empty secret in a DCT, to assert they never appear in other outputs."""
    model = decode_dct(data, options, show_secrets=True)
    out: list[bytes] = []
    for v in secret_fields(model).values():
        raw = bytes.fromhex(v["hex"]).rstrip(b"\0") if isinstance(v, Mapping) else str(v).encode()
        if len(raw) >= 4:
            out.append(raw)
    return out


def _secret_length(v: Any) -> int:
    if isinstance(v, Mapping):
        return int(v.get("length", len(bytes.fromhex(v.get("hex", "")).rstrip(b"\0"))))
    return len(str(v).encode())


def redact(model: Mapping[str, Any]) -> dict[str, Any]:
    out = _copy.deepcopy(dict(model))
    for pattern in SECRET_FIELDS:
        for _p, parent, key, v in list(_walk(out, pattern.split("."), "")):
            parent[key] = {"redacted": True, "length": _secret_length(v)}
    return out


# ---------------------------------------------------------------------------------------------------------------
# Serial fields (per-unit patching)
# ---------------------------------------------------------------------------------------------------------------
def dct_serial_fields(options: DctOptions) -> dict[str, tuple[int, int]]:
    """(offset within the DCT, size) of the per-unit fields: mfg_info.serial_number (char[20]) and
    wifi_config.mac_address (wiced_mac_t)."""
    off = F.section_offsets(options.include_bt, options.include_p2p, options.include_ota2)
    return {
        "mfg_info.serial_number": (off["mfg_info"] + F.member_offset(F.platform_dct_mfg_info_t, "serial_number"), 20),
        "wifi_config.mac_address": (off["wifi_config"] + F.member_offset(F.platform_dct_wifi_config_t, "mac_address"),
                                    6),
    }


# ---------------------------------------------------------------------------------------------------------------
# TOML
# ---------------------------------------------------------------------------------------------------------------
def _diff(model: Any, base: Any) -> Any:
    """The part of `model` that differs from `base` (None if equal)."""
    if model == base:
        return None
    if isinstance(model, dict) and isinstance(base, dict) and not ({"hex", "redacted"} & (set(model) | set(base))):
        if set(model) <= _LOC_KEYS and "id" in model:
            if set(model) != set(base):
                return dict(model)
        out = {k: d for k, v in model.items() if (d := _diff(v, base.get(k))) is not None}
        return out or None
    return model


def model_to_table(model: Mapping[str, Any], options: DctOptions) -> dict[str, Any]:
    """The `[dct]` table that rebuilds `model` (fields equal to the SDK defaults left out)."""
    base = default_model(options)
    table: dict[str, Any] = {}
    crc = model.get("crc", {})
    kind = crc.get("kind", "sdk")
    table["crc"] = "sdk" if kind == "sdk" else "computed" if kind == "computed" else crc.get("stored", 0)
    for sec, val in model.items():
        if sec in ("crc", "app"):
            continue
        if sec == "header":
            val = {k: v for k, v in val.items() if k not in ("used_size", "magic_number", "crc32")}
            aps = [(_diff(a, b) or {}) for a, b in zip(val["apps_locations"], base["header"]["apps_locations"])]
            while aps and not aps[-1]:
                aps.pop()
            val = {**val, "apps_locations": aps}
            hb = {**base["header"], "apps_locations": []}
            d = _diff(val, hb)
        elif sec == "wifi_config":
            aps = val["stored_ap_list"]
            d = _diff({k: v for k, v in val.items() if k != "stored_ap_list"},
                      {k: v for k, v in base[sec].items() if k != "stored_ap_list"}) or {}
            if aps != base[sec]["stored_ap_list"]:
                lst = [(_diff(a, _ap_base(a)) or {}) for a in aps]
                while lst and aps[len(lst) - 1] == ZERO_AP:  # unused slots at the end: left out
                    lst.pop()
                d["stored_ap_list"] = lst
            d = d or None
        else:
            d = _diff(val, base.get(sec))
        if d:
            table[sec] = d
    if "app" in model:
        table["app"] = model["app"] if "hex" in model["app"] else {"hex": ""}
    return table


def _toml_key(k: str) -> str:
    return k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else json.dumps(k)


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return f"0x{v:X}" if v >= 0x10000 else str(v)
    if isinstance(v, str):
        if "\n" in v:
            body = v.replace("\\", "\\\\").replace('"""', '\\"\\"\\"').replace("\r", "\\r")
            return '"""\n' + body + '"""'
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, Mapping):
        return "{ " + ", ".join(f"{_toml_key(k)} = {_toml_value(x)}" for k, x in v.items()) + " }"
    if isinstance(v, list):
        return "[ " + ", ".join(_toml_value(x) for x in v) + " ]"
    raise TypeError(type(v))


def _is_inline(v: Any) -> bool:
    return not isinstance(v, Mapping) or bool({"hex", "file", "pem", "redacted", "code"} & set(v)) \
        or (set(v) <= _LOC_KEYS and "id" in v)


def _emit(table: Mapping[str, Any], name: str, lines: list[str]) -> None:
    simple = {k: v for k, v in table.items() if _is_inline(v) and not (
        isinstance(v, list) and v and all(isinstance(x, Mapping) and not _is_inline(x) for x in v))}
    if simple or not table:
        lines.append(f"[{name}]")
    for k, v in simple.items():
        if isinstance(v, list) and v and all(isinstance(x, Mapping) for x in v) and len(_toml_value(v)) > 100:
            lines.append(f"{_toml_key(k)} = [")
            lines.extend(f"    {_toml_value(x)}," for x in v)
            lines.append("]")
        else:
            lines.append(f"{_toml_key(k)} = {_toml_value(v)}")
    for k, v in table.items():
        if k in simple:
            continue
        if isinstance(v, list):
            for x in v:
                lines.append("")
                lines.append(f"[[{name}.{_toml_key(k)}]]")
                for kk, vv in x.items():
                    lines.append(f"{_toml_key(kk)} = {_toml_value(vv)}")
        else:
            lines.append("")
            _emit(v, f"{name}.{_toml_key(k)}", lines)


def dct_to_toml(data: bytes, options: DctOptions, base_dir: Path | None = None, show_secrets: bool = False) -> str:
    """A `[dct]` table (TOML text) that `build_dct` turns back into exactly `data` (used bytes). Without
    show_secrets, secrets that differ from the SDK defaults are left out and listed in a comment (a rebuild then
    has the defaults there)."""
    model = decode_dct(data, options, show_secrets=True)
    table = model_to_table(model, options)
    omitted: list[str] = []
    if not show_secrets:
        for pattern in SECRET_FIELDS:
            for p, parent, key, v in list(_walk(table, pattern.split("."), "")):
                omitted.append(f"dct.{p} ({_secret_length(v)} bytes)")
                if isinstance(parent, list):
                    parent[key] = {}
                else:
                    del parent[key]
    lines = ["# DCT decoded by `bundle dct decode --toml`; fields equal to the SDK defaults are omitted."]
    if omitted:
        lines.append("# Secrets omitted (use --show-secrets to include them): " + ", ".join(omitted))
    exact = True
    if show_secrets:
        try:
            import tomllib

            rebuilt = build_dct(tomllib.loads("\n".join(_render(table)))["dct"], base_dir or Path("."), options)
            exact = rebuilt == _check_dct_blob(bytes(data), options, "DCT")
        except (ConfigError, InputError, ValueError):
            exact = False
        if not exact:
            lines.append("# WARNING: this DCT has bytes (padding, unused union bytes) this table cannot express;"
                         " a rebuild differs from it")
    lines.extend(_render(table))
    return "\n".join(lines) + "\n"


def _render(table: Mapping[str, Any]) -> list[str]:
    lines: list[str] = []
    top = {k: v for k, v in table.items() if _is_inline(v) and k != "app"}
    lines.append("[dct]")
    for k, v in top.items():
        lines.append(f"{_toml_key(k)} = {_toml_value(v)}")
    for k, v in table.items():
        if k not in top:
            lines.append("")
            if k == "app":  # [dct.app] hex = "..." (the application's DCT section, raw)
                lines.extend(["[dct.app]", f"hex = {_toml_value(v['hex'])}"])
            else:
                _emit(v, f"dct.{k}", lines)
    return lines


# ---------------------------------------------------------------------------------------------------------------
# CLI helpers
# ---------------------------------------------------------------------------------------------------------------
def options_for_board(board: Any) -> DctOptions:
    """DctOptions from a `bundler.layout.Board`."""
    from .formats.lut import APP_HEADER_SIZE

    return DctOptions(
        copy_size=board.mcu.region(board.dct.copies[0]).size,
        apps_lut_header_loc=board.sflash.apps_lut_header_loc,
        app_header_size=APP_HEADER_SIZE,
        include_bt=board.dct.include_bt,
        include_p2p=board.dct.include_p2p,
        include_ota2=board.dct.include_ota2,
    )


def load_dct_input(path: Path, board_name: str) -> tuple[bytes, DctOptions, str]:
    """Read a DCT blob, a DCT ELF, an MCU image (raw .bin of exactly the board's flash size, or Intel HEX inside the
    MCU flash: the copy the SDK would use is taken, doc §2.2) or an SFLASH image (the DCT image component named by
    LUT entry DCT_DCT_IMAGE_INDEX: its ELF's one loadable segment). Returns (DCT bytes, options, a note saying what
    was read)."""
    from .inputs import read_image_file
    from .layout import load_board

    board = load_board(board_name)
    options = options_for_board(board)
    raw, base, fmt = read_image_file(Path(path), fill=board.mcu.fill)
    if fmt == "elf":
        data = read_dct_file(path)
    elif fmt == "hex":
        return _dct_from_mcu_hex(raw, base or 0, board, options, path)
    else:
        data = raw
    if fmt == "bin" and len(data) == board.mcu.flash_size:
        # an 8 Mbit SFLASH image has the MCU flash's size: the LUT decides (an MCU image's entry 1 falls on the
        # reserved vectors 7..10, which are 0, so it never looks like a stored DCT image)
        found = _try_sflash(data, board, options)
        if found is not None:
            return _sflash_result(found, options, path)
        which, why, copy = _current_copy(data, board)
        if which is None:
            raise InputError(f"MCU image: {why}", path)
        return _check_dct_blob(copy, options, str(path)), options, f"MCU image: DCT copy {which} ({why})"
    if fmt == "bin" and len(data) > options.copy_size:
        found = _try_sflash(data, board, options)
        if found is None:
            raise InputError(f"{hexsize(len(data))} is neither a DCT (at most {hexsize(options.copy_size)}), a raw "
                             f"MCU image of {hexsize(board.mcu.flash_size)}, nor an SFLASH image with a DCT image "
                             f"(LUT entry {F.DCT_DCT_IMAGE_INDEX} at 0x{options.apps_lut_header_loc:X})", path)
        return _sflash_result(found, options, path)
    data = _check_dct_blob(data, options, str(path))
    status = copy_status(data, 1, options.copy_size)
    return data, options, ("valid: " if status.valid else "INVALID: ") + status.reason


def _current_copy(flash: bytes, board: Any) -> tuple[int | None, str, bytes]:
    """The copy the SDK would use in a whole-flash MCU image: (1 | 2 | None, why, that copy's bytes)."""
    regions = [board.mcu.region(name) for name in board.dct.copies]
    copies = [flash[r.start - board.mcu.flash_base: r.end - board.mcu.flash_base] for r in regions]
    which, why = choose_current(copies[0], copies[1])
    return which, why, copies[which - 1] if which else b""


def _dct_from_mcu_hex(image: bytes, base: int, board: Any, options: DctOptions,
                      path: Path) -> tuple[bytes, DctOptions, str]:
    """An Intel HEX MCU image (whole flash, or only some sectors such as a per-unit DCT sector): laid into an erased
    flash image, then the current copy is taken as for a raw image."""
    mcu = board.mcu
    if base < mcu.flash_base or base + len(image) > mcu.flash_base + mcu.flash_size:
        raise InputError(f"Intel HEX data 0x{base:08X}-0x{base + len(image) - 1:08X} is not inside the MCU flash "
                         f"0x{mcu.flash_base:08X}-0x{mcu.flash_base + mcu.flash_size - 1:08X}", path)
    flash = bytearray(bytes([mcu.fill])) * mcu.flash_size
    flash[base - mcu.flash_base: base - mcu.flash_base + len(image)] = image
    which, why, copy = _current_copy(bytes(flash), board)
    if which is None:
        raise InputError(f"MCU image (Intel HEX): {why}", path)
    return _check_dct_blob(copy, options, str(path)), options, f"MCU image (Intel HEX): DCT copy {which} ({why})"


# ---------------------------------------------------------------------------------------------------------------
# The DCT image inside an SFLASH image (LUT entry DCT_DCT_IMAGE_INDEX -> stored ELF -> its one loadable segment)
# ---------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SflashDct:
    """Where the DCT bytes of the SFLASH DCT image are. `runs` are the LUT entry's sector runs as (image offset,
    length); `segment_offset` is the ELF segment's p_offset inside the component (the runs concatenated)."""

    runs: tuple[tuple[int, int], ...]
    segment_offset: int
    size: int  # p_filesz: the DCT's used bytes
    load_address: int  # p_paddr: where wiced_dct_load copies it (DCT copy 1)
    data: bytes

    @property
    def sector_range(self) -> tuple[int, int]:
        """(image offset, length) spanning all sectors of the component."""
        start = min(o for o, _ in self.runs)
        return start, max(o + n for o, n in self.runs) - start

    def image_offset(self, dct_offset: int, size: int) -> int:
        """Offset in the SFLASH image of `size` DCT bytes at `dct_offset` (must not straddle two sector runs)."""
        if dct_offset < 0 or dct_offset + size > self.size:
            raise InputError(f"DCT offset 0x{dct_offset:X}+{size} is outside the SFLASH DCT image "
                             f"({hexsize(self.size)})")
        pos = self.segment_offset + dct_offset
        for start, length in self.runs:
            if pos < length:
                if pos + size > length:
                    raise InputError(f"DCT bytes 0x{dct_offset:X}+{size} straddle two sector runs of the SFLASH "
                                     "DCT image")
                return start + pos
            pos -= length
        raise InputError(f"DCT offset 0x{dct_offset:X} is past the SFLASH DCT image's sectors")


def find_dct_in_sflash(image: bytes, lut_offset: int, sector_size: int) -> SflashDct:
    """The DCT image component of an SFLASH image: LUT (wiced_apps_lut[8] at `lut_offset`) entry
    DCT_DCT_IMAGE_INDEX gives its sector runs; the component is an ELF whose single loadable segment is the DCT
    (wiced_dct_load needs e_phnum == 1; a segment is loaded iff p_filesz != 0 and p_type & 1)."""
    from .formats.elf import Elf32_Ehdr, Elf32_Phdr, loaded_by_wiced
    from .formats.lut import wiced_apps_lut

    name = f"LUT entry {F.DCT_DCT_IMAGE_INDEX} (DCT image)"
    if lut_offset + wiced_apps_lut.sizeof() > len(image):
        raise InputError(f"image of {hexsize(len(image))} is too short for the apps LUT at 0x{lut_offset:X}")
    header = wiced_apps_lut.parse(image[lut_offset:])[F.DCT_DCT_IMAGE_INDEX]
    if not 1 <= header.count <= len(header.sectors):
        raise InputError(f"{name}: count {header.count}, expected 1..{len(header.sectors)} sector runs (none stored?)")
    runs = []
    for run in header.sectors[:header.count]:
        start, length = run.start * sector_size, run.count * sector_size
        if run.count == 0 or start + length > len(image) or start <= lut_offset < start + length:
            raise InputError(f"{name}: sectors {run.start}+{run.count} are not inside the image "
                             f"({hexsize(len(image))}) clear of the LUT")
        runs.append((start, length))
    component = b"".join(image[o:o + n] for o, n in runs)
    try:
        ehdr = Elf32_Ehdr.parse(component)
    except ConstructError:
        raise InputError(f"{name} at 0x{runs[0][0]:X}: not an ELF (no \\x7fELF magic)") from None
    loads = []
    for i in range(ehdr.e_phnum):
        at = ehdr.e_phoff + i * ehdr.e_phentsize
        if ehdr.e_phentsize < Elf32_Phdr.sizeof() or at + Elf32_Phdr.sizeof() > len(component):
            raise InputError(f"{name}: program header {i} at 0x{at:X} is outside the component")
        phdr = Elf32_Phdr.parse(component[at:])
        if loaded_by_wiced(phdr):
            loads.append(phdr)
    if len(loads) != 1:
        raise InputError(f"{name}: the ELF has {len(loads)} loadable segments; a DCT image has exactly one")
    seg = loads[0]
    if seg.p_offset + seg.p_filesz > len(component):
        raise InputError(f"{name}: segment 0x{seg.p_offset:X}+{hexsize(seg.p_filesz)} runs past the component's "
                         f"sectors ({hexsize(len(component))})")
    data = component[seg.p_offset:seg.p_offset + seg.p_filesz]
    return SflashDct(tuple(runs), seg.p_offset, seg.p_filesz, seg.p_paddr, data)


def _try_sflash(image: bytes, board: Any, options: DctOptions) -> SflashDct | None:
    try:
        found = find_dct_in_sflash(image, options.apps_lut_header_loc, board.sflash.sector_size)
        _check_dct_blob(found.data, options, "SFLASH DCT image")
        return found
    except InputError:
        return None


def _sflash_result(found: SflashDct, options: DctOptions, path: Path) -> tuple[bytes, DctOptions, str]:
    data = _check_dct_blob(found.data, options, str(path))
    status = copy_status(data, 1, options.copy_size)
    start = found.runs[0][0] + found.segment_offset
    return data, options, (f"SFLASH image: DCT image (LUT entry {F.DCT_DCT_IMAGE_INDEX}) at 0x{start:X}, loads at "
                           f"0x{found.load_address:08X}; " + ("valid: " if status.valid else "INVALID: ")
                           + status.reason)


# ---------------------------------------------------------------------------------------------------------------
# Per-unit patching
# ---------------------------------------------------------------------------------------------------------------
def dct_crc_field() -> tuple[int, int]:
    """(offset, size) of the header's crc32 field in a DCT copy."""
    start, end = _crc_field_range()
    return start, end - start


def patch_dct(dct: bytes, patches: Mapping[int, bytes], options: DctOptions, recompute_crc: bool) -> bytes:
    """`dct` with bytes replaced at DCT offsets; with recompute_crc the header's crc32 is set to the SDK CRC of the
    result (over the copy area, 0xFF padded), else it is left as it was."""
    out = bytearray(dct)
    for offset, value in patches.items():
        if offset < 0 or offset + len(value) > len(out):
            raise InputError(f"DCT offset 0x{offset:X}+{len(value)} is outside the DCT ({hexsize(len(out))})")
        out[offset:offset + len(value)] = value
    return _set_crc(bytes(out), None, options.copy_size) if recompute_crc else bytes(out)


def flatten(model: Any, prefix: str = "") -> list[tuple[str, str]]:
    """(dotted field, printable value) rows for a human listing."""
    rows: list[tuple[str, str]] = []
    if isinstance(model, Mapping) and not ({"hex", "redacted"} & set(model)) and "code" not in model:
        for k, v in model.items():
            rows.extend(flatten(v, f"{prefix}.{k}" if prefix else str(k)))
    elif isinstance(model, list):
        for i, v in enumerate(model):
            rows.extend(flatten(v, f"{prefix}[{i}]"))
    elif isinstance(model, Mapping) and model.get("redacted"):
        rows.append((prefix, f"<redacted, {model['length']} bytes>"))
    elif isinstance(model, Mapping) and "hex" in model:
        h = model["hex"]
        rows.append((prefix, f"hex {h[:64]}{'…' if len(h) > 64 else ''} ({len(h) // 2} bytes)"))
    elif isinstance(model, int) and not isinstance(model, bool) and model >= 0x10000:
        rows.append((prefix, f"0x{model:08X}"))
    else:
        rows.append((prefix, json.dumps(model, ensure_ascii=False) if isinstance(model, (str, Mapping)) else str(model)))
    return rows
