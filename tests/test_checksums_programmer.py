"""Programmer checksum forms (bundler.checksums, issue 8) against srec_cat and plain-Python oracles."""

from __future__ import annotations

import hashlib
import random
import shutil
import subprocess
import zlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bundler.checksums import (
    ProgrammerChecksums, complement_ranges, excluding_checksums, merge_ranges, ranges_checksums, sum32,
    sum32_device, sum32_ranges,
)

SREC_CAT = shutil.which("srec_cat")
needs_srec = pytest.mark.skipif(SREC_CAT is None, reason="srec_cat (Debian srecord) not installed; .ci/run installs it")
SLOT = 0x7FFF0000  # where srec_cat inserts the checksum: far above any test image


def srec_value(args: list[str], tmp_path: Path) -> int:
    """Run `srec_cat <args> -crop SLOT SLOT+4 -offset -SLOT -o out -binary` and read the 4 LE bytes it inserted."""
    out = tmp_path / "sum.bin"
    cmd = [SREC_CAT, *args, "-crop", hex(SLOT), hex(SLOT + 4), "-offset", f"-{SLOT:#x}", "-o", str(out), "-binary"]
    subprocess.run(cmd, check=True, capture_output=True)
    raw = out.read_bytes()
    assert len(raw) == 4, raw
    return int.from_bytes(raw, "little")


def sample_image(size: int, seed: int) -> bytes:
    rng = random.Random(seed)
    data = bytearray(b"\xff" * size)
    for _ in range(6):
        start = rng.randrange(size)
        n = min(rng.randrange(1, 4096), size - start)
        data[start:start + n] = rng.randbytes(n)
    return bytes(data)


def srec_ranges(ranges: list[tuple[int, int]]) -> list[str]:
    return [str(v) for o, s in merge_ranges(ranges) for v in (o, o + s)]


@needs_srec
@pytest.mark.parametrize("seed", [1, 2])
def test_sum32_and_crc32_of_file_match_srec_cat(tmp_path: Path, seed: int) -> None:
    data = sample_image(0x9000, seed)
    f = tmp_path / "img.bin"
    f.write_bytes(data)
    assert srec_value([str(f), "-binary", "-checksum-positive-l-e", hex(SLOT), "4", "1"], tmp_path) == sum32(data)
    assert srec_value([str(f), "-binary", "-crc32-l-e", hex(SLOT)], tmp_path) == zlib.crc32(data)


@needs_srec
def test_sum32_device_counts_blank_bytes_like_srec_fill(tmp_path: Path) -> None:
    """A 0x1234-byte file at offset 0x100 of a 0x10000-byte device whose blank value is 0xFF."""
    data = random.Random(3).randbytes(0x1234)
    f = tmp_path / "part.bin"
    f.write_bytes(data)
    args = [str(f), "-binary", "-offset", "0x100", "-fill", "0xFF", "0", "0x10000",
            "-checksum-positive-l-e", hex(SLOT), "4", "1"]
    assert sum32_device(data, 0x10000, 0xFF, start=0x100) == srec_value(args, tmp_path)
    # blank counted as 0x00 adds nothing: same as the file-only sum
    assert sum32_device(data, 0x10000, 0x00, start=0x100) == sum32(data)


@needs_srec
@pytest.mark.parametrize("ranges", [[(0, 0x480)], [(0, 0x47C), (0x4000, 0x1DB0), (0xC000, 0xBF8)],
                                    [(0x10, 0x20), (0x18, 0x40), (0x8FF0, 0x10)]])
def test_written_part_checksums_match_srec_crop(tmp_path: Path, ranges: list[tuple[int, int]]) -> None:
    """CRC-32 of the written part = CRC over the cropped data with holes skipped (srec_cat ignores holes)."""
    data = sample_image(0x9000, 7) + bytes(0x8000)
    f = tmp_path / "img.bin"
    f.write_bytes(data)
    crop = ["-crop", *srec_ranges(ranges)]
    assert ranges_checksums(data, ranges).crc32 == srec_value([str(f), "-binary", *crop, "-crc32-l-e", hex(SLOT)],
                                                              tmp_path)
    assert sum32_ranges(data, ranges) == srec_value(
        [str(f), "-binary", *crop, "-checksum-positive-l-e", hex(SLOT), "4", "1"], tmp_path)


@needs_srec
def test_excluding_serialized_ranges_matches_srec_exclude(tmp_path: Path) -> None:
    data = sample_image(0x10000, 11)
    f = tmp_path / "img.bin"
    f.write_bytes(data)
    excluded = [(0x4000 + 0x1B4, 6), (0x4000 + 0x100, 32)]  # e.g. a MAC and a serial number inside the DCT
    excl = ["-exclude", *srec_ranges(excluded)]
    assert excluding_checksums(data, excluded).crc32 == srec_value([str(f), "-binary", *excl, "-crc32-l-e",
                                                                    hex(SLOT)], tmp_path)
    assert excluding_checksums(data, excluded).sum32 == srec_value(
        [str(f), "-binary", *excl, "-checksum-positive-l-e", hex(SLOT), "4", "1"], tmp_path)
    sums = ProgrammerChecksums.of(data, [(0, len(data))], excluded)
    assert sums.crc32_device_excluding == excluding_checksums(data, excluded).crc32
    assert sums.sum32_device_excluding == excluding_checksums(data, excluded).sum32
    # changing the per-unit bytes changes the plain checksums but not the excluding ones
    unit2 = bytearray(data)
    unit2[0x41B4:0x41BA] = b"\x02\x0a\xf7\x00\x00\x02"
    other = ProgrammerChecksums.of(bytes(unit2), [(0, len(data))], excluded)
    assert other.crc32_device != sums.crc32_device
    assert (other.crc32_device_excluding, other.sum32_device_excluding, other.sha256_device_excluding) == (
        sums.crc32_device_excluding, sums.sum32_device_excluding, sums.sha256_device_excluding)


ranges_st = st.lists(st.tuples(st.integers(0, 600), st.integers(0, 200)), max_size=6)


@settings(max_examples=200, deadline=None)
@given(data=st.binary(min_size=0, max_size=800), ranges=ranges_st)
def test_range_functions_against_a_naive_byte_mask(data: bytes, ranges: list[tuple[int, int]]) -> None:
    """Independent oracle: mark every covered byte in a boolean mask, then sum / CRC / hash the marked bytes."""
    mask = [False] * len(data)
    for o, s in ranges:
        for i in range(o, min(o + s, len(data))):
            mask[i] = True
    kept = bytes(b for b, m in zip(data, mask) if not m)
    assert excluding_checksums(data, ranges).sum32 == sum(kept) & 0xFFFFFFFF
    assert excluding_checksums(data, ranges).crc32 == zlib.crc32(kept)
    covered = [(o, s) for o, s in merge_ranges(ranges)]
    if all(o + s <= len(data) for o, s in covered):
        inside = bytes(b for b, m in zip(data, mask) if m)
        assert sum32_ranges(data, ranges) == sum(inside) & 0xFFFFFFFF
        assert ranges_checksums(data, ranges).crc32 == zlib.crc32(inside)
        assert ranges_checksums(data, ranges).sha256 == hashlib.sha256(inside).hexdigest()
    else:
        with pytest.raises(ValueError):
            ranges_checksums(data, ranges).crc32
    # complement + ranges partition the image
    comp = complement_ranges(len(data), ranges)
    assert sum(s for _, s in comp) == mask.count(False)


def test_merge_ranges_and_errors() -> None:
    assert merge_ranges([(10, 5), (12, 10), (30, 0), (22, 2)]) == [(10, 14)]
    assert complement_ranges(100, [(90, 50), (0, 10)]) == [(10, 80)]
    with pytest.raises(ValueError):
        sum32_device(b"abc", 2)
    with pytest.raises(ValueError):
        merge_ranges([(-1, 4)])
