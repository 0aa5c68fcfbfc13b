"""Run the line kit's OpenOCD Tcl under tclsh, with OpenOCD's commands answered by the emulated board.

tclsh sources openocd_mock.tcl (every OpenOCD command becomes a request line on stdout), then the kit's
kit_config.tcl and sflash_kit.tcl, then calls kit_main. This module answers each request on the Board.
"""

from __future__ import annotations

import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .stm32 import FLASH_BASE, FLASH_SECTORS, MAILBOX_COMMAND, Board

MOCK = Path(__file__).with_name("openocd_mock.tcl")
CRC32_MEMORY, ERASE_BLANK = 0x200, 0x1000   # helper command bits (firmware/sflash_helper/sflash_helper.h)

Hook = Callable[[str, list[str]], None]


@dataclass
class KitRun:
    returncode: int
    output: list[str]
    calls: list[tuple[str, ...]] = field(default_factory=list)
    shutdown: str | None = None

    @property
    def text(self) -> str:
        return "\n".join(self.output)


def _num(text: str) -> int:
    return int(text, 0)


class Bridge:
    def __init__(self, board: Board, kit: Path, hook: Hook | None = None) -> None:
        self.board, self.kit, self.hook = board, kit, hook
        self.shutdown: str | None = None
        self.flash_fills: list[tuple[int, int]] = []
        self.servers_disabled: list[str] = []         # `<server>_port disabled` seen (before init)
        self.adapter_serial: str | None = None        # `adapter serial` seen
        # what the line kit's time model counts, counted here from the command stream
        self.bytes_sent = 0                           # written over the debug adapter
        self.mcu_sectors_erased: list[int] = []       # sizes, in erase order
        self.mcu_halfwords = 0                        # halfword program operations in internal flash
        self.helper_commands: list[tuple[int, int, int]] = []   # (command, address, size) per helper `resume`

    @property
    def mcu_blank_checks(self) -> int:
        """Helper CRC-32s of internal flash within one sector: the kit's blank checks (its verify spans the image)."""
        def sector(a: int) -> int:
            return next(i for i, (start, n) in enumerate(FLASH_SECTORS) if start <= a < start + n)
        return sum(1 for c, a, n in self.helper_commands if c == CRC32_MEMORY and sector(a) == sector(a + n - 1))

    def sflash_blank_checks(self, sector_size: int) -> int:
        """Serial-flash sectors the ERASE_BLANK commands covered."""
        return sum((a + n - 1) // sector_size - a // sector_size + 1
                   for c, a, n in self.helper_commands if c == ERASE_BLANK)

    def _file(self, name: str) -> bytes:
        path = Path(name)
        return (path if path.is_absolute() else self.kit / path).read_bytes()

    def handle(self, cmd: str, args: list[str]) -> str:
        b = self.board
        if self.hook:
            self.hook(cmd, args)
        if cmd in ("gdb_port", "telnet_port", "tcl_port"):
            assert args == ["disabled"], (cmd, args)
            self.servers_disabled.append(cmd)
            return ""
        if cmd == "adapter" and args[:1] == ["serial"]:  # the adapter the run talks to (kit_select_adapter)
            self.adapter_serial = args[1]
            return ""
        if cmd in ("init", "halt", "sleep", "reset"):
            return ""
        if cmd == "resume":
            command = b.read32(MAILBOX_COMMAND)
            if command:
                self.helper_commands.append((command, b.read32(MAILBOX_COMMAND - 4), b.read32(MAILBOX_COMMAND - 8)))
            b.resume()
            return ""
        if cmd == "reg":
            if len(args) == 2 and args[0] == "pc":
                assert _num(args[1]) & 1 == 0, "a Cortex-M PC is written without the Thumb bit"
                b.set_pc(_num(args[1]))
            return ""
        if cmd == "mwb":
            self.bytes_sent += 1
            b.write(_num(args[0]), bytes([_num(args[1])]))
            return ""
        if cmd == "mww":
            addr, value = _num(args[0]), _num(args[1])
            for i in range(_num(args[2]) if len(args) > 2 else 1):
                b.write32(addr + 4 * i, value)
                self.bytes_sent += 4
            return ""
        if cmd == "read_memory":
            addr, width, count = (_num(a) for a in args[:3])
            assert width == 32
            return " ".join(f"0x{b.read32(addr + 4 * i):08x}" for i in range(count))
        if cmd == "write_memory":
            addr, width = _num(args[0]), _num(args[1])
            assert width == 32
            for i, v in enumerate(args[2].split()):
                b.write32(addr + 4 * i, _num(v))
                self.bytes_sent += 4
            return ""
        if cmd == "load_image":
            name = args[0]
            kind = args[2] if len(args) > 2 else ("elf" if name.endswith(".elf") else "bin")
            if kind == "elf":
                self.bytes_sent += b.load_elf(self.kit / name)
                return ""
            data = self._file(name)
            base = _num(args[1]) if len(args) > 1 else 0
            lo = _num(args[3]) if len(args) > 3 else base
            n = _num(args[4]) if len(args) > 4 else len(data)
            piece = data[lo - base:lo - base + n]
            b.write(lo, piece)
            self.bytes_sent += len(piece)
            return ""
        if cmd == "flash" and args[0] in ("fillb", "fillh"):
            # flash programming only clears bits; fillh writes whole aligned halfwords (PSIZE x16)
            width = 1 if args[0] == "fillb" else 2
            addr, value = _num(args[1]), _num(args[2])
            assert addr >= FLASH_BASE and addr % width == 0, args
            for i in range(_num(args[3]) * width):
                at = addr + i
                b.write(at, bytes([b.read(at, 1)[0] & (value >> (8 * (i % width))) & 0xFF]))
            self.flash_fills.append((addr, width))
            self.mcu_halfwords += _num(args[3])
            self.bytes_sent += width * _num(args[3])
            return ""
        if cmd == "flash" and args[0] == "erase_address":
            # OpenOCD: the range must start and end on sector boundaries unless `pad` widens it to them
            pad = args[1] == "pad"
            addr, size = (_num(a) for a in args[2 if pad else 1:][:2])
            hit = [(start, n) for start, n in FLASH_SECTORS if start < addr + size and addr < start + n]
            if not pad and (hit[0][0] != addr or hit[-1][0] + hit[-1][1] != addr + size):
                raise RuntimeError("erase_address: not on sector boundaries (use pad)")
            for start, n in hit:
                b.write(start, b"\xff" * n)
                self.mcu_sectors_erased.append(n)
            return ""
        if cmd == "flash":
            assert args[0] == "write_image", args
            rest = args[1:]
            erase = rest[0] == "erase"
            if erase:
                rest = rest[1:]
            data, base = self._file(rest[0]), _num(rest[1])
            assert rest[2] == "bin" and base >= FLASH_BASE
            if erase:  # OpenOCD erases every sector the image overlaps, then programs it (stm32f2x: PSIZE x16)
                for start, size in FLASH_SECTORS:
                    if start < base + len(data) and base < start + size:
                        b.write(start, b"\xff" * size)
                        self.mcu_sectors_erased.append(size)
            b.write(base, bytes(x & y for x, y in zip(b.read(base, len(data)), data)))
            self.mcu_halfwords += (len(data) + 1) // 2
            self.bytes_sent += len(data)
            return ""
        if cmd == "verify_image":
            data, base = self._file(args[0]), _num(args[1])
            if b.read(base, len(data)) != data:
                raise RuntimeError("verify_image: contents differ")
            return ""
        if cmd == "dump_image":  # OpenOCD: target memory [address, +size) into a file (relative to the kit)
            path, addr, size = args[0], _num(args[1]), _num(args[2])
            (Path(path) if Path(path).is_absolute() else self.kit / path).write_bytes(b.read(addr, size))
            return ""
        if cmd == "shutdown":
            self.shutdown = args[0] if args else ""
            return ""
        raise RuntimeError(f"unexpected OpenOCD command {cmd} {args}")

    def run(self, timeout: float = 300, serial: str = "", main: str = "kit_main") -> KitRun:
        """kit_main, with the unit's serial for a serialized kit (as program.sh passes it); `main`: another entry
        (e.g. "kit_readback_main DIR")."""
        return self.run_script(["source kit_config.tcl", "source sflash_kit.tcl", f"{main} {serial}"], timeout)

    def run_script(self, lines: list[str], timeout: float = 300) -> KitRun:
        """`lines` under tclsh in the kit folder, after openocd_mock.tcl; a script that ends without OpenOCD's
        shutdown exits 3."""
        script = "\n".join([f"source {{{MOCK}}}", *lines, "puts \"kit_main returned without shutdown\"", "exit 3"])
        with tempfile.NamedTemporaryFile("w", suffix=".tcl", delete=False) as fh:
            fh.write(script + "\n")
        try:
            return self._run(Path(fh.name), timeout)
        finally:
            Path(fh.name).unlink()

    def _run(self, driver: Path, timeout: float) -> KitRun:
        proc = subprocess.Popen(["tclsh", str(driver)], cwd=self.kit, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, bufsize=1)
        assert proc.stdin is not None and proc.stdout is not None
        run = KitRun(returncode=-1, output=[])
        for line in proc.stdout:
            line = line.rstrip("\n")
            if line.startswith("\x01RPC"):
                parts = line[4:].split("\x1f")
                run.calls.append(tuple(parts))
                try:
                    reply = "OK " + self.handle(parts[0], parts[1:])
                except Exception as exc:  # reported to the Tcl side as an OpenOCD error
                    reply = "ERR " + str(exc).replace("\n", " ")
                proc.stdin.write(reply + "\n")
                proc.stdin.flush()
            else:
                run.output.append(line)
        run.returncode = proc.wait(timeout=timeout)
        run.shutdown = self.shutdown
        return run
