"""Each DCT generation's Construct declarations against the sizes and offsets compiled from that SDK's own headers
(tools/sdkfacts/dct_layout.json, made by tools/sdkfacts/dct_layout.py with arm-none-eabi-gcc from the mirrors)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from construct import Array, Bytes, Construct, Padded, Renamed, Struct, Union

import bundler.formats.dct as F

TABLE = json.loads((Path(__file__).resolve().parents[1] / "tools/sdkfacts/dct_layout.json").read_text())
AML = "amlweems/wiced-history@"
# table entry -> (generation, include_bt, include_p2p, include_ota2)
ENTRIES = {
    AML + "v3.1.1": ("3.1.2", False, False, False),
    AML + "v3.1.2": ("3.1.2", False, False, False),
    AML + "v3.1.2+WICED_DCT_INCLUDE_BT_CONFIG": ("3.1.2", True, False, False),
    AML + "v3.3.1": ("3.3.1", False, False, False),
    "kamejoko80/wiced-emw3165@HEAD": ("3.3.1", False, False, False),
    AML + "v3.3.1+WICED_DCT_INCLUDE_BT_CONFIG": ("3.3.1", True, False, False),
    AML + "v3.4.0": ("3.4.0", False, False, False),
    AML + "v3.4.0+WICED_DCT_INCLUDE_BT_CONFIG": ("3.4.0", True, False, False),
    AML + "v3.5.2": ("3.5.2", False, False, False),
    AML + "v3.5.2+WICED_DCT_INCLUDE_BT_CONFIG": ("3.5.2", True, False, False),
    AML + "v3.5.2+WICED_DCT_INCLUDE_P2P_CONFIG": ("3.5.2", False, True, False),
    AML + "v3.5.2+OTA2_SUPPORT": ("3.5.2", False, False, True),
    AML + "v3.7.0": ("3.7.0", False, False, False),
    "currantlabs/WICED-SDK-3.7.0-7@HEAD": ("3.7.0", False, False, False),
}


def _struct_of(gen: F.DctGeneration, flags: tuple[bool, bool, bool], c_name: str) -> Construct | None:
    """The declaration a generation uses for the C typedef `c_name` (None: not a DCT structure we declare)."""
    data_t = F.platform_dct_data_t(*flags, gen=gen)
    if c_name == "platform_dct_data_t":
        return data_t
    if c_name == "platform_dct_header_t":
        return gen.header
    sections = {name: sub for name, sub, _ in gen.fixed + gen.optional}
    by_type = {"platform_dct_bt_config_t": "bt_config", "platform_dct_p2p_config_t": "p2p_config",
               "platform_dct_ota2_config_t": "ota2_config", "platform_dct_version_t": "dct_version"}
    if c_name in by_type:
        return sections.get(by_type[c_name])
    found = getattr(F, c_name, None)
    return found if isinstance(found, Construct) else None


def _walk(con: Construct, path: list[str]) -> tuple[int, Construct]:
    """(offset, member) of a dotted member path, computed from the Construct tree (C offsetof)."""
    offset = 0
    for name in path:
        while isinstance(con, (Renamed, Padded)):
            con = con.subcon
        assert not isinstance(con, Array), path
        if isinstance(con, Bytes) and name in ("octet", "value"):  # wiced_mac_t / wiced_hostname_t: { uint8_t x[] }
            continue
        if isinstance(con, Union):  # union members all start at 0; 3.1.x spells filesystem "filesytem"
            con = next(s for s in con.subcons if s.name == name.replace("filesytem", "filesystem"))
            continue
        assert isinstance(con, Struct), (path, con)
        for sub in con.subcons:
            if sub.name == name:
                con = sub
                break
            offset += sub.sizeof()
        else:
            raise AssertionError(f"no member {name!r} (path {'.'.join(path)})")
    return offset, con


@pytest.mark.parametrize("entry", sorted(ENTRIES))
def test_generation_matches_compiled_headers(entry: str) -> None:
    gen_name, *flags = ENTRIES[entry]
    gen = F.GENERATIONS[gen_name]
    facts: dict[str, Any] = TABLE[entry]
    checked = 0
    for c_name, size in facts["sizeof"].items():
        con = _struct_of(gen, tuple(flags), c_name)  # type: ignore[arg-type]
        if con is None:
            continue
        assert con.sizeof() == size, (c_name, con.sizeof(), size)
        checked += 1
        for key, offset in facts["offsetof"].items():
            if key.startswith(c_name + "."):
                got, _member = _walk(con, key.split(".")[1:])
                assert got == offset, (key, got, offset)
                checked += 1
    # every structure of the DCT was compared, down to the members (a typedef the test skipped would show here)
    assert {"platform_dct_header_t", "platform_dct_data_t", "platform_dct_mfg_info_t", "platform_dct_wifi_config_t",
            "image_location_t", "boot_detail_t"} <= {c for c in facts["sizeof"] if _struct_of(gen, tuple(flags), c)}
    assert checked > 100


def test_every_compiled_entry_is_mapped() -> None:
    """A new table entry needs a generation here; 3.1.0 is the only one without (no apps_locations: no LUT)."""
    assert set(TABLE) - set(ENTRIES) == {AML + "v3.1.0"}
    assert "platform_dct_header_t.apps_locations" not in TABLE[AML + "v3.1.0"]["offsetof"]
    with pytest.raises(KeyError, match="3.1.0"):
        F.generation("3.1.0")


def test_sdk_versions_map_to_their_generation() -> None:
    assert F.generation("3.1.1") is F.GENERATIONS["3.1.2"]
    assert F.generation("3.5.2").header is F.platform_dct_header_t  # the header `bundle` always built
    assert [g.copy_rule for g in F.GENERATIONS.values()] == ["is_current_dct"] * 3 + ["header_crc", "version_crc"]
