"""Where the per-unit bytes are: the DCT's `mfg_info.serial_number` (char[20]) and `wifi_config.mac_address`
(wiced_mac_t) - and, with `[dct] crc = "computed"`, the stored CRC (3.5.2: the header's `crc32`, 3.7.0:
`platform_dct_version_t.crc32`; 3.1.1 - 3.4.0 have none) - in BOTH places the DCT is stored: DCT copy 1 in the MCU
image and the DCT image component in SFLASH (LUT entry DCT_DCT_IMAGE_INDEX -> its ELF's one loadable segment). Both
are found in the built images and checked there; every DCT offset serialize uses is here, at the offsets of the
layout's DCT generation (bundler.dct.copies)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError, VerificationError

if TYPE_CHECKING:
    from ..build import Bundle
    from ..dct.options import DctOptions

SERIAL_FIELD, MAC_FIELD, CRC_FIELD = "mfg_info.serial_number", "wifi_config.mac_address", "header.crc32"
VERSION_CRC_FIELD = "dct_version.crc32"  # 3.7.0: the CRC is in platform_dct_version_t
CRC_FIELDS = (CRC_FIELD, VERSION_CRC_FIELD)


@dataclass(frozen=True)
class PatchRange:
    """Bytes that differ per unit: `address` is the bus address (MCU) or chip address (SFLASH), `offset` from the
    start of `file`; `dct_offset` where they are in the DCT."""

    name: str
    file: str
    address: int
    offset: int
    size: int
    dct_offset: int

    def manifest_entry(self) -> dict[str, Any]:
        return {"name": self.name, "file": self.file, "address": self.address, "offset": self.offset,
                "size": self.size}

    @property
    def column(self) -> str:
        """units.csv column holding this range's bytes (hex): file, address and field."""
        return f"{self.file}@0x{self.address:08X}:{self.name}"


@dataclass(frozen=True)
class DctPlace:
    """One stored DCT: the artefact it is in, its bytes, whether its CRC is recomputed per unit, its ranges."""

    file: str
    dct: bytes
    recompute_crc: bool
    ranges: tuple[PatchRange, ...]
    sectors: tuple[int, int]  # (offset in the artefact, size) of the flash sectors holding this DCT


def serial_field_size(options: DctOptions) -> int:
    """N of `mfg_info.serial_number` char[N] in this DCT layout (a serial must fit with its NUL)."""
    from ..dct.copies import dct_serial_fields

    return dct_serial_fields(options)[SERIAL_FIELD][1]


def _crc_kind(dct: bytes, where: str, options: DctOptions) -> bool:
    """True when this DCT carries a real CRC (to recompute per unit); False for the SDK factory form and for a
    generation without a CRC."""
    from ..dct.copies import dct_crc, factory_form, stored_crc

    gen = options.generation
    stored = stored_crc(dct, gen)
    if stored is None or factory_form(dct, gen):
        return False
    if stored == dct_crc(dct, options.copy_size, gen):
        return True
    raise ConfigError(f"{where}: the DCT's crc32 0x{stored:08X} is neither 0 with initial_write 1 (crc = \"sdk\") "
                      "nor its CRC (crc = \"computed\"); a fixed [dct] crc value cannot be serialized")


def find_places(bundle: Bundle, options: DctOptions) -> list[DctPlace]:
    """The DCT in the MCU image (copy 1) and in SFLASH (the DCT image component), each checked in the built bytes."""
    from ..build import MCU_BIN, SFLASH_BIN
    from ..dct.copies import crc_field, dct_serial_fields
    from ..dct.locate import find_dct_in_sflash

    board = bundle.project.board
    fields = dct_serial_fields(options)
    crc_at = crc_field(options.generation)  # None: a generation without a CRC (recompute is then never True)
    crc_name = VERSION_CRC_FIELD if options.generation.copy_rule == "version_crc" else CRC_FIELD

    def ranges(file: str, recompute: bool, locate: Callable[[int, int], tuple[int, int]]) -> tuple[PatchRange, ...]:
        wanted = [(SERIAL_FIELD, *fields[SERIAL_FIELD]), (MAC_FIELD, *fields[MAC_FIELD])]
        if recompute and crc_at is not None:
            wanted.append((crc_name, *crc_at))
        found = (PatchRange(name, file, *locate(off, size), size, off) for name, off, size in wanted)
        return tuple(sorted(found, key=lambda r: r.address))

    mcu = bundle.mcu
    dct1 = board.mcu.region(board.dct.copies[0])
    start = dct1.start - mcu.base_address
    if mcu.read(start, start + len(bundle.dct)) != bundle.dct:
        raise VerificationError(f"{MCU_BIN}: DCT copy 1 at 0x{dct1.start:08X} does not hold the built DCT")
    recompute = _crc_kind(bundle.dct, f"{MCU_BIN} DCT copy 1", options)
    places = [DctPlace(MCU_BIN, bundle.dct, recompute,
                       ranges(MCU_BIN, recompute, lambda off, size: (dct1.start + off, start + off)),
                       (start, dct1.size))]

    if "dct_image" in bundle.project.sflash:
        sflash = bundle.sflash
        found = find_dct_in_sflash(sflash.tobytes(), board.sflash.apps_lut_header_loc, board.sflash.sector_size)
        recompute = _crc_kind(found.data, f"{SFLASH_BIN} DCT image", options)

        def at(off: int, size: int) -> tuple[int, int]:
            image_off = found.image_offset(off, size)
            return sflash.base_address + image_off, image_off

        places.append(DctPlace(SFLASH_BIN, found.data, recompute, ranges(SFLASH_BIN, recompute, at),
                               found.sector_range))
    return places
