"""A DCT model as text: the `[dct]` table that rebuilds it (`bundle dct decode --toml`) and the flat field
listing of `bundle dct decode`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Mapping

from ..errors import ConfigError, InputError
from .codec import LOC_KEYS, ZERO_AP, ap_base, check_dct_blob, decode_dct, default_model
from .config import build_dct
from .options import DctOptions
from .secrets import SECRET_FIELDS, secret_length, walk_secrets


def _diff(model: Any, base: Any) -> Any:
    """The part of `model` that differs from `base` (None if equal)."""
    if model == base:
        return None
    if isinstance(model, dict) and isinstance(base, dict) and not ({"hex", "redacted"} & (set(model) | set(base))):
        if set(model) <= LOC_KEYS and "id" in model:
            if set(model) != set(base):
                return dict(model)
        out = {k: d for k, v in model.items() if (d := _diff(v, base.get(k))) is not None}
        return out or None
    return model


def model_to_table(model: Mapping[str, Any], options: DctOptions) -> dict[str, Any]:
    """The `[dct]` table that rebuilds `model` (fields equal to the SDK defaults left out)."""
    base = default_model(options)
    table: dict[str, Any] = {}
    if "crc" in model:  # 3.1.1 - 3.4.0 DCTs have none
        crc = model["crc"]
        kind = crc["kind"]
        table["crc"] = "sdk" if kind == "sdk" else "computed" if kind == "computed" else crc["stored"]
    for sec, val in model.items():
        if sec in ("crc", "app"):
            continue
        if sec in ("header", "dct_version"):  # derived: used_size, the magic numbers, the CRC
            val = {k: v for k, v in val.items() if k not in ("used_size", "magic_number", "crc32")}
        if sec == "header":
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
                lst = [(_diff(a, ap_base(a)) or {}) for a in aps]
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
    return not isinstance(v, Mapping) or bool({"hex", "file", "pem", "redacted", "omitted", "code"} & set(v)) \
        or (set(v) <= LOC_KEYS and "id" in v)


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
    show_secrets, each secret that differs from the SDK defaults is written as `{ omitted = <length> }`, which
    build_dct refuses ("secret omitted by dct decode: give it"): a decoded table never rebuilds a unit with a blank
    or default passphrase, key or certificate."""
    model = decode_dct(data, options, show_secrets=True)
    table = model_to_table(model, options)
    omitted: list[str] = []
    if not show_secrets:
        for pattern in SECRET_FIELDS:
            for p, parent, key, v in list(walk_secrets(table, pattern.split("."), "")):
                omitted.append(f"dct.{p} ({secret_length(v)} bytes)")
                parent[key] = {"omitted": secret_length(v)}
    lines = ["# DCT decoded by `bundle dct decode --toml`; fields equal to the SDK defaults are omitted."]
    if omitted:
        lines.append("# Secrets omitted (use --show-secrets to include them): " + ", ".join(omitted))
        lines.append("# Each is { omitted = <length> }, which `bundle build` refuses: give the value there.")
    exact = True
    if show_secrets:
        try:
            import tomllib

            rebuilt = build_dct(tomllib.loads("\n".join(_render(table)))["dct"], base_dir or Path("."), options)
            exact = rebuilt == check_dct_blob(bytes(data), options, "DCT")
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
