"""What every fuzz target checks: inspect returns a report (exit 0/1/2) and never fails inside itself."""

from __future__ import annotations

import resource
import time
from pathlib import Path
from typing import Any, Callable

from bundler.errors import BundleError
from bundler.inspect import inspect_paths


def check_inspect(path: Path, *, manifest: Path | None = None, kind: str | None = None) -> int:
    """Inspect one file; raise AssertionError on anything but a clean result or a clean one-line error."""
    try:
        doc = inspect_paths([path], manifest=manifest, kind=kind)
    except BundleError as exc:
        assert "\n" not in str(exc), repr(exc)
        return exc.exit_code
    for report in doc["files"]:
        for finding in report["findings"]:
            # "internal": a decoder raised something other than a BundleError and inspect caught it
            if finding["code"] == "internal" or "\n" in finding["message"]:
                raise AssertionError(f"inspect finding on fuzzed input: {finding}")
    assert doc["exit_code"] in (0, 1, 2), doc["exit_code"]
    return doc["exit_code"]


CRASHES = Path(__file__).resolve().parent / "crashes"


def save_crash(name: str, data: bytes, note: str) -> Path:
    """Keep a failing input in fuzz/crashes/ and say where (with the traceback of the failure being handled)."""
    import traceback

    CRASHES.mkdir(exist_ok=True)
    saved = CRASHES / name
    saved.write_bytes(data)
    traceback.print_exc()
    print(f"{note}: input saved to {saved}")
    return saved


# Per-input caps of the campaign (README "Fuzzing"): the CPU time of one input, the peak RSS of the process.
CAP_SECONDS = 10.0
CAP_MIB = 1024


def within_caps(run: Callable[[], Any]) -> Any:
    """`run()`, then AssertionError if it took more than CAP_SECONDS of CPU or the process ever held more than
    CAP_MIB: a breach fails the campaign like a crash."""
    before = time.process_time()
    result = run()
    spent = time.process_time() - before
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    assert spent <= CAP_SECONDS, f"input took {spent:.1f} s of CPU (cap {CAP_SECONDS} s)"
    assert peak <= CAP_MIB, f"peak RSS {peak:.0f} MiB (cap {CAP_MIB} MiB)"
    return result
