"""Serial-flash apps look-up table (WICED/platform/MCU/wiced_apps_common.h, wiced_apps_lut.c).

`app_header_t wiced_apps_lut[8]` (34 bytes each, entry i at byte 34*i) then 0xFF fill to one sector. The index of an
entry is the DCT's DCT_*_INDEX; `apps_locations[i]` in the DCT holds the byte address of entry i.
"""

from __future__ import annotations

from typing import Any

from construct import Array, Int16ul, Int8ul, Struct

from ..errors import InputError, hexsize

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


# Reading: every walk of a stored LUT goes through these, which check the bounds before parsing.


def read_lut(image: bytes, offset: int = 0) -> list[Any]:
    """The eight app_header_t of `wiced_apps_lut` at byte `offset`; InputError if the image ends before them."""
    end = offset + wiced_apps_lut.sizeof()
    if offset < 0 or end > len(image):
        raise InputError(f"image of {hexsize(len(image))} is too short for the apps LUT at 0x{offset:X}")
    return list(wiced_apps_lut.parse(image[offset:end]))


def read_header(image: bytes, offset: int, end: int | None = None) -> Any | None:
    """One app_header_t at `offset` (a relocated header slot), or None if it does not end by `end` (default: the
    image's end)."""
    limit = len(image) if end is None else min(end, len(image))
    if offset < 0 or offset + APP_HEADER_SIZE > limit:
        return None
    return app_header_t.parse(image[offset:offset + APP_HEADER_SIZE])


def sector_runs(header: Any, sector_size: int) -> list[tuple[int, int]]:
    """(byte offset, byte length) of each of the header's first `count` sector runs (at most the eight it has)."""
    return [(run.start * sector_size, run.count * sector_size)
            for run in header.sectors[:header.count]]


def component_bytes(image: bytes, runs: list[tuple[int, int]], end: int | None = None) -> bytes:
    """A component's bytes: its runs' bytes concatenated in order, each cut at `end` (default: the image's end)."""
    limit = len(image) if end is None else end
    return b"".join(image[start:min(start + length, limit)] for start, length in runs)
