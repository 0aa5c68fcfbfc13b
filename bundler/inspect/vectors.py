"""Cortex-M vector tables (bootloader, app) in an image, checked by the device rules (bundler.checks.vector_table).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..checks import boot_region as bootloader_region, vector_table
from .context import FileReport

if TYPE_CHECKING:
    from ..layout import Board, Region

__all__ = ["bootloader_region", "check_vectors", "vectors_ok"]


def _head(data: bytes, offset: int) -> bytes:
    from ..formats.vectors import VECTOR_TABLE_HEAD_SIZE

    return data[offset:offset + VECTOR_TABLE_HEAD_SIZE] if offset >= 0 else b""


def vectors_ok(data: bytes, offset: int, board: Board, region: Region) -> bool:
    """Would the device start the code of `region` through the table at data[offset]? (detection)"""
    checks, _ = vector_table(_head(data, offset), board, region, region.name)
    return checks is not None and checks["ok"]


def check_vectors(rep: FileReport, data: bytes, offset: int, board: Board, region: Region,
                  what: str) -> dict[str, Any] | None:
    """The table at data[offset] (the start of `region`): its checks for the report, findings added to `rep`."""
    checks, found = vector_table(_head(data, offset), board, region, what)
    rep.add_checks(found, region=region.name)
    return checks
