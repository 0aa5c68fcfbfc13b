"""Seconds per board for the line kit (issue 21, point 4): what the kit's command stream does, counted from its
images, times documented per-operation figures.

`count_board` follows the kit's Tcl (bundler/kit/sflash_kit.tcl) step by step: OpenOCD's `flash write_image erase`
erases every STM32F2 sector the MCU image overlaps and programs the whole image in halfwords (its stm32f2x loader
uses PSIZE x16); the helper ELF and each SFLASH chunk not skipped go over the debug adapter with `load_image`, the
mailbox with `mww`; the helper programs the serial flash page by page, skipping pages of 0xFF (sflash_helper.c
flash_program), after one chip erase (or, without it, on a blank board, with no sector erase); verification is the
helper's CRC-32 of both images. The emulator (tests/emu) counts the same things on its own and must agree.

`estimate` turns the counts into seconds per phase with the figures below, each with its source. Typical values
are used where the datasheet gives them, else the maximum (said in the figure's note).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Iterable, Sequence

MAILBOX_WRITES = 4          # size, address, result, command: kit_command's mww per helper command
CONFIG_WORDS = 24           # sflash_helper_config_t, written word by word by kit_write_config
HSI_HZ = 16e6               # the helper runs on the reset clock: HSI 16 MHz, APB2 undivided (RM0033 RCC)
HELPER_CRC_BYTES_PER_S = HSI_HZ / 8  # CRC-32 table loop, ~8 cycles per byte (assumed)


@dataclass(frozen=True)
class Figure:
    value: float
    source: str


@dataclass(frozen=True)
class SflashPart:
    """Serial-flash timings from the part's datasheet (seconds)."""

    name: str
    sector_erase: Figure      # one 4 KiB sector
    page_program: Figure      # one page-program (or byte-program) command
    chip_erase: Figure


@dataclass(frozen=True)
class Adapter:
    clock_hz: Figure          # debug clock OpenOCD uses
    cycles_per_word: Figure   # wire cycles per 32-bit memory-access write (no USB/driver overhead: a lower bound)


# STM32F205 internal flash, DS6329 (STM32F205xx/F207xx datasheet), table "Flash memory programming", typical values
# at parallelism x8 for erase (OpenOCD's stm32f2x driver erases with PSIZE left 0 = x8) and the per-operation
# program time tprog (used per halfword: the driver programs with PSIZE x16).
MCU_SECTOR_ERASE: dict[int, Figure] = {
    0x4000: Figure(0.400, "DS6329 tERASE16KB, x8, typ"),
    0x10000: Figure(1.200, "DS6329 tERASE64KB, x8, typ"),
    0x20000: Figure(2.000, "DS6329 tERASE128KB, x8, typ"),
}
MCU_HALFWORD_PROGRAM = Figure(16e-6, "DS6329 tprog word/halfword programming time, typ")

SFLASH_PARTS: dict[str, SflashPart] = {
    "MX25L8006E": SflashPart(
        "MX25L8006E",
        Figure(0.060, "MX25L8006E datasheet, AC characteristics, tSE (4 KiB sector erase), typ"),
        Figure(0.0014, "MX25L8006E datasheet, AC characteristics, tPP (256-byte page program), typ"),
        Figure(9.0, "MX25L8006E datasheet, AC characteristics, tCE (chip erase), typ")),
    "SST25VF080B": SflashPart(
        "SST25VF080B",
        Figure(0.025, "SST25VF080B datasheet, AC operating characteristics, TSE sector-erase, max (no typ given)"),
        Figure(10e-6, "SST25VF080B datasheet, AC operating characteristics, TBP byte-program, max"),
        Figure(0.050, "SST25VF080B datasheet, AC operating characteristics, TSCE chip-erase, max")),
}

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
class BoardCounts:
    """What one board's run does, as counted from the kit's images (and as the emulator counts it)."""

    mcu_sectors_erased: tuple[int, ...]   # sizes of the STM32F2 sectors erased
    mcu_halfwords: int                    # halfword program operations in internal flash
    bytes_sent: int                       # written over the debug adapter (images, helper, mailbox words)
    sflash_chip_erases: int
    sflash_sector_erases: int
    sflash_page_programs: int
    mcu_crc_bytes: int                    # internal-flash bytes the helper CRCs on the target
    spi_write_reads: int                  # serial-flash bytes the helper reads before writing (erase-if-needed)
    spi_verify_reads: int                 # serial-flash bytes read for post-write verify and the CRC-32


def _sectors_touched(sectors: Sequence[int], flash_base: int, base: int, size: int) -> list[int]:
    out, start = [], flash_base
    for s in sectors:
        if start < base + size and base < start + s:
            out.append(s)
        start += s
    return out


def helper_load_bytes(elf_bytes: bytes) -> int:
    """Bytes `load_image helper.elf` sends: the file bytes of each PT_LOAD segment."""
    from elftools.elf.elffile import ELFFile

    return sum(seg["p_filesz"] for seg in ELFFile(io.BytesIO(elf_bytes)).iter_segments() if seg["p_type"] == "PT_LOAD")


def count_board(images: Iterable[tuple[str, int, bytes]], chunk_lists: dict[int, list[tuple[int, int, bool]]], *,
                sectors: Sequence[int], flash_base: int, helper_bytes: int, page_size: int, erase_chip: bool,
                sdk_helper: bool = False) -> BoardCounts:
    """Counts for one board. `images`: (kind, base, data) in kit order; `chunk_lists`: the SFLASH chunk list of
    each sflash image (by its index in `images`), as in kit_config.tcl."""
    erased: list[int] = []
    halfwords = sent = pages = mcu_crc = write_reads = verify_reads = commands = chip_erases = 0
    images = list(images)
    have_sflash = any(kind == "sflash" for kind, _, _ in images)
    for i, (kind, base, data) in enumerate(images):
        if kind == "mcu":
            mcu_crc += len(data)
            erased += _sectors_touched(sectors, flash_base, base, len(data))
            halfwords += -(-len(data) // 2)
            sent += len(data)
            continue
        for off, length, empty in chunk_lists[i]:
            if empty and erase_chip:
                continue
            commands += 1
            sent += length
            write_reads += length           # write_erase_if_needed reads each sector it writes
            verify_reads += length          # post_write_verify reads the chunk back
            piece = data[off:off + length]
            pages += sum(1 for p in range(0, length, page_size) if piece[p:p + page_size].count(0xFF) != len(piece[p:p + page_size]))
        verify_reads += len(data)           # crc32_sflash over the image
    if have_sflash:
        chip_erases = 1 if erase_chip else 0
        commands += chip_erases + (0 if sdk_helper else 1)  # chip erase, read JEDEC ID
    if not sdk_helper:
        commands += len(images)                             # one CRC-32 command per image
        sent += 4 * CONFIG_WORDS
    else:
        mcu_crc = 0
        verify_reads -= sum(len(d) for k, _, d in images if k == "sflash")
    sent += helper_bytes + 4 * MAILBOX_WRITES * commands
    return BoardCounts(tuple(erased), halfwords, sent, chip_erases, 0, pages, mcu_crc, write_reads, verify_reads)


@dataclass(frozen=True)
class Estimate:
    adapter: str
    chip: str
    counts: BoardCounts
    seconds: dict[str, float]
    sources: tuple[str, ...]

    @property
    def total(self) -> float:
        return sum(self.seconds.values())

    def table(self) -> list[str]:
        """Markdown table of the phases (the kit README and `bundle openocd` print it)."""
        lines = [f"Estimated seconds per board ({self.adapter}, {self.chip}): {self.total:.1f} s", "",
                 "| phase | seconds |", "|---|---:|"]
        lines += [f"| {p} | {s:.2f} |" for p, s in self.seconds.items()]
        lines += ["", "Figures used:", *(f"- {s}" for s in self.sources)]
        return lines


def estimate(counts: BoardCounts, adapter: str, chip: str, prescaler: int) -> Estimate:
    """Seconds per phase for `counts` on `adapter` with serial-flash part `chip`, SPI at PCLK2 / 2^(prescaler+1)
    (the board's [sflash.spi] prescaler, SPI_CR1.BR)."""
    spi_byte_s = 8 * 2 ** (prescaler + 1) / HSI_HZ
    part = SFLASH_PARTS.get(chip)
    link = ADAPTER_TIMING[adapter]
    used: list[Figure] = [CONNECT, link.clock_hz, link.cycles_per_word, MCU_HALFWORD_PROGRAM]
    mcu_erase = 0.0
    for size in counts.mcu_sectors_erased:
        fig = MCU_SECTOR_ERASE[size]
        mcu_erase += fig.value
        if fig not in used:
            used.append(fig)
    word_s = link.cycles_per_word.value / link.clock_hz.value
    seconds = {
        "connect": CONNECT.value,
        "MCU erase": mcu_erase,
        "MCU program": counts.mcu_halfwords * MCU_HALFWORD_PROGRAM.value,
        "transfer": -(-counts.bytes_sent // 4) * word_s,
        "SFLASH erase": 0.0,
        "SFLASH program": 0.0,
        "verify": counts.mcu_crc_bytes / HELPER_CRC_BYTES_PER_S + counts.spi_verify_reads * spi_byte_s,
    }
    if part is not None:
        seconds["SFLASH erase"] = (counts.sflash_chip_erases * part.chip_erase.value
                                   + counts.sflash_sector_erases * part.sector_erase.value)
        seconds["SFLASH program"] = counts.sflash_page_programs * part.page_program.value + \
            counts.spi_write_reads * spi_byte_s
        used += [part.chip_erase, part.sector_erase, part.page_program]
    sources = tuple(f"{f.source}: {f.value:g}" for f in used) + (
        f"helper CRC-32 of internal flash, assumed 8 cycles/byte at HSI: {HELPER_CRC_BYTES_PER_S:g} bytes/s",
        f"SPI clock: HSI 16 MHz / 2^(BR+1), BR = {prescaler}: {HSI_HZ / 2 ** (prescaler + 1):g} Hz, 8 clocks/byte")
    if part is None:
        sources += (f"{chip}: no datasheet figures in bundler/linetime.py: SFLASH erase/program not estimated",)
    return Estimate(adapter, chip, counts, seconds, sources)


__all__ = ["BoardCounts", "Estimate", "count_board", "estimate", "helper_load_bytes", "SFLASH_PARTS", "PHASES"]
