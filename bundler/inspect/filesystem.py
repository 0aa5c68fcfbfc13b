"""Decoding a WicedFS image: its file list.
"""

from __future__ import annotations

from typing import Any

from ..errors import BundleError
from .context import FileReport, shown


def decode_filesystem(rep: FileReport, blob: bytes, *, region: str | None) -> dict[str, Any]:
    from ..wicedfs import list_image

    try:
        entries = list_image(blob)
    except BundleError as exc:
        rep.add("fail", "filesystem", f"{region or 'filesystem'}: {exc}", region=region)
        return {"valid": False, "size": 0, "files": []}
    end = 12
    files = []
    for e in entries:
        end = max(end, e.offset + e.size)
        files.append({"path": shown(e.path), "is_dir": e.is_dir, "size": e.size, "offset": e.offset,
                      "sha256": e.sha256})
    return {"valid": True, "size": min(end, len(blob)), "files": files}
