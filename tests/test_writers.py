"""Our Intel HEX writer against intelhex's writer (same text) and reader (same bytes)."""

from __future__ import annotations

import io

from hypothesis import given, settings, strategies as st
from intelhex import IntelHex

from bundler.writers import intel_hex


def intelhex_text(data: bytes, base: int) -> bytes:
    ih = IntelHex()
    ih.frombytes(data, offset=base)
    out = io.StringIO()
    ih.write_hex_file(out, write_start_addr=False)
    return out.getvalue().encode()


@settings(max_examples=80, deadline=None)
@given(st.binary(min_size=1, max_size=3000), st.integers(0, 0xFFFF_0000))
def test_same_text_as_intelhex(data: bytes, base: int) -> None:
    assert intel_hex(data, base) == intelhex_text(data, base)


def test_crosses_64k_boundaries_like_intelhex() -> None:
    data = bytes(range(256)) * 600  # 150 KiB from an odd address: records split at 64 KiB boundaries
    assert intel_hex(data, 0x0800FFF7) == intelhex_text(data, 0x0800FFF7)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from([b"\xff" * 16, b"\xff" * 5, b"\x00\x01", b"\xff\xfe"]), max_size=60))
def test_skip_fill_loads_the_same_non_fill_bytes(pieces: list[bytes]) -> None:
    data = b"".join(pieces) or b"\xff"
    ih = IntelHex(io.StringIO(intel_hex(data, 0x08000000, skip_fill=0xFF).decode()))
    loaded = bytes(ih.tobinarray(start=0x08000000, size=len(data))) if ih.addresses() else b"\xff" * len(data)
    assert loaded == data
    full_records = [line for line in intel_hex(data, 0x08000000, skip_fill=0xFF).splitlines() if line[7:9] == b"00"]
    assert not any(line[9:-2] == b"FF" * 16 for line in full_records)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from([b"\xff" * 16, b"\xff" * 7, b"\x00", b"\xff\xfe", b"\x12" * 33]), max_size=80),
       st.sampled_from([0x08000000, 0x0800FF00, 0x0]))
def test_skip_fill_spans_are_exactly_the_records_not_all_fill(pieces: list[bytes], base: int) -> None:
    from bundler.writers import hex_data_spans

    data = b"".join(pieces) or b"\xff"
    expected: list[tuple[int, int]] = []
    for start in range(0, len(data), 16):  # the naive definition, record by record
        end = min(start + 16, len(data))
        if data[start:end] != b"\xff" * (end - start):
            if expected and expected[-1][1] == start:
                expected[-1] = (expected[-1][0], end)
            else:
                expected.append((start, end))
    assert hex_data_spans(data, base, 0xFF) == expected
    assert hex_data_spans(data, base, None) == [(0, len(data))]
