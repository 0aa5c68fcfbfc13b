"""Which DCT fields are secrets, and what to do with them: list them, redact them, give their raw bytes (so that
other outputs can be checked not to hold them).
"""

from __future__ import annotations

import copy as _copy
from typing import Any, Iterator, Mapping

from .options import DctOptions


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


def walk_secrets(obj: Any, parts: list[str], prefix: str) -> Iterator[tuple[str, Any, Any, Any]]:
    """Yield (concrete path, parent, key, value) for a SECRET_FIELDS pattern."""
    head, rest = parts[0], parts[1:]
    if head == "*":
        if isinstance(obj, list):
            for i, v in enumerate(obj):
                yield from (walk_secrets(v, rest, f"{prefix}.{i}") if rest else [(f"{prefix}.{i}", obj, i, v)])
        return
    if isinstance(obj, Mapping) and head in obj:
        p = f"{prefix}.{head}" if prefix else head
        if rest:
            yield from walk_secrets(obj[head], rest, p)
        else:
            yield p, obj, head, obj[head]


def secret_fields(table_or_model: Mapping[str, Any]) -> dict[str, Any]:
    """Concrete path -> value of every secret present in a `[dct]` table or a decoded model (values as given:
    text, {hex}/{file}/{pem} tables, or redaction markers)."""
    found: dict[str, Any] = {}
    for pattern in SECRET_FIELDS:
        for p, _parent, _key, v in walk_secrets(table_or_model, pattern.split("."), ""):
            found[p] = v
    return found


def secret_values(data: bytes, options: DctOptions) -> list[bytes]:
    """The raw bytes of every non-empty secret in a DCT, to assert they never appear in other outputs."""
    from .codec import decode_dct  # codec imports this module (redact)

    model = decode_dct(data, options, show_secrets=True)
    out: list[bytes] = []
    for v in secret_fields(model).values():
        raw = bytes.fromhex(v["hex"]).rstrip(b"\0") if isinstance(v, Mapping) else str(v).encode()
        if len(raw) >= 4:
            out.append(raw)
    return out


def secret_length(v: Any) -> int:
    if isinstance(v, Mapping):
        return int(v.get("length", len(bytes.fromhex(v.get("hex", "")).rstrip(b"\0"))))
    return len(str(v).encode())


def redact(model: Mapping[str, Any]) -> dict[str, Any]:
    out = _copy.deepcopy(dict(model))
    for pattern in SECRET_FIELDS:
        for _p, parent, key, v in list(walk_secrets(out, pattern.split("."), "")):
            parent[key] = {"redacted": True, "length": secret_length(v)}
    return out
