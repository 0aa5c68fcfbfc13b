"""A DCT copy as the bootloader of its generation judges it: the SDK CRC, whether a copy is valid, which of the two
copies is used (`wiced_dct_get_current_address`, which the bootloader reaches through `wiced_dct_read_with_copy`
in apps/waf/bootloader/bootloader.c `main`), and where the per-unit fields and the CRC field are (for serialize's
patching).

One rule per `DctGeneration.copy_rule` (bundler.formats.dct.GENERATIONS), each from that SDK's
`WICED/platform/MCU/wiced_dct_internal_common.c` (the STM32 internal-flash DCT):
- "is_current_dct" (3.1.1 - 3.4.0): no CRC; the first copy with is_current_dct 1, write_incomplete 0 and the magic.
- "header_crc" (3.5.2): CRC and sequence in the 396-byte header (../shared/docs/wiced-formats.md §2.2).
- "version_crc" (3.7.0): CRC and sequence in platform_dct_version_t, the last member of platform_dct_data_t (§2.6).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import crcmod
from construct import Container

from ..errors import InputError, hexsize
from ..formats import dct as F
from .options import DctOptions


# libraries/utilities/crc/crc.c: reflected CRC-32 (poly 0x04C11DB7), init 0xFFFFFFFF, no final XOR
_crc32_sdk: Callable[[bytes], int] = crcmod.mkCrcFun(0x104C11DB7, initCrc=0xFFFFFFFF, rev=True, xorOut=0)

# 3.7.0 wiced_dct_minimal_check_dct_version (WICED/platform/MCU/wiced_dct_update.c): DCT_BOOTLOADER_SDK_UNKNOWN
# (platform_dct.h) is never a valid version
DCT_BOOTLOADER_SDK_UNKNOWN = 0x7FFF


def version_offset(gen: F.DctGeneration) -> int:
    """Offset of platform_dct_version_t in platform_dct_data_t (3.7.0 OFFSETOF(platform_dct_data_t, dct_version))."""
    return F.section_offsets(gen=gen)["dct_version"]


def crc_field(gen: F.DctGeneration) -> tuple[int, int] | None:
    """(offset, size) of the stored CRC in a DCT copy of this generation; None when it has no CRC."""
    if gen.copy_rule == "header_crc":
        return F.member_offset(gen.header, "crc32"), 4
    if gen.copy_rule == "version_crc":
        return version_offset(gen) + F.member_offset(F.platform_dct_version_t, "crc32"), 4
    return None


def _taken_as_zero(gen: F.DctGeneration) -> list[tuple[int, int]]:
    """The bytes the SDK sets to 0 while computing the CRC (offset, size)."""
    field = crc_field(gen)
    if field is None:
        raise ValueError(f"DCT generation {gen.name} has no CRC")
    if gen.copy_rule == "header_crc":
        # 3.5.2 wiced_dct_check_crc_valid: only crc32 (write_incomplete is CRC'd as stored: a copy with it set is
        # invalid anyway)
        return [field]
    # 3.7.0 wiced_dct_validate_and_determine_version: header.write_incomplete, version.crc32 and
    # version.initial_write are 0 in the one running CRC over header, data, version and the rest of the copy
    at = version_offset(gen)
    return [(F.member_offset(gen.header, "write_incomplete"), 1), field,
            (at + F.member_offset(F.platform_dct_version_t, "initial_write"), 1)]


def dct_crc(copy: bytes, copy_size: int | None, gen: F.DctGeneration) -> int:
    """CRC the SDK of `gen` computes over a DCT copy (3.5.2 `wiced_dct_check_crc_valid`, 3.7.0
    `wiced_dct_validate_and_determine_version`).

    The range is the whole copy area (`copy_size`, default len(copy); PLATFORM_DCT_COPY1_START_ADDRESS to
    PLATFORM_DCT_COPY1_END_ADDRESS); `copy` is padded with 0xFF (erased flash) to it."""
    size = len(copy) if copy_size is None else copy_size
    if len(copy) > size:
        raise InputError(f"DCT copy is {hexsize(len(copy))}, larger than the copy area {hexsize(size)}")
    area = bytearray(copy) + b"\xff" * (size - len(copy))
    for start, n in _taken_as_zero(gen):
        if start + n <= len(area):
            area[start:start + n] = bytes(n)
    return _crc32_sdk(bytes(area))


def stored_crc(copy: bytes, gen: F.DctGeneration) -> int | None:
    """The CRC stored in a copy (None: the generation has none, or the copy is too short to hold it)."""
    field = crc_field(gen)
    if field is None or len(copy) < field[0] + 4:
        return None
    return int.from_bytes(copy[field[0]:field[0] + 4], "little")


def factory_form(copy: bytes, gen: F.DctGeneration) -> bool:
    """True for the SDK's factory DCT CRC form: crc32 0 with initial_write 1 (the SDK then checks no CRC); False
    for a generation without a CRC."""
    if gen.copy_rule == "header_crc":
        hdr = gen.header.parse(copy)
        return hdr.crc32 == 0 and hdr.initial_write == 1
    if gen.copy_rule == "version_crc":
        at = version_offset(gen)
        ver = F.platform_dct_version_t.parse(copy[at:at + F.platform_dct_version_t.sizeof()])
        return ver.crc32 == 0 and ver.initial_write == 1
    return False


@dataclass(frozen=True)
class CopyStatus:
    valid: bool
    reason: str
    sequence: int = 0
    initial_write: int = 0
    crc_ok: bool = False
    version: int = 0  # 3.7.0: the DCT SDK version wiced_dct_validate_and_determine_version returns


def copy_status(copy: bytes, copy_number: int, copy_size: int | None, gen: F.DctGeneration) -> CopyStatus:
    """Is this DCT copy valid for the bootloader/app of generation `gen`? Pass the whole copy area (or give
    copy_size)."""
    if copy_number not in (1, 2):
        raise ValueError("copy_number must be 1 or 2")
    size = gen.header.sizeof()
    if len(copy) < size:
        return CopyStatus(False, f"copy {copy_number}: shorter than the header ({hexsize(len(copy))})")
    hdr = gen.header.parse(copy)
    if gen.copy_rule == "is_current_dct":
        return _status_is_current(hdr, copy_number)
    if gen.copy_rule == "version_crc":
        return _status_version(copy, copy_number, copy_size, gen, hdr)
    return _status_header_crc(copy, copy_number, copy_size, gen, hdr)


def _status_is_current(hdr: Container, n: int) -> CopyStatus:
    # 3.1.1 - 3.4.0 wiced_dct_get_current_address: is_current_dct == 1 && write_incomplete == 0 && magic; no CRC
    if hdr.write_incomplete != 0:
        return CopyStatus(False, f"copy {n}: write_incomplete is {hdr.write_incomplete}")
    if hdr.magic_number != F.BOOTLOADER_MAGIC_NUMBER:
        return CopyStatus(False, f"copy {n}: magic 0x{hdr.magic_number:08X} is not 0x{F.BOOTLOADER_MAGIC_NUMBER:08X}")
    if hdr.is_current_dct != 1:
        return CopyStatus(False, f"copy {n}: is_current_dct is {hdr.is_current_dct}, not 1")
    return CopyStatus(True, f"copy {n}: is_current_dct 1 (no CRC in this generation)")


def _status_header_crc(copy: bytes, n: int, copy_size: int | None, gen: F.DctGeneration,
                       hdr: Container) -> CopyStatus:
    # 3.5.2 wiced_dct_get_current_address: write_incomplete == 0, magic, and (the CRC over the whole copy area
    # matches or - copy 1 only - initial_write == 1 and crc32 == 0)
    computed = dct_crc(copy, copy_size, gen)
    crc_ok = computed == hdr.crc32
    common = dict(sequence=hdr.sequence, initial_write=hdr.initial_write, crc_ok=crc_ok)
    if hdr.write_incomplete != 0:
        return CopyStatus(False, f"copy {n}: write_incomplete is {hdr.write_incomplete}", **common)
    if hdr.magic_number != F.BOOTLOADER_MAGIC_NUMBER:
        return CopyStatus(False, f"copy {n}: magic 0x{hdr.magic_number:08X} is not "
                          f"0x{F.BOOTLOADER_MAGIC_NUMBER:08X}", **common)
    if n == 1 and hdr.initial_write == 1 and hdr.crc32 == 0:
        return CopyStatus(True, "copy 1: initial_write 1 with crc32 0 (SDK factory DCT)", **common)
    if crc_ok:
        return CopyStatus(True, f"copy {n}: CRC 0x{hdr.crc32:08X} matches", **common)
    return CopyStatus(False, f"copy {n}: CRC 0x{hdr.crc32:08X} does not match 0x{computed:08X}", **common)


def _status_version(copy: bytes, n: int, copy_size: int | None, gen: F.DctGeneration,
                    hdr: Container) -> CopyStatus:
    # 3.7.0 wiced_dct_validate_and_determine_version (bootloader built without BOOTLOADER_SDK_*: the CRC is in the
    # version struct) with wiced_dct_minimal_check_dct_header / _version (wiced_dct_update.c)
    if hdr.write_incomplete != 0:
        return CopyStatus(False, f"copy {n}: write_incomplete is {hdr.write_incomplete}")
    if hdr.magic_number != F.BOOTLOADER_MAGIC_NUMBER:
        return CopyStatus(False, f"copy {n}: magic 0x{hdr.magic_number:08X} is not 0x{F.BOOTLOADER_MAGIC_NUMBER:08X}")
    if hdr.used_size > hdr.full_size:
        return CopyStatus(False, f"copy {n}: used_size {hdr.used_size} is larger than full_size {hdr.full_size}")
    at = version_offset(gen)
    raw = (bytes(copy) + b"\xff" * F.platform_dct_version_t.sizeof())[at:at + F.platform_dct_version_t.sizeof()]
    ver = F.platform_dct_version_t.parse(raw)
    if ver.magic_number != F.DCT_VERSION_MAGIC_NUMBER or ver.version in (0, 0xFFFF, DCT_BOOTLOADER_SDK_UNKNOWN) \
            or ver.version > gen.sdk_code:
        # no usable version struct: taken as a DCT of the bootloader's own SDK, no CRC checked, initial_write and
        # sequence 0 (DCT_BOOTLOADER_SDK_VERSION = DCT_BOOTLOADER_SDK_CURRENT)
        return CopyStatus(True, f"copy {n}: no valid platform_dct_version_t at 0x{at:X} (magic "
                          f"0x{ver.magic_number:08X}, version 0x{ver.version:04X}): accepted without a CRC",
                          version=gen.sdk_code)
    computed = dct_crc(copy, copy_size, gen)
    crc_ok = computed == ver.crc32
    if ver.initial_write == 1 and ver.crc32 == 0:
        return CopyStatus(True, f"copy {n}: version struct initial_write 1 with crc32 0 (SDK factory DCT)",
                          sequence=ver.sequence, initial_write=1, crc_ok=crc_ok, version=gen.sdk_code)
    if crc_ok:  # the initial_write reported is the one zeroed for the CRC
        return CopyStatus(True, f"copy {n}: version struct CRC 0x{ver.crc32:08X} matches", sequence=ver.sequence,
                          crc_ok=True, version=gen.sdk_code)
    return CopyStatus(False, f"copy {n}: version struct CRC 0x{ver.crc32:08X} does not match 0x{computed:08X}",
                      sequence=ver.sequence)


def choose_current(copy1: bytes, copy2: bytes, copy_size: int | None,
                   gen: F.DctGeneration) -> tuple[int | None, str]:
    """Which copy generation `gen`'s code uses (its wiced_dct_get_current_address); None when neither is valid
    (the SDK then erases copy 1 and writes a bare header: all settings lost)."""
    s1, s2 = copy_status(copy1, 1, copy_size, gen), copy_status(copy2, 2, copy_size, gen)
    if s1.valid and s2.valid:
        if gen.copy_rule == "is_current_dct":  # 3.1.1 - 3.4.0: copy 1 is tested first
            return 1, f"both valid; copy 1 is tested first ({s1.reason}; {s2.reason})"
        if gen.copy_rule == "version_crc":
            return _both_valid_version(s1, s2)
        if s1.initial_write == 1:
            return 1, f"both valid; copy 1 has initial_write 1 ({s1.reason}; {s2.reason})"
        if s1.sequence > s2.sequence:
            return 1, f"both valid; copy 1 sequence {s1.sequence} > copy 2 sequence {s2.sequence}"
        if s2.sequence > s1.sequence:
            return 2, f"both valid; copy 2 sequence {s2.sequence} > copy 1 sequence {s1.sequence}"
        return 1, f"both valid with the same sequence {s1.sequence}; copy 1 used"
    if s1.valid:
        return 1, f"{s1.reason}; {s2.reason}"
    if s2.valid:
        return 2, f"{s2.reason}; {s1.reason}"
    return None, f"neither copy valid ({s1.reason}; {s2.reason}); the SDK would erase copy 1: settings lost"


def _both_valid_version(s1: CopyStatus, s2: CopyStatus) -> tuple[int, str]:
    # 3.7.0 wiced_dct_get_current_address: the higher version, then copy 2 if its initial_write is set (not 0 or
    # 0xFF), then copy 1 if its is, then the higher sequence (a tie: copy 1)
    if s1.version != s2.version:
        which = 1 if s1.version > s2.version else 2
        return which, f"both valid; copy {which} has the higher version"
    if s2.initial_write not in (0, 0xFF):
        return 2, f"both valid; copy 2 has initial_write {s2.initial_write} (tested before copy 1)"
    if s1.initial_write not in (0, 0xFF):
        return 1, f"both valid; copy 1 has initial_write {s1.initial_write}"
    if s1.sequence < s2.sequence:
        return 2, f"both valid; copy 2 sequence {s2.sequence} > copy 1 sequence {s1.sequence}"
    if s1.sequence > s2.sequence:
        return 1, f"both valid; copy 1 sequence {s1.sequence} > copy 2 sequence {s2.sequence}"
    return 1, f"both valid with the same sequence {s1.sequence}; copy 1 used"


def set_crc(data: bytes, value: int | None, copy_size: int, gen: F.DctGeneration) -> bytes:
    """Write the stored CRC field (header crc32 for 3.5.2, platform_dct_version_t.crc32 for 3.7.0): `value`, or the
    SDK CRC over the copy padded to copy_size if None. A generation without a CRC: `data` unchanged."""
    field = crc_field(gen)
    if field is None:
        return data
    start, size = field
    out = bytearray(data)
    out[start:start + size] = bytes(size)
    if value is None:
        value = dct_crc(bytes(out), copy_size, gen)
    out[start:start + size] = value.to_bytes(size, "little")
    return bytes(out)


def dct_serial_fields(options: DctOptions) -> dict[str, tuple[int, int]]:
    """(offset within the DCT, size) of the per-unit fields: mfg_info.serial_number (char[20]) and
    wifi_config.mac_address (wiced_mac_t), at the offsets of the layout's generation."""
    off = F.section_offsets(options.include_bt, options.include_p2p, options.include_ota2, options.generation)
    fields = {"mfg_info.serial_number": F.platform_dct_mfg_info_t,
              "wifi_config.mac_address": F.platform_dct_wifi_config_t}
    out = {}
    for dotted, struct in fields.items():
        section, member = dotted.split(".")
        out[dotted] = (off[section] + F.member_offset(struct, member), F.member_size(struct, member))
    return out

