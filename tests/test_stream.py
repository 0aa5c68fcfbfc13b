"""Streamed images (issue 6): an Image made of parts and fill, written and hashed block by block, must give exactly
the bytes, checksums and Intel HEX of the same image built as one bytearray; a raw input changed between hashing
and writing is refused; and a build never holds a whole SFLASH image."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tracemalloc
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from bundler.build import build_bundle, make_bundle
from bundler.checksums import Checksums, memoized, ranges_checksums
from bundler.config import load_project
from bundler.errors import InputError
from bundler.image import Image, PlacedRegion
from bundler.inputs import file_bytes
from bundler.publish import publish
from bundler.stream import BLOCK, to_bytes
from bundler.writers import hex_data_spans, intel_hex

SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "ota_demo"


def oracle(size: int, fill: int, pieces: list[tuple[int, bytes]]) -> bytes:
    image = bytearray([fill]) * size
    for offset, data in pieces:
        image[offset:offset + len(data)] = data
    return bytes(image)


@st.composite
def layouts(draw: st.DrawFn) -> tuple[int, int, list[tuple[int, bytes]], bool]:
    """An image size, fill, disjoint pieces, and whether pieces come from files."""
    size = draw(st.integers(1, 3 * 0x10000 + 50))
    fill = draw(st.sampled_from([0xFF, 0x00, 0x5A]))
    cuts = sorted(draw(st.lists(st.integers(0, size), max_size=8, unique=True)))
    pieces = []
    for a, b in zip(cuts[0::2], cuts[1::2]):
        n = b - a
        pattern = draw(st.binary(min_size=1, max_size=64))
        if draw(st.booleans()):
            pattern = bytes([fill]) * 20 + pattern  # fill-valued bytes inside a part: still the part's bytes
        pieces.append((a, (pattern * (n // len(pattern) + 1))[:n]))
    return size, fill, [(o, d) for o, d in pieces if d], draw(st.booleans())


def make_image(tmp: Path, size: int, fill: int, pieces: list[tuple[int, bytes]], from_files: bool) -> Image:
    placed = []
    for i, (offset, data) in enumerate(pieces):
        if from_files:
            path = tmp / f"piece{i}.bin"
            path.write_bytes(data)
            placed.append((offset, file_bytes(path)))
        else:
            placed.append((offset, data))
    regions = [PlacedRegion(f"r{i}", o, len(d), None) for i, (o, d) in enumerate(pieces)]
    return Image("sflash", 0x08000000, fill, size, tuple(placed), regions)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(layouts(), st.data())
def test_streamed_image_equals_bytearray_image(tmp_path: Path, layout, data) -> None:
    size, fill, pieces, from_files = layout
    expected = oracle(size, fill, pieces)
    image = make_image(tmp_path, size, fill, pieces, from_files)
    assert image.tobytes() == expected
    a = data.draw(st.integers(0, size))
    b = data.draw(st.integers(a, size))
    assert image.read(a, b) == expected[a:b]
    with memoized():
        sums = Checksums.of(image)
        assert (sums.crc32, sums.sha256) == (zlib.crc32(expected), hashlib.sha256(expected).hexdigest())
        assert sums.sum32 == sum(expected) & 0xFFFFFFFF
        assert Checksums.of(image) == sums  # memoized: the same answer again
    ranges = [(o, len(d)) for o, d in pieces]
    inside = b"".join(expected[o:o + n] for o, n in sorted(ranges))
    assert ranges_checksums(image, ranges) == Checksums(zlib.crc32(inside), sum(inside) & 0xFFFFFFFF,
                                                       hashlib.sha256(inside).hexdigest())
    for region in image.regions:
        assert to_bytes(image.region_bytes(region)) == expected[region.offset:region.offset + region.size]
    # Intel HEX of the streamed image, window by window == of the whole buffer (tests/test_writers.py checks the
    # buffer path against intelhex itself)
    for skip in (None, fill):
        assert intel_hex(image, image.base_address, skip_fill=skip) == intel_hex(expected, image.base_address,
                                                                                 skip_fill=skip)
        assert hex_data_spans(image, image.base_address, skip) == hex_data_spans(expected, image.base_address, skip)


def test_overlapping_parts_are_refused(tmp_path: Path) -> None:
    from bundler.errors import PlacementError
    from bundler.image import _pieces

    with pytest.raises(PlacementError, match="overlaps another"):
        _pieces(100, [(0, b"a" * 10), (5, b"b" * 10)])
    with pytest.raises(PlacementError, match="ends past"):
        _pieces(100, [(95, b"a" * 10)])


def test_file_read_in_blocks_and_checked_on_every_full_read(tmp_path: Path) -> None:
    path = tmp_path / "fs.bin"
    content = os.urandom(BLOCK * 2 + 123)
    path.write_bytes(content)
    piece = file_bytes(path, "fs.bin")
    assert (piece.size, piece.sha256) == (len(content), hashlib.sha256(content).hexdigest())
    assert [len(b) for b in piece.chunks()] == [BLOCK, BLOCK, 123]
    assert b"".join(piece.chunks(5, BLOCK + 9)) == content[5:BLOCK + 9]
    path.write_bytes(content[:-1] + bytes([content[-1] ^ 1]))  # same size, one bit changed
    with pytest.raises(InputError, match="fs.bin: file changed during the build"):
        b"".join(piece.chunks())
    path.write_bytes(content[:100])
    with pytest.raises(InputError, match="changed during the build"):
        b"".join(piece.chunks())


def big_product(folder: Path, fs_size: int) -> Path:
    """The sample with a 16 MiB chip and a prebuilt multi-MiB filesystem image file."""
    shutil.copytree(SAMPLE, folder)
    fs = folder / "big_fs.bin"
    image = bytearray((SAMPLE / "filesystem.bin").read_bytes())
    fs.write_bytes(bytes(image) + os.urandom(fs_size - len(image)))  # a valid header, then bulk
    toml = folder / "bundle.toml"
    text = toml.read_text()
    text = re.sub(r'^chip = .*$', 'chip = { name = "BIG16M", jedec_id = 0xC22018, size = 0x1000000 }', text,
                  count=1, flags=re.M)
    text = text.replace('filesystem = "resources/"', 'filesystem = "big_fs.bin"')
    toml.write_text(text)
    return toml


def test_input_changed_between_hashing_and_writing_is_refused_and_nothing_published(tmp_path: Path) -> None:
    toml = big_product(tmp_path / "p", 3 << 20)
    bundle = make_bundle(load_project(toml))
    fs = tmp_path / "p" / "big_fs.bin"
    data = bytearray(fs.read_bytes())
    data[-1] ^= 0xFF
    fs.write_bytes(data)
    out = tmp_path / "out"
    with pytest.raises(InputError, match="big_fs.bin: file changed during the build"):
        publish(out, bundle.files, [], "bundle build")
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["p"]  # no staging folder left behind


def test_build_never_holds_the_sflash_image(tmp_path: Path) -> None:
    """A 16 MiB chip with a 4 MiB filesystem file: Python allocations at their peak stay far below either (the
    image is streamed, the file read in 1 MiB blocks); materialising the image or the file would exceed it."""
    toml = big_product(tmp_path / "p", 4 << 20)
    build_bundle(toml, tmp_path / "warm")  # imports and caches outside the measurement
    tracemalloc.start()
    try:
        build_bundle(toml, tmp_path / "out")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    out = tmp_path / "out"
    assert (out / "sflash.bin").stat().st_size == 16 << 20
    assert (out / "sflash.bin").read_bytes()[:4] != b"\xff" * 4  # the LUT is there
    assert peak < 3 << 20, f"peak {peak / 2**20:.1f} MiB"
