"""A `[dct]` table of bundle.toml -> the DCT bytes: merged over the SDK defaults (unknown keys refused with a
suggestion), encoded, the app section appended, the CRC set; or a prebuilt DCT file checked.

`[dct]` keys (all optional; the sections and header members are those of the layout's DCT generation):
  crc = "sdk" | "computed" | <int> (3.5.2: the header's crc32; 3.7.0: dct_version's; 3.1.1 - 3.4.0 have none: only
        "sdk"); file = "dct.bin|dct.elf"; options = { include_bt, include_p2p, include_ota2 }
  [dct.header]      write_incomplete app_valid mfg_info_programmed full_size load_app_func; 3.5.2: initial_write
                    sequence; 3.1.1 - 3.4.0 and 3.7.0: is_current_dct
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
                    (3.7.0: force_factory_reset)
  [dct.dct_version] (3.7.0 platform_dct_version_t) data_dct_usage_flags version initial_write sequence
  [dct.app] file = "app_dct.bin" | hex = "..." | struct = [ { name, type, size, value }, ... ] (+ packed = true)
Any char/byte field also accepts { hex = "..." } or { file = "..." } (raw bytes, NUL padded).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, Mapping

from ..errors import ConfigError, hexsize
from ..formats import dct as F
from ..inputs import is_file
from .app import build_app
from .codec import LOC_KEYS, MFG_FIELDS, ap_base, check_dct_blob, default_model, encode_sections, present_sections
from .copies import crc_field, set_crc
from .fields import Ctx, field_error, unknown_field
from .locate import read_dct_file
from .options import DctOptions


_SECTION_KEYS = ("header", "mfg_info", "security_credentials", "wifi_config", "ethernet_config", "network_config",
                 "bt_config", "p2p_config", "ota2_config", "dct_version")
_TOP_KEYS = {"crc", "file", "options", "app", *_SECTION_KEYS}
_SECTION_OF = {"header": "dct_header"}  # [dct] key -> platform_dct_data_t member

_LEAF_TABLES = {"SSID", "security_key", "country_code", "private_key", "certificate", "cooee_key",
                "filesystem_filename", "detail", "bluetooth_device_class"} | set(MFG_FIELDS) | {"hostname",
                                                                                               "bluetooth_device_name"}


def _merge(base: Any, over: Any, path: tuple[str, ...]) -> Any:
    """Recursively merge table `over` into model `base`. Leaves (and {hex}/{file}/{pem} forms) replace."""
    name = path[-1] if path else ""
    if isinstance(base, dict) and set(base) <= LOC_KEYS and "id" in base:  # image_location_t
        if not isinstance(over, Mapping):
            raise field_error(path, "expected a table { id, location, size } or { id, filesystem_filename }")
        for k in over:
            if k not in LOC_KEYS:
                raise unknown_field(k, LOC_KEYS, path)
        if {"filesystem_filename", "detail"} & set(over):
            return {"id": over.get("id", base["id"]), **{k: v for k, v in over.items() if k != "id"}}
        return {**{k: v for k, v in base.items() if k in ("id", "location", "size")}, **over}
    if isinstance(base, dict) and name not in _LEAF_TABLES:
        if not isinstance(over, Mapping):
            raise field_error(path, f"expected a table, got {type(over).__name__}")
        out = dict(base)
        for k, v in over.items():
            if k not in base:
                raise unknown_field(k, set(base), path)
            out[k] = _merge(base[k], v, path + (k,))
        return out
    if isinstance(base, list):
        if not isinstance(over, list):
            raise field_error(path, f"expected an array, got {type(over).__name__}")
        if name == "stored_ap_list":  # replaces the whole list; missing entries/fields are zero
            if len(over) > len(base):
                raise field_error(path, f"{len(over)} entries: at most {len(base)} (CONFIG_AP_LIST_SIZE)")
            return [_merge(ap_base(v), v, path[:-1] + (f"{name}[{i}]",)) for i, v in enumerate(over)]
        if len(over) > len(base):
            raise field_error(path, f"{len(over)} entries: at most {len(base)}")
        return [_merge(b, over[i], path[:-1] + (f"{name}[{i}]",)) if i < len(over) else b
                for i, b in enumerate(base)]
    return over


def effective_options(table: Mapping[str, Any] | None, options: DctOptions) -> DctOptions:
    """The board's DctOptions as a `[dct] options = {...}` table overrides them (section offsets depend on it)."""
    over = (table or {}).get("options", {})
    if not isinstance(over, Mapping):
        raise field_error(("dct", "options"), "expected a table { include_bt, include_p2p, include_ota2 }")
    allowed = {"include_bt", "include_p2p", "include_ota2"}
    for k, v in over.items():
        if k not in allowed:
            raise unknown_field(k, allowed, ("dct", "options"))
        if not isinstance(v, bool):
            raise field_error(("dct", "options", k), "expected true or false")
    return replace(options, **dict(over))


def build_dct(table: Mapping[str, Any], base_dir: Path, options: DctOptions) -> bytes:
    """DCT copy 1's used bytes (header + platform_dct_data_t + app section) from a `[dct]` table."""
    table = table or {}
    if not isinstance(table, Mapping):
        raise ConfigError("[dct] must be a table")
    for k in table:
        if k not in _TOP_KEYS:
            raise unknown_field(k, _TOP_KEYS, ("dct",))
    ctx = Ctx(Path(base_dir))
    options = effective_options(table, options)
    gen = options.generation
    has_crc = crc_field(gen) is not None
    crc = table.get("crc", "keep" if "file" in table else "sdk")
    if crc not in ("sdk", "keep") and not has_crc:  # "sdk": as the SDK builds it, which is without a CRC
        raise field_error(("dct", "crc"), f"{crc!r}: the DCT of SDK {options.sdk} has no CRC (its bootloader picks the "
                          f"copy by {gen.copy_rule}); use \"sdk\" or leave crc out")
    if crc not in ("sdk", "computed", "keep") and (isinstance(crc, bool) or not isinstance(crc, int)):
        raise field_error(("dct", "crc"), f"{crc!r}: expected \"sdk\", \"computed\" or an integer")
    if "file" in table:
        other = set(table) - {"file", "crc", "options"}
        if other:
            raise field_error(("dct", "file"), f"a prebuilt DCT cannot be combined with [dct] {', '.join(sorted(other))}")
        data = _load_prebuilt(ctx, table["file"], options)
    else:
        if crc == "keep":
            raise field_error(("dct", "crc"), "\"keep\" only applies to a prebuilt [dct] file")
        present = present_sections(options)
        optional = {name for name, _sub, _align in gen.optional}
        for name in _SECTION_KEYS:
            if name in table and _SECTION_OF.get(name, name) not in present:
                if name in optional:
                    flag = "include_" + name.split("_")[0]
                    raise field_error(("dct", name), f"section not in this DCT layout; set [dct] options = "
                                      f"{{ {flag} = true }} (or in the board layout)")
                raise field_error(("dct", name), f"section not in the DCT of SDK {options.sdk} (DCT generation "
                                  f"{gen.name})")
        model = _merge(default_model(options), {k: v for k, v in table.items() if k not in
                                                ("crc", "file", "options", "app")}, ("dct",))
        values = encode_sections(model, ctx, options)
        data_t = F.platform_dct_data_t(options.include_bt, options.include_p2p, options.include_ota2, gen)
        app = build_app(table["app"], ctx) if "app" in table else b""
        values["dct_header"]["used_size"] = data_t.sizeof() + len(app)
        data = data_t.build(values) + app
        # the factory CRC form (crc32 0) needs initial_write 1 where the CRC is: the header (3.5.2) or the version
        # struct (3.7.0)
        where = "header" if gen.copy_rule == "header_crc" else "dct_version"
        if has_crc and crc == "sdk" and model[where]["initial_write"] != 1:
            raise field_error(("dct", "crc"), f"\"sdk\" (crc32 0) is only valid with [dct.{where}] initial_write = 1; "
                              "use crc = \"computed\"")
    if len(data) > options.copy_size:
        raise field_error(("dct", "app") if "app" in table else ("dct", "file"),
                   f"DCT of {hexsize(len(data))} does not fit the DCT copy ({hexsize(options.copy_size)})")
    if crc == "keep":
        return data
    return set_crc(data, 0 if crc == "sdk" else None if crc == "computed" else crc, options.copy_size, gen)


def _load_prebuilt(ctx: Ctx, name: Any, options: DctOptions) -> bytes:
    if not isinstance(name, str):
        raise field_error(("dct", "file"), "expected a path string")
    path = ctx.base_dir / name
    if not is_file(path):
        raise field_error(("dct", "file"), f"{name} does not exist")
    data = read_dct_file(path)
    return check_dct_blob(data, options, str(name))
