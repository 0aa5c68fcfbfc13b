"""Several line kits on one PC (issue 21, gang programming): every OpenOCD instance a kit starts runs with its gdb,
telnet and tcl servers disabled (kit_config.tcl), so two at once never fight over ports 3333/4444/6666. Proved
with two real `openocd` processes (dummy adapter) left running past the point where OpenOCD opens its servers."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from bundler.linekit import make_kit
from emu.kitfixture import BOARD_SPI, write_build


def _listening_ports(pid: int) -> set[int]:
    """TCP ports process `pid` listens on (its socket inodes matched in /proc/net/tcp{,6}, state 0A = LISTEN)."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as fh:
            for line in fh.readlines()[1:]:
                cols = line.split()
                if cols[3] == "0A" and cols[9] in inodes:
                    ports.add(int(cols[1].rsplit(":", 1)[1], 16))
    return ports


def test_two_kit_openocd_instances_run_at_once_without_servers(tmp_path: Path) -> None:
    manifest = write_build(tmp_path / "build")
    make_kit(manifest, "stlink", tmp_path / "kit", spi=BOARD_SPI)
    config = (tmp_path / "kit" / "kit_config.tcl").read_text()
    assert all(f"{{ {server}_port disabled }}" in config for server in ("gdb", "telnet", "tcl"))
    # no shutdown: after the -c commands OpenOCD opens its servers and stays in its server loop
    cmd = ["openocd", "-c", "adapter driver dummy", "-f", "kit_config.tcl", "-c", "init"]
    procs = [subprocess.Popen(cmd, cwd=tmp_path / "kit", stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for _ in range(2)]
    try:
        time.sleep(3)
        alive = [p.poll() is None for p in procs]
        ports = [_listening_ports(p.pid) if p.poll() is None else None for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
        outputs = [p.communicate(timeout=30)[0] for p in procs]
    assert alive == [True, True], outputs
    assert ports == [set(), set()], outputs
    for out in outputs:
        assert "Listening on port" not in out and "couldn't bind" not in out, out
