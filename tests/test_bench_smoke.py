"""bench/run.py runs end to end on the small configuration (--quick: 2 MiB chip, 1 repetition, scaling 2 and 4 MiB)
and prints its tables. Untimed: only that it completes, checks every peer's output against ours and reports."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(
    any(shutil.which(t) is None for t in ("srec_cat", "arm-none-eabi-gcc", "arm-none-eabi-objcopy")),
    reason="bench needs srec_cat and arm-none-eabi-gcc/objcopy")


def test_bench_quick_runs_end_to_end(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "run.py"), "--quick", "--work", str(tmp_path)],
                          capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:] + proc.stdout[-3000:]
    out = proc.stdout
    for row in ("bundle build", "floor (plain Python)", "srec_cat", "esptool merge-bin", "bincopy (Python API)",
                "bundle inspect --manifest", "inspect floor", "bundle --help", "python -c 'import typer'"):
        assert row in out, row
    assert "targets:" in out and "scaling:" in out
    assert "time:" in out and "RSS:" in out  # the linearity lines
    # the generated inputs went to --work, not into the tree
    assert (tmp_path / "chip2m" / "ref" / "mcu.bin").stat().st_size == 0x100000
    assert (tmp_path / "chip2m" / "ref" / "sflash.bin").stat().st_size == 2 << 20
