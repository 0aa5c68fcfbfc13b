"""The RAM helper sflash_helper.elf: the board's serial-flash wiring ([sflash.spi]) validated and patched into its
config block (sflash_helper_config_t), the packaged build checked against its pin, and the mailbox chunking of
an SFLASH image (the WICED sflash_write protocol, wiced-formats.md section 5)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Mapping

from ..errors import ConfigError, InputError, VerificationError, hexsize
from ..formats.sflash_helper import (
    SFLASH_HELPER_CONFIG_ADDRESS,
    SFLASH_HELPER_CONFIG_MAGIC,
    SFLASH_HELPER_CONFIG_VERSION,
    sflash_helper_config_t,
)
from ..inputs import MAX_INPUT_BYTES, MAX_KEY_BYTES, read_file

HELPER_NAME = "sflash_helper.elf"
HELPER_CONFIG_SECTION = ".helper_config"
HELPER_BUFFER_SIZE = 16384        # data_buffer_size of the SDK helper and ours (STM32F2xx)
HELPER_MAX_SECTOR = 4096
FLAG_UNPROTECT = 0x1


# [sflash.spi] keys: (required, kind). Pins are "P<port letter><pin>", e.g. "PA5".
SPI_KEYS: dict[str, tuple[bool, type]] = {
    "spi_base": (True, int),             # SPI peripheral base address (SPI1 0x40013000)
    "rcc_enable_register": (True, int),  # RCC register with the SPI clock enable (SPI1: RCC_APB2ENR 0x40023844)
    "rcc_enable_bit": (True, int),       # bit in it (SPI1EN = 12)
    "gpio_port_base": (True, int),       # GPIOA base; port n is at gpio_port_base + n * gpio_port_stride
    "gpio_port_stride": (True, int),
    "gpio_af": (True, int),              # alternate function of SCK/MISO/MOSI (AF5 = SPI1/SPI2)
    "sck": (True, str),
    "miso": (True, str),
    "mosi": (True, str),
    "cs": (True, str),                   # chip select, driven as a GPIO output (active low)
    "prescaler": (True, int),            # SPI_CR1.BR 0..7: SCK = PCLK / 2^(BR+1)
    "mode": (True, int),                 # SPI mode 0..3 (CPOL << 1 | CPHA)
    "sector_erase_opcode": (False, int),  # default 0x20 (4 KiB sector erase)
    "page_size": (False, int),           # default 256 (1 = byte program)
    "unprotect": (False, bool),          # default false: clear block-protect bits before writing
}

_PIN = re.compile(r"^P([A-I])([0-9]|1[0-5])$")


def spi_settings(spi: Mapping[str, Any], where: str | Path = "[sflash.spi]") -> dict[str, Any]:
    """Validate a board's raw `[sflash.spi]` table; return it with defaults filled in."""
    out: dict[str, Any] = {"sector_erase_opcode": 0x20, "page_size": 256, "unprotect": False}
    if not spi:
        raise ConfigError("board layout has no [sflash.spi] table (serial-flash wiring for the line kit)", where)
    for key in spi:
        if key not in SPI_KEYS:
            raise ConfigError(f"[sflash.spi] unknown key {key!r} (known: {', '.join(SPI_KEYS)})", where)
    for key, (required, kind) in SPI_KEYS.items():
        if key not in spi:
            if required:
                raise ConfigError(f"[sflash.spi] {key}: missing", where)
            continue
        value = spi[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise ConfigError(f"[sflash.spi] {key}: expected {kind.__name__}, got {value!r}", where)
        out[key] = value
    for key in ("sck", "miso", "mosi", "cs"):
        if not _PIN.match(out[key]):
            raise ConfigError(f"[sflash.spi] {key}: expected a pin like \"PA5\", got {out[key]!r}", where)
    limits = {"prescaler": 7, "mode": 3, "gpio_af": 15, "rcc_enable_bit": 31, "sector_erase_opcode": 0xFF}
    for key, top in limits.items():
        if not 0 <= out[key] <= top:
            raise ConfigError(f"[sflash.spi] {key}: must be 0..{top}, got {out[key]}", where)
    if out["page_size"] not in (1, 2, 4, 8, 16, 32, 64, 128, 256):
        raise ConfigError(f"[sflash.spi] page_size: expected a power of two <= 256, got {out['page_size']}", where)
    return out


def _pin(spi: Mapping[str, Any], key: str) -> tuple[int, int]:
    m = _PIN.match(spi[key])
    assert m is not None
    port = spi["gpio_port_base"] + (ord(m.group(1)) - ord("A")) * spi["gpio_port_stride"]
    return port, int(m.group(2))


def helper_config(spi: Mapping[str, Any], jedec_id: int, chip_size: int, sector_size: int) -> bytes:
    """The helper's config block for this board and chip (sflash_helper_config_t)."""
    if sector_size <= 0 or sector_size > HELPER_MAX_SECTOR or sector_size & (sector_size - 1):
        raise ConfigError(f"chip sector size {hexsize(sector_size)}: the helper needs a power of two <= 4096")
    pins = {k: _pin(spi, k) for k in ("sck", "miso", "mosi", "cs")}
    return sflash_helper_config_t.build({
        "magic": SFLASH_HELPER_CONFIG_MAGIC, "version": SFLASH_HELPER_CONFIG_VERSION,
        "spi_base": spi["spi_base"], "spi_rcc_enr": spi["rcc_enable_register"], "spi_rcc_bit": spi["rcc_enable_bit"],
        "gpio_af": spi["gpio_af"],
        "sck_port": pins["sck"][0], "sck_pin": pins["sck"][1], "miso_port": pins["miso"][0],
        "miso_pin": pins["miso"][1], "mosi_port": pins["mosi"][0], "mosi_pin": pins["mosi"][1],
        "cs_port": pins["cs"][0], "cs_pin": pins["cs"][1],
        "spi_br": spi["prescaler"], "spi_mode": spi["mode"], "expected_jedec_id": jedec_id, "chip_size": chip_size,
        "sector_size": sector_size, "sector_erase_opcode": spi["sector_erase_opcode"], "page_size": spi["page_size"],
        "flags": FLAG_UNPROTECT if spi["unprotect"] else 0, "jedec_id_read": 0, "reserved": 0,
    })


def config_section(elf_bytes: bytes, path: Path) -> tuple[int, int] | None:
    """(file offset, size) of the helper's config section, or None for a helper without one (the SDK's)."""
    import io

    from elftools.common.exceptions import ELFError
    from elftools.elf.elffile import ELFFile

    try:
        elf = ELFFile(io.BytesIO(elf_bytes))
        section = elf.get_section_by_name(HELPER_CONFIG_SECTION)
        if elf["e_machine"] != "EM_ARM":
            raise InputError(f"not an ARM ELF ({elf['e_machine']})", path)
        if elf.get_section_by_name(".data_config") is None and elf.get_segment(0)["p_paddr"] != 0x20000000:
            raise InputError("no .data_config at 0x20000000: not an sflash_write helper", path)
    except ELFError as exc:
        raise InputError(f"not an ELF file: {exc}", path) from None
    if section is None or section.header["sh_type"] != "SHT_PROGBITS":
        return None
    offset, size = section["sh_offset"], section["sh_size"]
    if size < sflash_helper_config_t.sizeof() or section["sh_addr"] != SFLASH_HELPER_CONFIG_ADDRESS:
        raise InputError(f"{HELPER_CONFIG_SECTION}: expected {hexsize(sflash_helper_config_t.sizeof())} at "
                         f"0x{SFLASH_HELPER_CONFIG_ADDRESS:08X}", path)
    current = sflash_helper_config_t.parse(section.data())
    return (offset, size) if current.magic == SFLASH_HELPER_CONFIG_MAGIC else None


def patch_helper(elf_bytes: bytes, config: bytes, path: Path) -> tuple[bytes, bool]:
    """Write `config` into the helper's config section. Returns (ELF, True) for our helper, (unchanged, False)
    for a helper without the section (an SDK sflash_write build: the Tcl script then skips our extensions)."""
    where = config_section(elf_bytes, path)
    if where is None:
        return elf_bytes, False
    offset, _ = where
    out = bytearray(elf_bytes)
    out[offset:offset + len(config)] = config
    return bytes(out), True



def builtin_helper(path: Path) -> bytes:
    """The packaged helper, refused unless it is the build `firmware/sflash_helper/build.sh` pinned (its SHA-256
    in sflash_helper.elf.sha256, written by that script)."""
    data, source = read_file(path)
    pin_path = path.with_name(path.name + ".sha256")
    pin, _ = read_file(pin_path, max_size=MAX_KEY_BYTES)
    expected = pin.decode("ascii", "replace").split(" ", 1)[0].strip()
    if source.sha256 != expected:
        raise VerificationError(f"SHA-256 {source.sha256}, {pin_path.name} says {expected}: the installed helper "
                                "was changed; reinstall bundle", path)
    return data



def uses_sdk_helper(helper: Path) -> bool:
    """True when `helper` has no bundle config block (an SDK sflash_write build)."""
    data, _ = read_file(Path(helper), max_size=MAX_INPUT_BYTES)
    return config_section(data, Path(helper)) is None
