"""tools/sdkfacts/boards.py on hand-written inputs (not SDK text): the linker-script MEMORY regions as
arm-none-eabi-ld evaluates them, the app-erase sectors of an #if/#elif chain by the variant's define, the
makefile assignments and the variant -> define map of a family makefile."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools" / "sdkfacts"))
import boards  # noqa: E402  (tools/sdkfacts is a folder of scripts, not a package)

LD = """/* a comment with MEMORY { FAKE (rx) : ORIGIN = 0, LENGTH = 1 } inside */
MEMORY
{
    BOOT   (rx)  : ORIGIN = 0x08000000, LENGTH = 16K   /* 16 KiB */
    APP    (rx)  : ORIGIN = 0x08000000 + 16K, LENGTH = 1M - 16K
    RAM    (rwx) : ORIGIN = 0x20000000, LENGTH = 0x20000
}
"""


def test_memory_regions_are_evaluated_by_ld() -> None:
    # expressions (0x08000000 + 16K, 1M - 16K) are ld's to evaluate: a pattern match of numbers would miss them
    assert boards.memory_regions(LD) == {"BOOT": [0x08000000, 0x4000], "APP": [0x08004000, 0xFC000],
                                         "RAM": [0x20000000, 0x20000]}
    assert boards.memory_regions("SECTIONS { }") == {}


WAF = """
#define PLATFORM_APP_START_SECTOR      ( FLASH_Sector_3  )
#if defined(CHIP_A)
#define PLATFORM_APP_END_SECTOR        ( FLASH_Sector_5 )
#elif defined(CHIP_B) || defined(CHIP_C)
#define PLATFORM_APP_END_SECTOR        ( FLASH_Sector_7 )
#else
#define PLATFORM_APP_END_SECTOR        ( FLASH_Sector_11 )
#endif
"""


@pytest.mark.parametrize("define, sectors", [("CHIP_A", [3, 5]), ("CHIP_C", [3, 7]), ("CHIP_Z", [3, 11]),
                                             (None, [3, 11])])
def test_app_erase_sectors_follow_the_variant_define(define: str | None, sectors: list[int]) -> None:
    assert boards.app_erase_sectors(WAF, define) == sectors


def test_makefile_assignments_and_variant_defines() -> None:
    mk = "NAME := X\nAPPS_LUT_HEADER_LOC := 0x0000   # a comment\nGLOBAL_DEFINES += A\nGLOBAL_DEFINES += B\n"
    assert boards.makefile_vars(mk) == {"NAME": ["X"], "APPS_LUT_HEADER_LOC": ["0x0000"], "GLOBAL_DEFINES": ["A", "B"]}
    family = ("ifneq (,$(filter $(HOST_MCU_VARIANT), V1 V2))\nGLOBAL_DEFINES += D12\nendif\n"
              "ifneq (,$(filter $(HOST_MCU_VARIANT), V3))\nGLOBAL_DEFINES += D3\nendif\n")
    assert boards.variant_defines(family) == {"V1": "D12", "V2": "D12", "V3": "D3"}
