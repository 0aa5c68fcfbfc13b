"""Run a line kit on an emulated board and check the time model's counts against what the emulator saw."""

from __future__ import annotations

from pathlib import Path

from bundler.linetime import Estimate

from .bridge import Bridge
from .spinor import SpiNor
from .stm32 import Board


def run_and_compare(kit: Path, est: Estimate, nor: SpiNor, serial: str = "") -> Bridge:
    """Program a new board (blank where the images are: what the model assumes) with `kit`: PASS, and every count
    of `est` equal to the emulator's own (bridge: the OpenOCD command stream and helper mailbox; nor: the chip)."""
    bridge = Bridge(Board(nor), kit)
    run = bridge.run(serial=serial)
    assert run.returncode == 0 and run.output[-1] == "PASS", run.text
    c = est.counts
    seen = {
        "mcu_sectors_erased": tuple(bridge.mcu_sectors_erased), "mcu_halfwords": bridge.mcu_halfwords,
        "mcu_blank_checks": bridge.mcu_blank_checks, "bytes_sent": bridge.bytes_sent,
        "sflash_chip_erases": nor.chip_erases, "sflash_sector_erases": nor.sector_erases,
        "sflash_page_programs": nor.page_programs, "sflash_blank_checks": bridge.sflash_blank_checks(nor.sector_size),
        "spi_reads": nor.read_bytes,
    }
    model = {k: getattr(c, k) for k in seen}
    assert model == seen
    return bridge
