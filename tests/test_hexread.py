"""The streaming Intel HEX reader (bundler/hexread.py) against intelhex 2.3 as the oracle: the same files accepted,
the same bytes at the same addresses; refusals worded with the line, and bounds applied as records are read."""

from __future__ import annotations

import io
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from intelhex import IntelHex

from bundler.errors import InputError
from bundler.hexread import parse_hex
from bundler.writers import intel_hex

SPAN = 1 << 34  # no span limit in the oracle comparison (data is small; segments are kept apart)


def _record(address: int, rtype: int, payload: bytes, *, lower: bool = False, bad_sum: bool = False) -> str:
    total = len(payload) + (address >> 8) + (address & 0xFF) + rtype + sum(payload)
    text = f":{len(payload):02X}{address:04X}{rtype:02X}{payload.hex().upper()}{(-total - bad_sum) & 0xFF:02X}"
    return text.lower() if lower else text


def _oracle(text: str) -> list[tuple[int, bytes]] | None:
    ih = IntelHex()
    try:
        ih.loadhex(io.StringIO(text))
    except Exception:
        return None
    return [(a, ih.tobinstr(a, b - 1)) for a, b in ih.segments()]


def _ours(text: str, chunk: int) -> list[tuple[int, bytes]] | None:
    raw = text.encode("ascii")
    try:
        data = parse_hex((raw[i:i + chunk] for i in range(0, len(raw), chunk)), "t.hex", max_span=SPAN)
    except InputError as exc:
        assert "\n" not in str(exc) and str(exc).startswith("t.hex: ")
        return None
    return [(a, bytes(d)) for a, d in data.segments]


@st.composite
def hex_files(draw: st.DrawFn) -> str:
    """Mostly well-formed files (runs of uniform records, as writers make them, so the fast path is taken), with
    out-of-order blocks, extended address records, CRLF, lower case, blank lines and the odd broken record."""
    lines: list[str] = []
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["run", "run", "ela", "esa", "start", "broken", "blank"]))
        if kind == "run":
            length = draw(st.sampled_from([1, 3, 16, 32, 255]))
            n = draw(st.integers(1, 40))
            address = draw(st.integers(0, 0xFFFF))
            seed = draw(st.integers(0, 1 << 30))
            rnd = random.Random(seed)
            # inside the run, maybe one record that breaks its shape: an address jump (low or high byte), a bad checksum
            odd, how = draw(st.integers(0, n)), draw(st.sampled_from(["jump1", "jump256", "sum", "none"]))
            for i in range(n):
                a = address + i * length + (i >= odd) * {"jump1": 1, "jump256": 256}.get(how, 0)
                if a > 0xFFFF:
                    break
                lines.append(_record(a, 0, rnd.randbytes(length), bad_sum=how == "sum" and i == odd))
        elif kind == "ela":
            lines.append(_record(0, 4, draw(st.integers(0, 0xFFFF)).to_bytes(2, "big")))
        elif kind == "esa":
            lines.append(_record(0, 2, draw(st.integers(0, 0xFFFF)).to_bytes(2, "big")))
        elif kind == "start":
            lines.append(_record(0, draw(st.sampled_from([3, 5])), draw(st.binary(min_size=4, max_size=4))))
        elif kind == "blank":
            lines.append("")
        else:
            good = _record(draw(st.integers(0, 0xFFFF)), 0, draw(st.binary(max_size=20)))
            lines.append(draw(st.sampled_from([
                good[:-1], good + "0", " " + good, good.replace(":", ";", 1), good[:3] + "G" + good[4:],
                _record(0x10, 0, b"abc", bad_sum=True), _record(0, 6, b""), _record(0, 1, b"x"), _record(4, 4, b"\0\1"),
            ])))
    if draw(st.booleans()):
        i = draw(st.integers(0, len(lines)))
        lines[i:i] = [_record(0x20, 0, b"dup"), _record(0x20, 0, b"dup")]  # overlap: refused by both
    if draw(st.booleans()):
        lines.append(_record(0, 1, b""))
        lines.append(draw(st.sampled_from(["", "garbage after EOF", _record(0, 0, b"ignored")])))
    if draw(st.booleans()):
        lines = [x.lower() for x in lines]
    eol = draw(st.sampled_from(["\n", "\r\n"]))
    return eol.join(lines) + draw(st.sampled_from(["", eol]))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=hex_files(), chunk=st.sampled_from([7, 64, 1 << 20]))
def test_same_as_intelhex(text: str, chunk: int) -> None:
    assert _ours(text, chunk) == _oracle(text)


def test_whole_image_fast_path_and_intelhex_agree() -> None:
    """A 1 MiB image written by our writer (records of 16, type 04 per 64 KiB) and by srec-like 32-byte CRLF lines."""
    rnd = random.Random(5)
    data = rnd.randbytes(1 << 20)
    text = intel_hex(data, 0x08000000).decode()
    assert _ours(text, 1 << 20) == _oracle(text) == [(0x08000000, data)]
    wide = "\r\n".join(_record(a & 0xFFFF, 0, data[a - 0x08000000:a - 0x08000000 + 32]) if a & 0xFFFF else
                       _record(0, 4, (a >> 16).to_bytes(2, "big")) + "\r\n" + _record(0, 0, data[a - 0x08000000:][:32])
                       for a in range(0x08000000, 0x08000000 + 4096, 32))
    assert _ours(wide, 999) == _oracle(wide)


def _corrupt(text: bytes, line: int, column: int, char: bytes) -> bytes:
    lines = text.split(b"\n")
    lines[line - 1] = lines[line - 1][:column] + char + lines[line - 1][column + 1:]
    return b"\n".join(lines)


@pytest.mark.parametrize("column, char, message", [
    (20, b"Z", "line 3000: the record is not an even number of hex digits"),
    (42, None, "line 3000: checksum"),  # the checksum's last digit changed
    (0, b";", "line 3000: expected ':'"),
])
def test_error_inside_a_run_names_its_line(column: int, char: bytes | None, message: str) -> None:
    text = intel_hex(bytes(range(256)) * 1024, 0)  # 256 KiB: runs of 4096 uniform records
    if char is None:
        char = b"2" if text.split(b"\n")[2999][42:43] == b"1" else b"1"
    bad = _corrupt(text, 3000, column, char)
    with pytest.raises(InputError, match=message):
        parse_hex([bad], "x.hex", max_span=SPAN)


def test_bounds_refuse_the_first_record_outside() -> None:
    text = intel_hex(bytes(0x2000), 0x080FF000)  # runs 0x1000 past the end of a 1 MiB flash at 0x08000000
    with pytest.raises(InputError) as exc:
        parse_hex([text], "app.hex", bounds=(0x08000000, 0x08100000, "the MCU flash"), max_span=SPAN)
    # line 1: type 04 (0x080F), 2-257: 0x100 records up to the end of the flash, 258: type 04 (0x0810), 259: refused
    assert str(exc.value) == ("app.hex: invalid Intel HEX: line 259: data at 0x08100000-0x0810000F is outside the "
                              "MCU flash (0x08000000-0x080FFFFF)")


def test_span_is_refused_before_the_rest_is_read() -> None:
    head = (_record(0, 0, b"\0" * 16) + "\n" + _record(0, 4, b"\xff\xff") + "\n" + _record(0xFFF0, 0, b"\1" * 16)
            + "\n").encode()

    def chunks():
        yield head
        raise AssertionError("read past the record that broke the span")

    with pytest.raises(InputError, match=r"line 3: records span 0x00000000-0xFFFFFFFF .* more than any image"):
        parse_hex(chunks(), "big.hex", max_span=64 << 20)
