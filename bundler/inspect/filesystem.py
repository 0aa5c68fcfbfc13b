"""Decoding a WicedFS image: its file list.
"""

from __future__ import annotations

from typing import Any

from ..errors import BundleError
from .context import FileReport, shown


def decode_filesystem(rep: FileReport, blob: bytes, *, region: str | None, readable: int) -> dict[str, Any]:
    """The file list, and the device rules (bundler.checks): names the device reaches (list_image refuses the
    others), and `readable` - the bytes of the component the device can read - holding every read its reader
    makes (a warning naming each directory it cannot list and each file it may fail to open)."""
    from ..checks import wicedfs_slack
    from ..wicedfs import list_image

    what = region or "filesystem"
    try:
        entries = list_image(blob)
    except BundleError as exc:
        rep.add("fail", "filesystem", f"{what}: {exc}", region=region)
        return {"valid": False, "size": 0, "files": []}
    rep.add_checks(wicedfs_slack(blob, entries, readable, what)[1], region=region)
    end = 12
    files = []
    for e in entries:
        end = max(end, e.offset + e.size)
        files.append({"path": shown(e.path), "is_dir": e.is_dir, "size": e.size, "offset": e.offset,
                      "sha256": e.sha256})
    return {"valid": True, "size": min(end, len(blob)), "files": files}
