"""An STM32F2 "board" in unicorn: Cortex-M3 core, SRAM, internal flash, and Python models of RCC, GPIO and SPI
wired to a SpiNor chip. Just enough of RM0033 for a polled SPI master:

- RCC: registers are plain storage; a peripheral whose enable bit is clear ignores writes and reads 0.
- GPIO: MODER/AFR/ODR/BSRR; the chip-select line is the ODR bit when the pin is an output, else pulled high.
- SPI: CR1 (MSTR, SPE, BR, CPOL/CPHA), SR (TXE always set, RXNE after a transfer, BSY never), DR (8-bit frames).
  A byte reaches the chip only if SPI is enabled as master and SCK/MISO/MOSI are in the wiring's alternate
  function; otherwise MISO reads 0xFF (pull-up).

`Board.resume()` runs the helper until it is back in its idle loop (it reads `command` == 0 from the mailbox),
which is where a real host would see `result` change.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from elftools.elf.elffile import ELFFile
from unicorn import UC_ARCH_ARM, UC_HOOK_MEM_READ, UC_MODE_MCLASS, UC_MODE_THUMB, Uc
from unicorn.arm_const import UC_ARM_REG_PC, UC_ARM_REG_SP

from .spinor import SpiNor

SRAM_BASE, FLASH_BASE, PERIPH_BASE = 0x20000000, 0x08000000, 0x40000000
PERIPH_SIZE = 0x30000
RCC_BASE, RCC_AHB1ENR = 0x40023800, 0x40023830
GPIO_FIRST, GPIO_STRIDE = 0x40020000, 0x400
MAILBOX_COMMAND = SRAM_BASE + 0x14
# RM0033 section 2.3.3, Table 5 (main memory, 1 MiB): sector n -> (start, size), written out here on its own as the
# emulator's truth (the kit's model takes the board layout's sectors)
FLASH_SECTORS = tuple((FLASH_BASE + start, size) for start, size in (
    (0x00000, 0x4000), (0x04000, 0x4000), (0x08000, 0x4000), (0x0C000, 0x4000), (0x10000, 0x10000),
    (0x20000, 0x20000), (0x40000, 0x20000), (0x60000, 0x20000), (0x80000, 0x20000), (0xA0000, 0x20000),
    (0xC0000, 0x20000), (0xE0000, 0x20000)))


@dataclass(frozen=True)
class Wiring:
    """How the serial flash is really connected on the emulated board (the truth the helper config must match)."""

    spi_base: int = 0x40013000          # SPI1
    spi_rcc_enr: int = 0x40023844       # RCC_APB2ENR
    spi_rcc_bit: int = 12
    gpio_af: int = 5
    sck: tuple[int, int] = (0x40020000, 5)    # PA5
    miso: tuple[int, int] = (0x40020000, 6)   # PA6
    mosi: tuple[int, int] = (0x40020000, 7)   # PA7
    cs: tuple[int, int] = (0x40020000, 4)     # PA4


class HelperStuck(AssertionError):
    pass


class Board:
    def __init__(self, nor: SpiNor, wiring: Wiring = Wiring(), *, sram_size: int = 0x20000,
                 flash_size: int = 0x100000) -> None:
        self.nor, self.wiring = nor, wiring
        self.uc = Uc(UC_ARCH_ARM, UC_MODE_THUMB | UC_MODE_MCLASS)
        self.uc.mem_map(SRAM_BASE, sram_size)
        self.uc.mem_map(FLASH_BASE, flash_size)
        self.uc.mem_write(FLASH_BASE, b"\xff" * flash_size)
        self.regs: dict[int, int] = {}
        self.spi_rx: int | None = None
        self.cs_level = 1
        self.spi_bytes = 0
        self._pins_ok: bool | None = None   # SCK/MISO/MOSI in the wiring's alternate function (cleared on GPIO writes)
        self.uc.mmio_map(PERIPH_BASE, PERIPH_SIZE, self._mmio_read, None, self._mmio_write, None)
        self.uc.hook_add(UC_HOOK_MEM_READ, self._on_command_read, begin=MAILBOX_COMMAND, end=MAILBOX_COMMAND + 3)
        self.pc: int | None = None
        self.idle = False

    # ---- host-side memory access (what OpenOCD does over JTAG while the core is halted) ----
    def read(self, addr: int, n: int) -> bytes:
        return bytes(self.uc.mem_read(addr, n))

    def write(self, addr: int, data: bytes) -> None:
        self.uc.mem_write(addr, bytes(data))

    def read32(self, addr: int) -> int:
        return int.from_bytes(self.read(addr, 4), "little")

    def write32(self, addr: int, value: int) -> None:
        self.write(addr, (value & 0xFFFFFFFF).to_bytes(4, "little"))

    def load_elf(self, path: Path) -> int:
        """Like OpenOCD `load_image file.elf`: write each PT_LOAD segment's file bytes at its physical address.
        Returns the bytes written."""
        n = 0
        with open(path, "rb") as fh:
            for seg in ELFFile(fh).iter_segments():
                if seg["p_type"] == "PT_LOAD" and seg["p_filesz"]:
                    self.write(seg["p_paddr"], seg.data())
                    n += len(seg.data())
        return n

    def set_pc(self, addr: int) -> None:
        self.pc = addr

    def resume(self, max_instructions: int = 400_000_000) -> None:
        """Run until the helper idles waiting for a command."""
        if self.pc is None:
            raise HelperStuck("resume before the PC was set")
        self.idle = False
        self.uc.emu_start(self.pc | 1, 0xFFFFFFFF, count=max_instructions)
        self.pc = self.uc.reg_read(UC_ARM_REG_PC)
        if not self.idle:
            raise HelperStuck(f"helper did not return to its idle loop (pc={self.pc:#010x})")

    def sp(self) -> int:
        return self.uc.reg_read(UC_ARM_REG_SP)

    def _on_command_read(self, uc: Uc, access: int, address: int, size: int, value: int, user: object) -> None:
        if int.from_bytes(uc.mem_read(MAILBOX_COMMAND, 4), "little") == 0:
            self.idle = True
            uc.emu_stop()

    # ---- peripherals ----
    def _reg(self, addr: int) -> int:
        return self.regs.get(addr, 0)

    def _clock_on(self, addr: int) -> bool:
        w = self.wiring
        if w.spi_base <= addr < w.spi_base + 0x400:
            return bool(self._reg(w.spi_rcc_enr) >> w.spi_rcc_bit & 1)
        if GPIO_FIRST <= addr < GPIO_FIRST + 9 * GPIO_STRIDE:
            return bool(self._reg(RCC_AHB1ENR) >> ((addr - GPIO_FIRST) // GPIO_STRIDE) & 1)
        return True

    def _mmio_read(self, uc: Uc, offset: int, size: int, user: object) -> int:
        addr = PERIPH_BASE + offset
        if not self._clock_on(addr):
            return 0
        w = self.wiring
        if addr == w.spi_base + 0x08:                            # SR: TXE always, RXNE when a byte arrived
            return 0x02 | (1 if self.spi_rx is not None else 0)
        if addr == w.spi_base + 0x0C:                            # DR
            value, self.spi_rx = (self.spi_rx or 0), None
            return value
        return self._reg(addr) >> (8 * (addr & 3)) if size < 4 else self._reg(addr)

    def _mmio_write(self, uc: Uc, offset: int, size: int, value: int, user: object) -> None:
        addr = PERIPH_BASE + offset
        if not self._clock_on(addr):
            return
        w = self.wiring
        if GPIO_FIRST <= addr < GPIO_FIRST + 9 * GPIO_STRIDE and (addr - GPIO_FIRST) % GPIO_STRIDE == 0x18:
            port = addr - 0x18                                   # BSRR: set low half, reset high half
            odr = self._reg(port + 0x14)
            odr = (odr | (value & 0xFFFF)) & ~(value >> 16)
            self.regs[port + 0x14] = odr
            self._update_cs()
            return
        if addr == w.spi_base + 0x0C:
            self._spi_transfer(value & 0xFF)
            return
        self.regs[addr] = value
        if GPIO_FIRST <= addr < GPIO_FIRST + 9 * GPIO_STRIDE:
            self._pins_ok = None
            self._update_cs()

    def _pin_mode(self, port: int, pin: int) -> int:
        return self._reg(port) >> (2 * pin) & 3

    def _pin_af(self, port: int, pin: int) -> int:
        return self._reg(port + 0x20 + 4 * (pin >> 3)) >> (4 * (pin & 7)) & 0xF

    def _update_cs(self) -> None:
        port, pin = self.wiring.cs
        level = (self._reg(port + 0x14) >> pin & 1) if self._pin_mode(port, pin) == 1 else 1
        if level != self.cs_level:
            self.cs_level = level
            self.nor.select() if level == 0 else self.nor.deselect()

    def _spi_transfer(self, mosi: int) -> None:
        w = self.wiring
        cr1 = self._reg(w.spi_base)
        if self._pins_ok is None:
            self._pins_ok = all(self._pin_mode(p, n) == 2 and self._pin_af(p, n) == w.gpio_af
                                for p, n in (w.sck, w.miso, w.mosi))
        if cr1 & 0x44 == 0x44 and self._pins_ok:                      # SPE and MSTR
            self.spi_rx = self.nor.xfer(mosi)
            self.spi_bytes += 1
        else:
            self.spi_rx = 0xFF
