"""The host side of the sflash_write mailbox protocol, in Python, for driving the emulated board directly.

Same steps as the SDK's sflash_write.tcl (wiced-formats.md section 5): load the ELF, read entry/stack/buffer size
from 0x20000000, point the PC at the entry, resume; per command: halt, fill the data buffer, write size and
address, result = 0xFFFFFFFF, write the command, resume, poll result.
"""

from __future__ import annotations

import struct
from pathlib import Path

from .stm32 import Board, Wiring

RAM = 0x20000000
SIZE_LOC, ADDR_LOC, CMD_LOC, RESULT_LOC, DATA_LOC = RAM + 0x0C, RAM + 0x10, RAM + 0x14, RAM + 0x18, RAM + 0x1C
CONFIG_LOC = 0x20004020
BUSY = 0xFFFFFFFF

# Field order of sflash_helper_config_t (firmware/sflash_helper/sflash_helper.h), written by hand here as an
# independent oracle for bundler/formats/sflash_helper.py's Construct declaration.
CONFIG_FIELDS = (
    "magic", "version", "spi_base", "spi_rcc_enr", "spi_rcc_bit", "gpio_af", "sck_port", "sck_pin", "miso_port",
    "miso_pin", "mosi_port", "mosi_pin", "cs_port", "cs_pin", "spi_br", "spi_mode", "expected_jedec_id",
    "chip_size", "sector_size", "sector_erase_opcode", "page_size", "flags", "jedec_id_read", "reserved",
)


def config_for(wiring: Wiring, *, jedec_id: int, chip_size: int, flags: int = 0, **overrides: int) -> bytes:
    values = {
        "magic": 0x43484653, "version": 1, "spi_base": wiring.spi_base, "spi_rcc_enr": wiring.spi_rcc_enr,
        "spi_rcc_bit": wiring.spi_rcc_bit, "gpio_af": wiring.gpio_af,
        "sck_port": wiring.sck[0], "sck_pin": wiring.sck[1], "miso_port": wiring.miso[0], "miso_pin": wiring.miso[1],
        "mosi_port": wiring.mosi[0], "mosi_pin": wiring.mosi[1], "cs_port": wiring.cs[0], "cs_pin": wiring.cs[1],
        "spi_br": 1, "spi_mode": 3, "expected_jedec_id": jedec_id, "chip_size": chip_size, "sector_size": 4096,
        "sector_erase_opcode": 0x20, "page_size": 256, "flags": flags, "jedec_id_read": 0, "reserved": 0,
    }
    values.update(overrides)
    return struct.pack("<24I", *(values[k] for k in CONFIG_FIELDS))


class Host:
    def __init__(self, board: Board, helper: Path, config: bytes | None) -> None:
        self.board = board
        board.load_elf(helper)
        self.entry = board.read32(RAM)
        self.stack = board.read32(RAM + 4)
        self.buffer_size = board.read32(RAM + 8)
        if config is not None:
            board.write(CONFIG_LOC, config)
        board.set_pc(self.entry)
        board.resume()

    def command(self, cmd: int, address: int = 0, data: bytes = b"", size: int | None = None) -> int:
        b = self.board
        if data:
            b.write(DATA_LOC, data)
        b.write32(SIZE_LOC, len(data) if size is None else size)
        b.write32(ADDR_LOC, address)
        b.write32(RESULT_LOC, BUSY)
        b.write32(CMD_LOC, cmd)
        b.resume()
        return b.read32(RESULT_LOC)

    def data(self, n: int) -> bytes:
        return self.board.read(DATA_LOC, n)
