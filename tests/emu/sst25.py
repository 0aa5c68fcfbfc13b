"""An SST25VF080B (Microchip/SST 8 Mbit SPI serial flash), byte by byte as seen on the bus.

The second part the BCM943362WCD4 layout lists (`compatible_chips`); which of the two the board really carries is
UNCONFIRMED. Where it differs from the Macronix-like SpiNor model, and where each rule comes from:

- RDID 0x9F answers BF 25 8E (SDK spi_flash_internal.h SFLASH_ID_SST25VF080B = 0xBF258E; manufacturer 0xBF =
  SFLASH_MANUFACTURER_SST).
- Power-up status has block protection set, so program/erase are ignored until the BP bits are cleared. SST25VF020B
  data sheet (DS20005054C, "Software Status Register" table): BP0/BP1 default 1 at power-up, BPL 0, AAI 0; the
  8 Mbit F25L008A (an SST-compatible part) documents BP2=BP1=BP0=1 at power-on. The SST25VF080B's own table was not
  found in the searchable text: 0x1C (BP0..BP2) is the model's power-up value, BP3 (bit 5) left 0. Simplification:
  any BP bit set protects the whole array (the helper only ever writes 0).
- EWSR 0x50 "arms" WRSR 0x01 for the very next command only; WREN also enables WRSR (SST25VF040B data sheet
  DS25051A, "Enable-Write-Status-Register" / "Write-Status-Register", and its figure for "EWSR or WREN and WRSR").
  `strict_ewsr=True` accepts WRSR only right after EWSR: what the WICED SDK assumes (spi_flash.c
  sflash_write_status_register sends SFLASH_ENABLE_WRITE_STATUS_REGISTER before every WRSR on SST parts).
  WRSR writes BP0..BP3 and BPL (bits 2..5, 7); WP# is modelled high, so BPL does not lock anything.
- Byte-Program 0x02 programs ONE byte: opcode, 3 address bytes, one data byte, then CE# high (SST25VF020B/
  SST25PF020B "Byte-Program" section and sequence figure). What the chip does with further data bytes before CE#
  goes high is not stated there (the "only the first byte, the rest ignored" wording is Atmel's AT26F004 data
  sheet): `byte_program_keeps` picks "first" (default) or "last", so tests can check the helper fails either way.
  The SDK programs SST parts one byte per command (spi_flash.c sflash_write: max_write_size = 1, WREN before each).
- AAI word program 0xAD exists but neither the SDK driver nor the helper uses it: not modelled (ignored).
- WREN 0x06 / WRDI 0x04, RDSR 0x05 (BUSY bit 0, WEL bit 1; "during an internal Erase or Program operation, the
  status register may be read only"), READ 0x03, 4 KiB sector erase 0x20, 32/64 KiB block erase 0x52/0xD8, chip
  erase 0x60/0xC7 (ignored while any block is protected). WEL clears when a program/erase/WRSR completes.
"""

from __future__ import annotations

from .spinor import SpiNor

SST25VF080B_ID = 0xBF258E
SR_BP = 0x3C        # BP0..BP3
SR_BPL = 0x80
EWSR, WRSR, BYTE_PROGRAM = 0x50, 0x01, 0x02


class Sst25vf080b(SpiNor):
    def __init__(self, *, status: int = 0x1C, strict_ewsr: bool = False, byte_program_keeps: str = "first",
                 busy_polls: int = 2) -> None:
        super().__init__(0x100000, SST25VF080B_ID, page_size=1, busy_polls=busy_polls, status=status)
        if byte_program_keeps not in ("first", "last"):
            raise ValueError(byte_program_keeps)
        self.bpl = status & SR_BPL
        self.strict_ewsr, self.keeps = strict_ewsr, byte_program_keeps
        self.wrsr_armed = False     # EWSR was the last command
        self.log: list[int] = []    # opcodes of completed commands, in order (RDSR left out)

    def xfer(self, mosi: int) -> int:
        out = super().xfer(mosi)
        if self.selected and len(self.cmd) > 1 and self.cmd[0] == 0x05:
            out |= self.bpl                       # SpiNor's status has no BPL bit
        return out

    def _finish(self, cmd: list[int]) -> None:
        op = cmd[0]
        armed, self.wrsr_armed = self.wrsr_armed, False   # EWSR arms the next command only
        if op != 0x05:
            self.log.append(op)
        if self.busy and op != 0x05:
            self.ignored.append(f"busy:{op:#04x}")
            return
        if op == EWSR:
            self.wrsr_armed = True
        elif op == WRSR and len(cmd) >= 2:
            if armed or (self.wel and not self.strict_ewsr):
                self.bp, self.bpl = cmd[1] & SR_BP, cmd[1] & SR_BPL
                self.wel = False
            else:
                self.ignored.append("not-enabled:0x01")
        elif op == BYTE_PROGRAM and len(cmd) >= 5:
            if not self._may_modify(op):
                return
            addr = int.from_bytes(bytes(cmd[1:4]), "big") % self.size
            self.mem[addr] &= cmd[4] if self.keeps == "first" else cmd[-1]
            self.page_programs += 1
            self._done()
        elif op in (0x52, 0xD8) and len(cmd) == 4:
            if not self._may_modify(op):
                return
            block = 0x8000 if op == 0x52 else 0x10000
            start = int.from_bytes(bytes(cmd[1:4]), "big") % self.size // block * block
            self.mem[start:start + block] = b"\xff" * block
            self.sector_erases += 1
            self._done()
        else:
            super()._finish(cmd)
