"""A JEDEC SPI NOR flash chip, byte by byte as seen on the bus (independent model for the helper tests).

Behaviour modelled: RDID 0x9F, READ 0x03 (continuous, wraps at the chip end), RDSR 0x05 (WIP busy for a few polls
after program/erase, WEL), WREN 0x06 / WRDI 0x04 latch (cleared when a program/erase/WRSR completes), PP 0x02
(wraps inside its 256-byte page, only clears bits, ignored without WEL), SE 0x20 (4 KiB), chip erase 0x60/0xC7,
WRSR 0x01 (block-protect bits: any BP bit set makes the chip ignore program/erase). Commands sent while busy are
ignored (only RDSR answers).
"""

from __future__ import annotations


class SpiNor:
    def __init__(self, size: int, jedec_id: int, *, page_size: int = 256, sector_size: int = 4096,
                 busy_polls: int = 2, status: int = 0) -> None:
        self.size, self.jedec_id = size, jedec_id
        self.page_size, self.sector_size = page_size, sector_size
        self.busy_polls = busy_polls
        self.mem = bytearray(b"\xff" * size)
        self.wel = False
        self.bp = status & 0x3C
        self.busy = 0          # RDSR polls left with WIP set
        self.selected = False
        self.cmd: list[int] = []
        self.out: list[int] = []
        # statistics for tests
        self.page_programs = 0
        self.sector_erases = 0
        self.chip_erases = 0
        self.read_bytes = 0    # data bytes READ (0x03) returned
        self.ignored: list[str] = []

    # ---- bus ----
    def select(self) -> None:
        self.selected = True
        self.cmd = []
        self.read_addr = None

    def deselect(self) -> None:
        if self.selected and self.cmd:
            self._finish(self.cmd)
        self.selected = False
        self.cmd = []

    def xfer(self, mosi: int) -> int:
        if not self.selected:
            return 0xFF
        self.cmd.append(mosi)
        op = self.cmd[0]
        n = len(self.cmd)
        if op == 0x05:                       # RDSR
            if n == 1:
                return 0xFF
            status = self.bp | (0x02 if self.wel else 0) | (0x01 if self.busy else 0)
            if self.busy:
                self.busy -= 1
            return status
        if self.busy:
            return 0xFF
        if op == 0x9F:                       # RDID
            idb = self.jedec_id.to_bytes(3, "big")
            return idb[n - 2] if 2 <= n <= 4 else 0xFF
        if op == 0x03:                       # READ
            if n <= 4:
                return 0xFF
            addr = int.from_bytes(bytes(self.cmd[1:4]), "big")
            self.read_bytes += 1
            return self.mem[(addr + n - 5) % self.size]
        return 0xFF

    # ---- command completion at CS rising edge ----
    def _finish(self, cmd: list[int]) -> None:
        op = cmd[0]
        if self.busy and op != 0x05:
            self.ignored.append(f"busy:{op:#04x}")
            return
        if op == 0x06:
            self.wel = True
        elif op == 0x04:
            self.wel = False
        elif op == 0x01 and len(cmd) >= 2:
            if self.wel:
                self.bp = cmd[1] & 0x3C
                self._done()
        elif op == 0x02 and len(cmd) >= 5:
            if not self._may_modify(op):
                return
            addr = int.from_bytes(bytes(cmd[1:4]), "big") % self.size
            data = cmd[4:][-self.page_size:]
            page = addr - addr % self.page_size
            for i, b in enumerate(data):
                a = page + (addr - page + i) % self.page_size
                self.mem[a] &= b
            self.page_programs += 1
            self._done()
        elif op == 0x20 and len(cmd) == 4:
            if not self._may_modify(op):
                return
            addr = int.from_bytes(bytes(cmd[1:4]), "big") % self.size
            start = addr - addr % self.sector_size
            self.mem[start:start + self.sector_size] = b"\xff" * self.sector_size
            self.sector_erases += 1
            self._done()
        elif op in (0x60, 0xC7) and len(cmd) == 1:
            if not self._may_modify(op):
                return
            self.mem[:] = b"\xff" * self.size
            self.chip_erases += 1
            self._done()

    def _may_modify(self, op: int) -> bool:
        if not self.wel:
            self.ignored.append(f"no-wel:{op:#04x}")
            return False
        if self.bp:
            self.ignored.append(f"protected:{op:#04x}")
            self.wel = False
            return False
        return True

    def _done(self) -> None:
        self.wel = False
        self.busy = self.busy_polls
