"""DCT layout: struct sizes, and every settable field at the offset the document gives.

The offsets below are written out by hand from ../shared/docs/wiced-formats.md §2 (compiled from the 3.5.2 headers
with arm-none-eabi-gcc); they are NOT derived from the Construct definitions. The bytes are read back with `struct`.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import pytest

from bundler.dct.config import build_dct
from bundler.dct.copies import dct_serial_fields
from bundler.dct.options import DctOptions
from bundler.formats import dct as F

# sizeof() of each structure (doc §2.1, §2.3)
DOC_SIZES = {
    "image_location_t": 36,
    "load_details_t": 76,
    "boot_detail_t": 80,
    "platform_dct_header_t": 396,
    "platform_dct_mfg_info_t": 156,
    "platform_dct_security_t": 6160,
    "wiced_ap_info_t": 56,
    "wiced_config_ap_entry_t": 121,
    "wiced_config_soft_ap_t": 112,
    "platform_dct_wifi_config_t": 844,
    "platform_dct_ethernet_config_t": 8,
    "platform_dct_network_config_t": 36,
    "platform_dct_bt_config_t": 261,
    "platform_dct_p2p_config_t": 116,
    "platform_dct_ota2_config_t": 4,
}


@pytest.mark.parametrize("name,size", sorted(DOC_SIZES.items()))
def test_struct_sizes(name: str, size: int) -> None:
    assert getattr(F, name).sizeof() == size


@pytest.mark.parametrize(
    "bt,p2p,ota2,size",
    [(False, False, False, 7600), (True, False, False, 7864), (False, True, False, 7716), (True, True, True, 7984)],
)
def test_platform_dct_data_t_sizes(bt: bool, p2p: bool, ota2: bool, size: int) -> None:
    assert F.platform_dct_data_t(bt, p2p, ota2).sizeof() == size


# Section bases (doc §2.3)
MFG, SEC, WIFI, ETH, NET, APP = 0x18C, 0x228, 0x1A38, 0x1D84, 0x1D8C, 0x1DB0
AP0, SOFT, CFG = WIFI + 1, WIFI + 608, WIFI + 720


def ap(i: int) -> int:
    return AP0 + 121 * i


# (table, absolute offset, struct format or raw bytes, expected value)
CASES: list[tuple[dict[str, Any], int, str, Any]] = [
    ({"header": {"write_incomplete": 0}}, 0x0, "<I", 0x4000),  # full_size
    ({}, 0x4, "<I", 7600),  # used_size
    ({}, 0x8, "<I", 0x4D435242),  # magic
    ({"header": {"app_valid": 7}}, 0xD, "<B", 7),
    ({"header": {"mfg_info_programmed": 1}}, 0xE, "<B", 1),
    ({"header": {"initial_write": 0}, "crc": "computed"}, 0xF, "<B", 0),
    ({"header": {"sequence": 0x12345678}, "crc": "computed", }, 0x10, "<I", 0x12345678),
    ({"crc": 0xDEADBEEF}, 0x14, "<I", 0xDEADBEEF),
    ({"header": {"boot_detail": {"load_details": {"source": {"id": "EXTERNAL_FIXED_LOCATION"}}}}}, 0x18, "<B", 2),
    ({"header": {"boot_detail": {"load_details": {"source": {"location": 0xAABBCCDD}}}}}, 0x1C, "<I", 0xAABBCCDD),
    ({"header": {"boot_detail": {"load_details": {"source": {"size": 0x1234}}}}}, 0x20, "<I", 0x1234),
    ({"header": {"boot_detail": {"load_details": {"destination": {"id": "EXTERNAL_FILESYSTEM_FILE"}}}}}, 0x3C, "<B", 3),
    ({"header": {"boot_detail": {"load_details": {"source": {"id": "EXTERNAL_FILESYSTEM_FILE",
                                                             "filesystem_filename": "app.elf"}}}}},
     0x1C, "raw", b"app.elf\0"),
    ({"header": {"boot_detail": {"load_details": {"load_once": 1}}}}, 0x60, "<B", 1),
    ({"header": {"boot_detail": {"load_details": {"valid": 1}}}}, 0x61, "<B", 1),
    ({"header": {"boot_detail": {"entry_point": 0x0800C1C1}}}, 0x64, "<I", 0x0800C1C1),
    ({"header": {"apps_locations": [{}, {}, {}, {}, {}, {"size": 0x5000}]}}, 0x68 + 36 * 5 + 8, "<I", 0x5000),
    ({"header": {"apps_locations": [{}, {}, {"location": 0x77}]}}, 0x68 + 36 * 2 + 4, "<I", 0x77),
    ({"header": {"apps_locations": [{}, {}, {}, {}, {}, {}, {}, {"id": "INTERNAL"}]}}, 0x68 + 36 * 7, "<B", 1),
    ({"header": {"load_app_func": 0x08001235}}, 0x188, "<I", 0x08001235),
    ({"mfg_info": {"manufacturer": "M"}}, MFG + 0, "raw", b"M\0"),
    ({"mfg_info": {"product_name": "P"}}, MFG + 32, "raw", b"P\0"),
    ({"mfg_info": {"BOM_name": "B"}}, MFG + 64, "raw", b"B\0"),
    ({"mfg_info": {"BOM_rev": "R"}}, MFG + 88, "raw", b"R\0"),
    ({"mfg_info": {"serial_number": "SN1"}}, MFG + 96, "raw", b"SN1\0"),
    ({"mfg_info": {"manufacture_date_time": "D"}}, MFG + 116, "raw", b"D\0"),
    ({"mfg_info": {"manufacture_location": "L"}}, MFG + 136, "raw", b"L\0"),
    ({"mfg_info": {"bootloader_version": "V"}}, MFG + 148, "raw", b"V\0"),
    ({"security_credentials": {"private_key": "KEY"}}, SEC + 0, "raw", b"KEY\0"),
    ({"security_credentials": {"certificate": "CERT"}}, SEC + 2048, "raw", b"CERT\0"),
    ({"security_credentials": {"cooee_key": "0123456789abcdef"}}, SEC + 6144, "raw", b"0123456789abcdef"),
    ({"wifi_config": {"device_configured": True}}, WIFI, "<B", 1),
    ({"wifi_config": {"stored_ap_list": [{}, {"SSID": "net"}]}}, ap(1), "raw", b"\x03net\0"),
    ({"wifi_config": {"stored_ap_list": [{}, {}, {"BSSID": "01:02:03:04:05:06"}]}}, ap(2) + 33, "raw",
     bytes([1, 2, 3, 4, 5, 6])),
    ({"wifi_config": {"stored_ap_list": [{"signal_strength": -42}]}}, ap(0) + 39, "<h", -42),
    ({"wifi_config": {"stored_ap_list": [{"max_data_rate": 54000}]}}, ap(0) + 41, "<I", 54000),
    ({"wifi_config": {"stored_ap_list": [{"bss_type": "ADHOC"}]}}, ap(0) + 45, "<b", 1),
    ({"wifi_config": {"stored_ap_list": [{"bss_type": "UNKNOWN"}]}}, ap(0) + 45, "<b", -1),
    ({"wifi_config": {"stored_ap_list": [{}, {}, {}, {"security": "WPA2_AES", "security_key": "12345678"}]}},
     ap(3) + 46, "<i", 0x00400004),
    ({"wifi_config": {"stored_ap_list": [{"channel": 11}]}}, ap(0) + 50, "<B", 11),
    ({"wifi_config": {"stored_ap_list": [{"band": "2.4GHz"}]}}, ap(0) + 51, "<B", 1),
    ({"wifi_config": {"stored_ap_list": [{"next": 5}]}}, ap(0) + 52, "<I", 5),
    ({"wifi_config": {"stored_ap_list": [{}, {}, {}, {}, {"security": "WPA_TKIP_PSK", "security_key": "passw0rd!"}]}},
     ap(4) + 56, "raw", b"\x09passw0rd!\0"),
    ({"wifi_config": {"soft_ap_settings": {"SSID": "soft"}}}, SOFT, "raw", b"\x04soft\0"),
    ({"wifi_config": {"soft_ap_settings": {"security": "OPEN", "security_key": ""}}}, SOFT + 36, "<i", 0),
    ({"wifi_config": {"soft_ap_settings": {"channel": 9}}}, SOFT + 40, "<B", 9),
    ({"wifi_config": {"soft_ap_settings": {"security_key": "abcdefghij"}}}, SOFT + 41, "raw", b"\x0aabcdefghij\0"),
    ({"wifi_config": {"soft_ap_settings": {"details_valid": 0x11223344}}}, SOFT + 108, "<I", 0x11223344),
    ({"wifi_config": {"config_ap_settings": {"SSID": "cfg"}}}, CFG, "raw", b"\x03cfg\0"),
    ({"wifi_config": {"config_ap_settings": {"security": "WPA2_MIXED_PSK"}}}, CFG + 36, "<i", 0x00400006),
    ({"wifi_config": {"config_ap_settings": {"channel": 3}}}, CFG + 40, "<B", 3),
    ({"wifi_config": {"config_ap_settings": {"details_valid": 0}}}, CFG + 108, "<I", 0),
    ({"wifi_config": {"country_code": "DE"}}, WIFI + 832, "raw", b"DE\0\0"),
    ({"wifi_config": {"country_code": {"code": "US", "revision": 4}}}, WIFI + 832, "raw", b"US\x04\0"),
    ({"wifi_config": {"mac_address": "00:11:22:33:44:55"}}, WIFI + 836, "raw", bytes.fromhex("001122334455")),
    ({"ethernet_config": {"mac_address": "0a-0b-0c-0d-0e-0f"}}, ETH, "raw", bytes.fromhex("0a0b0c0d0e0f")),
    ({"network_config": {"interface": "CONFIG"}}, NET, "<B", 0x81),
    ({"network_config": {"interface": "ETHERNET"}}, NET, "<B", 3),
    ({"network_config": {"hostname": "host-1"}}, NET + 1, "raw", b"host-1\0"),
    ({"app": {"hex": "a1b2c3"}}, APP, "raw", b"\xa1\xb2\xc3"),
]


@pytest.mark.parametrize("table,offset,fmt,expected", CASES)
def test_field_lands_at_doc_offset(table: dict[str, Any], offset: int, fmt: str, expected: Any) -> None:
    data = build_dct(table, Path("."), DctOptions())
    if fmt == "raw":
        assert data[offset: offset + len(expected)] == expected
    else:
        assert struct.unpack_from(fmt, data, offset)[0] == expected


# With all optional sections (doc §2.3: bt 0x1DB0, p2p 0x1EB8, ota2 0x1F2C, total 7984)
ALL = DctOptions(include_bt=True, include_p2p=True, include_ota2=True)
OPT_CASES: list[tuple[dict[str, Any], int, str, Any]] = [
    ({}, 0x4, "<I", 7984),
    ({"bt_config": {"bluetooth_device_address": "66:55:44:33:22:11"}}, 0x1DB0, "raw", bytes.fromhex("665544332211")),
    ({"bt_config": {"bluetooth_device_name": "bt"}}, 0x1DB0 + 6, "raw", b"bt\0"),
    ({"bt_config": {"bluetooth_device_class": {"hex": "010203"}}}, 0x1DB0 + 255, "raw", b"\x01\x02\x03"),
    ({"bt_config": {"ssp_debug_mode": True}}, 0x1DB0 + 258, "<B", 1),
    ({"p2p_config": {"p2p_group_owner_settings": {"SSID": "p2p"}}}, 0x1EB8, "raw", b"\x03p2p\0"),
    ({"p2p_config": {"p2p_group_owner_settings": {"details_valid": 1}}}, 0x1EB8 + 108, "<I", 1),
    ({"ota2_config": {"update_count": 0x1234}}, 0x1F2C, "<H", 0x1234),
    ({"ota2_config": {"boot_type": 2}}, 0x1F2C + 2, "<B", 2),
    ({"app": {"hex": "ee"}}, 7984, "raw", b"\xee"),
]


@pytest.mark.parametrize("table,offset,fmt,expected", OPT_CASES)
def test_optional_sections_at_doc_offsets(table: dict[str, Any], offset: int, fmt: str, expected: Any) -> None:
    data = build_dct(table, Path("."), ALL)
    if fmt == "raw":
        assert data[offset: offset + len(expected)] == expected
    else:
        assert struct.unpack_from(fmt, data, offset)[0] == expected


def test_serial_fields_offsets() -> None:
    # mfg_info.serial_number = 0x18C + 96; wifi_config.mac_address = 0x1A38 + 836 (doc §2.3)
    assert dct_serial_fields(DctOptions()) == {"mfg_info.serial_number": (0x18C + 96, 20),
                                               "wifi_config.mac_address": (0x1A38 + 836, 6)}
    # optional sections come after network_config: the per-unit fields do not move
    assert dct_serial_fields(ALL) == dct_serial_fields(DctOptions())


def test_mk_cntry_and_constants() -> None:
    assert F.MK_CNTRY("U", "S", 0) == 0x5355
    assert F.MK_CNTRY("K", "R", 1) == 0x1524B
    assert F.BOOTLOADER_MAGIC_NUMBER.to_bytes(4, "little") == b"BRCM"
    assert [getattr(F, n) for n in F.DCT_INDEX_NAMES] == list(range(8))
    assert F.WICED_SECURITY["WICED_SECURITY_WPA2_AES_PSK"] == 0x00400004
