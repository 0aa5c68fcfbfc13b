"""Publishing a build's files into the output folder all at once.

Files are written into a staging folder beside `out`, then the folders are swapped with two renames, so an
interrupted run leaves either the previous complete outputs or none, never a mix or a partial file."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Callable, Mapping

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


def _remove(folder: Path) -> None:
    """Delete a previous output folder, also where its owner made parts of it read-only (a line's logs)."""
    def writable_again(func: Callable[[str], object], path: str, _exc: object) -> None:
        os.chmod(os.path.dirname(path), 0o700)
        if os.path.isdir(path) and not os.path.islink(path):
            os.chmod(path, 0o700)
            shutil.rmtree(path, onerror=writable_again)
        else:
            func(path)

    try:
        shutil.rmtree(folder, onerror=writable_again)
    except OSError:
        pass  # a leftover is removed by the next run (above)


def _carry_over(source: Path, target: Path) -> None:
    """Recreate the tree `source` in `target` as it is, without copying data or following links: sub-folders made
    again, files hard-linked (copied where the file system has no hard links), symlinks made again as links."""
    target.mkdir()
    for entry in sorted(os.scandir(source), key=lambda e: e.name):
        dest = target / entry.name
        if entry.is_symlink():
            os.symlink(os.readlink(entry.path), dest)
        elif entry.is_dir(follow_symlinks=False):
            _carry_over(Path(entry.path), dest)
        elif entry.is_file(follow_symlinks=False):
            try:
                os.link(entry.path, dest, follow_symlinks=False)
            except OSError:
                shutil.copy2(entry.path, dest, follow_symlinks=False)
        # anything else (a FIFO, a socket) is not a log: left behind


def publish(out: Path, files: Mapping[str, Content], protected: list[Path], *,
            modes: Mapping[str, int] | None = None, carry: str | None = None) -> list[Path]:
    """`modes`: file modes set in staging (e.g. an executable script), so the published folder has them from
    the start. `carry`: a sub-folder of the previous `out` taken into the new one as it is (_carry_over)."""
    out = check_out_dir(out, protected)
    parent = out.parent
    prefix = f".{out.name}"
    try:
        parent.mkdir(parents=True, exist_ok=True)
        for stale in parent.glob(f"{prefix}{STAGING}*"):
            shutil.rmtree(stale, ignore_errors=True)
        for stale in sorted(parent.glob(f"{prefix}{OLD}*")):  # left by a run killed during or after its swap
            if not out.exists() and (stale / "previous").is_dir():
                os.rename(stale / "previous", out)  # killed between the two renames: the previous outputs return
            _remove(stale)
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
        for name, mode in (modes or {}).items():
            os.chmod(staging / name, mode)
        if carry is not None and (out / carry).is_dir() and not (out / carry).is_symlink():
            _carry_over(out / carry, staging / carry)
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
        _remove(old)
    return [out / name for name in files]
