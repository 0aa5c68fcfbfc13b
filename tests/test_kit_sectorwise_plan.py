"""The line kit's write plan (bundler/writeplan.py) against a byte-by-byte oracle written here: every sector of an
image is either written (it holds a non-0xFF byte or a per-unit range) or blank-checked, never both; the writes
cover every non-0xFF byte; the erases cover exactly the sectors with data; SFLASH commands fit the helper's buffer."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bundler.writeplan import mcu_plan, sflash_plan

# RM0033 table 5, written out here on its own (the layout's list is what the kit uses)
F2_SECTORS = [0x4000] * 4 + [0x10000] + [0x20000] * 7
FLASH_BASE = 0x08000000


def _sector_spans(base: int, size: int, sector_at: list[tuple[int, int]]) -> list[tuple[int, int]]:
    return [(max(s, base) - base, min(s + n, base + size) - max(s, base)) for s, n in sector_at
            if s < base + size and base < s + n]


def _image(draw: st.DrawFn, size: int) -> bytes:
    """Mostly 0xFF with a few runs of data, as firmware images are."""
    out = bytearray(b"\xff" * size)
    for _ in range(draw(st.integers(0, 6))):
        at = draw(st.integers(0, size - 1))
        n = draw(st.integers(1, min(0x9000, size - at)))
        out[at:at + n] = bytes([draw(st.integers(0, 0xFE))]) * n
    return bytes(out)


@st.composite
def mcu_cases(draw: st.DrawFn) -> tuple[int, bytes, list[tuple[int, int]]]:
    start = draw(st.sampled_from([0, 0x4000, 0xC000, 0x20000])) + draw(st.sampled_from([0, 0x100]))
    size = draw(st.integers(0x100, 0x60000)) // 4 * 4
    data = _image(draw, size)
    keep = [(o, 6) for o in draw(st.lists(st.integers(0, size - 6), max_size=2))]
    return FLASH_BASE + start, data, keep


@settings(max_examples=60, deadline=None)
@given(mcu_cases(), st.booleans())
def test_mcu_plan_covers_data_sectors_and_only_them(case: tuple[int, bytes, list[tuple[int, int]]],
                                                    blank_check: bool) -> None:
    base, data, keep = case
    at, sectors = FLASH_BASE, []
    for n in F2_SECTORS:
        sectors.append((at, n))
        at += n
    spans = _sector_spans(base, len(data), sectors)
    with_data = {o for o, n in spans if any(b != 0xFF for b in data[o:o + n])
                 or any(k < o + n and o < k + m for k, m in keep)}
    ops = mcu_plan(data, base, F2_SECTORS, FLASH_BASE, keep, blank_check=blank_check)
    erased = {o for op in ops if op.op == "erase" for o, n in spans if op.offset <= o < op.offset + op.size}
    blank = {op.offset for op in ops if op.op == "blank"}
    if blank_check:
        assert erased == with_data and blank == {o for o, _ in spans} - with_data
    else:
        assert erased == {o for o, _ in spans} and not blank
    written = bytearray(b"\xff" * len(data))
    for op in ops:
        if op.op == "write":
            assert op.offset % 4 == 0 and (op.size % 4 == 0 or op.offset + op.size == len(data))
            assert any(e.op == "erase" and e.offset <= op.offset and op.offset + op.size <= e.offset + e.size
                       for e in ops)
            written[op.offset:op.offset + op.size] = data[op.offset:op.offset + op.size]
    assert bytes(written) == data          # every non-0xFF byte is in a write


@st.composite
def sflash_cases(draw: st.DrawFn) -> tuple[int, bytes, list[tuple[int, int]]]:
    base = draw(st.sampled_from([0, 0x1000, 0x800]))
    size = draw(st.integers(1, 0x30000))
    return base, _image(draw, size), [(o, 6) for o in draw(st.lists(st.integers(0, max(0, size - 6)), max_size=2))]


@settings(max_examples=60, deadline=None)
@given(sflash_cases(), st.booleans())
def test_sflash_plan_sectors(case: tuple[int, bytes, list[tuple[int, int]]], erase_chip: bool) -> None:
    base, data, keep = case
    sector = 4096
    spans = _sector_spans(base, len(data), [(a, sector) for a in range(0, base + len(data) + sector, sector)])
    with_data = {o for o, n in spans if any(b != 0xFF for b in data[o:o + n])
                 or any(k < o + n and o < k + m for k, m in keep)}
    ops = sflash_plan(data, base, sector, 16384, keep, erase_chip=erase_chip)
    kinds: dict[int, str] = {}
    for op in ops:
        assert op.size <= 16384 or op.op == "blank"
        for o, n in spans:
            if op.offset <= o < op.offset + op.size:
                assert o + n <= op.offset + op.size and o not in kinds   # whole sectors of the image, once each
                kinds[o] = op.op
    assert {o for o, k in kinds.items() if k in ("sector", "program")} == with_data
    assert all(k == ("program" if erase_chip else "sector") for o, k in kinds.items() if o in with_data)
    assert set(kinds) - with_data == (set() if erase_chip else {o for o, _ in spans} - with_data)


def test_sdk_helper_gets_the_sdk_chunks() -> None:
    data = b"\x00" * 100 + b"\xff" * (0x8000 - 100) + b"\x01" * 10
    ops = sflash_plan(data, 0, 4096, 0x4000, erase_chip=True, ours=False)
    assert [(o.op, o.offset, o.size) for o in ops] == [("update", 0, 0x4000), ("update", 0x8000, 10)]
    ops = sflash_plan(data, 0, 4096, 0x4000, erase_chip=False, ours=False)
    assert [o.offset for o in ops] == [0, 0x4000, 0x8000]


def test_bad_timing_table_is_one_line_naming_the_key() -> None:
    """An inline chip (bundle.toml [chip]) may carry [chip.timing]; a bad figure is refused naming it."""
    import pytest

    from bundler.errors import ConfigError
    from bundler.layout import load_chip

    base = {"name": "X", "jedec_id": 0xC22014, "size": 0x100000}
    good = {"sector_erase": [0.06, 0.12], "page_program": [0.0014, 0.005], "chip_erase": [9, 20], "source": "ds"}
    assert load_chip({**base, "timing": good}).timing.typical("chip_erase") == 9.0
    for key, value in (("sector_erase", [0.2, 0.1]), ("page_program", [1]), ("chip_erase", ["9", 20])):
        with pytest.raises(ConfigError, match=rf"\[chip\.timing\] {key}: expected \[typical, maximum\] seconds"):
            load_chip({**base, "timing": {**good, key: value}})
    with pytest.raises(ConfigError, match=r"\[chip\.timing\] chip_erase: missing"):
        load_chip({**base, "timing": {k: v for k, v in good.items() if k != "chip_erase"}})
    with pytest.raises(ConfigError, match=r"\[chip\.timing\] unknown key 'tse'"):
        load_chip({**base, "timing": {**good, "tse": [1, 2]}})
    assert load_chip(base).timing is None
