"""Placement rules of the MCU and SFLASH images, checked against oracles written here from the documented rules."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings, strategies as st

from bundler.errors import PlacementError
from bundler.image import Part, assemble_mcu, assemble_sflash, plan_sflash
from bundler.inputs import Segment, Source
from bundler.layout import load_board, load_chip
from bundler.formats.lut import COMPONENTS

BOARD = load_board("bcm943362wcd4")
CHIP = load_chip("MX25L8006E")
SRC = Source("test", "0" * 64)
SECTOR = 4096


@pytest.mark.parametrize("size, sectors", [(1, 1), (4095, 1), (4096, 2), (4097, 2), (8191, 2), (8192, 3)])
def test_sdk_sector_rule(size: int, sectors: int) -> None:
    entries = plan_sflash(BOARD.sflash, CHIP, {"fr_app": size, "dct_image": 10})
    assert (entries[0].start_sector, entries[0].sector_count) == (1, sectors)
    assert entries[1].start_sector == 1 + sectors


@pytest.mark.parametrize("size", [4095, 4096, 4097])
def test_component_sits_at_its_sectors(size: int) -> None:
    data = bytes((i * 7 + 3) & 0xFF for i in range(size))
    img = assemble_sflash(BOARD.sflash, CHIP, {"filesystem": (data, SRC), "app0": (b"\x01" * 100, SRC)})
    fs = img.lut[3]
    assert fs.start_sector == 1 and fs.sector_count == size // SECTOR + 1
    assert img.tobytes()[SECTOR:SECTOR + size] == data
    assert set(img.tobytes()[SECTOR + size:(1 + fs.sector_count) * SECTOR]) <= {0xFF}
    app0 = img.lut[5]
    assert app0.start_sector == 1 + fs.sector_count


def _lut_oracle(sector: bytes) -> list[tuple[int, int, list[tuple[int, int]]]]:
    """app_header_t per wiced_apps_common.h: u8 count, u8 secure, 8 x (u16 start, u16 count), 34 bytes each."""
    out = []
    for i in range(8):
        count, secure, *runs = struct.unpack_from("<BB16H", sector, 34 * i)
        out.append((count, secure, list(zip(runs[0::2], runs[1::2]))))
    return out


component_sizes = st.dictionaries(st.sampled_from(COMPONENTS), st.integers(0, 300_000), max_size=8)


@settings(max_examples=60, deadline=None)
@given(component_sizes)
def test_sflash_property(sizes: dict[str, int]) -> None:
    comps = {name: (bytes([i + 1]) * size, SRC) for i, (name, size) in enumerate(sorted(sizes.items()))}
    needed = 1 + sum(size // SECTOR + 1 for size in sizes.values())
    if needed > CHIP.size // SECTOR:
        with pytest.raises(PlacementError, match="too many"):
            assemble_sflash(BOARD.sflash, CHIP, comps)
        return
    img = assemble_sflash(BOARD.sflash, CHIP, comps)
    image = img.tobytes()
    assert len(image) == CHIP.size
    lut = _lut_oracle(image[:SECTOR])
    assert set(image[272:SECTOR]) == {0xFF}
    written = bytearray(len(image))
    written[:SECTOR] = b"\x01" * SECTOR
    sector = 1
    for index, name in enumerate(COMPONENTS):
        count, secure, runs = lut[index]
        if name not in comps:
            assert (count, runs[0]) == (0, (0, 0))
            continue
        data = comps[name][0]
        assert count == 1 and secure == 0 and runs[0] == (sector, len(data) // SECTOR + 1)
        assert image[sector * SECTOR:sector * SECTOR + len(data)] == data
        written[sector * SECTOR:sector * SECTOR + len(data)] = b"\x01" * len(data)
        sector += len(data) // SECTOR + 1
    assert all(b == 0xFF for b, w in zip(image, written) if not w)


REGIONS = {r.name: r for r in BOARD.mcu.regions}
segment = st.tuples(st.sampled_from(["bootloader", "app"]), st.integers(-0x100, 0x10000), st.integers(1, 0x3000))


@settings(max_examples=80, deadline=None)
@given(st.lists(segment, min_size=1, max_size=5))
def test_mcu_property(segs: list[tuple[str, int, int]]) -> None:
    flash_start, flash_end = 0x08000000, 0x08100000
    parts: dict[str, list[Segment]] = {}
    spans = []
    for i, (region, offset, size) in enumerate(segs):
        address = REGIONS[region].start + offset
        parts.setdefault(region, []).append(Segment(address, bytes([i + 1]) * size))
        spans.append((region, address, address + size))
    outside = any(not (REGIONS[r].start <= a and e <= REGIONS[r].start + REGIONS[r].size) for r, a, e in spans)
    outside |= any(a < flash_start or e > flash_end for _, a, e in spans)
    ordered = sorted(spans, key=lambda s: s[1])
    overlap = any(b[1] < a[2] for a, b in zip(ordered, ordered[1:]))
    part_list = [Part(name, tuple(s), SRC) for name, s in parts.items()]
    if outside or overlap:
        with pytest.raises(PlacementError, match="outside|overlaps"):
            assemble_mcu(BOARD.mcu, part_list)
        return
    img = assemble_mcu(BOARD.mcu, part_list)
    expected = bytearray(b"\xff" * 0x100000)
    for name, seg_list in parts.items():
        for seg in seg_list:
            expected[seg.address - flash_start:seg.end - flash_start] = seg.data
    assert img.tobytes() == expected


def test_mcu_errors_name_the_file_and_region() -> None:
    big = Part("bootloader", (Segment(0x08000000, b"\0" * 0x4001),), Source("boot.bin", "0" * 64))
    with pytest.raises(PlacementError, match=r"boot.bin: bootloader segment .* outside region bootloader .*16384 bytes \(0x4000\)"):
        assemble_mcu(BOARD.mcu, [big])
    far = Part("app", (Segment(0x08100000, b"\0" * 4),), Source("app.elf", "0" * 64))
    with pytest.raises(PlacementError, match=r"app.elf: app segment 0x08100000.* is outside flash 0x08000000-0x080FFFFF"):
        assemble_mcu(BOARD.mcu, [far])
