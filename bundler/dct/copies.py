"""A DCT copy as the 3.5.2 bootloader and app judge it: the SDK CRC, whether a copy is valid, which of the two
copies is used (`wiced_dct_get_current_address`), and where the per-unit fields and the CRC field are (for
serialize's patching).

Rules: ../shared/docs/wiced-formats.md §2.2.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import crcmod

from ..errors import InputError, hexsize
from ..formats import dct as F
from .options import DctOptions


# libraries/utilities/crc/crc.c: reflected CRC-32 (poly 0x04C11DB7), init 0xFFFFFFFF, no final XOR
_crc32_sdk: Callable[[bytes], int] = crcmod.mkCrcFun(0x104C11DB7, initCrc=0xFFFFFFFF, rev=True, xorOut=0)

HEADER_SIZE = F.platform_dct_header_t.sizeof()


def _crc_field_range() -> tuple[int, int]:
    off = F.member_offset(F.platform_dct_header_t, "crc32")
    return off, off + 4


def dct_crc(copy: bytes, copy_size: int | None = None) -> int:
    """CRC the SDK computes over a DCT copy (wiced_dct_internal_common.c `wiced_dct_check_crc_valid`).

    The range is the whole copy area (`copy_size`, default len(copy)); `copy` is padded with 0xFF (erased flash) to
    it. Only the header's crc32 field is taken as 0; write_incomplete is CRC'd as stored (the writer computes the
    CRC with it 0, and a copy with write_incomplete != 0 is invalid anyway)."""
    size = len(copy) if copy_size is None else copy_size
    if len(copy) > size:
        raise InputError(f"DCT copy is {hexsize(len(copy))}, larger than the copy area {hexsize(size)}")
    start, end = _crc_field_range()
    area = bytearray(copy) + b"\xff" * (size - len(copy))
    area[start:end] = b"\0\0\0\0"
    return _crc32_sdk(bytes(area))


@dataclass(frozen=True)
class CopyStatus:
    valid: bool
    reason: str
    sequence: int = 0
    initial_write: int = 0
    crc_ok: bool = False


def copy_status(copy: bytes, copy_number: int, copy_size: int | None = None) -> CopyStatus:
    """Is this DCT copy valid for the 3.5.2 bootloader/app (`wiced_dct_get_current_address`)?

    Valid iff write_incomplete == 0, magic == BOOTLOADER_MAGIC_NUMBER and (the CRC over the whole copy area matches
    or — copy 1 only — initial_write == 1 and crc32 == 0). Pass the whole copy area (or give copy_size)."""
    if copy_number not in (1, 2):
        raise ValueError("copy_number must be 1 or 2")
    if len(copy) < HEADER_SIZE:
        return CopyStatus(False, f"copy {copy_number}: shorter than the header ({hexsize(len(copy))})")
    hdr = F.platform_dct_header_t.parse(copy)
    crc_ok = dct_crc(copy, copy_size) == hdr.crc32
    common = dict(sequence=hdr.sequence, initial_write=hdr.initial_write, crc_ok=crc_ok)
    if hdr.write_incomplete != 0:
        return CopyStatus(False, f"copy {copy_number}: write_incomplete is {hdr.write_incomplete}", **common)
    if hdr.magic_number != F.BOOTLOADER_MAGIC_NUMBER:
        return CopyStatus(False, f"copy {copy_number}: magic 0x{hdr.magic_number:08X} is not "
                          f"0x{F.BOOTLOADER_MAGIC_NUMBER:08X}", **common)
    if copy_number == 1 and hdr.initial_write == 1 and hdr.crc32 == 0:
        return CopyStatus(True, "copy 1: initial_write 1 with crc32 0 (SDK factory DCT)", **common)
    if crc_ok:
        return CopyStatus(True, f"copy {copy_number}: CRC 0x{hdr.crc32:08X} matches", **common)
    return CopyStatus(False, f"copy {copy_number}: CRC 0x{hdr.crc32:08X} does not match "
                      f"0x{dct_crc(copy, copy_size):08X}", **common)


def choose_current(copy1: bytes, copy2: bytes, copy_size: int | None = None) -> tuple[int | None, str]:
    """Which copy the 3.5.2 code uses (wiced_dct_get_current_address): both valid -> copy 1 if its initial_write is
    1, else the higher sequence, tie -> copy 1; one valid -> that one; none -> None (the SDK then erases copy 1 and
    writes a bare header: all settings lost)."""
    s1, s2 = copy_status(copy1, 1, copy_size), copy_status(copy2, 2, copy_size)
    if s1.valid and s2.valid:
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


def set_crc(data: bytes, value: int | None, copy_size: int) -> bytes:
    """Write the header's crc32 field: `value`, or the SDK CRC over the copy padded to copy_size if None."""
    hdr = F.platform_dct_header_t.parse(data)
    hdr.crc32 = 0
    out = F.platform_dct_header_t.build(hdr) + data[HEADER_SIZE:]
    if value is None:
        value = dct_crc(out, copy_size)
    hdr.crc32 = value
    return F.platform_dct_header_t.build(hdr) + data[HEADER_SIZE:]


def dct_serial_fields(options: DctOptions) -> dict[str, tuple[int, int]]:
    """(offset within the DCT, size) of the per-unit fields: mfg_info.serial_number (char[20]) and
    wifi_config.mac_address (wiced_mac_t)."""
    off = F.section_offsets(options.include_bt, options.include_p2p, options.include_ota2)
    fields = {"mfg_info.serial_number": F.platform_dct_mfg_info_t,
              "wifi_config.mac_address": F.platform_dct_wifi_config_t}
    out = {}
    for dotted, struct in fields.items():
        section, member = dotted.split(".")
        out[dotted] = (off[section] + F.member_offset(struct, member), F.member_size(struct, member))
    return out


def dct_crc_field() -> tuple[int, int]:
    """(offset, size) of the header's crc32 field in a DCT copy."""
    start, end = _crc_field_range()
    return start, end - start

