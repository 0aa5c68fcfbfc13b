"""Placement and the two images: the MCU's internal flash and the serial flash, each a bytearray pre-filled with the
erased value, parts copied in after every check has passed."""

from __future__ import annotations

from dataclasses import dataclass

from .errors import PlacementError, hexsize
from .formats.lut import COMPONENTS, empty_header, wiced_apps_lut
from .inputs import Segment, Source, describe_segment
from .layout import Chip, McuLayout, Region, SflashLayout


@dataclass(frozen=True)
class Part:
    """Bytes for one named region of an image (a region of the MCU layout, or an SFLASH component)."""

    name: str
    segments: tuple[Segment, ...]
    source: Source


@dataclass(frozen=True)
class PlacedRegion:
    """What the manifest lists: `offset` from the artefact's start, `size` of the bytes actually written."""

    name: str
    offset: int
    size: int
    source: Source | None


@dataclass(frozen=True)
class LutEntry:
    index: int
    name: str
    start_sector: int
    sector_count: int
    secure: int = 0


@dataclass
class Image:
    kind: str  # "mcu" | "sflash"
    base_address: int
    fill: int
    data: bytes  # read-only once assembled
    regions: list[PlacedRegion]
    lut: list[LutEntry] | None = None

    def region_bytes(self, region: PlacedRegion) -> memoryview:
        return memoryview(self.data)[region.offset:region.offset + region.size]


def _fill(size: int, value: int) -> bytearray:
    return bytearray(bytes([value])) * size


_FILL_BLOCK = 1 << 20


def _compose(size: int, value: int, pieces: list[tuple[int, bytes]]) -> bytes:
    """An image of `size` bytes of `value` with each (offset, data) piece copied in: built with one b"".join so the
    image is allocated once, as immutable bytes (a prefilled bytearray plus the bytes copy every artefact needs held
    the 16 MiB SFLASH image twice). Overlapping or out-of-range pieces (refused before placement anyway) take the
    previous path: a prefilled bytearray and slice assignment in the given order."""
    ordered = sorted(pieces, key=lambda p: p[0])
    ends = [offset + len(data) for offset, data in ordered]
    if (size <= 0 or (ordered and (ordered[0][0] < 0 or ends[-1] > size))
            or any(end > nxt for end, (nxt, _) in zip(ends, ordered[1:]))):
        image = _fill(size, value)
        for offset, data in pieces:
            image[offset:offset + len(data)] = data
        return bytes(image)
    block = bytes([value]) * min(size, _FILL_BLOCK)
    out: list[bytes | memoryview] = []

    def gap(n: int) -> None:
        out.extend([block] * (n // len(block)) if n >= len(block) else [])
        if n % len(block):
            out.append(memoryview(block)[:n % len(block)])

    pos = 0
    for offset, data in ordered:
        gap(offset - pos)
        out.append(data)
        pos = offset + len(data)
    gap(size - pos)
    return b"".join(out)


def assemble_mcu(layout: McuLayout, parts: list[Part]) -> Image:
    """Check every segment lies in flash and in its part's region and that nothing overlaps, then place."""
    flash = Region("flash", layout.flash_base, layout.flash_size)
    placed: list[tuple[Segment, str]] = []
    for part in parts:
        region = layout.region(part.name)
        for seg in part.segments:
            where = f"{part.name} segment {describe_segment(seg)}"
            if not flash.contains(seg.address, len(seg.data)):
                raise PlacementError(
                    f"{where} is outside flash 0x{flash.start:08X}-0x{flash.end - 1:08X}", part.source.file)
            if not region.contains(seg.address, len(seg.data)):
                raise PlacementError(
                    f"{where} is outside region {region.name} 0x{region.start:08X}-0x{region.end - 1:08X} "
                    f"({hexsize(region.size)})", part.source.file)
            placed.append((seg, part.source.file))
    _check_overlaps(placed)

    image = _compose(layout.flash_size, layout.fill,
                     [(seg.address - layout.flash_base, seg.data) for part in parts for seg in part.segments])
    regions = []
    for part in parts:
        if part.segments:
            start = min(s.address for s in part.segments)
            end = max(s.end for s in part.segments)
            regions.append(PlacedRegion(part.name, start - layout.flash_base, end - start, part.source))
    regions.sort(key=lambda r: r.offset)
    return Image("mcu", layout.flash_base, layout.fill, image, regions)


def _check_overlaps(placed: list[tuple[Segment, str]]) -> None:
    placed = sorted(placed, key=lambda p: p[0].address)
    for (a, a_file), (b, b_file) in zip(placed, placed[1:]):
        if b.address < a.end:
            raise PlacementError(
                f"{describe_segment(b)} overlaps {describe_segment(a)} from {a_file} by {hexsize(a.end - b.address)}",
                b_file)


def plan_sflash(layout: SflashLayout, chip: Chip, sizes: dict[str, int]) -> list[LutEntry]:
    """The SDK build's placement (wiced_apps.mk): from APPS_START_SECTOR, each present component in index order
    takes `sector_count(size)` sectors; absent components get an empty entry."""
    entries, current = [], layout.apps_start_sector
    for index, name in enumerate(COMPONENTS):
        secure = 1 if index in layout.secure else 0
        if name not in sizes:
            entries.append(LutEntry(index, name, 0, 0, 0))
            continue
        count = layout.sector_count(sizes[name])
        entries.append(LutEntry(index, name, current, count, secure))
        current += count
    chip_sectors = chip.size // layout.sector_size
    if current > chip_sectors:
        used = (current - layout.apps_start_sector) * layout.sector_size
        free = (chip_sectors - layout.apps_start_sector) * layout.sector_size
        raise PlacementError(
            f"components need {hexsize(used)} from sector {layout.apps_start_sector} but chip {chip.name} has "
            f"{hexsize(free)} there ({hexsize(used - free)} too many)")
    return entries


def lut_sector(layout: SflashLayout, entries: list[LutEntry]) -> bytes:
    """wiced_apps_lut[8] (app_header_t each) followed by 0xFF to the end of the sector (wiced_apps_lut_fill)."""
    headers = []
    for e in entries:
        header = empty_header()
        if e.sector_count:
            header["count"] = 1
            header["secure"] = e.secure
            header["sectors"] = [{"start": e.start_sector, "count": e.sector_count}] + header["sectors"][1:]
        headers.append(header)
    table = wiced_apps_lut.build(headers)
    return table + bytes([layout.fill]) * (layout.sector_size - len(table))


def assemble_sflash(layout: SflashLayout, chip: Chip, components: dict[str, tuple[bytes, Source]]) -> Image:
    """LUT at APPS_LUT_HEADER_LOC, components verbatim at their start sectors, the erased value elsewhere."""
    lut_start = layout.apps_lut_header_loc
    if lut_start % layout.sector_size or lut_start + layout.sector_size > chip.size:
        raise PlacementError(f"apps LUT at 0x{lut_start:X} is not a sector inside chip {chip.name} ({hexsize(chip.size)})")
    if layout.apps_start_sector * layout.sector_size <= lut_start < (layout.apps_start_sector + 1) * layout.sector_size:
        raise PlacementError(f"apps LUT at 0x{lut_start:X} overlaps the first component sector {layout.apps_start_sector}")
    entries = plan_sflash(layout, chip, {name: len(data) for name, (data, _) in components.items()})
    lut = lut_sector(layout, entries)
    pieces = [(lut_start, lut)]
    regions = [PlacedRegion("lut", lut_start, len(lut), None)]
    for entry in entries:
        if entry.name in components:
            data, source = components[entry.name]
            offset = entry.start_sector * layout.sector_size
            if lut_start in range(offset, offset + entry.sector_count * layout.sector_size):
                raise PlacementError(f"{entry.name} sectors {entry.start_sector}+{entry.sector_count} overlap the apps LUT", source.file)
            pieces.append((offset, data))
            regions.append(PlacedRegion(entry.name, offset, len(data), source))
    image = _compose(chip.size, layout.fill, pieces)
    regions.sort(key=lambda r: r.offset)
    return Image("sflash", 0, layout.fill, image, regions, entries)

