"""What every fuzz target checks: inspect returns a report (exit 0/1/2) and never fails inside itself."""

from __future__ import annotations

from pathlib import Path

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
