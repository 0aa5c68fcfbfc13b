"""Atomic output: every artefact is written to a temporary file in its final folder and renamed into place,
so an interrupted run leaves either the previous complete file or none, never a partial one. And the rules of what
an output may replace: never an input; a single file only when it looks like this command's own output (or with
--force)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Collection
from pathlib import Path

from .errors import OutputError


def atomic_write(path: Path, data: bytes | str) -> None:
    """Write `data` to `path` via a temp file + fsync + rename in the same directory."""
    path = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise OutputError(f"cannot write here: {exc.strerror}", path.parent) from None
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)  # mkstemp makes 0600; an output is an ordinary file
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise OutputError(f"cannot write: {exc.strerror}", path) from None


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def check_not_input(out: Path, protected: Collection[Path], what: str = "output folder") -> Path:
    """Refuse an `out` that is an input, holds one, or lies inside an input folder; return it resolved."""
    out = Path(out).resolve()
    for path in protected:
        p = Path(path).resolve()
        if _inside(p, out):
            raise OutputError(f"{what} would overwrite input {path}", out)
        if _inside(out, p):
            raise OutputError(f"{what} is inside the input folder {path}; choose a place outside it", out)
    return out


def check_target(path: Path, inputs: Collection[Path], ours: Callable[[bytes], bool], force: bool) -> None:
    """A command writing one file (`inspect --map`, `fs build -o`): refuse a target that is one of its inputs or
    inside an input folder, a folder, or - unless `force` - an existing file whose first bytes (`ours`) do not look
    like what this command writes. Nothing is changed."""
    resolved = check_not_input(path, inputs, "output file")
    if resolved.is_dir():
        raise OutputError("is a folder; give the name of the file to write", path)
    if os.path.lexists(path) and not force:
        try:
            with open(resolved, "rb") as fh:
                head = fh.read(4096)
        except OSError:
            head = b""
        if not ours(head):
            raise OutputError("exists and was not written by this command; give --force to replace it", path)
