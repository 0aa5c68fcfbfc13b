"""The application's DCT section (`[dct.app]`): a raw file, hex, or a struct described in TOML and laid out as
GCC would.
"""

from __future__ import annotations

import difflib
from typing import Any, Mapping

from construct import Bytes, Construct, Int16sl, Int16ul, Int32sl, Int32ul, Int8sl, Int8ul, Padding, Struct

from .fields import Ctx, enc_bool, enc_bytes, enc_cstr, enc_int, field_error, parse_hex, read_value_file, unknown_field


_APP_TYPES: dict[str, tuple[Construct, int]] = {
    "uint8": (Int8ul, 1), "int8": (Int8sl, 1), "uint16": (Int16ul, 2), "int16": (Int16sl, 2),
    "uint32": (Int32ul, 4), "int32": (Int32sl, 4), "bool": (Int8ul, 1),
}


def app_struct(fields: Any, packed: bool = False, path: tuple[str, ...] = ("dct", "app", "struct")) -> Construct:
    """A Construct Struct for an application DCT struct described in TOML, laid out as GCC would (natural
    alignment, tail padding to the largest member) unless packed."""
    if not isinstance(fields, list) or not fields:
        raise field_error(path, "expected a non-empty array of { name, type, size, value }")
    subcons: list[Construct] = []
    pos, max_align = 0, 1
    names: set[str] = set()
    for i, f in enumerate(fields):
        fp = path[:-1] + (f"struct[{i}]",)
        if not isinstance(f, Mapping):
            raise field_error(fp, "expected a table { name, type, size, value }")
        for k in f:
            if k not in ("name", "type", "size", "value"):
                raise unknown_field(k, {"name", "type", "size", "value"}, fp)
        name, typ = f.get("name"), f.get("type")
        if not isinstance(name, str) or not name.isidentifier() or name in names:
            raise field_error(fp + ("name",), f"{name!r} must be a unique C identifier")
        names.add(name)
        if typ in ("string", "bytes"):
            size = f.get("size")
            if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
                raise field_error(fp + ("size",), f"type {typ} needs size = N > 0")
            sub, align = Bytes(size), 1
        elif typ in _APP_TYPES:
            sub, align = _APP_TYPES[typ]
        else:
            near = difflib.get_close_matches(str(typ), [*_APP_TYPES, "string", "bytes"], n=1)
            raise field_error(fp + ("type",), f"unknown type {typ!r}" + (f"; did you mean {near[0]!r}?" if near else ""))
        if not packed and pos % align:
            subcons.append(Padding(align - pos % align))
            pos += align - pos % align
        subcons.append(name / sub)
        pos += sub.sizeof()
        max_align = max(max_align, align)
    if not packed and pos % max_align:
        subcons.append(Padding(max_align - pos % max_align))
    return Struct(*subcons)


def _app_values(fields: list[Mapping[str, Any]], ctx: Ctx, path: tuple[str, ...]) -> dict[str, Any]:
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


def build_app(app: Any, ctx: Ctx) -> bytes:
    path = ("dct", "app")
    if not isinstance(app, Mapping):
        raise field_error(path, "expected a table with file, hex or struct")
    for k in app:
        if k not in ("file", "hex", "struct", "packed"):
            raise unknown_field(k, {"file", "hex", "struct", "packed"}, path)
    kinds = [k for k in ("file", "hex", "struct") if k in app]
    if len(kinds) != 1:
        raise field_error(path, "give exactly one of file, hex or struct")
    if "file" in app:
        return read_value_file(ctx, app["file"], path + ("file",))
    if "hex" in app:
        return parse_hex(app["hex"], path + ("hex",))
    packed = app.get("packed", False)
    st = app_struct(app["struct"], bool(packed), path + ("struct",))
    return st.build(_app_values(app["struct"], ctx, path))
