"""Two-copy DCT images per generation, packed by hand at the offsets compiled from each SDK's headers
(tests/dct_facts.py) with CRCs from zlib, each with the copy that generation's `wiced_dct_get_current_address` uses
(as read from that SDK's code: bundler/dct/copies.py cites it) and a pattern of bundle's reason; plus DCTs that
`build_dct` makes, with an erased copy 2.

`python tests/dct_copy_cases.py OUT` writes them (NAME.dct1, NAME.dct2, cases.json) for
tools/sdkfacts/dct_copy_oracle.py, which runs each SDK's own code on them; tests/test_dct_copy_oracle.py compares.
"""

from __future__ import annotations

import json
import struct
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dct_facts import AML, TABLE  # noqa: E402

COPY = 0x4000
BRCM = 0x4D435242
VERSION_MAGIC = 0xDC0200CD
ERASED = b"\xff" * COPY


def _sdk_crc(area: bytearray, zero: list[tuple[int, int]]) -> int:
    """The SDK's crc32() (zlib CRC-32 without the final XOR) over the copy with the given bytes taken as 0."""
    work = bytearray(area)
    for at, n in zero:
        work[at:at + n] = bytes(n)
    return zlib.crc32(bytes(work)) ^ 0xFFFFFFFF


def pack_copy(entry: str, **values: int) -> bytes:
    """A 16 KiB DCT copy laid out as the compiled table entry says: header members and (3.7.0) version members by
    keyword (version_* for platform_dct_version_t); 0xFF after used_size, as erased flash; crc32=-1 /
    version_crc32=-1 compute the CRC as that SDK does."""
    off = TABLE[entry]["offsetof"]
    size = TABLE[entry]["sizeof"]["platform_dct_data_t"]
    blob = bytearray(size) + b"\xff" * (COPY - size)
    fmt = {"full_size": "<I", "used_size": "<I", "magic_number": "<I", "sequence": "<I", "crc32": "<I",
           "write_incomplete": "<B", "is_current_dct": "<B", "initial_write": "<B", "app_valid": "<B",
           "version_magic_number": "<I", "version_version": "<H", "version_crc32": "<I",
           "version_initial_write": "<B", "version_sequence": "<B"}
    values = {"full_size": COPY, "used_size": size, "magic_number": BRCM, "app_valid": 1, **values}
    for k, v in values.items():
        if k.startswith("version_"):
            at = off["platform_dct_data_t.dct_version." + k[len("version_"):]]
        else:
            at = off["platform_dct_header_t." + k]
        if v != -1:
            struct.pack_into(fmt[k], blob, at, v)
    if values.get("crc32") == -1:
        at = off["platform_dct_header_t.crc32"]
        struct.pack_into("<I", blob, at, _sdk_crc(blob, [(at, 4)]))
    if values.get("version_crc32") == -1:
        at = off["platform_dct_data_t.dct_version.crc32"]
        zero = [(off["platform_dct_header_t.write_incomplete"], 1), (at, 4),
                (off["platform_dct_data_t.dct_version.initial_write"], 1)]
        struct.pack_into("<I", blob, at, _sdk_crc(blob, zero))
    return bytes(blob)


@dataclass(frozen=True)
class Case:
    generation: str
    copy1: bytes
    copy2: bytes
    expected: int | None  # the copy the SDK's code uses; None: neither valid (it erases copy 1)
    why: str  # a pattern of bundle's reason (bundler.dct.copies.choose_current)


# 3.1.1 - 3.4.0: the first of copy 1, copy 2 with is_current_dct 1, write_incomplete 0 and the magic
IS_CURRENT: list[tuple[str, dict[str, int] | None, dict[str, int] | None, int | None, str]] = [
    ("both_current", {"is_current_dct": 1}, {"is_current_dct": 1}, 1, "copy 1 is tested first"),
    ("copy1_not_current", {"is_current_dct": 0}, {"is_current_dct": 1}, 2, "copy 1: is_current_dct is 0"),
    ("copy1_incomplete", {"is_current_dct": 1, "write_incomplete": 1}, {"is_current_dct": 1}, 2,
     "copy 1: write_incomplete is 1"),
    ("copy1_no_magic", {"is_current_dct": 1, "magic_number": 0}, {"is_current_dct": 1}, 2, "copy 1: magic"),
    ("neither_current", {"is_current_dct": 0}, {"is_current_dct": 0}, None, "neither copy valid"),
    ("copy2_erased", {"is_current_dct": 1}, None, 1, "copy 1: is_current_dct 1"),
    ("copy1_erased", None, {"is_current_dct": 1}, 2, "copy 2: is_current_dct 1"),
]

GOOD = {"version_magic_number": VERSION_MAGIC, "version_version": 0x0370}
# 3.7.0 (wiced_dct_validate_and_determine_version, wiced_dct_get_current_address)
VERSION: list[tuple[str, dict[str, int] | None, dict[str, int] | None, int | None, str]] = [
    ("both_factory", {**GOOD, "version_initial_write": 1}, {**GOOD, "version_initial_write": 1}, 2,
     "copy 2 has initial_write"),
    ("factory_and_crc", {**GOOD, "version_initial_write": 1}, {**GOOD, "version_sequence": 7, "version_crc32": -1}, 1,
     "copy 1 has initial_write"),
    ("sequence_2_wins", {**GOOD, "version_sequence": 5, "version_crc32": -1},
     {**GOOD, "version_sequence": 6, "version_crc32": -1}, 2, "copy 2 sequence 6 > copy 1 sequence 5"),
    ("sequence_1_wins", {**GOOD, "version_sequence": 6, "version_crc32": -1},
     {**GOOD, "version_sequence": 5, "version_crc32": -1}, 1, "copy 1 sequence 6 > copy 2 sequence 5"),
    ("same_sequence", {**GOOD, "version_sequence": 6, "version_crc32": -1},
     {**GOOD, "version_sequence": 6, "version_crc32": -1}, 1, "same sequence 6"),
    ("bad_crc", {**GOOD, "version_sequence": 9, "version_crc32": 0x1234},
     {**GOOD, "version_sequence": 1, "version_crc32": -1}, 2, "does not match"),
    # the CRC is taken with write_incomplete, crc32 and initial_write as 0: initial_write 1 with a real CRC is valid
    ("initial_write_in_crc", {**GOOD, "version_sequence": 3, "version_initial_write": 1, "version_crc32": -1},
     {**GOOD, "version_sequence": 4, "version_crc32": -1}, 2, "copy 2 sequence 4 > copy 1 sequence 3"),
    # no valid version struct: accepted without a CRC, sequence 0
    ("no_version_struct", {}, {**GOOD, "version_sequence": 1, "version_crc32": -1}, 2, "sequence 1 > copy 1 "
     "sequence 0"),
    ("version_too_new", {**GOOD, "version_version": 0x0380}, None, 1, "no valid platform_dct_version_t"),
    ("version_unknown", {**GOOD, "version_version": 0x7FFF, "version_sequence": 4}, {}, 1, "same sequence 0"),
    # the header check: used_size <= full_size, magic, write_incomplete 0; is_current_dct is not looked at
    ("used_over_full", {**GOOD, "version_initial_write": 1, "used_size": COPY + 1}, {**GOOD, "version_crc32": -1},
     2, "used_size"),
    ("copy1_incomplete", {**GOOD, "version_initial_write": 1, "write_incomplete": 1}, {**GOOD, "version_crc32": -1},
     2, "write_incomplete is 1"),
    ("not_current_ignored", {**GOOD, "version_initial_write": 1, "is_current_dct": 0}, None, 1,
     "initial_write 1 with crc32 0"),
    ("both_erased", None, None, None, "neither copy valid"),
]

# 3.5.2 (wiced-formats.md §2.2), a few at its compiled offsets (in depth: tests/test_dct_config.py)
HEADER_CRC: list[tuple[str, dict[str, int] | None, dict[str, int] | None, int | None, str]] = [
    ("factory_and_crc", {"initial_write": 1}, {"sequence": 9, "crc32": -1}, 1, "copy 1 has initial_write 1"),
    ("sequence_2_wins", {"sequence": 2, "crc32": -1}, {"sequence": 9, "crc32": -1}, 2, "copy 2 sequence 9"),
    ("copy2_factory", None, {"initial_write": 1}, None, "neither copy valid"),
    ("bad_crc", {"sequence": 5, "crc32": 7}, {"sequence": 1, "crc32": -1}, 2, "does not match"),
]


def _cases() -> dict[str, Case]:
    out: dict[str, Case] = {}
    sets = [("3.1.2", AML + "v3.1.2", IS_CURRENT), ("3.3.1", AML + "v3.3.1", IS_CURRENT),
            ("3.4.0", AML + "v3.4.0", IS_CURRENT), ("3.5.2", AML + "v3.5.2", HEADER_CRC),
            ("3.7.0", AML + "v3.7.0", VERSION)]
    for gen, entry, specs in sets:
        for name, c1, c2, expected, why in specs:
            a = ERASED if c1 is None else pack_copy(entry, **c1)
            b = ERASED if c2 is None else pack_copy(entry, **c2)
            out[f"{gen}-{name}"] = Case(gen, a, b, expected, why)
    return out


TWO_COPY_CASES = _cases()


def built_cases() -> dict[str, Case]:
    """DCTs `build_dct` makes for each generation (the SDK's factory form; 3.5.2/3.7.0 also with crc = "computed"
    as copy 2), copy 2 erased unless said."""
    from bundler.dct.config import build_dct
    from bundler.dct.options import DctOptions

    out: dict[str, Case] = {}
    for gen in ("3.1.2", "3.3.1", "3.4.0", "3.5.2", "3.7.0"):
        options = DctOptions(sdk=gen)
        table = {"mfg_info": {"serial_number": "SN-1"}, "wifi_config": {"mac_address": "02:0A:F7:00:00:01"}}
        factory = build_dct(table, Path("."), options).ljust(COPY, b"\xff")
        out[f"{gen}-built_factory"] = Case(gen, factory, ERASED, 1, "copy 1")
        if gen in ("3.5.2", "3.7.0"):
            seq = {"3.5.2": {"header": {"initial_write": 0, "sequence": 1}},
                   "3.7.0": {"dct_version": {"initial_write": 0, "sequence": 2}}}[gen]
            updated = build_dct({**table, **seq, "crc": "computed"}, Path("."), options).ljust(COPY, b"\xff")
            out[f"{gen}-built_computed_copy2"] = Case(gen, ERASED, updated, 2, "copy 2")
            # the factory copy 1 and an updated copy 2: 3.5.2 keeps copy 1 (initial_write 1), 3.7.0 takes the
            # factory copy too (initial_write set beats the sequence)
            out[f"{gen}-built_factory_and_computed"] = Case(gen, factory, updated, 1, "initial_write")
    return out


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    cases = {**TWO_COPY_CASES, **built_cases()}
    for name, c in cases.items():
        (out / f"{name}.dct1").write_bytes(c.copy1)
        (out / f"{name}.dct2").write_bytes(c.copy2)
    (out / "cases.json").write_text(json.dumps({n: c.generation for n, c in sorted(cases.items())}, indent=1) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
