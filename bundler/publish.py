"""Publishing a build's files into the output folder all at once.

Files are written into a staging folder beside `out`, then the folders are swapped with two renames, so an
interrupted run leaves either the previous complete outputs or none, never a mix or a partial file."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Mapping

from .errors import OutputError
from .stream import Content, blocks

STAGING, OLD = ".staging-", ".old-"
# Each file is on disk before the swap. The first FSYNC_EACH files get an fsync each; beyond that (a serialize run's
# per-unit files: thousands) one sync(2) for the lot, since an fsync costs a journal commit each (~10 ms a file on
# this project's VMs). Linux only: there sync(2) returns when the data is written, POSIX does not promise it.
FSYNC_EACH = 64
SYNC_ALL = sys.platform.startswith("linux")


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def check_out_dir(out: Path, protected: list[Path]) -> Path:
    """Refuse an output folder that is, holds, or would replace an input, or holds files that are not a bundle."""
    out = out.resolve()
    for path in protected:
        p = path.resolve()
        if _inside(p, out) or p == out:
            raise OutputError(f"output folder would overwrite input {path}", out)
    if out.exists() and not out.is_dir():
        raise OutputError("exists and is not a folder", out)
    if out.is_dir() and any(out.iterdir()) and not (out / "manifest.json").is_file():
        raise OutputError("folder is not empty and holds no previous bundle (manifest.json); choose an empty folder", out)
    return out


def publish(out: Path, files: Mapping[str, Content], protected: list[Path]) -> list[Path]:
    out = check_out_dir(out, protected)
    parent = out.parent
    prefix = f".{out.name}"
    try:
        parent.mkdir(parents=True, exist_ok=True)
        for stale in parent.glob(f"{prefix}{STAGING}*"):
            shutil.rmtree(stale, ignore_errors=True)
        staging = Path(tempfile.mkdtemp(prefix=f"{prefix}{STAGING}", dir=parent))
    except OSError as exc:
        raise OutputError(f"cannot create the output folder: {exc.strerror}", out) from None
    old: Path | None = None
    written = 0
    try:
        for name, data in files.items():
            target = staging / name
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(target, "wb") as fh:
                for block in blocks(data):  # a stream (an image, its HEX text) is written block by block
                    fh.write(block)
                fh.flush()
                if written < FSYNC_EACH or not SYNC_ALL:
                    os.fsync(fh.fileno())
            written += 1
        if written > FSYNC_EACH and SYNC_ALL:
            os.sync()
        os.chmod(staging, 0o755)
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f"{prefix}{OLD}", dir=parent))
            os.rename(out, old / "previous")
        os.rename(staging, out)
    except BaseException as exc:  # also an input found changed while streamed (InputError), or Ctrl-C
        shutil.rmtree(staging, ignore_errors=True)
        restored = True
        if old is not None and not out.exists():
            try:
                os.rename(old / "previous", out)
            except OSError:
                restored = False
        if not isinstance(exc, OSError):
            raise
        if not restored:
            raise OutputError(f"cannot write outputs: {exc.strerror}; previous outputs are in {old / 'previous'}",
                              out) from None
        raise OutputError(f"cannot write outputs: {exc.strerror}; previous outputs left as they were", out) from None
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return [out / name for name in files]
