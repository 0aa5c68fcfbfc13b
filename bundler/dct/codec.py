"""The DCT model <-> bytes, section by section (`platform_dct_data_t` of `bundler.formats.dct` in the layout's
generation, `DctOptions.generation`), and the SDK's defaults in model form.

The *model* is the DCT as nested plain values with SDK field names (what `decode_dct` returns and what a `[dct]`
table overrides). Defaults are the SDK's initial DCT (`WICED/internal/dct.c` of 3.1.2 - 3.7.0 with
`default_wifi_config_dct.h`, `default_network_config_dct.h`, `default_p2p_config_dct.h`, `default_bt_config_dct.h`, `wiced_defaults.h`), except
where the SDK build inserts per-build data we cannot reproduce: the certificate/private key (the SDK links its demo
certificate; here empty unless given) and the MAC address (the SDK makes a random 02:0A:F7:xx:xx:xx per build; here
02:0A:F7:00:00:00 unless given).
"""

from __future__ import annotations

from typing import Any, Mapping

from construct import Construct, ConstructError

from ..errors import InputError, hexsize
from ..formats import dct as F
from ..formats.lut import APP_HEADER_SIZE
from .app import app_struct
from . import generation
from .copies import dct_crc, stored_crc
from .fields import (
    Ctx, dec_bool, dec_bytes, dec_country, dec_cstr, dec_key_for, dec_mac, dec_security, dec_ssid, enc_bool, enc_bytes,
    enc_country, enc_cstr, enc_int, enc_key, enc_mac, enc_security, enc_ssid, enum_lookup, enum_name, field_error,
)
from .options import DctOptions
from .secrets import redact


_BAND_ALIASES = {"2_4": "2_4GHZ", "2_4G": "2_4GHZ", "5": "5GHZ", "5G": "5GHZ"}
_IFACE_ALIASES = {"STA": "STA_INTERFACE", "AP": "AP_INTERFACE", "P2P": "P2P_INTERFACE",
                  "ETHERNET": "ETHERNET_INTERFACE", "CONFIG": "CONFIG_INTERFACE"}


def enc_location(m: Mapping[str, Any], ctx: Ctx, path: tuple[str, ...]) -> dict[str, Any]:
    lid = enum_lookup(m.get("id", "NONE"), F.IMAGE_LOCATION_IDS, "", path + ("id",))
    size = F.member_size(F.image_location_t, "detail")  # the union: filesystem_filename[32] or {location, size}
    if "filesystem_filename" in m:
        detail = {"filesystem_filename": enc_cstr(m["filesystem_filename"], size, ctx, path + ("filesystem_filename",))}
    elif "detail" in m:
        detail = {"filesystem_filename": enc_bytes(m["detail"], size, ctx, path + ("detail",))}
    else:
        detail = {"external_fixed": {"location": enc_int(m.get("location", 0), path + ("location",), 0, 0xFFFFFFFF),
                                     "size": enc_int(m.get("size", 0), path + ("size",), 0, 0xFFFFFFFF)}}
    return {"id": lid, "detail": detail}


def dec_location(c: Mapping[str, Any]) -> dict[str, Any]:
    lid = int(c["id"])
    name = enum_name(lid, F.IMAGE_LOCATION_IDS, "")
    raw = c["detail"]["filesystem_filename"]
    if lid == F.IMAGE_LOCATION_IDS["EXTERNAL_FILESYSTEM_FILE"]:
        return {"id": name, "filesystem_filename": dec_cstr(raw)}
    if any(raw[F.fixed_location_t.sizeof():]):  # bytes beyond {location, size} in the 32-byte union
        return {"id": name, "detail": {"hex": raw.hex()}}
    fixed = c["detail"]["external_fixed"]
    return {"id": name, "location": fixed["location"], "size": fixed["size"]}


# header members a [dct.header] table sets as small integers (each generation's header has a subset of them)
_HEADER_BYTES = ("write_incomplete", "is_current_dct", "app_valid", "mfg_info_programmed", "initial_write")


def enc_header(m: Mapping[str, Any], ctx: Ctx, p: tuple[str, ...], header: Construct) -> dict[str, Any]:
    """Model -> build values of a generation's platform_dct_header_t (used_size and crc32 are set by build_dct)."""
    names = {sc.name for sc in header.subcons}  # type: ignore[attr-defined]
    bd = m["boot_detail"]
    ld = bd["load_details"]
    lp = p + ("boot_detail", "load_details")
    out: dict[str, Any] = {
        "full_size": enc_int(m["full_size"], p + ("full_size",), 0, 0xFFFFFFFF),
        "used_size": 0,  # set by build_dct
        "magic_number": F.BOOTLOADER_MAGIC_NUMBER,
        **{k: enc_int(m[k], p + (k,), 0, 255) for k in _HEADER_BYTES if k in names},
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
    if "sequence" in names:  # 3.5.2: CRC and sequence in the header
        out["sequence"] = enc_int(m["sequence"], p + ("sequence",), 0, 0xFFFFFFFF)
        out["crc32"] = 0  # set by build_dct
    return out


def dec_header(c: Mapping[str, Any]) -> dict[str, Any]:
    """A parsed platform_dct_header_t of any generation -> model (its members in the struct's order)."""
    out: dict[str, Any] = {}
    for k, v in c.items():
        if k.startswith("_"):
            continue
        if k == "boot_detail":
            ld = v["load_details"]
            out[k] = {
                "load_details": {
                    "source": dec_location(ld["source"]),
                    "destination": dec_location(ld["destination"]),
                    "load_once": ld["load_once"],
                    "valid": ld["valid"],
                },
                "entry_point": v["entry_point"],
            }
        elif k == "apps_locations":
            out[k] = [dec_location(x) for x in v]
        else:
            out[k] = v
    return out


MFG_FIELDS = {sc.name: sc.sizeof() for sc in F.platform_dct_mfg_info_t.subcons}


def enc_soft_ap(m: Mapping[str, Any], ctx: Ctx, p: tuple[str, ...]) -> dict[str, Any]:
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


def enc_ap_entry(m: Mapping[str, Any], ctx: Ctx, p: tuple[str, ...]) -> dict[str, Any]:
    security = enc_security(m["security"], p + ("security",))
    klen, key = enc_key(m["security_key"], security, ctx, p + ("security_key",))
    return {
        "details": {
            "SSID": enc_ssid(m["SSID"], ctx, p + ("SSID",)),
            "BSSID": enc_mac(m["BSSID"], p + ("BSSID",)),
            "signal_strength": enc_int(m["signal_strength"], p + ("signal_strength",), -32768, 32767),
            "max_data_rate": enc_int(m["max_data_rate"], p + ("max_data_rate",), 0, 0xFFFFFFFF),
            "bss_type": enum_lookup(m["bss_type"], F.WICED_BSS_TYPE, "WICED_BSS_TYPE_", p + ("bss_type",),
                                     signed=True),
            "security": security,
            "channel": enc_int(m["channel"], p + ("channel",), 0, 255),
            "band": enum_lookup(m["band"], F.WICED_802_11_BAND, "WICED_802_11_BAND_", p + ("band",), _BAND_ALIASES),
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
        "bss_type": enum_name(int(d["bss_type"]), F.WICED_BSS_TYPE, "WICED_BSS_TYPE_"),
        "security": dec_security(int(d["security"])),
        "channel": d["channel"],
        "band": enum_name(int(d["band"]), F.WICED_802_11_BAND, "WICED_802_11_BAND_"),
        "next": d["next"],
        "security_key": dec_key_for(c["security_key_length"], c["security_key"], int(d["security"])),
    }


def section_structs(gen: F.DctGeneration) -> dict[str, Construct]:
    """Section name -> its declaration in this generation (fixed and optional)."""
    return {name: sub for name, sub, _ in gen.fixed + gen.optional}


def present_sections(options: DctOptions) -> list[str]:
    """The sections of platform_dct_data_t in the layout's generation with its optional sections."""
    offsets = F.section_offsets(options.include_bt, options.include_p2p, options.include_ota2, options.generation)
    return [name for name in offsets if name != "end"]


def _names(con: Construct) -> set[str]:
    return {sc.name for sc in con.subcons}  # type: ignore[attr-defined]


def encode_sections(model: Mapping[str, Any], ctx: Ctx, options: DctOptions) -> dict[str, Any]:
    """Model -> dict of Construct build values for the generation's platform_dct_data_t."""
    gen = options.generation
    structs = section_structs(gen)
    d = ("dct",)
    out: dict[str, Any] = {"dct_header": enc_header(model["header"], ctx, d + ("header",), gen.header)}
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
        raise field_error(wp + ("stored_ap_list",), f"{len(aps)} entries: at most {F.CONFIG_AP_LIST_SIZE} (CONFIG_AP_LIST_SIZE)")
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
    if "ethernet_config" in model:  # not in 3.1.1 / 3.1.2
        out["ethernet_config"] = {
            "mac_address": enc_mac(model["ethernet_config"]["mac_address"], d + ("ethernet_config", "mac_address")),
            "padding": b"\0\0",
        }
    if "network_config" in model:
        net, np_ = model["network_config"], d + ("network_config",)
        out["network_config"] = {
            "interface": enum_lookup(net["interface"], F.WICED_INTERFACE, "WICED_", np_ + ("interface",),
                                     _IFACE_ALIASES),
            "hostname": enc_cstr(net["hostname"], F.HOSTNAME_SIZE + 1, ctx, np_ + ("hostname",)),
            "padding": b"\0\0",
        }
    if "bt_config" in model:
        bt, bp, bt_t = model["bt_config"], d + ("bt_config",), structs["bt_config"]

        def bt_size(name: str) -> int:
            return F.member_size(bt_t, name)

        out["bt_config"] = {
            "bluetooth_device_address": enc_mac(bt["bluetooth_device_address"], bp + ("bluetooth_device_address",)),
            "bluetooth_device_name": enc_cstr(bt["bluetooth_device_name"], bt_size("bluetooth_device_name"), ctx,
                                              bp + ("bluetooth_device_name",)),
            "ssp_debug_mode": enc_bool(bt["ssp_debug_mode"], bp + ("ssp_debug_mode",)),
            "padding": bytes(bt_size("padding")),
        }
        if "bluetooth_device_class" in _names(bt_t):  # from 3.4.0
            out["bt_config"]["bluetooth_device_class"] = enc_bytes(
                bt["bluetooth_device_class"], bt_size("bluetooth_device_class"), ctx, bp + ("bluetooth_device_class",),
                exact=True)
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
        if "force_factory_reset" in _names(structs["ota2_config"]):  # 3.6.0+: was padding[1]
            out["ota2_config"]["force_factory_reset"] = enc_int(o["force_factory_reset"],
                                                                op + ("force_factory_reset",), 0, 255)
    if "dct_version" in model:  # 3.7.0 platform_dct_version_t; crc32 set by build_dct
        v, vp = model["dct_version"], d + ("dct_version",)
        out["dct_version"] = {
            "magic_number": F.DCT_VERSION_MAGIC_NUMBER,
            "data_dct_usage_flags": enc_int(v["data_dct_usage_flags"], vp + ("data_dct_usage_flags",), 0, 0xFFFF),
            "version": enc_int(v["version"], vp + ("version",), 0, 0xFFFF),
            "crc32": 0,
            "initial_write": enc_int(v["initial_write"], vp + ("initial_write",), 0, 255),
            "sequence": enc_int(v["sequence"], vp + ("sequence",), 0, 255),
            "padding": b"\0\0",
        }
    return out


def decode_sections(c: Mapping[str, Any]) -> dict[str, Any]:
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
    if "ethernet_config" in c:
        m["ethernet_config"] = {"mac_address": dec_mac(c["ethernet_config"]["mac_address"])}
    if "network_config" in c:
        n = c["network_config"]
        m["network_config"] = {"interface": _iface_name(int(n["interface"])), "hostname": dec_cstr(n["hostname"])}
    if "bt_config" in c:
        b = c["bt_config"]
        m["bt_config"] = {
            "bluetooth_device_address": dec_mac(b["bluetooth_device_address"]),
            "bluetooth_device_name": dec_cstr(b["bluetooth_device_name"]),
        }
        if "bluetooth_device_class" in b:
            m["bt_config"]["bluetooth_device_class"] = {"hex": b["bluetooth_device_class"].hex()}
        m["bt_config"]["ssp_debug_mode"] = dec_bool(b["ssp_debug_mode"])
    if "p2p_config" in c:
        m["p2p_config"] = {"p2p_group_owner_settings": dec_soft_ap(c["p2p_config"]["p2p_group_owner_settings"])}
    if "ota2_config" in c:
        o = c["ota2_config"]
        m["ota2_config"] = {"update_count": o["update_count"], "boot_type": o["boot_type"]}
        if "force_factory_reset" in o:
            m["ota2_config"]["force_factory_reset"] = o["force_factory_reset"]
    if "dct_version" in c:
        v = c["dct_version"]
        m["dct_version"] = {k: v[k] for k in ("magic_number", "data_dct_usage_flags", "version", "crc32",
                                              "initial_write", "sequence")}
    return m


def _iface_name(v: int) -> Any:
    name = enum_name(v, F.WICED_INTERFACE, "WICED_")
    return name[: -len("_INTERFACE")] if isinstance(name, str) else name


def _loc(lid: str, location: int = 0, size: int = 0) -> dict[str, Any]:
    return {"id": lid, "location": location, "size": size}


ZERO_AP: dict[str, Any] = {
    "SSID": "", "BSSID": "00:00:00:00:00:00", "signal_strength": 0, "max_data_rate": 0,
    "bss_type": "INFRASTRUCTURE", "security": "OPEN", "channel": 0, "band": "5GHZ", "next": 0, "security_key": "",
}


def ap_base(entry: Any) -> dict[str, Any]:
    """The zero entry under a [[stored_ap_list]] entry, with the band its channel implies: a zero band is
    WICED_802_11_BAND_5GHZ, which for a 2.4 GHz channel (or "any", 0) would make the device join on the wrong band
    (and a BCM43362 has no 5 GHz radio). An explicit `band` still wins."""
    channel = entry.get("channel", 0) if isinstance(entry, dict) else 0
    return {**ZERO_AP, "band": "2_4GHZ" if isinstance(channel, int) and 0 <= channel <= 14 else "5GHZ"}


def default_model(options: DctOptions) -> dict[str, Any]:
    """The SDK's initial DCT (WICED/internal/dct.c of the layout's generation) as a model."""
    gen = options.generation
    header_names = _names(gen.header)
    header: dict[str, Any] = {"full_size": options.copy_size}  # dct_full_size_loc = LENGTH(DCT1_FLASH)
    # 3.1.1 - 3.4.0 and 3.7.0 set is_current_dct 1; 3.5.2 sets initial_write 1 and sequence 0 instead
    header.update({k: v for k, v in (("write_incomplete", 0), ("is_current_dct", 1), ("app_valid", 1),
                                     ("mfg_info_programmed", 0), ("initial_write", 1), ("sequence", 0))
                   if k in header_names})
    header.update({
        "boot_detail": {  # no BOOTLOADER_LOAD_MAIN_APP_FROM_* define
            "load_details": {"source": _loc("NONE"), "destination": _loc("INTERNAL"), "load_once": 0, "valid": 0},
            "entry_point": 0,
        },
        "apps_locations": [_loc("EXTERNAL_FIXED_LOCATION", options.apps_lut_header_loc + APP_HEADER_SIZE * i)
                           for i in range(F.DCT_MAX_APP_COUNT)],
        "load_app_func": 0,
    })
    m: dict[str, Any] = {
        "header": header,
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
    }
    present = present_sections(options)
    structs = section_structs(gen)
    if "ethernet_config" in present:  # from 3.3.1; set only with WICED_USE_ETHERNET_INTERFACE
        m["ethernet_config"] = {"mac_address": "00:00:00:00:00:00"}
    if "network_config" in present:  # default_network_config_dct.h
        m["network_config"] = {"interface": "STA", "hostname": "WICED IP"}
    if "bt_config" in present:
        # default_bt_config_dct.h when WICED_DCT_INCLUDE_BT_CONFIG is set; 3.7.0 always has the section, zero
        # without the define but for ssp_debug_mode WICED_FALSE
        if options.include_bt:
            bt: dict[str, Any] = {"bluetooth_device_address": "11:22:33:44:55:66",
                                  "bluetooth_device_name": "WICED AV Sink", "bluetooth_device_class": {"hex": "20041c"}}
        else:
            bt = {"bluetooth_device_address": "00:00:00:00:00:00", "bluetooth_device_name": "",
                  "bluetooth_device_class": {"hex": "000000"}}
        if "bluetooth_device_class" not in _names(structs["bt_config"]):  # 3.1.2 - 3.3.1
            del bt["bluetooth_device_class"]
        m["bt_config"] = {**bt, "ssp_debug_mode": False}
    if "p2p_config" in present:
        if options.include_p2p:  # default_p2p_config_dct.h
            m["p2p_config"] = {"p2p_group_owner_settings": {
                "SSID": "DIRECT-WICED", "security": "WPA2_AES_PSK", "channel": 1, "security_key": "12345678",
                "details_valid": F.CONFIG_VALIDITY_VALUE}}
        else:  # 3.7.0 without WICED_DCT_INCLUDE_P2P_CONFIG: the always-present section stays 0
            m["p2p_config"] = {"p2p_group_owner_settings": {
                "SSID": "", "security": "OPEN", "channel": 0, "security_key": "", "details_valid": 0}}
    if "ota2_config" in present:
        m["ota2_config"] = {"update_count": 0, "boot_type": 0}
        if "force_factory_reset" in _names(structs["ota2_config"]):
            m["ota2_config"]["force_factory_reset"] = 0
    if "dct_version" in present:  # 3.7.0 dct.c: DCT_BOOTLOADER_SDK_CURRENT, factory CRC form, sequence 1
        m["dct_version"] = {"data_dct_usage_flags": 0, "version": gen.sdk_code, "initial_write": 1, "sequence": 1}
    return m


LOC_KEYS = {"id", "location", "size", "filesystem_filename", "detail"}


def check_dct_blob(data: bytes, options: DctOptions, name: str) -> bytes:
    """Validate generation, magic and size; trim an erased (0xFF) tail after used_size."""
    generation.check(data, options.sdk, name)  # a DCT of another generation: refused naming both
    header = options.generation.header
    size = header.sizeof()
    if len(data) < size:
        raise InputError(f"{hexsize(len(data))} is shorter than the DCT header ({hexsize(size)})", name)
    hdr = header.parse(data)
    if hdr.magic_number != F.BOOTLOADER_MAGIC_NUMBER:
        raise InputError(f"magic_number 0x{hdr.magic_number:08X} at offset "
                         f"0x{F.member_offset(header, 'magic_number'):X} is not "
                         f"0x{F.BOOTLOADER_MAGIC_NUMBER:08X} (\"BRCM\"): "
                         f"not a WICED {options.sdk} DCT", name)
    if size <= hdr.used_size < len(data) and all(b == 0xFF for b in data[hdr.used_size:]):
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
    data = check_dct_blob(whole, options, "DCT")
    data_t = F.platform_dct_data_t(options.include_bt, options.include_p2p, options.include_ota2, options.generation)
    size = data_t.sizeof()
    if len(data) < size:
        raise InputError(f"DCT is {hexsize(len(data))}, shorter than platform_dct_data_t ({hexsize(size)})")
    try:
        c = data_t.parse(data)
    except ConstructError as exc:
        raise InputError(f"cannot decode the DCT: {exc}") from None
    model = decode_sections(c)
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
    stored = stored_crc(data, options.generation)
    if stored is not None:  # 3.1.1 - 3.4.0 have no CRC
        computed = dct_crc(whole, options.copy_size, options.generation)  # the copy as given, 0xFF-padded
        model["crc"] = {"stored": stored, "computed": computed,
                        "kind": "sdk" if stored == 0 else "computed" if stored == computed else "mismatch"}
    return model if show_secrets else redact(model)
