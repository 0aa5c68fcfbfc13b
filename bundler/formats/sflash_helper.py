"""The line kit's serial-flash helper (firmware/sflash_helper/sflash_helper.h): its config block and the SDK
sflash_write mailbox header (apps/waf/sflash_write: data_config_area_t + data_transfer_area_t, wiced-formats.md
section 5). Our helper keeps the SDK's mailbox and adds `sflash_helper_config_t` at 0x20004020."""

from __future__ import annotations

from construct import Array, Int32ul, Struct

SFLASH_HELPER_CONFIG_ADDRESS = 0x20004020
SFLASH_HELPER_CONFIG_MAGIC = 0x43484653  # bytes "SFHC"
SFLASH_HELPER_CONFIG_VERSION = 1

# All fields u32 so the OpenOCD script can write them with `mww`. Ports are GPIO port base addresses.
sflash_helper_config_t = Struct(
    "magic" / Int32ul,
    "version" / Int32ul,
    "spi_base" / Int32ul,
    "spi_rcc_enr" / Int32ul,
    "spi_rcc_bit" / Int32ul,
    "gpio_af" / Int32ul,
    "sck_port" / Int32ul,
    "sck_pin" / Int32ul,
    "miso_port" / Int32ul,
    "miso_pin" / Int32ul,
    "mosi_port" / Int32ul,
    "mosi_pin" / Int32ul,
    "cs_port" / Int32ul,
    "cs_pin" / Int32ul,
    "spi_br" / Int32ul,
    "spi_mode" / Int32ul,
    "expected_jedec_id" / Int32ul,
    "chip_size" / Int32ul,
    "sector_size" / Int32ul,
    "sector_erase_opcode" / Int32ul,
    "page_size" / Int32ul,
    "flags" / Int32ul,
    "jedec_id_read" / Int32ul,
    "reserved" / Int32ul,
)
assert sflash_helper_config_t.sizeof() == 0x60

# The same block as the list of words the Tcl script writes.
config_words = Array(sflash_helper_config_t.sizeof() // 4, Int32ul)

# data_config_area_t (read by the host after loading the helper) + data_transfer_area_t header, at 0x20000000
data_config_area_t = Struct(
    "entry_point" / Int32ul,
    "stack_addr" / Int32ul,
    "data_buffer_size" / Int32ul,
)
data_transfer_area_header_t = Struct(
    "size" / Int32ul,
    "sflash_address" / Int32ul,
    "command" / Int32ul,
    "result" / Int32ul,
)  # followed by data[data_buffer_size] at 0x2000001C
