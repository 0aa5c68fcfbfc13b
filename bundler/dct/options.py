"""The DCT layout a board has: copy size, where the apps look-up table is, which optional sections.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..layout import Board


@dataclass(frozen=True)
class DctOptions:
    """Board-layout facts about the DCT. Defaults = BCM943362WCD4 (wiced-formats.md §1-§3)."""

    copy_size: int = 0x4000  # PLATFORM_DCT_COPY1_SIZE (header full_size; CRC range)
    apps_lut_header_loc: int = 0  # SFLASH byte address of the LUT (apps_locations[i] = loc + APP_HEADER_SIZE * i)
    include_bt: bool = False  # WICED_DCT_INCLUDE_BT_CONFIG
    include_p2p: bool = False  # WICED_DCT_INCLUDE_P2P_CONFIG
    include_ota2: bool = False  # OTA2_SUPPORT


def options_for_board(board: Board) -> DctOptions:
    """DctOptions from a `bundler.layout.Board`."""
    return DctOptions(
        copy_size=board.mcu.region(board.dct.copies[0]).size,
        apps_lut_header_loc=board.sflash.apps_lut_header_loc,
        include_bt=board.dct.include_bt,
        include_p2p=board.dct.include_p2p,
        include_ota2=board.dct.include_ota2,
    )
