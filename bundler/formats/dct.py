"""Device Configuration Table (DCT) of WICED SDK 3.5.2, internal-flash (STM32F2) variant, and the other DCT
generations of 3.1.1 - 3.7.0 (`GENERATIONS`: the header, sections and copy rule each SDK's bootloader reads).

Every structure mirrors the C struct of the same name in the 3.5.2 headers (amlweems/wiced-history @ v3.5.2 =
36fc712a): `WICED/Platform/include/platform_dct.h` (DCT structs), `WICED/WWD/include/wwd_structures.h`
(wiced_ssid_t, wiced_mac_t, wiced_hostname_t, wiced_ap_info_t — `#pragma pack(1)`), `WICED/WWD/include/
wwd_constants.h` (wiced_security_t, wiced_bss_type_t, wiced_802_11_band_t, MK_CNTRY / wiced_country_code_t) and
`include/wiced_constants.h` (wiced_interface_t). Sizes and offsets: ../shared/docs/wiced-formats.md §2.

ABI (doc §0): arm-none-eabi-gcc, little endian, AAPCS *small enums*: an enum whose values fit in a byte is 1 byte
(signed if it has a negative member), `wiced_security_t` and `wiced_country_code_t` are 4 bytes. Natural alignment;
the padding GCC inserts is spelled out as `Padding(n)` (always 0 in compiled data).

Char arrays are kept as raw `Bytes(n)` here; text <-> bytes conversion (NUL padding, limits) is in `bundler.dct`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from construct import (
    Array,
    Bytes,
    Construct,
    Enum,
    Int8sl,
    Int8ul,
    Int16sl,
    Int16ul,
    Int32sl,
    Int32ul,
    Padded,
    Padding,
    Struct,
    Union,
)

# ---------------------------------------------------------------------------------------------------------------
# Constants (platform_dct.h, WICED/Wiced.mk, wwd_structures.h)
# ---------------------------------------------------------------------------------------------------------------
BOOTLOADER_MAGIC_NUMBER: Final = 0x4D435242  # "BRCM" little endian (Wiced.mk -DBOOTLOADER_MAGIC_NUMBER)
CONFIG_VALIDITY_VALUE: Final = 0xCA1BDF58  # config_ap_settings.details_valid / p2p details_valid

PRIVATE_KEY_SIZE: Final = 2 * 1024
CERTIFICATE_SIZE: Final = 4 * 1024
CONFIG_AP_LIST_SIZE: Final = 5
COOEE_KEY_SIZE: Final = 16
SECURITY_KEY_SIZE: Final = 64
SSID_NAME_SIZE: Final = 32
HOSTNAME_SIZE: Final = 32

DCT_FR_APP_INDEX: Final = 0
DCT_DCT_IMAGE_INDEX: Final = 1
DCT_OTA_APP_INDEX: Final = 2
DCT_FILESYSTEM_IMAGE_INDEX: Final = 3
DCT_WIFI_FIRMWARE_INDEX: Final = 4
DCT_APP0_INDEX: Final = 5
DCT_APP1_INDEX: Final = 6
DCT_APP2_INDEX: Final = 7
DCT_MAX_APP_COUNT: Final = 8
DCT_INDEX_NAMES: Final = (
    "DCT_FR_APP_INDEX",
    "DCT_DCT_IMAGE_INDEX",
    "DCT_OTA_APP_INDEX",
    "DCT_FILESYSTEM_IMAGE_INDEX",
    "DCT_WIFI_FIRMWARE_INDEX",
    "DCT_APP0_INDEX",
    "DCT_APP1_INDEX",
    "DCT_APP2_INDEX",
)

# ---------------------------------------------------------------------------------------------------------------
# Enumerations
# ---------------------------------------------------------------------------------------------------------------
# image_location_id_t (platform_dct.h): small enum -> 1 byte
IMAGE_LOCATION_IDS: Final = {
    "NONE": 0,
    "INTERNAL": 1,
    "EXTERNAL_FIXED_LOCATION": 2,
    "EXTERNAL_FILESYSTEM_FILE": 3,
}
image_location_id_t = Enum(Int8ul, **IMAGE_LOCATION_IDS)

# wiced_security_t (wwd_constants.h): built from WEP_ENABLED 0x1, TKIP_ENABLED 0x2, AES_ENABLED 0x4,
# SHARED_ENABLED 0x8000, WPA_SECURITY 0x200000, WPA2_SECURITY 0x400000, ENTERPRISE_ENABLED 0x02000000,
# WPS_ENABLED 0x10000000, IBSS_ENABLED 0x20000000; has -1 and 0x7fffffff members -> 4 bytes, signed.
WICED_SECURITY: Final = {
    "WICED_SECURITY_OPEN": 0,
    "WICED_SECURITY_WEP_PSK": 0x00000001,
    "WICED_SECURITY_WEP_SHARED": 0x00008001,
    "WICED_SECURITY_WPA_TKIP_PSK": 0x00200002,
    "WICED_SECURITY_WPA_AES_PSK": 0x00200004,
    "WICED_SECURITY_WPA_MIXED_PSK": 0x00200006,
    "WICED_SECURITY_WPA2_AES_PSK": 0x00400004,
    "WICED_SECURITY_WPA2_TKIP_PSK": 0x00400002,
    "WICED_SECURITY_WPA2_MIXED_PSK": 0x00400006,
    "WICED_SECURITY_WPA_TKIP_ENT": 0x02200002,
    "WICED_SECURITY_WPA_AES_ENT": 0x02200004,
    "WICED_SECURITY_WPA_MIXED_ENT": 0x02200006,
    "WICED_SECURITY_WPA2_TKIP_ENT": 0x02400002,
    "WICED_SECURITY_WPA2_AES_ENT": 0x02400004,
    "WICED_SECURITY_WPA2_MIXED_ENT": 0x02400006,
    "WICED_SECURITY_IBSS_OPEN": 0x20000000,
    "WICED_SECURITY_WPS_OPEN": 0x10000000,
    "WICED_SECURITY_WPS_SECURE": 0x10000004,
    "WICED_SECURITY_UNKNOWN": -1,
    "WICED_SECURITY_FORCE_32_BIT": 0x7FFFFFFF,
}
wiced_security_t = Enum(Int32sl, **WICED_SECURITY)
WPA_SECURITY: Final = 0x00200000  # wwd_constants.h security bits tested by wwd's passphrase check
WPA2_SECURITY: Final = 0x00400000
ENTERPRISE_ENABLED: Final = 0x02000000

# wiced_bss_type_t (wwd_constants.h): has -1 -> 1-byte *signed* small enum
WICED_BSS_TYPE: Final = {
    "WICED_BSS_TYPE_INFRASTRUCTURE": 0,
    "WICED_BSS_TYPE_ADHOC": 1,
    "WICED_BSS_TYPE_ANY": 2,
    "WICED_BSS_TYPE_UNKNOWN": -1,
}
wiced_bss_type_t = Enum(Int8sl, **WICED_BSS_TYPE)

# wiced_802_11_band_t (wwd_constants.h): NB 5 GHz is 0 and 2.4 GHz is 1
WICED_802_11_BAND: Final = {
    "WICED_802_11_BAND_5GHZ": 0,
    "WICED_802_11_BAND_2_4GHZ": 1,
}
wiced_802_11_band_t = Enum(Int8ul, **WICED_802_11_BAND)

# wiced_bool_t (wwd_constants.h / wiced_utilities): small enum -> 1 byte
WICED_BOOL: Final = {"WICED_FALSE": 0, "WICED_TRUE": 1}
wiced_bool_t = Int8ul

# wiced_interface_t (include/wiced_constants.h) = WWD_*_INTERFACE values, CONFIG = AP | 0x80; no 32-bit forcing
# member -> 1 byte
WICED_INTERFACE: Final = {
    "WICED_STA_INTERFACE": 0,
    "WICED_AP_INTERFACE": 1,
    "WICED_P2P_INTERFACE": 2,
    "WICED_ETHERNET_INTERFACE": 3,
    "WICED_CONFIG_INTERFACE": 0x81,
}
wiced_interface_t = Enum(Int8ul, **WICED_INTERFACE)

# wiced_country_code_t (wwd_constants.h): MK_CNTRY(a, b, rev) = a | b << 8 | rev << 16 (little-endian build);
# values exceed a byte -> 4 bytes.
wiced_country_code_t = Int32ul


def MK_CNTRY(a: str, b: str, rev: int = 0) -> int:  # noqa: N802 - SDK macro name
    """The SDK's MK_CNTRY macro (little-endian variant)."""
    return ord(a) | (ord(b) << 8) | ((rev & 0xFFFF) << 16)


# Two-character codes of every WICED_COUNTRY_* member of wiced_country_code_t in 3.5.2 wwd_constants.h.
# Revisions used by named members: KR 1, US 0 and 4; any revision 0..65535 is accepted with an explicit code.
WICED_COUNTRY_CODES: Final = frozenset(
    """
    AF AL DZ AS AO AI AG AR AM AW AU AT AZ BS BH 0B BD BB BY BE BZ BJ BM BT BO BA BW BR IO BN BG BF BI KH CM CA CV
    KY CF TD CL CN CX CO KM CG CD CR CI HR CU CY CZ DK DJ DM DO EC EG SV GQ ER EE ET FK FO FJ FI FR GF PF TF GA GM
    GE DE GH GI GR GD GP GU GT GG GN GW GY HT VA HN HK HU IS IN ID IR IQ IE IL IT JM JP JE JO KZ KE KI KR 0A KW KG
    LA LV LB LS LR LY LI LT LU MO MK MG MW MY MV ML MT IM MQ MR MU YT MX FM MD MC MN ME MS MA MZ MM NA NR NP NL AN
    NC NZ NI NE NG NF MP NO OM PK PW PA PG PY PE PH PL PT PR QA RE RO RU RW KN LC PM VC WS MF ST SA SN RS SC SL SG
    SK SI SB SO ZA ES LK SR SZ SE CH SY TW TJ TZ TH TG TO TT TN TR TM TC TV UG UA AE GB US Q2 UM UY UZ VU VE VN VG
    VI WF 0C EH XX YE ZM ZW
    """.split()
)
WICED_DEFAULT_COUNTRY_CODE: Final = MK_CNTRY("U", "S", 0)  # wiced_defaults.h: WICED_COUNTRY_UNITED_STATES

# ---------------------------------------------------------------------------------------------------------------
# wwd_structures.h
# ---------------------------------------------------------------------------------------------------------------
# wiced_ssid_t: length-counted, not NUL terminated
wiced_ssid_t = Struct(
    "length" / Int8ul,
    "value" / Bytes(SSID_NAME_SIZE),
)
# wiced_mac_t: { uint8_t octet[6]; }
wiced_mac_t = Bytes(6)
# wiced_hostname_t: { char value[HOSTNAME_SIZE + 1]; }
wiced_hostname_t = Bytes(HOSTNAME_SIZE + 1)

# wiced_ap_info_t: #pragma pack(1) -> 56 bytes, no padding
wiced_ap_info_t = Struct(
    "SSID" / wiced_ssid_t,  # @0
    "BSSID" / wiced_mac_t,  # @33
    "signal_strength" / Int16sl,  # @39
    "max_data_rate" / Int32ul,  # @41
    "bss_type" / wiced_bss_type_t,  # @45
    "security" / wiced_security_t,  # @46
    "channel" / Int8ul,  # @50
    "band" / wiced_802_11_band_t,  # @51
    "next" / Int32ul,  # @52 struct wiced_ap_info* (0 in the DCT)
)

# ---------------------------------------------------------------------------------------------------------------
# platform_dct.h
# ---------------------------------------------------------------------------------------------------------------
# fixed_location_t
fixed_location_t = Struct(
    "location" / Int32ul,
    "size" / Int32ul,
)

# image_location_t: id (1 byte) + 3 pad + union detail (32 bytes: largest member filesystem_filename[32])
image_location_t = Struct(
    "id" / image_location_id_t,  # @0
    Padding(3),
    "detail"
    / Padded(
        32,
        Union(
            "filesystem_filename",  # parse all views; the stream then continues after the 32-byte member
            "internal_fixed" / fixed_location_t,
            "external_fixed" / fixed_location_t,
            "filesystem_filename" / Bytes(32),
        ),
    ),  # @4
)

# load_details_t
load_details_t = Struct(
    "source" / image_location_t,  # @0
    "destination" / image_location_t,  # @36
    "load_once" / Int8ul,  # @72 char
    "valid" / Int8ul,  # @73 char
    Padding(2),
)

# boot_detail_t
boot_detail_t = Struct(
    "load_details" / load_details_t,  # @0
    "entry_point" / Int32ul,  # @76
)

# The members every DCT header ends with (boot_detail, apps_locations, load_app_func: a function pointer)
_HEADER_TAIL: Final = (
    "boot_detail" / boot_detail_t,
    "apps_locations" / Array(DCT_MAX_APP_COUNT, image_location_t),
    "load_app_func" / Int32ul,
)

# platform_dct_header_sdk_3_5_2_t (3.7.0 names the 3.5.2 - 3.6.x header so): magic @8, CRC + sequence, no
# is_current_dct; no DCT_HEADER_ALIGN_SIZE padding on STM32
platform_dct_header_sdk_3_5_2_t = Struct(
    "full_size" / Int32ul,  # @0x000 unsigned long
    "used_size" / Int32ul,  # @0x004
    "magic_number" / Int32ul,  # @0x008
    "write_incomplete" / Int8ul,  # @0x00C char
    "app_valid" / Int8ul,  # @0x00D
    "mfg_info_programmed" / Int8ul,  # @0x00E
    "initial_write" / Int8ul,  # @0x00F
    "sequence" / Int32ul,  # @0x010
    "crc32" / Int32ul,  # @0x014
    *_HEADER_TAIL,  # @0x018 boot_detail, @0x068 apps_locations, @0x188 load_app_func
)
platform_dct_header_t = platform_dct_header_sdk_3_5_2_t  # the header `bundle` built before generations (3.5.2)

# platform_dct_header_sdk_3_1_2_t: the 388-byte header of 3.1.1 - 3.5.1, and again of 3.7.0+
# (platform_dct_header_current_t): is_current_dct @9 picks the copy; no CRC or sequence in the header
platform_dct_header_sdk_3_1_2_t = Struct(
    "full_size" / Int32ul,  # @0x000
    "used_size" / Int32ul,  # @0x004
    "write_incomplete" / Int8ul,  # @0x008 char
    "is_current_dct" / Int8ul,  # @0x009 char
    "app_valid" / Int8ul,  # @0x00A
    "mfg_info_programmed" / Int8ul,  # @0x00B
    "magic_number" / Int32ul,  # @0x00C
    *_HEADER_TAIL,  # @0x010 boot_detail, @0x060 apps_locations, @0x180 load_app_func
)

# platform_dct_version_t (3.7.0+, the LAST member of platform_dct_data_t): CRC and sequence moved here
DCT_VERSION_MAGIC_NUMBER: Final = 0xDC0200CD
platform_dct_version_t = Struct(
    "magic_number" / Int32ul,  # @0 DCT_VERSION_MAGIC_NUMBER
    "data_dct_usage_flags" / Int16ul,  # @4 wiced_dct_config_flag_t: WICED_DCT_*_CONFIG_USE_FLAG bits
    "version" / Int16ul,  # @6 wiced_dct_sdk_ver_t: DCT_BOOTLOADER_SDK_* (0x0370)
    "crc32" / Int32ul,  # @8 CRC_TYPE
    "initial_write" / Int8ul,  # @12 char
    "sequence" / Int8ul,  # @13 uint8_t
    "padding" / Bytes(2),  # @14
)

# platform_dct_mfg_info_t: char arrays
platform_dct_mfg_info_t = Struct(
    "manufacturer" / Bytes(32),
    "product_name" / Bytes(32),
    "BOM_name" / Bytes(24),
    "BOM_rev" / Bytes(8),
    "serial_number" / Bytes(20),
    "manufacture_date_time" / Bytes(20),
    "manufacture_location" / Bytes(12),
    "bootloader_version" / Bytes(8),
)

# platform_dct_security_t
platform_dct_security_t = Struct(
    "private_key" / Bytes(PRIVATE_KEY_SIZE),  # char[], PEM text
    "certificate" / Bytes(CERTIFICATE_SIZE),  # char[], PEM text
    "cooee_key" / Bytes(COOEE_KEY_SIZE),  # uint8_t[]
)

# wiced_config_ap_entry_t: members all have alignment 1 (wiced_ap_info_t is packed) -> 121 bytes
wiced_config_ap_entry_t = Struct(
    "details" / wiced_ap_info_t,  # @0
    "security_key_length" / Int8ul,  # @56
    "security_key" / Bytes(SECURITY_KEY_SIZE),  # @57
)

# wiced_config_soft_ap_t: 4-aligned (wiced_security_t) -> 112 bytes
wiced_config_soft_ap_t = Struct(
    "SSID" / wiced_ssid_t,  # @0
    Padding(3),
    "security" / wiced_security_t,  # @36
    "channel" / Int8ul,  # @40
    "security_key_length" / Int8ul,  # @41
    "security_key" / Bytes(SECURITY_KEY_SIZE),  # @42
    Padding(2),
    "details_valid" / Int32ul,  # @108
)

# platform_dct_wifi_config_t -> 844 bytes
platform_dct_wifi_config_t = Struct(
    "device_configured" / wiced_bool_t,  # @0
    "stored_ap_list" / Array(CONFIG_AP_LIST_SIZE, wiced_config_ap_entry_t),  # @1
    Padding(2),
    "soft_ap_settings" / wiced_config_soft_ap_t,  # @608
    "config_ap_settings" / wiced_config_soft_ap_t,  # @720
    "country_code" / wiced_country_code_t,  # @832
    "mac_address" / wiced_mac_t,  # @836
    "padding" / Bytes(2),  # @842 uint8_t padding[2] (a named member in the SDK)
)

# platform_dct_ethernet_config_t -> 8 bytes
platform_dct_ethernet_config_t = Struct(
    "mac_address" / wiced_mac_t,
    "padding" / Bytes(2),
)

# platform_dct_network_config_t -> 36 bytes
platform_dct_network_config_t = Struct(
    "interface" / wiced_interface_t,  # @0
    "hostname" / wiced_hostname_t,  # @1
    "padding" / Bytes(2),  # @34
)

# platform_dct_bt_config_t (WICED_DCT_INCLUDE_BT_CONFIG) -> 261 bytes, alignment 1
platform_dct_bt_config_t = Struct(
    "bluetooth_device_address" / Bytes(6),
    "bluetooth_device_name" / Bytes(249),  # including NUL termination
    "bluetooth_device_class" / Bytes(3),
    "ssp_debug_mode" / wiced_bool_t,
    "padding" / Bytes(2),
)

# platform_dct_bt_config_sdk_3_1_2_t: the BT struct of 3.1.2 - 3.3.1 (no device class) -> 257 bytes
platform_dct_bt_config_sdk_3_1_2_t = Struct(
    "bluetooth_device_address" / Bytes(6),
    "bluetooth_device_name" / Bytes(249),  # including NUL termination
    "ssp_debug_mode" / wiced_bool_t,
    "padding" / Bytes(1),
)

# platform_dct_p2p_config_t (WICED_DCT_INCLUDE_P2P_CONFIG) -> 112 + 2 + 2 (tail alignment) = 116 bytes
platform_dct_p2p_config_t = Struct(
    "p2p_group_owner_settings" / wiced_config_soft_ap_t,
    "padding" / Bytes(2),
    Padding(2),
)

# platform_dct_ota2_config_t (OTA2_SUPPORT) -> 4 bytes, alignment 2
platform_dct_ota2_config_t = Struct(
    "update_count" / Int16ul,
    "boot_type" / Int8ul,
    "padding" / Bytes(1),
)

# platform_dct_ota2_config_t of 3.7.0 (3.5.2's padding byte became force_factory_reset) -> 4 bytes, alignment 2
platform_dct_ota2_config_sdk_3_7_0_t = Struct(
    "update_count" / Int16ul,
    "boot_type" / Int8ul,
    "force_factory_reset" / Int8ul,
)

@dataclass(frozen=True)
class DctGeneration:
    """One layout of `platform_dct_data_t` as a bootloader of these SDK versions reads it (wiced-formats.md §2.5,
    §2.6; sizes and offsets checked against tools/sdkfacts/dct_layout.json, compiled from each SDK's headers)."""

    name: str  # the SDK version the structures are named after ("3.5.2": platform_dct_header_sdk_3_5_2_t)
    sdk_versions: tuple[str, ...]  # the compiled SDK versions whose DCT has exactly this layout
    header: Construct  # platform_dct_header_t of these versions
    copy_rule: str  # how the bootloader picks the current copy: "is_current_dct", "header_crc" or "version_crc"
    fixed: tuple[tuple[str, Construct, int], ...]  # (member, struct, C alignment) always present, in order
    optional: tuple[tuple[str, Construct, int], ...]  # (member, struct, C alignment) enabled by a define
    sdk_code: int  # DCT_BOOTLOADER_SDK_* of the 3.7.0 platform_dct.h (platform_dct_version_t.version)


_COMMON: Final = (
    ("mfg_info", platform_dct_mfg_info_t, 1),
    ("security_credentials", platform_dct_security_t, 1),
    ("wifi_config", platform_dct_wifi_config_t, 4),
)
_NETWORK: Final = (
    ("ethernet_config", platform_dct_ethernet_config_t, 1),
    ("network_config", platform_dct_network_config_t, 1),
)
# Optional sections in platform_dct_data_t order with their C alignment (3.5.2: WICED_DCT_INCLUDE_BT_CONFIG /
# WICED_DCT_INCLUDE_P2P_CONFIG / OTA2_SUPPORT)
OPTIONAL_SECTIONS: Final = (
    ("bt_config", platform_dct_bt_config_t, 1),
    ("p2p_config", platform_dct_p2p_config_t, 4),
    ("ota2_config", platform_dct_ota2_config_t, 2),
)
GENERATIONS: Final = {
    g.name: g
    for g in (
        # 3.1.0's header has no apps_locations (no SFLASH LUT): not a generation `bundle` can build for
        DctGeneration("3.1.2", ("3.1.1", "3.1.2"), platform_dct_header_sdk_3_1_2_t, "is_current_dct",
                      (("dct_header", platform_dct_header_sdk_3_1_2_t, 4), *_COMMON),
                      (("bt_config", platform_dct_bt_config_sdk_3_1_2_t, 1),), 0x0312),
        DctGeneration("3.3.1", ("3.3.1",), platform_dct_header_sdk_3_1_2_t, "is_current_dct",
                      (("dct_header", platform_dct_header_sdk_3_1_2_t, 4), *_COMMON, *_NETWORK),
                      (("bt_config", platform_dct_bt_config_sdk_3_1_2_t, 1),), 0x0331),
        DctGeneration("3.4.0", ("3.4.0",), platform_dct_header_sdk_3_1_2_t, "is_current_dct",
                      (("dct_header", platform_dct_header_sdk_3_1_2_t, 4), *_COMMON, *_NETWORK),
                      (("bt_config", platform_dct_bt_config_t, 1),), 0x0340),
        DctGeneration("3.5.2", ("3.5.2",), platform_dct_header_sdk_3_5_2_t, "header_crc",
                      (("dct_header", platform_dct_header_sdk_3_5_2_t, 4), *_COMMON, *_NETWORK), OPTIONAL_SECTIONS,
                      0x0352),
        # 3.7.0: BT, P2P and OTA2 always present, then platform_dct_version_t last
        DctGeneration("3.7.0", ("3.7.0",), platform_dct_header_sdk_3_1_2_t, "version_crc",
                      (("dct_header", platform_dct_header_sdk_3_1_2_t, 4), *_COMMON, *_NETWORK,
                       ("bt_config", platform_dct_bt_config_t, 1), ("p2p_config", platform_dct_p2p_config_t, 4),
                       ("ota2_config", platform_dct_ota2_config_sdk_3_7_0_t, 2), ("dct_version", platform_dct_version_t, 4)),
                      (), 0x0370),
    )
}
DEFAULT_GENERATION: Final = "3.5.2"
FIXED_SIZE: Final = 7600  # sizeof(platform_dct_data_t) without optional sections


def generation(sdk: str) -> DctGeneration:
    """The DCT generation of an SDK version ("3.3.1"); KeyError naming the known versions if none."""
    for g in GENERATIONS.values():
        if sdk in g.sdk_versions:
            return g
    known = ", ".join(v for g in GENERATIONS.values() for v in g.sdk_versions)
    raise KeyError(f"SDK {sdk!r} has no known DCT generation (known: {known})")


def _align(n: int, a: int) -> int:
    return -(-n // a) * a


def section_offsets(include_bt: bool = False, include_p2p: bool = False, include_ota2: bool = False,
                    gen: DctGeneration | None = None) -> dict[str, int]:
    """Offset of each section of platform_dct_data_t (and "end" = sizeof) for the given optional sections of a
    generation (default 3.5.2; a generation without an optional section ignores its flag)."""
    g = gen or GENERATIONS[DEFAULT_GENERATION]
    wanted = {"bt_config": include_bt, "p2p_config": include_p2p, "ota2_config": include_ota2}
    offsets: dict[str, int] = {}
    pos = 0
    present = g.fixed + tuple(section for section in g.optional if wanted[section[0]])
    for name, sub, alignment in present:
        pos = _align(pos, alignment)
        offsets[name] = pos
        pos += sub.sizeof()
    offsets["end"] = _align(pos, 4)  # struct alignment 4 (unsigned long members)
    return offsets


def platform_dct_data_t(include_bt: bool = False, include_p2p: bool = False, include_ota2: bool = False,
                        gen: DctGeneration | None = None) -> Construct:
    """platform_dct_data_t of a generation (default 3.5.2) with the optional sections enabled by
    WICED_DCT_INCLUDE_BT_CONFIG / WICED_DCT_INCLUDE_P2P_CONFIG / OTA2_SUPPORT (in that order), padded as GCC does."""
    g = gen or GENERATIONS[DEFAULT_GENERATION]
    offsets = section_offsets(include_bt, include_p2p, include_ota2, g)
    fields: list[Construct] = []
    pos = 0
    sections = [(n, s) for n, s, _ in g.fixed + g.optional if n in offsets]
    for name, sub in sections:
        if offsets[name] > pos:
            fields.append(Padding(offsets[name] - pos))
        fields.append(name / sub)
        pos = offsets[name] + sub.sizeof()
    if offsets["end"] > pos:
        fields.append(Padding(offsets["end"] - pos))
    return Struct(*fields)


# Sizes from ../shared/docs/wiced-formats.md §2 (compiled from the 3.5.2 headers with arm-none-eabi-gcc)
EXPECTED_SIZES: Final = {
    "image_location_t": 36,
    "load_details_t": 76,
    "boot_detail_t": 80,
    "platform_dct_header_t": 396,
    "platform_dct_header_sdk_3_1_2_t": 388,
    "platform_dct_version_t": 16,
    "platform_dct_bt_config_sdk_3_1_2_t": 257,
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
for _name, _size in EXPECTED_SIZES.items():
    assert globals()[_name].sizeof() == _size, (_name, globals()[_name].sizeof(), _size)
assert platform_dct_data_t().sizeof() == FIXED_SIZE
assert platform_dct_data_t(True, False, False).sizeof() == 7864
assert platform_dct_data_t(False, True, False).sizeof() == 7716
assert section_offsets(True, True, True) == {
    "dct_header": 0,
    "mfg_info": 0x18C,
    "security_credentials": 0x228,
    "wifi_config": 0x1A38,
    "ethernet_config": 0x1D84,
    "network_config": 0x1D8C,
    "bt_config": 0x1DB0,
    "p2p_config": 0x1EB8,
    "ota2_config": 0x1F2C,
    "end": 7984,
}


def member_offset(struct: Construct, *path: str) -> int:
    """Byte offset of a (nested) named member of a fixed-size Struct, like C offsetof()."""
    offset = 0
    current: Construct = struct
    for name in path:
        for sub in current.subcons:  # type: ignore[attr-defined]
            if sub.name == name:
                current = sub.subcon  # Renamed("name" / X) -> X
                break
            offset += sub.sizeof()
        else:
            raise KeyError(name)
    return offset


def member_size(struct: Construct, *path: str) -> int:
    """Byte size of a (nested) named member of a fixed-size Struct, like C sizeof(s.member)."""
    current: Construct = struct
    for name in path:
        current = next(sub.subcon for sub in current.subcons if sub.name == name)  # type: ignore[attr-defined]
    return current.sizeof()
