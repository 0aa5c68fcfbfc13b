"""Hypothesis: whatever the bytes, `inspect` returns a report (never raises), with exit code 0/1/2, a message for
every non-zero exit, and no internal error; mutations of the sample's valid images checked against its manifest
always fail (1) or are not understood (2)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bundler.inspect import KINDS, inspect_paths
from test_inspect import PASSPHRASE, schema

SETTINGS = settings(max_examples=60, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                           HealthCheck.data_too_large])
VALIDATOR = jsonschema.Draft202012Validator(schema())


SEVERITY_CODE = {"error": 2, "fail": 1, "warning": 0, "note": 0}
STATUS_CODE = {"ok": 0, "fail": 1, "error": 2}


def check(doc: dict[str, Any]) -> int:
    text = json.dumps(doc)
    VALIDATOR.validate(json.loads(text))
    assert PASSPHRASE not in text
    codes = []
    for f in doc["files"]:
        internal = [x for x in f["findings"] if x["code"] == "internal"]
        assert not internal, internal
        # a file's status is its worst finding: an error 2, a fail 1, warnings and notes 0
        worst = max((SEVERITY_CODE[x["severity"]] for x in f["findings"]), default=0)
        assert STATUS_CODE[f["status"]] == worst, f
        assert all(x["message"] for x in f["findings"])
        codes.append(worst)
    assert doc["exit_code"] == max(codes, default=2)  # the run's code is its worst file's (no file: 2)
    return doc["exit_code"]


def inspect_bytes(data: bytes, suffix: str = ".bin", **kw: Any) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"image{suffix}"
        path.write_bytes(data)
        return inspect_paths([path], **kw)


@pytest.fixture(scope="module")
def images(sample_build) -> dict[str, Any]:
    out, bundle = sample_build
    return {"mcu": (out / "mcu.bin").read_bytes(), "sflash": (out / "sflash.bin").read_bytes(),
            "hex": (out / "mcu.hex").read_bytes(), "dct": bundle.dct, "manifest": out / "manifest.json"}


@SETTINGS
@given(data=st.binary(max_size=4096), suffix=st.sampled_from([".bin", ".hex", ".elf"]),
       kind=st.sampled_from([None, *KINDS]))
def test_arbitrary_bytes_never_raise(data: bytes, suffix: str, kind: str | None) -> None:
    check(inspect_bytes(data, suffix, kind=kind))


@SETTINGS
@given(head=st.sampled_from([b"\x7fELF\x01\x01\x01", b"BRCM\x01\x00\x00\x00\x0c\x00\x00\x00", b":10000000",
                             b"\x00\x40\x00\x00\xb0\x1d\x00\x00BRCM"]),
       tail=st.binary(max_size=2048), kind=st.sampled_from([None, *KINDS]))
def test_plausible_headers_with_garbage_never_raise(head: bytes, tail: bytes, kind: str | None) -> None:
    check(inspect_bytes(head + tail, kind=kind))


# offsets where structures live in the sample images: LUT and header slots, component starts (ELF/DCT/WicedFS
# headers), the DCT header in copy 1 and copy 2, the vector tables
HOT = {"sflash": [(0, 0x400), (0x1000, 0x1100), (0x2000, 0x2200), (0x4000, 0x4100), (0x5000, 0x5400),
                  (0x6000, 0x6010)],
       "mcu": [(0, 0x10), (0x4000, 0x4200), (0x8000, 0x8200), (0xC000, 0xC010)],
       "dct": [(0, 0x200)]}


def mutations(kind: str, size: int) -> st.SearchStrategy:
    spots = st.one_of(*[st.integers(lo, hi - 1) for lo, hi in HOT[kind]], st.integers(0, size - 1))
    flips = st.lists(st.tuples(spots, st.integers(1, 255)), min_size=1, max_size=8)
    cut = st.one_of(st.none(), st.integers(0, size - 1))
    return st.tuples(flips, cut, st.sampled_from([b"", b"\xff" * 4096, b"\x00" * 17]))


def mutate(data: bytes, m: Any) -> bytes:
    flips, cut, extra = m
    out = bytearray(data)
    for off, x in flips:
        out[off] ^= x
    if cut is not None:
        out = out[:cut]
    return bytes(out) + extra


@pytest.mark.parametrize("kind", ["mcu", "sflash", "dct"])
def test_mutated_valid_images_fail_against_manifest_and_never_raise(images, kind: str) -> None:
    data = images[kind]

    @SETTINGS
    @given(m=mutations(kind, len(data)))
    def inner(m: Any) -> None:
        mutated = mutate(data, m)
        check(inspect_bytes(mutated))  # alone: any exit code, but a clean report
        code = check(inspect_bytes(mutated, manifest=images["manifest"]))
        same = mutated[:len(data)] == data and not mutated[len(data):].strip(b"\xff")
        assert code == 0 if same else code in (1, 2)  # only a read-back longer by fill may pass

    inner()


def test_mutated_hex_text_never_raises(images) -> None:
    text = images["hex"]

    @SETTINGS
    @given(flips=st.lists(st.tuples(st.integers(0, 4000), st.sampled_from(b"0123456789ABCDEF:\r\n\x00G")),
                          min_size=1, max_size=6))
    def inner(flips: list[tuple[int, int]]) -> None:
        out = bytearray(text[:4096 * 4])  # the first records (bootloader) are enough and keep it quick
        for off, ch in flips:
            out[off] = ch
        check(inspect_bytes(bytes(out), ".hex"))
        check(inspect_bytes(bytes(out), ".hex", manifest=images["manifest"]))

    inner()


def test_hex_claiming_a_huge_span_is_refused_without_allocating(tmp_path: Path) -> None:
    # one byte at 0 and one at 0xFFFFFFF0 (extended linear address 0xFFFF): 4 GiB apart
    hexfile = ":0100000000FF\n:02000004FFFFFC\n:01FFF00000 10\n:00000001FF\n".replace(" ", "")
    path = tmp_path / "wide.hex"
    path.write_text(hexfile)
    doc = inspect_paths([path])
    assert check(doc) == 2


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 20000), st.binary(min_size=1, max_size=40)), max_size=8),
       st.sampled_from([0xFF, 0x00]))
def test_non_fill_runs_match_a_byte_loop(patches: list[tuple[int, bytes]], fill: int) -> None:
    from bundler.inspect.scan import non_fill_runs

    data = bytearray([fill]) * 20000
    for offset, patch in patches:
        data[offset:offset + len(patch)] = patch
    expected, start = [], None
    for i, byte in enumerate(bytes(data) + bytes([fill])):
        if byte != fill and start is None:
            start = i
        elif byte == fill and start is not None:
            expected.append((start, i))
            start = None
    assert list(non_fill_runs(bytes(data), fill)) == expected


def test_a_run_exits_with_its_worst_file(images, tmp_path: Path) -> None:
    """Several files in one run: the run's exit code is its worst file's, whatever their order (a single-file run
    cannot tell the worst from the best)."""
    good, bad, junk = tmp_path / "good.bin", tmp_path / "bad.bin", tmp_path / "junk.bin"
    good.write_bytes(images["mcu"])
    bad.write_bytes(bytes([images["mcu"][0] ^ 1]) + images["mcu"][1:])
    junk.write_bytes(b"\x42" * 100)
    expect = {good: 0, bad: 1, junk: 2}
    for files in ([good], [good, bad], [bad, good], [good, junk], [junk, bad, good], [good, bad, junk]):
        doc = inspect_paths(files, manifest=images["manifest"])
        assert check(doc) == max(expect[f] for f in files), files
        assert [STATUS_CODE[f["status"]] for f in doc["files"]] == [expect[f] for f in files]
