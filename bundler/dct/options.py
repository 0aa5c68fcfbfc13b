"""The DCT layout a board has: copy size, where the apps look-up table is, which optional sections, which SDK's
bootloader (its DCT generation).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..formats import dct as F

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
    sdk: str = F.DEFAULT_GENERATION  # the SDK version the bootloader was built from (board `sdk`, bundle.toml `sdk`)

    @property
    def generation(self) -> F.DctGeneration:
        """The DCT layout that SDK's bootloader reads."""
        return F.generation(self.sdk)


def options_for_board(board: Board) -> DctOptions:
    """DctOptions from a `bundler.layout.Board`."""
    return DctOptions(
        copy_size=board.mcu.region(board.dct.copies[0]).size,
        apps_lut_header_loc=board.sflash.apps_lut_header_loc,
        include_bt=board.dct.include_bt,
        include_p2p=board.dct.include_p2p,
        include_ota2=board.dct.include_ota2,
        sdk=board.sdk or F.DEFAULT_GENERATION,
    )
