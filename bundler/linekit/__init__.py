"""Production-line kit: a folder that programs and verifies a board with OpenOCD, no SDK needed (issue 9).

The kit holds copies of the MCU and SFLASH images from `bundle build`, the RAM helper `sflash_helper.elf` with the
board's serial-flash wiring patched into its config block, the OpenOCD Tcl scripts and program.sh / program.bat.
The MCU image goes through OpenOCD's stm32f2x flash driver; the SFLASH image through the helper's mailbox (the
WICED sflash_write protocol, wiced-formats.md section 5); then the helper reads back a CRC-32 of every artefact.

Board wiring comes from the board layout's `[sflash.spi]` table (keys in SPI_KEYS), the chip from the manifest.

A `bundle serialize` output (manifest with `serialization`, units.csv beside it) gives a kit that programs one unit
per run, chosen by its serial on the line: units.csv is checked against the manifest and the images, copied into
the kit and turned into a Tcl table; the MCU image is written with its per-unit ranges 0xFF and the unit's bytes
programmed over them, the SFLASH chunks get them in the helper's buffer, and both chips are verified against the
unit's CRC-32s from units.csv.

Modules: `values` (what may go into the scripts, quoting), `helper` (the RAM helper: wiring, config block, pin), `artefacts` (the images, verified reads), `units` (serialized runs: ranges, units.csv), `tclgen`
(kit_config.tcl), `plan` (what is written: operations per image, chip erase or not, the time estimate), `make` (`make_kit`: assembly and publishing), `verify` (kit.sha256, `verify_kit`).
"""

from __future__ import annotations

from .helper import SPI_KEYS, helper_config, patch_helper, spi_settings, uses_sdk_helper
from .make import ADAPTERS, make_kit
from .units import blank_ranges
from .values import safe_value, tcl_word
from .verify import KIT_SUMS, kit_sums, verify_kit

__all__ = ["ADAPTERS", "SPI_KEYS", "make_kit", "verify_kit", "KIT_SUMS", "kit_sums", "safe_value", "tcl_word",
           "spi_settings", "helper_config", "patch_helper", "uses_sdk_helper", "blank_ranges"]
