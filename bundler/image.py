"""Placement and the two images: the MCU's internal flash and the serial flash, each its placed parts and the erased
value elsewhere (streamed when written and hashed, never one big buffer), made after every check has passed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Mapping, Union

from .errors import PlacementError, hexsize
from .formats.lut import COMPONENTS, empty_header, wiced_apps_lut
from .inputs import FileBytes, Segment, Source, describe_segment
from .layout import Chip, McuLayout, Region, SflashLayout
from .stream import Buffer, Fill, to_bytes


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


Piece = Union[bytes, FileBytes]  # bytes to place: generated or from an input held in memory, or read from a file


@dataclass(frozen=True, eq=False)
class Image:
    """A flash image as its parts (disjoint, sorted by offset) and the erased value everywhere else. Streamed (see
    stream.py), never materialised by a build; `tobytes()` for callers that need one buffer."""

    kind: str  # "mcu" | "sflash"
    base_address: int
    fill: int
    size: int
    pieces: tuple[tuple[int, Piece], ...]
    regions: list[PlacedRegion]
    lut: list[LutEntry] | None = None

    def __len__(self) -> int:
        return self.size

    def chunks(self, start: int = 0, end: int | None = None) -> Iterator[Buffer | Fill]:
        """The image's bytes in [start, end) in order: piece bytes and Fill runs."""
        end = self.size if end is None else min(end, self.size)
        pos = start
        for offset, data in self.pieces:
            stop = offset + len(data)
            if stop <= pos:
                continue
            if offset >= end:
                break
            if offset > pos:
                yield Fill(offset - pos, self.fill)
                pos = offset
            a, b = pos - offset, min(end, stop) - offset
            if isinstance(data, FileBytes):
                yield from data.chunks(a, b)
            else:
                yield data if (a, b) == (0, len(data)) else memoryview(data)[a:b]
            pos = offset + b
        if pos < end:
            yield Fill(end - pos, self.fill)

    def read(self, start: int, end: int) -> bytes:
        return to_bytes(_Range(self, start, end))

    def tobytes(self) -> bytes:
        return self.read(0, self.size)

    def region_bytes(self, region: PlacedRegion) -> Piece | "_Range":
        """A region's bytes: the placed part itself when the region is one part (its checksums are then shared
        with every other use of that part), else a view of the image."""
        for offset, data in self.pieces:
            if (offset, len(data)) == (region.offset, region.size):
                return data
        return _Range(self, region.offset, region.offset + region.size)


@dataclass(frozen=True, eq=False)
class _Range:
    """[start, end) of an image, as a Stream."""

    image: Image
    start: int
    end: int

    def __len__(self) -> int:
        return self.end - self.start

    def chunks(self) -> Iterator[Buffer | Fill]:
        return self.image.chunks(self.start, self.end)


def _pieces(size: int, pieces: list[tuple[int, Piece]]) -> tuple[tuple[int, Piece], ...]:
    """Sorted, and checked disjoint and inside the image (placement refuses overlaps before; this keeps Image
    honest for any caller)."""
    ordered = sorted(((offset, data) for offset, data in pieces if len(data)), key=lambda p: p[0])
    pos = 0
    for offset, data in ordered:
        if offset < pos or offset + len(data) > size:
            raise PlacementError(f"part at 0x{offset:X} ({hexsize(len(data))}) overlaps another or ends past the "
                                 f"image end 0x{size:X}")
        pos = offset + len(data)
    return tuple(ordered)


def assemble_mcu(layout: McuLayout, parts: list[Part]) -> Image:
    """Check every segment lies in flash and in its part's region and that nothing overlaps, then place."""
    flash = Region("flash", layout.flash_base, layout.flash_size)
    placed: list[tuple[Segment, str]] = []
    for part in parts:
        region = layout.region(part.name)
        for seg in part.segments:
            where = f"{part.name} segment {describe_segment(seg)}"
            if region.start <= seg.address < region.end < seg.end:  # starts in its region, too large for it
                raise PlacementError(
                    f"{where} is outside region {region.name} 0x{region.start:08X}-0x{region.end - 1:08X} "
                    f"({hexsize(region.size)}): it would end at 0x{seg.end:08X}, room from 0x{seg.address:08X} is "
                    f"{hexsize(region.end - seg.address)}, {hexsize(seg.end - region.end)} too many", part.source.file)
            if not flash.contains(seg.address, len(seg.data)):
                raise PlacementError(
                    f"{where} is outside flash 0x{flash.start:08X}-0x{flash.end - 1:08X}", part.source.file)
            if not region.contains(seg.address, len(seg.data)):
                raise PlacementError(
                    f"{where} is outside region {region.name} 0x{region.start:08X}-0x{region.end - 1:08X} "
                    f"({hexsize(region.size)})", part.source.file)
            placed.append((seg, part.source.file))
    _check_overlaps(placed)

    pieces = _pieces(layout.flash_size,
                     [(seg.address - layout.flash_base, seg.data) for part in parts for seg in part.segments])
    regions = []
    for part in parts:
        if part.segments:
            start = min(s.address for s in part.segments)
            end = max(s.end for s in part.segments)
            regions.append(PlacedRegion(part.name, start - layout.flash_base, end - start, part.source))
    regions.sort(key=lambda r: r.offset)
    return Image("mcu", layout.flash_base, layout.fill, layout.flash_size, pieces, regions)


def _check_overlaps(placed: list[tuple[Segment, str]]) -> None:
    placed = sorted(placed, key=lambda p: p[0].address)
    for (a, a_file), (b, b_file) in zip(placed, placed[1:]):
        if b.address < a.end:
            raise PlacementError(
                f"{describe_segment(b)} overlaps {describe_segment(a)} from {a_file} by {hexsize(a.end - b.address)}",
                b_file)


def room_left(layout: SflashLayout, chip: Chip, sizes: list[int]) -> int | None:
    """The largest component that still fits the chip after components of `sizes` (by the layout's sector rule, as
    plan_sflash places them); None when those alone overflow it (plan_sflash then reports the whole overflow)."""
    free = chip.size // layout.sector_size - layout.apps_start_sector - sum(layout.sector_count(n) for n in sizes)
    return free * layout.sector_size - (1 if layout.sector_count_rule == "sdk" else 0) if free > 0 else None


def plan_sflash(layout: SflashLayout, chip: Chip, sizes: dict[str, int],
                files: Mapping[str, str] | None = None) -> list[LutEntry]:
    """The SDK build's placement (wiced_apps.mk): from APPS_START_SECTOR, each present component in index order
    takes `sector_count(size)` sectors; absent components get an empty entry. `files` name the components' inputs
    in the message when they do not fit."""
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
        raise PlacementError(_too_large(layout, chip, entries, sizes, files or {}, current))
    return entries


def _too_large(layout: SflashLayout, chip: Chip, entries: list[LutEntry], sizes: dict[str, int],
               files: Mapping[str, str], sectors: int) -> str:
    """Name the first component that passes the chip's end, its file and size, where it would end, the room it had,
    the overflow of all components, and the smallest chip of layouts/chips.toml that would hold them."""
    from .layout import chip_names, load_chip

    unit = layout.sector_size
    e = next(e for e in entries if e.sector_count and (e.start_sector + e.sector_count) * unit > chip.size)
    file = f" ({files[e.name]})" if e.name in files else ""
    need = sectors * unit
    room = max(0, chip.size - e.start_sector * unit)
    larger = sorted((c for c in map(load_chip, chip_names()) if c.size >= need and c.sector_size == unit),
                    key=lambda c: c.size)
    fits = (f"; the smallest chip that holds them is {larger[0].name} ({hexsize(larger[0].size)})" if larger else
            "; no chip of layouts/chips.toml is that large")
    return (f"[sflash] {e.name}{file}: {hexsize(sizes[e.name])} in sectors {e.start_sector}-"
            f"{e.start_sector + e.sector_count - 1} would end at 0x{(e.start_sector + e.sector_count) * unit:X}, past "
            f"the end of chip {chip.name} ({hexsize(chip.size)}); room from 0x{e.start_sector * unit:X} is "
            f"{hexsize(room)}; the components need {hexsize(need)} with the LUT, {hexsize(need - chip.size)} too "
            f"many{fits}")


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


def assemble_sflash(layout: SflashLayout, chip: Chip, components: dict[str, tuple[Piece, Source]]) -> Image:
    """LUT at APPS_LUT_HEADER_LOC, components verbatim at their start sectors, the erased value elsewhere."""
    lut_start = layout.apps_lut_header_loc
    if lut_start % layout.sector_size or lut_start + layout.sector_size > chip.size:
        raise PlacementError(f"apps LUT at 0x{lut_start:X} is not a sector inside chip {chip.name} ({hexsize(chip.size)})")
    if layout.apps_start_sector * layout.sector_size <= lut_start < (layout.apps_start_sector + 1) * layout.sector_size:
        raise PlacementError(f"apps LUT at 0x{lut_start:X} overlaps the first component sector {layout.apps_start_sector}")
    entries = plan_sflash(layout, chip, {name: len(data) for name, (data, _) in components.items()},
                          {name: source.file for name, (_, source) in components.items()})
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
    regions.sort(key=lambda r: r.offset)
    return Image("sflash", 0, layout.fill, chip.size, _pieces(chip.size, pieces), regions, entries)

