"""Seconds per board for the line kit (issue 21, point 4): what the kit's command stream does, counted from its
write plan (bundler/writeplan.py), times documented per-operation figures.

`count_board` follows sflash_kit.tcl operation by operation, on a board that is blank where the image is (a new
board): each MCU `erase` erases the STM32F2 sectors it covers (`flash erase_address pad`), each `write` file is
programmed in halfwords (the stm32f2x loader uses PSIZE x16) and sent over the debug adapter, each `blank` sector is
one helper CRC-32 command; the helper ELF, its config words, each SFLASH buffer and the mailbox words (`mww`) go
over the adapter; the helper erases every sector of a `sector` operation, reads every sector of a `blank` one (and
finds it blank), programs page by page skipping pages of 0xFF (sflash_helper.c flash_program), reads each written
range back (post-write verify) and CRCs both images. A serialized kit adds its unit's bytes (`flash fillh`/`fillb`,
`mwb`). The emulator (tests/emu) counts the same things on its own and must agree.

`estimate` turns the counts into seconds per phase with the board's [mcu.timing] and the chip's [chip.timing]
(layouts/, typical values, each cited there) and the adapter figures below.
"""

from __future__ import annotations

import io
import zlib
from dataclasses import dataclass
from typing import Sequence

from .layout import Timing, mcu_erase_key
from .writeplan import Op

MAILBOX_WRITES = 4          # size, address, result, command: kit_command's mww per helper command
CONFIG_WORDS = 24           # sflash_helper_config_t, written word by word by kit_write_config
HSI_HZ = 16e6               # the helper runs on the reset clock: HSI 16 MHz, APB2 undivided (RM0033 RCC)
HELPER_CRC_BYTES_PER_S = HSI_HZ / 8  # CRC-32 table loop, ~8 cycles per byte (assumed)


@dataclass(frozen=True)
class Figure:
    value: float
    source: str


@dataclass(frozen=True)
class Adapter:
    clock_hz: Figure          # debug clock OpenOCD uses
    cycles_per_word: Figure   # wire cycles per 32-bit memory-access write (no USB/driver overhead: a lower bound)


# target/stm32f2x.cfg sets `adapter speed 1000` (JTAG/SWD <= F_CPU/6, 8 MHz HSI... after reset): every adapter runs
# at 1 MHz. ARM IHI0031 (ADIv5): an SWD write is 8 request + 1 turnaround + 3 ACK + 1 turnaround + 33 data/parity
# = 46 cycles; a JTAG-DP APACC scan is 35 bits plus ~5 TAP state moves = 40.
_CLOCK = Figure(1e6, "OpenOCD target/stm32f2x.cfg: adapter speed 1000 (kHz)")
ADAPTER_TIMING: dict[str, Adapter] = {
    "stlink": Adapter(_CLOCK, Figure(46, "ARM IHI0031 SWD write packet")),
    "olimex-arm-usb-ocd-h": Adapter(_CLOCK, Figure(40, "ARM IHI0031 JTAG-DP APACC scan + TAP moves")),
    "ftdi": Adapter(_CLOCK, Figure(40, "ARM IHI0031 JTAG-DP APACC scan + TAP moves")),
    "jlink": Adapter(_CLOCK, Figure(40, "ARM IHI0031 JTAG-DP APACC scan + TAP moves")),
}
CONNECT = Figure(0.5, "assumed: OpenOCD start, init, reset halt (no datasheet figure; measure on the line)")

PHASES = ("connect", "MCU erase", "MCU program", "transfer", "SFLASH erase", "SFLASH program", "verify")


@dataclass(frozen=True)
class KitImage:
    """One image as the kit writes it: `data` is what the board ends with (a serialized kit: one unit's bytes in
    its per-unit ranges `unit_ranges`, (offset, size), which the kit adds after/into the image)."""

    kind: str                 # "mcu" | "sflash"
    base: int
    data: bytes
    ops: tuple[Op, ...]
    unit_ranges: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class BoardCounts:
    """What one board's run does, as counted from the kit's plan (and as the emulator counts it)."""

    mcu_sectors_erased: tuple[int, ...]   # sizes of the STM32F2 sectors erased, in order
    mcu_halfwords: int                    # halfword program operations in internal flash
    mcu_blank_checks: int                 # internal-flash sectors blank-checked (one helper CRC-32 each)
    mcu_blank_bytes: int                  # bytes those CRCs read
    bytes_sent: int                       # written over the debug adapter (images, helper, mailbox words)
    sflash_chip_erases: int
    sflash_sector_erases: int
    sflash_page_programs: int
    sflash_blank_checks: int              # serial-flash sectors blank-checked (ERASE_BLANK)
    mcu_crc_bytes: int                    # internal-flash bytes the helper CRCs for the final verify
    spi_blank_reads: int                  # serial-flash bytes read by the blank checks
    spi_write_reads: int                  # serial-flash bytes read before writing (sectors written in part)
    spi_verify_reads: int                 # serial-flash bytes read for post-write verify and the CRC-32

    @property
    def spi_reads(self) -> int:
        return self.spi_blank_reads + self.spi_write_reads + self.spi_verify_reads


def helper_load_bytes(elf_bytes: bytes) -> int:
    """Bytes `load_image helper.elf` sends: the file bytes of each PT_LOAD segment."""
    from elftools.elf.elffile import ELFFile

    return sum(seg["p_filesz"] for seg in ELFFile(io.BytesIO(elf_bytes)).iter_segments() if seg["p_type"] == "PT_LOAD")


def blank_crc(size: int) -> int:
    """CRC-32 the helper reports for `size` erased bytes (a blank sector)."""
    return zlib.crc32(b"\xff" * size)


def mcu_unit_writes(address: int, size: int) -> list[int]:
    """Bytes per `flash fillh`/`fillb` command for a per-unit range at `address` (kit_patch_mcu: aligned halfwords,
    an odd first or last byte alone)."""
    out, a, end = [], address, address + size
    while a < end:
        n = 2 if a % 2 == 0 and a + 1 < end else 1
        out.append(n)
        a += n
    return out


def _pages(data: bytes, address: int, page_size: int) -> int:
    """Page-program commands for `data` at chip `address`: pages (absolute) holding a non-0xFF byte."""
    n, off = 0, 0
    while off < len(data):
        step = page_size - (address + off) % page_size
        piece = data[off:off + step]
        n += piece.count(0xFF) != len(piece)
        off += step
    return n


def _touched(address: int, size: int, sector_size: int) -> list[bool]:
    """Per chip sector [address, +size) touches: True when it covers the sector whole."""
    out, a, end = [], address, address + size
    while a < end:
        nxt = min(end, a - a % sector_size + sector_size)
        out.append(a % sector_size == 0 and nxt - a == sector_size)
        a = nxt
    return out


def count_board(images: Sequence[KitImage], *, sectors: Sequence[int], flash_base: int, helper_bytes: int,
                page_size: int, sector_size: int, erase_chip: bool, ours: bool = True) -> BoardCounts:
    """Counts for one board running the kit's operations for `images` (in kit order)."""
    erased: list[int] = []
    halfwords = blank_checks = blank_bytes = sent = pages = sf_erases = sf_blank = 0
    mcu_crc = blank_reads = write_reads = verify_reads = commands = 0
    for img in images:
        if img.kind == "mcu":
            for op in img.ops:
                if op.op == "erase":  # whole sectors (erase_address pad)
                    lo = img.base + op.offset
                    erased += [size for at, size in _sector_starts(sectors, flash_base) if at < lo + op.size and lo < at + size]
                elif op.op == "write":
                    halfwords += -(-op.size // 2)
                    sent += op.size
                else:
                    commands += 1
                    blank_checks += 1
                    blank_bytes += op.size
            for off, size in img.unit_ranges:
                fills = mcu_unit_writes(img.base + off, size)
                halfwords += len(fills)
                sent += sum(fills)
            if ours:
                commands += 1
                mcu_crc += len(img.data)
            continue
        for op in img.ops:
            commands += 1
            address = img.base + op.offset
            touched = _touched(address, op.size, sector_size)
            if op.op == "blank":
                sf_blank += len(touched)
                blank_reads += sector_size * len(touched)
                continue
            sent += op.size + sum(max(0, min(o + n, op.offset + op.size) - max(o, op.offset)) for o, n in img.unit_ranges)
            pages += _pages(img.data[op.offset:op.offset + op.size], address, page_size)
            verify_reads += op.size
            if op.op == "sector":
                sf_erases += len(touched)
                write_reads += sector_size * touched.count(False)
            elif op.op == "update":
                write_reads += sector_size * len(touched)
        if ours:
            commands += 1
            verify_reads += len(img.data)
    chip_erases = 0
    if any(img.kind == "sflash" for img in images):
        chip_erases = 1 if erase_chip else 0
        commands += chip_erases + (1 if ours else 0)  # chip erase, read JEDEC ID
    if ours:
        sent += 4 * CONFIG_WORDS
    sent += helper_bytes + 4 * MAILBOX_WRITES * commands
    return BoardCounts(tuple(erased), halfwords, blank_checks, blank_bytes, sent, chip_erases, sf_erases, pages, sf_blank,
                       mcu_crc, blank_reads, write_reads, verify_reads)


def _sector_starts(sectors: Sequence[int], flash_base: int) -> list[tuple[int, int]]:
    """(address, size) of each STM32F2 sector."""
    out, at = [], flash_base
    for size in sectors:
        out.append((at, size))
        at += size
    return out


@dataclass(frozen=True)
class Estimate:
    adapter: str
    chip: str
    erase_chip: bool          # the serial flash is chip-erased (else written sector by sector)
    counts: BoardCounts
    seconds: dict[str, float]
    sources: tuple[str, ...]
    other_total: float | None = None   # the other serial-flash erase's total, when the model compared both

    @property
    def total(self) -> float:
        return sum(self.seconds.values())

    def table(self) -> list[str]:
        """Markdown table of the phases (the kit README and `bundle openocd` print it)."""
        how = "chip erase" if self.erase_chip else "sector by sector"
        lines = [f"Estimated seconds per board ({self.adapter}, {self.chip}, {how}): {self.total:.1f} s", "",
                 "| phase | seconds |", "|---|---:|"]
        lines += [f"| {p} | {s:.2f} |" for p, s in self.seconds.items()]
        if self.other_total is not None:
            other = "sector by sector" if self.erase_chip else "chip erase"
            lines += ["", f"The serial flash is written {how}, the faster by this model ({other}: {self.other_total:.1f} s)."]
        lines += ["", "Figures used:", *(f"- {s}" for s in self.sources)]
        return lines


def estimate(counts: BoardCounts, adapter: str, mcu: Timing | None, chip_name: str, chip: Timing | None,
             prescaler: int) -> Estimate:
    """Seconds per phase for `counts` on `adapter`, with the board's internal-flash figures `mcu` and the serial
    flash part's `chip` (None: not known, that part not estimated), SPI at PCLK2 / 2^(prescaler+1) (the board's
    [sflash.spi] prescaler, SPI_CR1.BR)."""
    spi_byte_s = 8 * 2 ** (prescaler + 1) / HSI_HZ
    link = ADAPTER_TIMING[adapter]
    word_s = link.cycles_per_word.value / link.clock_hz.value
    crc_s = 1 / HELPER_CRC_BYTES_PER_S
    seconds = dict.fromkeys(PHASES, 0.0)
    seconds["connect"] = CONNECT.value
    seconds["transfer"] = -(-counts.bytes_sent // 4) * word_s
    seconds["MCU erase"] = counts.mcu_blank_bytes * crc_s
    seconds["SFLASH erase"] = counts.spi_blank_reads * spi_byte_s
    seconds["SFLASH program"] = counts.spi_write_reads * spi_byte_s
    seconds["verify"] = counts.mcu_crc_bytes * crc_s + counts.spi_verify_reads * spi_byte_s
    used = [f"{CONNECT.source}: {CONNECT.value:g} s", f"{link.clock_hz.source}: {link.clock_hz.value:g} Hz",
            f"{link.cycles_per_word.source}: {link.cycles_per_word.value:g} cycles per word"]
    if mcu is not None:
        seconds["MCU erase"] += sum(mcu.typical(mcu_erase_key(s)) for s in counts.mcu_sectors_erased)
        seconds["MCU program"] = counts.mcu_halfwords * mcu.typical("halfword_program")
        used += [f"{mcu.source}: {name} {typ:g} s (typ; max {top:g})" for name, (typ, top) in mcu.figures.items()]
    else:
        used.append("MCU: no [mcu.timing] in the board layout: internal-flash erase/program not estimated")
    if chip is not None:
        seconds["SFLASH erase"] += (counts.sflash_chip_erases * chip.typical("chip_erase")
                                    + counts.sflash_sector_erases * chip.typical("sector_erase"))
        seconds["SFLASH program"] += counts.sflash_page_programs * chip.typical("page_program")
        used += [f"{chip_name}, {chip.source}: {name} {typ:g} s (typ; max {top:g})"
                 for name, (typ, top) in chip.figures.items()]
    else:
        used.append(f"{chip_name}: no [chip.timing] in layouts/chips.toml: SFLASH erase/program not estimated")
    sources = tuple(used) + (
        f"helper CRC-32 (blank checks, verify), assumed 8 cycles/byte at HSI: {HELPER_CRC_BYTES_PER_S:g} bytes/s",
        f"SPI clock: HSI 16 MHz / 2^(BR+1), BR = {prescaler}: {HSI_HZ / 2 ** (prescaler + 1):g} Hz, 8 clocks/byte")
    return Estimate(adapter, chip_name, counts.sflash_chip_erases > 0, counts, seconds, sources)


__all__ = ["BoardCounts", "Estimate", "KitImage", "blank_crc", "count_board", "estimate", "helper_load_bytes",
           "mcu_unit_writes", "PHASES"]
