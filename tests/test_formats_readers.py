"""The bounds-checked readers of stored structures (formats/lut.py, formats/elf.py) that dct, inspect and serialize
walk LUTs and stored ELFs with, against readers written here with struct: app_header_t is count u8, secure u8,
8 x {start u16, count u16} (34 bytes); Elf32_Phdr is eight u32 (32 bytes), e_phentsize apart from e_phoff."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bundler.errors import InputError
from bundler.formats.elf import PT_LOAD, build_elf, elf_header, program_headers
from bundler.formats.lut import component_bytes, read_header, read_lut, sector_runs


def header_oracle(image: bytes, offset: int) -> tuple[int, int, list[tuple[int, int]]]:
    count, secure = struct.unpack_from("<BB", image, offset)
    return count, secure, [struct.unpack_from("<HH", image, offset + 2 + 4 * i) for i in range(8)]


@settings(max_examples=300, deadline=None)
@given(image=st.binary(max_size=400), offset=st.integers(-4, 420), end=st.one_of(st.none(), st.integers(0, 420)))
def test_read_header_matches_struct_or_is_none_past_the_end(image: bytes, offset: int, end: int | None) -> None:
    h = read_header(image, offset, end)
    limit = len(image) if end is None else min(end, len(image))
    if offset < 0 or offset + 34 > limit:
        assert h is None
        return
    count, secure, runs = header_oracle(image, offset)
    assert (h.count, h.secure, [(r.start, r.count) for r in h.sectors]) == (count, secure, runs)
    assert sector_runs(h, 4096) == [(s * 4096, n * 4096) for s, n in runs[:min(count, 8)]]


@settings(max_examples=200, deadline=None)
@given(image=st.binary(min_size=0, max_size=600), offset=st.integers(0, 400))
def test_read_lut_is_eight_headers_34_bytes_apart(image: bytes, offset: int) -> None:
    if offset + 8 * 34 > len(image):
        with pytest.raises(InputError, match=f"too short for the apps LUT at 0x{offset:X}"):
            read_lut(image, offset)
        return
    lut = read_lut(image, offset)
    assert [(h.count, h.secure, [(r.start, r.count) for r in h.sectors]) for h in lut] == \
        [header_oracle(image, offset + 34 * i) for i in range(8)]


@settings(max_examples=200, deadline=None)
@given(image=st.binary(max_size=300), runs=st.lists(st.tuples(st.integers(0, 320), st.integers(0, 80)), max_size=5),
       end=st.one_of(st.none(), st.integers(0, 320)))
def test_component_bytes_concatenates_runs_cut_at_the_end(image: bytes, runs: list[tuple[int, int]],
                                                           end: int | None) -> None:
    limit = len(image) if end is None else end
    expected = b"".join(bytes(image[i] for i in range(s, s + n) if i < min(limit, len(image))) for s, n in runs)
    assert component_bytes(image, runs, end) == expected


@settings(max_examples=100, deadline=None)
@given(n=st.integers(0, 6), cut=st.integers(0, 300))
def test_program_headers_are_those_wholly_inside_the_blob(n: int, cut: int) -> None:
    segments = [({"p_type": PT_LOAD, "p_vaddr": 0x0800C000 + 0x100 * i, "p_paddr": 0x0800C000 + 0x100 * i,
                  "p_memsz": 4, "p_flags": 4, "p_align": 4}, bytes([i]) * 4) for i in range(n)]
    blob = build_elf(segments, entry=0x0800C001)[:cut]
    hdr = elf_header(blob)
    if cut < 52:
        assert hdr is None
        return
    e_phoff, e_phentsize, e_phnum = struct.unpack_from("<I", blob, 28)[0], *struct.unpack_from("<HH", blob, 42)
    fit = [i for i in range(e_phnum) if e_phoff + e_phentsize * i + 32 <= len(blob)]
    phdrs = program_headers(blob, hdr)
    assert len(phdrs) == len(fit) == min(n, (cut - 52) // 32)
    for i, ph in enumerate(phdrs):
        assert tuple(ph[k] for k in ("p_type", "p_offset", "p_vaddr", "p_paddr", "p_filesz", "p_memsz", "p_flags",
                                     "p_align")) == struct.unpack_from("<8I", blob, e_phoff + 32 * i)


def test_elf_header_refuses_no_magic() -> None:
    assert elf_header(b"\x7fELG" + bytes(60)) is None
    assert elf_header(b"") is None
