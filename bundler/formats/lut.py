"""Serial-flash apps look-up table (WICED/platform/MCU/wiced_apps_common.h, wiced_apps_lut.c).

`app_header_t wiced_apps_lut[8]` (34 bytes each, entry i at byte 34*i) then 0xFF fill to one sector. The index of an
entry is the DCT's DCT_*_INDEX; `apps_locations[i]` in the DCT holds the byte address of entry i.
"""

from __future__ import annotations

from construct import Array, Int16ul, Int8ul, Struct

APP_HEADER_MAX_SECTOR_ENTRIES = 8  # app_header_t.sectors[8]

# app_entry_t: a run of `count` 4 KiB sectors starting at sector `start`
app_entry_t = Struct(
    "start" / Int16ul,
    "count" / Int16ul,
)

# app_header_t: 2-byte aligned, not packed -> 1 + 1 + 8*4 = 34 bytes
app_header_t = Struct(
    "count" / Int8ul,   # number of valid sectors[] runs
    "secure" / Int8ul,  # 0 = plain (always 0 on STM32 platforms)
    "sectors" / Array(APP_HEADER_MAX_SECTOR_ENTRIES, app_entry_t),
)

APP_HEADER_SIZE = app_header_t.sizeof()
assert APP_HEADER_SIZE == 34

# LUT index -> component name used in bundle.toml and the manifest (DCT_FR_APP_INDEX .. DCT_APP2_INDEX)
COMPONENTS = ("fr_app", "dct_image", "ota_app", "filesystem", "wifi_firmware", "app0", "app1", "app2")
APP_COMPONENTS = frozenset({"fr_app", "ota_app", "app0", "app1", "app2"})

wiced_apps_lut = Array(len(COMPONENTS), app_header_t)


def empty_header() -> dict:
    return {"count": 0, "secure": 0, "sectors": [{"start": 0, "count": 0}] * APP_HEADER_MAX_SECTOR_ENTRIES}
