"""An `openocd` for program.sh / gang.sh: runs the kit's Tcl under tclsh (Bridge) against an emulated board kept in
files, so the line scripts run end to end as on a line PC.

    fake_openocd.py -f interface/stlink.cfg -f target/stm32f2x.cfg -f kit_config.tcl -f sflash_kit.tcl \
        [-c "adapter serial SN"] -c "kit_main ..."

EMU_BOARDS names a folder with one sub-folder per adapter serial ("default" when none is selected): flash.bin (the
MCU's internal flash), nor.bin (the serial flash), jedec (its JEDEC ID, hex). The board is loaded before the run and
saved after it; every OpenOCD command of the run is appended to calls.jsonl there, one JSON list a line. A serial
with no sub-folder is "not connected" (OpenOCD's own words, exit 1). Only the kit's own .tcl files are sourced
(interface and target configs are OpenOCD's)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from emu.bridge import Bridge  # noqa: E402
from emu.spinor import SpiNor  # noqa: E402
from emu.stm32 import FLASH_BASE, Board  # noqa: E402

SELECT = "kit_select_adapter "  # program.sh --adapter-serial SN (the kit's Tcl then runs `adapter serial SN`)


def board_dir(root: Path, serial: str) -> Path:
    return root / (serial or "default")


def save_board(folder: Path, board: Board, nor: SpiNor, flash_size: int = 0x100000) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "flash.bin").write_bytes(board.read(FLASH_BASE, flash_size))
    (folder / "nor.bin").write_bytes(bytes(nor.mem))
    (folder / "jedec").write_text(f"{nor.jedec_id:06x}\n")


def new_board(folder: Path, chip_size: int, jedec_id: int = 0xC22014) -> None:
    """An erased board (flash and serial flash all 0xFF) behind the adapter `folder` names."""
    nor = SpiNor(chip_size, jedec_id)
    save_board(folder, Board(nor), nor)


def load_board(folder: Path) -> tuple[Board, SpiNor]:
    nor_bytes = (folder / "nor.bin").read_bytes()
    nor = SpiNor(len(nor_bytes), int((folder / "jedec").read_text(), 16))
    nor.mem[:] = nor_bytes
    board = Board(nor)
    board.write(FLASH_BASE, (folder / "flash.bin").read_bytes())
    return board, nor


def main(argv: list[str]) -> int:
    files, commands, serial = [], [], ""
    it = iter(argv)
    for arg in it:
        value = next(it, "")
        if arg == "-f":
            files.append(value)
        elif arg == "-c":
            if value.startswith(SELECT):
                serial = value[len(SELECT):].strip()
            commands.append(value)
    folder = board_dir(Path(os.environ["EMU_BOARDS"]), serial)
    if not (folder / "flash.bin").is_file():
        print(f"Error: open failed (no adapter with serial {serial!r} connected)", flush=True)
        return 1
    board, nor = load_board(folder)
    run = Bridge(board, Path.cwd()).run_script([*(f"source {{{f}}}" for f in files if f.endswith(".tcl")), *commands],
                                              600)
    for line in run.output:
        print(line, flush=True)
    save_board(folder, board, nor, len((folder / "flash.bin").read_bytes()))
    with open(folder / "calls.jsonl", "a") as log:
        for call in run.calls:
            log.write(json.dumps(list(call)) + "\n")
    return run.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
