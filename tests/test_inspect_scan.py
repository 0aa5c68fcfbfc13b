"""The fill scans, per-run checksums and read-ahead behind `bundle inspect`, against plain-Python oracles written
here: runs of bytes other than the fill found byte by byte, the byte sum as Python's sum(), hashlib and zlib."""

from __future__ import annotations

import hashlib
import threading
import zlib
from pathlib import Path

import pytest

from hypothesis import given, settings
from hypothesis import strategies as st

from bundler.inspect import batch, scan, sums
from bundler.inspect.context import Context
from bundler.errors import InputError
from bundler.layout import load_board

BLOCK = scan.BLOCK


def runs_oracle(data: bytes, fill: int, lo: int, hi: int) -> list[tuple[int, int]]:
    runs, start = [], None
    for i in range(lo, hi):
        if data[i] != fill and start is None:
            start = i
        elif data[i] == fill and start is not None:
            runs.append((start, i))
            start = None
    if start is not None:
        runs.append((start, hi))
    return runs


@st.composite
def images(draw: st.DrawFn) -> tuple[bytes, int]:
    """Mostly-erased images: pieces of fill and of other bytes, with lengths around the block sizes."""
    fill = draw(st.sampled_from([0xFF, 0x00, 0x5A]))
    lengths = st.one_of(st.integers(0, 40), st.sampled_from([BLOCK - 1, BLOCK, BLOCK + 1, 16 * BLOCK,
                                                             16 * BLOCK + 7, 3 * BLOCK - 5]))
    out = bytearray()
    for _ in range(draw(st.integers(0, 8))):
        if draw(st.booleans()):
            out += bytes([fill]) * draw(lengths)
        else:
            out += draw(st.binary(min_size=1, max_size=64)) * draw(st.integers(1, 3))
            if draw(st.booleans()):
                out += bytes([draw(st.integers(0, 255))]) * draw(lengths)
    return bytes(out), fill


@settings(max_examples=300, deadline=None)
@given(image=images(), data=st.data())
def test_runs_first_last_match_a_byte_loop(image: tuple[bytes, int], data: st.DataObject) -> None:
    raw, fill = image
    lo = data.draw(st.integers(0, len(raw)))
    hi = data.draw(st.integers(lo, len(raw)))
    expected = runs_oracle(raw, fill, lo, hi)
    assert list(scan.non_fill_runs(raw, fill, lo, hi)) == expected
    assert scan.first_not(raw, fill, lo, hi) == (expected[0][0] if expected else None)
    assert scan.last_not(raw, fill, lo, hi) == (expected[-1][1] - 1 if expected else None)
    spans = list(scan.spans(raw, fill, lo, hi))
    assert [s for s, _, _ in spans[1:]] == [e for _, e, _ in spans[:-1]]  # back to back, covering [lo, hi)
    assert (spans[0][0], spans[-1][1]) == (lo, hi) if spans else lo == hi
    for (s, e, erased), (_, _, after) in zip(spans, spans[1:] + [(0, 0, None)]):
        assert erased != after  # maximal
        assert (raw[s:e] == bytes([fill]) * (e - s)) == erased


@settings(max_examples=200, deadline=None)
@given(image=images())
def test_checksums_once_per_run_match_hashlib_zlib_and_sum(image: tuple[bytes, int]) -> None:
    raw, _ = image
    ctx = Context(load_board("bcm943362wcd4"), [], None)
    for _ in range(2):  # the second time from the run's cache
        assert sums.run_checksums(ctx, raw) == {"crc32": f"0x{zlib.crc32(raw):08x}",
                                             "sum32": f"0x{sum(raw) & 0xFFFFFFFF:08x}",
                                             "sha256": hashlib.sha256(raw).hexdigest()}
    cut = len(raw) // 3
    assert sums.run_sha256(ctx, raw, cut, 2 * cut) == hashlib.sha256(raw[cut:2 * cut]).hexdigest()
    assert sums.run_crc32(ctx, raw, cut) == zlib.crc32(raw[cut:])


def test_cache_is_per_object_and_skips_mutable_buffers() -> None:
    ctx = Context(load_board("bcm943362wcd4"), [], None)
    a = b"\x01" * 100_000
    b = bytes(bytearray(a))  # equal content, another object: same answer, its own entry
    assert sums.run_sha256(ctx, a) == sums.run_sha256(ctx, b)
    assert len(ctx.sums) == 2
    buf = bytearray(a)
    first = sums.run_sha256(ctx, buf)  # type: ignore[arg-type]
    buf[0] = 2
    assert sums.run_sha256(ctx, buf) != first  # type: ignore[arg-type]
    assert len(ctx.sums) == 2


def test_block_edges() -> None:
    """A byte other than the fill right before, at and after each block and 16-block edge, from offset 0 and 1."""
    for edge in (BLOCK, 16 * BLOCK, 17 * BLOCK):
        for at in (edge - 1, edge, edge + 1):
            raw = bytearray(b"\xff") * (20 * BLOCK)
            raw[at] = 0x7E
            for lo in (0, 1):
                assert list(scan.non_fill_runs(bytes(raw), 0xFF, lo)) == [(at, at + 1)]
                assert scan.last_not(bytes(raw), 0xFF, lo) == at
                assert [s for s in scan.spans(bytes(raw), 0xFF, lo, len(raw)) if not s[2]][0][0] <= at


def test_read_ahead_hands_over_files_and_leaves_the_rest_to_load(tmp_path: Path) -> None:
    a, b = tmp_path / "a.bin", tmp_path / "b.bin"
    a.write_bytes(b"\x01\x02" * 70_000)
    b.write_bytes(b"")
    ahead = batch.ReadAhead([a, tmp_path, tmp_path / "missing.bin", a, b])
    for path in (a, b):
        raw, digest, crc = ahead.take(path)  # type: ignore[misc]
        assert raw == path.read_bytes()
        assert (digest, crc) == (hashlib.sha256(raw).hexdigest(), zlib.crc32(raw))
    assert ahead.take(tmp_path) is None and ahead.take(tmp_path / "missing.bin") is None


def test_a_file_the_read_ahead_could_not_read_is_read_by_load(sample_build, monkeypatch: pytest.MonkeyPatch) -> None:
    """The thread's read fails (as if the file changed or went away meanwhile): the file is read again and the
    report is the same as with the read-ahead."""
    out, _ = sample_build
    files = [out / "mcu.bin", out / "sflash.bin"]
    expected = batch.inspect_paths(files, manifest=out / "manifest.json")

    real_read_file = batch.read_file

    def refuse_in_thread(*args: object, **kwargs: object) -> object:
        if threading.current_thread().name == "inspect-read-ahead":
            raise InputError("file changed while being read; run the build again", "x")
        return real_read_file(*args, **kwargs)

    monkeypatch.setattr(batch, "read_file", refuse_in_thread)
    assert batch.ReadAhead(files).take(files[0]) is None
    assert batch.inspect_paths(files, manifest=out / "manifest.json") == expected
    for report, path in zip(expected["files"], files):
        raw = path.read_bytes()
        assert (report["sha256"], report["crc32"]) == (hashlib.sha256(raw).hexdigest(), f"0x{zlib.crc32(raw):08x}")
        assert report["sum32"] == f"0x{sum(raw) & 0xFFFFFFFF:08x}"


def test_names_not_utf8_are_shown_escaped(tmp_path: Path) -> None:
    """A file whose name has a byte that is not UTF-8 is reported (and its JSON is valid) with that byte as \\xNN."""
    import json
    import os

    from bundler.inspect.context import shown

    assert shown("caf" + b"\xe9".decode("utf-8", "surrogateescape")) == "caf\\xe9"
    os.makedirs(tmp_path / "in")
    with open(os.fsencode(tmp_path / "in") + b"/img\xff.bin", "wb") as fh:
        fh.write(b"\x00" * 64)
    doc = batch.inspect_paths([tmp_path / "in"])
    assert [f["file"] for f in json.loads(json.dumps(doc))["files"]] == [f"{tmp_path / 'in'}/img\\xff.bin"]
