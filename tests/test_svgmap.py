"""SVG memory map (bundler.svgmap): valid XML, to scale except stated breaks/minimums, LUT entries, inputs of every
shape (manifest dicts, tuples, Image objects), deterministic, escaped."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bundler.svgmap import (BAR_HEIGHT, BREAK_PX, MIN_PX, chip_map, maps_from_manifest, render_svg, svg_from_image,
                            svg_from_manifest, written_of)

NS = {"s": "http://www.w3.org/2000/svg"}


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg.encode())
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert float(root.get("width")) > 100 and float(root.get("height")) > 100
    return root


def pieces(root: ET.Element, kind: str | None = None) -> list[tuple[str, float, int]]:
    """(class, height px, bytes) of every piece rect (they carry a <title> with the byte count)."""
    out = []
    for g in root.iterfind(".//s:g[@class='chip']", NS):
        if kind and g.get("data-kind") != kind:
            continue
        for rect in g.iterfind("s:rect", NS):
            title = rect.find("s:title", NS)
            if title is not None:
                size = int(re.search(r"(\d+) bytes", title.text).group(1))
                out.append((rect.get("class"), float(rect.get("height")), size))
    return out


def texts(root: ET.Element) -> str:
    return " ".join(t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text"))


LUT = [{"index": 0, "name": "fr_app", "start_sector": 1, "sector_count": 3},
       {"index": 1, "name": "dct_image", "start_sector": 4, "sector_count": 2},
       {"index": 5, "name": "app0", "start_sector": 0, "sector_count": 0}]


def test_sflash_image_from_tuples_with_lut_and_a_break() -> None:
    size = 8 << 20
    svg = svg_from_image("sflash", size, [("lut", 0, 4096), ("fr_app", 4096, 9000), ("dct_image", 16384, 7684)], LUT)
    root = parse(svg)
    words = texts(root)
    assert "LUT[0] fr_app" in words and "LUT[1] dct_image" in words and "app0" not in words
    assert "sectors 1–3" in words and "sectors 4–5" in words
    assert "8.78 KiB written of 12 KiB" in words  # 9000 bytes of 3 sectors: one unit per label
    assert "free" in words and "0x00800000" in words  # the last address tick is the chip end
    got = pieces(root)
    broken = [p for p in got if p[1] == BREAK_PX and p[0] == "free"]
    assert len(broken) == 1 and broken[0][2] == size - 6 * 4096
    assert len(root.findall(".//s:polyline[@class='zigzag']", NS)) == 2
    assert sum(p[2] for p in got) == size  # the pieces tile the chip exactly


def test_to_scale_except_breaks_and_minimum_heights() -> None:
    regions = [("bootloader", 0, 0x4000), ("dct1", 0x4000, 0x1DB0), ("app", 0xC000, 0x40000), ("tiny", 0x60000, 16)]
    root = parse(svg_from_image("mcu", 1 << 20, regions, base_address=0x08000000))
    got = pieces(root)
    total = sum(h for _, h, _ in got)
    assert total == pytest.approx(BAR_HEIGHT, abs=0.5)
    scaled = [(h, n) for c, h, n in got if h > MIN_PX + 0.01 and h != BREAK_PX]
    k = max(scaled, key=lambda t: t[1])[0] / max(scaled, key=lambda t: t[1])[1]  # px per byte of the largest piece
    assert len(scaled) >= 3 and all(abs(h - n * k) <= 0.011 for h, n in scaled)  # heights are written to 0.01 px
    tiny = [h for c, h, n in got if n == 16]
    assert tiny == [MIN_PX]
    assert "0x08000000" in texts(root) and "0x08100000" in texts(root)


def test_fully_used_chip_has_no_break() -> None:
    root = parse(svg_from_image("sflash", 64 * 4096, [("lut", 0, 4096), ("blob", 4096, 63 * 4096)]))
    assert not root.findall(".//s:polyline[@class='zigzag']", NS)


@dataclass
class Region:  # the shape of bundler.image.PlacedRegion
    name: str
    offset: int
    size: int


def test_objects_and_sample_images(sample_build) -> None:
    _, bundle = sample_build
    svg = svg_from_image("sflash", bundle.sflash.size, bundle.sflash.regions, bundle.sflash.lut)
    words = texts(parse(svg))
    for entry in bundle.sflash.lut:
        assert (f"LUT[{entry.index}] {entry.name}" in words) == bool(entry.sector_count)
    svg2 = svg_from_image("mcu", bundle.mcu.size, [Region(r.name, r.offset, r.size) for r in bundle.mcu.regions],
                          base_address=bundle.mcu.base_address)
    assert "bootloader" in texts(parse(svg2))


def test_manifest_map_with_and_without_board(sample_build) -> None:
    out, bundle = sample_build
    manifest = json.loads((out / "manifest.json").read_text())
    plain = maps_from_manifest(manifest)
    assert [m.kind for m in plain] == ["mcu", "sflash"]  # one bar per image, the .hex shares the .bin's
    assert not plain[0].reserved
    with_board = maps_from_manifest(manifest, bundle.project.board)
    assert [r.name for r in with_board[0].reserved] == ["bootloader", "dct1", "dct2", "app"]
    words = texts(parse(svg_from_manifest(manifest, bundle.project.board)))
    assert "dct2" in words and "blank" in words and "LUT[4] wifi_firmware" in words
    assert (out / "memory-map.svg").read_text() == svg_from_manifest(manifest, bundle.project.board)


def test_deterministic_and_escaped() -> None:
    args = ("sflash", 1 << 20, [("a<b&c>\"", 0, 100)], None)
    svg = svg_from_image(*args)
    assert svg == svg_from_image(*args)
    assert 'a<b&c>"' in texts(parse(svg))


def test_errors() -> None:
    with pytest.raises(ValueError):
        render_svg([])
    with pytest.raises(ValueError):
        chip_map("mcu", 0, [])


def test_lut_entries_with_several_sector_runs() -> None:
    """`bundle inspect` decodes an app_header_t into runs; each run is drawn, labelled with its run number."""
    lut = [{"index": 2, "name": "ota_app", "runs": [{"start_sector": 4, "sector_count": 2},
                                                    {"start_sector": 10, "sector_count": 1}]},
           {"index": 3, "name": "filesystem", "runs": []}]
    words = texts(parse(svg_from_image("sflash", 1 << 20, [("lut", 0, 4096)], lut)))
    assert "LUT[2] ota_app run 0" in words and "LUT[2] ota_app run 1" in words and "filesystem" not in words
    assert "sectors 4–5" in words and "sector 10" in words


_WRITTEN_OF = re.compile(r"^([\d.]+) (B|KiB|MiB) written of ([\d.]+) (B|KiB|MiB)$")
_FACTOR = {"B": 1, "KiB": 1 << 10, "MiB": 1 << 20}


def _check_written_of(text: str, used: int, total: int) -> None:
    m = _WRITTEN_OF.match(text)
    assert m, text
    assert m.group(2) == m.group(4), text  # one unit per label
    shown_used, shown_total = float(m.group(1)), float(m.group(3))
    assert used / _FACTOR[m.group(2)] - 0.01 < shown_used <= used / _FACTOR[m.group(2)] + 1e-9, text  # rounded down
    assert abs(shown_total - total / _FACTOR[m.group(4)]) <= 0.005 + 1e-9, text


@given(total=st.integers(1, 64 << 20), data=st.data())
def test_written_of_states_both_sizes_in_one_unit(total: int, data) -> None:
    used = data.draw(st.integers(0, total))
    _check_written_of(written_of(used, total), used, total)


def test_sample_map_labels_use_one_unit(sample_build) -> None:
    """Every 'written of' label of the sample's map: the MCU app (a few KiB of 976 KiB), the DCT, each LUT entry."""
    out, bundle = sample_build
    manifest = json.loads((out / "manifest.json").read_text())
    words = [t.text or "" for t in parse(svg_from_manifest(manifest, bundle.project.board)).iter(f"{{{NS['s']}}}text")]
    labels = [w.split(" · ")[0] for w in words if " written of " in w]  # "... · sectors 1-3" on LUT entries
    assert len(labels) >= 6
    mcu = {r["name"]: r for a in manifest["artefacts"] if a["file"] == "mcu.bin" for r in a["regions"]}
    app_area = next(r for r in bundle.project.board.mcu.regions if r.name == "app")
    _check_written_of(next(w for w in labels if w.endswith(" of 976 KiB")), mcu["app"]["size"], app_area.size)
    for w in labels:
        assert _WRITTEN_OF.match(w) and _WRITTEN_OF.match(w).group(2) == _WRITTEN_OF.match(w).group(4), w
