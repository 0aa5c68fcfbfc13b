"""SVG memory map of the MCU internal flash and the serial flash: regions, LUT entries and free space.

Each chip is one vertical bar drawn to its own linear scale, except that (a) a long unwritten run (free space, or the
erased rest of a reserved area) is drawn short with a zig-zag break and its size written on it, and (b) a piece too
small to see is drawn at a minimum height. Both exceptions are stated in the legend. The output is deterministic text
(no ids from memory addresses, no timestamps) and self-contained (no external fonts, images or scripts).

Entry points (for `bundle build` and `bundle inspect --map`):
  - `svg_from_manifest(manifest, board=None)`: both chips from a manifest dict (board adds the MCU layout regions).
  - `svg_from_image(kind, size, regions, lut=None, base_address=0, sector_size=4096)`: one decoded image.
  - `chip_map(...)` / `maps_from_manifest(...)` + `render_svg(maps)` for anything in between.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from html import escape  # also escapes quotes (attribute values); xml.sax.saxutils pulls in urllib/ssl: +2 MiB
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence

if TYPE_CHECKING:
    from .layout import Board

__all__ = ["Span", "ChipMap", "chip_map", "maps_from_manifest", "render_svg", "svg_from_manifest", "svg_from_image"]

BAR_HEIGHT = 560     # px for the whole bar of one chip
MIN_PX = 4           # smallest piece drawn
BREAK_PX = 52        # height of a broken (not-to-scale) run
LABEL_GAP = 28       # vertical distance between two labels (two text lines each)
COLUMN_WIDTH = 530
TOP = 96             # space for the title and column headings


@dataclass(frozen=True)
class Span:
    name: str
    offset: int  # from the start of the chip
    size: int
    sectors: tuple[int, int] | None = None  # (first sector, count) for an apps LUT entry

    @property
    def end(self) -> int:
        return self.offset + self.size


@dataclass(frozen=True)
class ChipMap:
    """What one bar shows. `written`: bytes actually written (manifest regions). `reserved`: areas set aside for
    them (MCU layout regions, or the sectors of each SFLASH LUT entry), written or not."""

    kind: str
    title: str
    base_address: int
    size: int
    written: tuple[Span, ...]
    reserved: tuple[Span, ...] = ()
    fill: int = 0xFF


@dataclass(frozen=True)
class _Piece:
    start: int
    end: int
    written: Span | None
    reserved: Span | None

    @property
    def size(self) -> int:
        return self.end - self.start


def _field(obj: Any, name: str, index: int) -> Any:
    """Read `name` from a mapping, an object attribute or a tuple position: callers pass manifest dicts, Image
    regions or plain tuples."""
    if isinstance(obj, Mapping):
        return obj[name]
    if isinstance(obj, (tuple, list)):
        return obj[index]
    return getattr(obj, name)


def _spans(items: Iterable[Any] | None) -> tuple[Span, ...]:
    spans = []
    for item in items or ():
        spans.append(Span(str(_field(item, "name", 0)), int(_field(item, "offset", 1)), int(_field(item, "size", 2))))
    return tuple(sorted((s for s in spans if s.size > 0), key=lambda s: (s.offset, s.name)))


def _lut_spans(lut: Iterable[Any] | None, sector_size: int) -> tuple[Span, ...]:
    """LUT entries as the areas they reserve; empty entries skipped. An entry is (index, name, start_sector,
    sector_count), or a mapping with `index`, `name` and `runs`: [{start_sector, sector_count}, ...] (an app_header_t
    may list several sector runs; `bundle inspect` decodes them so)."""
    spans = []
    for entry in lut or ():
        index, name = int(_field(entry, "index", 0)), str(_field(entry, "name", 1))
        if isinstance(entry, Mapping) and "runs" in entry:
            runs = [(int(r["start_sector"]), int(r["sector_count"])) for r in entry["runs"]]
        else:
            runs = [(int(_field(entry, "start_sector", 2)), int(_field(entry, "sector_count", 3)))]
        runs = [(start, count) for start, count in runs if count]
        for j, (start, count) in enumerate(runs):
            label = f"LUT[{index}] {name}" + (f" run {j}" if len(runs) > 1 else "")
            spans.append(Span(label, start * sector_size, count * sector_size, (start, count)))
    return tuple(sorted(spans, key=lambda s: s.offset))


def human_size(n: int) -> str:
    for unit, factor in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= factor and n % (factor // 4 or 1) == 0 or n >= 10 * factor:
            value = n / factor
            return f"{value:.2f}".rstrip("0").rstrip(".") + f" {unit}"
    return f"{n} B"


def written_of(used: int, total: int) -> str:
    """"219.72 KiB written of 220 KiB": both sizes in the unit human_size picks for the total (one unit per label;
    rounded down, so a part that does not fill its area never reads as full). Exact bytes are in the tooltips."""
    text = human_size(total)
    factor = {"MiB": 1 << 20, "KiB": 1 << 10}.get(text.rsplit(" ", 1)[1], 1)
    value = f"{used // factor}" if factor == 1 else f"{used * 100 // factor / 100:.2f}".rstrip("0").rstrip(".")
    return f"{value} {text.rsplit(' ', 1)[1]} written of {text}"


def chip_map(kind: str, size: int, regions: Iterable[Any], *, lut: Iterable[Any] | None = None,
             reserved: Iterable[Any] | None = None, base_address: int = 0, sector_size: int = 4096,
             title: str | None = None, fill: int = 0xFF) -> ChipMap:
    """One chip from decoded facts. `regions`: written areas as (name, offset, size) tuples, dicts or objects with
    those fields (offset from the chip start). `lut`: apps LUT entries (index, name, start_sector, sector_count),
    SFLASH only. `reserved`: extra areas such as the MCU layout regions, same shape as `regions`."""
    if size <= 0:
        raise ValueError("chip size must be positive")
    res = _spans(reserved) + _lut_spans(lut, sector_size)
    if title is None:
        title = {"mcu": "MCU internal flash", "sflash": "Serial flash (SFLASH)"}.get(kind, kind)
    return ChipMap(kind, title, base_address, size, _spans(regions), tuple(sorted(res, key=lambda s: s.offset)), fill)


def maps_from_manifest(manifest: Mapping[str, Any], board: Board | None = None) -> list[ChipMap]:
    """One ChipMap per image in the manifest (the .hex of an image shares its .bin's map). With `board`
    (bundler.layout.Board), the MCU bar also shows the layout regions, e.g. the erased DCT copy 2."""
    maps, seen = [], set()
    chip = manifest.get("chip", {})
    board_info = manifest.get("board", {})
    for art in manifest.get("artefacts", []):
        kind = art["kind"]
        if kind in seen:
            continue
        seen.add(kind)
        if kind == "mcu":
            reserved = None
            if board is not None:
                base = board.mcu.flash_base
                reserved = [(r.name, r.start - base, r.size) for r in board.mcu.regions]
            title = f"MCU internal flash — {board_info.get('mcu_part', 'MCU')}"
            maps.append(chip_map("mcu", art["size"], art["regions"], reserved=reserved, title=title,
                                 base_address=art["base_address"], fill=art.get("fill", 0xFF)))
        else:
            title = f"Serial flash — {chip.get('name', 'SFLASH')}"
            maps.append(chip_map(kind, art["size"], art["regions"], lut=manifest.get("lut"),
                                 sector_size=chip.get("sector_size", 4096), title=title,
                                 base_address=art["base_address"], fill=art.get("fill", 0xFF)))
    return maps


def _pieces(cm: ChipMap) -> list[_Piece]:
    cuts = {0, cm.size}
    for span in cm.written + cm.reserved:
        cuts.update(min(max(v, 0), cm.size) for v in (span.offset, span.end))
    points = sorted(cuts)
    pieces: list[_Piece] = []
    for a, b in zip(points, points[1:]):
        w = next((s for s in cm.written if s.offset <= a and b <= s.end), None)
        r = next((s for s in cm.reserved if s.offset <= a and b <= s.end), None)
        if pieces and pieces[-1].written == w and pieces[-1].reserved == r:
            pieces[-1] = _Piece(pieces[-1].start, b, w, r)
        else:
            pieces.append(_Piece(a, b, w, r))
    return pieces


def _is_break(piece: _Piece, chip_size: int) -> bool:
    return piece.written is None and piece.size >= max(64 * 1024, chip_size // 16)


def _heights(pieces: list[_Piece], chip_size: int) -> tuple[list[float], float]:
    """Pixel height of each piece and the scale (px per byte) that makes the bar BAR_HEIGHT tall."""
    breaks = [_is_break(p, chip_size) for p in pieces]
    fixed = BREAK_PX * sum(breaks)

    def total(k: float) -> float:
        return fixed + sum(max(MIN_PX, p.size * k) for p, br in zip(pieces, breaks) if not br)

    lo, hi = 0.0, BAR_HEIGHT / max(1, min((p.size for p, br in zip(pieces, breaks) if not br), default=1))
    if total(lo) < BAR_HEIGHT:
        for _ in range(60):  # bisection: total() is monotonic in k
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if total(mid) < BAR_HEIGHT else (lo, mid)
    k = lo
    return [BREAK_PX if br else max(MIN_PX, p.size * k) for p, br in zip(pieces, breaks)], k


_PALETTE = {
    "bootloader": "#8e44ad", "dct1": "#d35400", "dct2": "#e67e22", "app": "#2471a3", "lut": "#7f8c8d",
    "fr_app": "#1e8449", "dct_image": "#d35400", "ota_app": "#2e86c1", "filesystem": "#b7950b",
    "wifi_firmware": "#c0392b", "app0": "#117a65", "app1": "#148f77", "app2": "#17a589",
}
_EXTRA = ["#6c3483", "#1a5276", "#7d6608", "#78281f", "#0e6655", "#4a235a", "#5d6d7e"]


def _colour(name: str) -> str:
    key = name.split(" ", 1)[1] if name.startswith("LUT[") else name
    return _PALETTE.get(key) or _EXTRA[zlib.crc32(key.encode()) % len(_EXTRA)]


def _spread(wanted: list[float], top: float, bottom: float, gap: float) -> list[float]:
    """Label positions as close as possible to `wanted` (sorted) but at least `gap` apart, inside [top, bottom]."""
    ys: list[float] = []
    for y in wanted:
        ys.append(max(y, top, ys[-1] + gap if ys else top))
    for i in range(len(ys) - 1, -1, -1):
        limit = bottom if i == len(ys) - 1 else ys[i + 1] - gap
        ys[i] = min(ys[i], limit)
    return [max(top, y) for y in ys]


def _fmt_addr(value: int) -> str:
    return f"0x{value:08X}"


def _column(cm: ChipMap, x0: float) -> tuple[list[str], float]:
    """SVG elements of one chip's column and the y of its bottom edge."""
    out: list[str] = []
    pieces = _pieces(cm)
    heights, k = _heights(pieces, cm.size)
    bar_x, bar_w = x0 + 96, 118
    ys, y = [], float(TOP)
    for h in heights:
        ys.append(y)
        y += h
    bottom = y

    out.append(f'<g class="chip" data-kind="{escape(cm.kind)}">')
    heading, _, part = cm.title.partition(" — ")
    out.append(f'<text x="{x0:.0f}" y="{TOP - 48}" class="h2">{escape(heading)}</text>')
    if part:
        out.append(f'<text x="{x0:.0f}" y="{TOP - 32}" class="small">{escape(part)}</text>')
    out.append(f'<text x="{x0:.0f}" y="{TOP - 16}" class="small">{_fmt_addr(cm.base_address)} – '
               f'{_fmt_addr(cm.base_address + cm.size - 1)}, {human_size(cm.size)}; blank 0x{cm.fill:02X}; '
               f'scale 1 px ≈ {human_size(round(1 / k)) if k else "n/a"}</text>')

    # pieces
    for p, y0, h in zip(pieces, ys, heights):
        addr = f"{_fmt_addr(cm.base_address + p.start)}–{_fmt_addr(cm.base_address + p.end - 1)}"
        if p.written is not None:
            tip = f"{p.written.name}: {addr}, {p.size} bytes written"
            style = f'fill="{_colour(p.written.name)}" class="written"'
        elif p.reserved is not None:
            tip = f"{p.reserved.name}: {addr}, {p.size} bytes reserved, blank (0x{cm.fill:02X})"
            style = f'fill="{_colour(p.reserved.name)}" fill-opacity="0.18" class="reserved"'
        else:
            tip = f"free: {addr}, {p.size} bytes blank (0x{cm.fill:02X})"
            style = 'fill="#ffffff" class="free"'
        out.append(f'<rect x="{bar_x}" y="{y0:.2f}" width="{bar_w}" height="{h:.2f}" {style} stroke="none">'
                   f'<title>{escape(tip)}</title></rect>')
        if _is_break(p, cm.size):
            # zig-zag break marks and the real size of the run
            for dy in (12, h - 12):
                zz = " ".join(f"{bar_x - 6 + i * 10:.0f},{y0 + dy + (-4 if i % 2 else 4):.2f}"
                              for i in range(bar_w // 10 + 3))
                out.append(f'<polyline points="{zz}" class="zigzag"/>')
            what = "free" if p.reserved is None else "unwritten"
            out.append(f'<text x="{bar_x + bar_w / 2:.1f}" y="{y0 + h / 2 + 4:.2f}" class="brk" '
                       f'text-anchor="middle">{what} {human_size(p.size)}</text>')
    # frame of the whole bar, outlines of the reserved areas
    out.append(f'<rect x="{bar_x}" y="{TOP}" width="{bar_w}" height="{bottom - TOP:.2f}" class="frame"/>')
    index = {p.start: i for i, p in enumerate(pieces)}
    ends = {p.end: i for i, p in enumerate(pieces)}

    def y_of(offset: int) -> float:
        if offset in index:
            return ys[index[offset]]
        return ys[ends[offset]] + heights[ends[offset]]

    for span in cm.reserved:
        a, b = y_of(max(0, span.offset)), y_of(min(cm.size, span.end))
        out.append(f'<rect x="{bar_x}" y="{a:.2f}" width="{bar_w}" height="{b - a:.2f}" class="outline" '
                   f'stroke="{_colour(span.name)}"/>')

    # address ticks on the left: every boundary, spread so they do not overlap
    marks = sorted({p.start for p in pieces} | {cm.size})
    wanted = [y_of(m) for m in marks]
    placed = _spread(wanted, TOP - 4, bottom + 4, 13)
    for m, wy, ly in zip(marks, wanted, placed):
        out.append(f'<polyline points="{bar_x - 2},{wy:.2f} {bar_x - 12},{wy:.2f} {bar_x - 18},{ly:.2f}" class="lead"/>')
        out.append(f'<text x="{bar_x - 20}" y="{ly + 4:.2f}" class="addr" text-anchor="end">'
                   f'{_fmt_addr(cm.base_address + m)}</text>')

    # labels on the right: one per reserved area (with what is written in it), per written area outside any
    # reserved one, and per free run
    labels: list[tuple[float, str, str, str]] = []
    for span in cm.reserved:
        inside = [w for w in cm.written if span.offset <= w.offset and w.end <= span.end]
        used = sum(w.size for w in inside)
        detail = written_of(used, span.size) if inside else f"{human_size(span.size)}, blank"
        if span.sectors is not None:
            first, count = span.sectors
            detail += f" · sector {first}" if count == 1 else f" · sectors {first}–{first + count - 1}"
        mid = (y_of(max(0, span.offset)) + y_of(min(cm.size, span.end))) / 2
        labels.append((mid, span.name, detail, _colour(span.name)))
    for w in cm.written:
        if not any(r.offset <= w.offset and w.end <= r.end for r in cm.reserved):
            labels.append(((y_of(w.offset) + y_of(w.end)) / 2, w.name, f"{w.size} B written", _colour(w.name)))
    for p, y0, h in zip(pieces, ys, heights):
        if p.written is None and p.reserved is None:
            labels.append((y0 + h / 2, "free", f"{human_size(p.size)} blank (0x{cm.fill:02X})", "#95a5a6"))
    labels.sort(key=lambda t: t[0])
    placed = _spread([t[0] for t in labels], TOP + 8, bottom - 8, LABEL_GAP)
    lx = bar_x + bar_w + 34
    for (wy, name, detail, colour), ly in zip(labels, placed):
        out.append(f'<polyline points="{bar_x + bar_w + 2},{wy:.2f} {bar_x + bar_w + 14},{wy:.2f} '
                   f'{lx - 4},{ly:.2f}" class="lead"/>')
        out.append(f'<rect x="{lx}" y="{ly - 10:.2f}" width="9" height="9" fill="{colour}"/>')
        out.append(f'<text x="{lx + 14}" y="{ly - 1:.2f}" class="name">{escape(name)}</text>')
        out.append(f'<text x="{lx + 14}" y="{ly + 12:.2f}" class="small">{escape(detail)}</text>')
    out.append("</g>")
    return out, bottom


_STYLE = """
.h1{font:bold 17px 'DejaVu Sans',Arial,sans-serif;fill:#222}
.h2{font:bold 14px 'DejaVu Sans',Arial,sans-serif;fill:#222}
.name{font:bold 12px 'DejaVu Sans',Arial,sans-serif;fill:#222}
.small{font:11px 'DejaVu Sans',Arial,sans-serif;fill:#444}
.addr{font:11px 'DejaVu Sans Mono',Consolas,monospace;fill:#333}
.brk{font:italic 11px 'DejaVu Sans',Arial,sans-serif;fill:#555}
.frame{fill:none;stroke:#333;stroke-width:1.2}
.outline{fill:none;stroke-width:1.6}
.lead{fill:none;stroke:#888;stroke-width:0.8}
.zigzag{fill:none;stroke:#555;stroke-width:1.4}
"""


def render_svg(maps: Sequence[ChipMap], title: str = "Memory map", *, xml_declaration: bool = False) -> str:
    """All chips side by side in one SVG document (text)."""
    if not maps:
        raise ValueError("nothing to draw: no chip images")
    body: list[str] = []
    bottom = 0.0
    for i, cm in enumerate(maps):
        elements, b = _column(cm, 16 + i * COLUMN_WIDTH)
        body.extend(elements)
        bottom = max(bottom, b)
    width = 16 + len(maps) * COLUMN_WIDTH
    legend_y = bottom + 26
    legend = (f'<text x="16" y="{legend_y:.0f}" class="small">Solid: bytes written. Pale: reserved, left blank. '
              f'White: free. Outlined: a reserved area (layout region or LUT entry sectors).</text>'
              f'<text x="16" y="{legend_y + 15:.0f}" class="small">Each bar is to its own scale, except zig-zag '
              f'breaks (long blank runs, size written on them) and pieces under {MIN_PX} px (drawn at {MIN_PX} px).'
              f'</text>')
    height = legend_y + 26
    head = '<?xml version="1.0" encoding="UTF-8"?>\n' if xml_declaration else ""
    return (f'{head}<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height:.0f}" '
            f'viewBox="0 0 {width} {height:.0f}" role="img" aria-label="{escape(title)}" class="memory-map">\n'
            f'<style>{_STYLE}</style>\n<rect x="0" y="0" width="{width}" height="{height:.0f}" fill="#fcfcfc"/>\n'
            f'<text x="16" y="24" class="h1">{escape(title)}</text>\n' + "\n".join(body) + "\n" + legend + "\n</svg>\n")


def is_memory_map(head: bytes) -> bool:
    """True when `head` (a file's first bytes) starts an SVG that render_svg wrote."""
    return head.lstrip().startswith((b"<?xml", b"<svg")) and b'class="memory-map"' in head


def svg_from_manifest(manifest: Mapping[str, Any], board: Board | None = None, *, xml_declaration: bool = True) -> str:
    """The memory map of every image in a manifest (dict as in manifest.json)."""
    name = manifest.get("name")
    title = f"Memory map — {name}" if name else "Memory map"
    return render_svg(maps_from_manifest(manifest, board), title, xml_declaration=xml_declaration)


def svg_from_image(kind: str, size: int, regions: Iterable[Any], lut: Iterable[Any] | None = None, *,
                   base_address: int = 0, sector_size: int = 4096, title: str | None = None,
                   fill: int = 0xFF, reserved: Iterable[Any] | None = None) -> str:
    """The memory map of one decoded image (for `bundle inspect --map out.svg`). `regions`: (name, offset, size)
    of the written areas; `lut`: (index, name, start_sector, sector_count) of the apps LUT, for an SFLASH image."""
    cm = chip_map(kind, size, regions, lut=lut, reserved=reserved, base_address=base_address,
                  sector_size=sector_size, fill=fill, title=title)
    return render_svg([cm], title or f"Memory map — {cm.title}", xml_declaration=True)


def maps_from_report(report: Mapping[str, Any]) -> list[ChipMap]:
    """One ChipMap per MCU or SFLASH image that `bundle inspect` decoded (for `inspect --map`)."""
    maps = []
    for f in report.get("files", []):
        if f.get("kind") == "mcu" and "mcu" in f:
            m = f["mcu"]
            written = [(r["name"], r["offset"], r["used_size"]) for r in m["regions"] if not r["erased"]]
            reserved = [(r["name"], r["offset"], r["size"]) for r in m["regions"]]
            maps.append(chip_map("mcu", m["flash_size"], written, reserved=reserved, base_address=m["flash_base"],
                                 title=f"{f['file']} — MCU internal flash", fill=m.get("fill", 0xFF)))
        elif f.get("kind") == "sflash" and "sflash" in f:
            s = f["sflash"]
            sizes = {c["name"]: c.get("size", 0) for c in s.get("components", [])}
            written = [(r["name"], r["offset"], r["used_size"]) for r in s.get("regions", [])]
            for entry in s.get("entries", []):
                left = sizes.get(entry["name"], 0)
                for run in entry.get("runs", []):  # a component's bytes fill its sector runs in order
                    if left > 0 and not run.get("past_chip"):
                        written.append((entry["name"], run["address"], min(run["size"], left)))
                        left -= run["size"]
            maps.append(chip_map("sflash", s["chip"]["size"], written, lut=s.get("entries"),
                                 sector_size=s["sector_size"], title=f"{f['file']} — serial flash {s['chip']['name']}"))
    return maps
