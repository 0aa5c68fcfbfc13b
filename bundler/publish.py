"""Publishing a command's files into its output folder all at once, and which folders it may replace.

Files are written into a staging folder beside `out`, then the folders are swapped with two renames, so an
interrupted run leaves either the previous complete outputs or none, never a mix or a partial file.

A folder is replaced only when it is ours: every run writes a record (`RECORD`, JSON: the command, and the name
and size of every file it wrote), last, so that each of those files is no newer than the record. An existing
`--out` may hold only the files the record lists, unchanged (same size, not modified after the record), written by
the same command (plus the files the caller carries over into the new folder, e.g. a line kit's logs); anything
else is refused with the first few names, and nothing is touched. The record holds no times: two runs on the same
inputs give byte-identical folders. This rule serves `bundle
build`, `bundle serialize` and `bundle openocd`."""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
import sys
from collections.abc import Collection
from pathlib import Path
from typing import Any, Callable, Mapping

from .errors import OutputError
from .output import check_not_input
from .stream import Content, blocks

RECORD = ".bundle-owned.json"  # in every published folder: which run wrote which files
RECORD_VERSION = 1
STAGING, OLD = "staging", "old"
_SHOWN = 5  # foreign entries named in a refusal
# Each file is on disk before the swap. The first FSYNC_EACH files get an fsync each; beyond that (a serialize run's
# per-unit files: thousands) one sync(2) for the lot, since an fsync costs a journal commit each (~10 ms a file on
# this project's VMs). Linux only: there sync(2) returns when the data is written, POSIX does not promise it.
FSYNC_EACH = 64
SYNC_ALL = sys.platform.startswith("linux")


# ---------------------------------------------------------------------------------------------------------------
# Folders beside a target: `.<name>.<kind>-<8 hex digits>`, matched exactly (never a glob: a name may hold `*`)
# ---------------------------------------------------------------------------------------------------------------
def _stem(target: Path) -> str:
    """The target's name in the names beside it; a long name is shortened to its hash (a file name has 255 bytes)."""
    name = target.name
    return name if len(name.encode("utf-8", "surrogateescape")) <= 200 else \
        hashlib.sha256(name.encode("utf-8", "surrogateescape")).hexdigest()[:32]


def _beside_re(target: Path, kind: str) -> re.Pattern[str]:
    return re.compile(rf"\.{re.escape(_stem(target))}\.{re.escape(kind)}-[0-9a-f]{{8}}")


def beside_dir(target: Path, kind: str) -> Path:
    """Create a new empty folder `.<target name>.<kind>-XXXXXXXX` beside `target` (same file system: renames)."""
    while True:
        path = target.with_name(f".{_stem(target)}.{kind}-{secrets.token_hex(4)}")
        try:
            os.mkdir(path, 0o700)
            return path
        except FileExistsError:
            continue


def stale_dirs(target: Path, kind: str) -> list[Path]:
    """Folders `beside_dir(target, kind)` made that a killed run left behind (exact names only)."""
    pattern = _beside_re(target, kind)
    try:
        names = os.listdir(target.parent)
    except OSError:
        return []
    return [target.parent / n for n in sorted(names) if pattern.fullmatch(n)
            and (target.parent / n).is_dir() and not (target.parent / n).is_symlink()]


# ---------------------------------------------------------------------------------------------------------------
# The rule
# ---------------------------------------------------------------------------------------------------------------
def _record(out: Path) -> dict[str, Any] | None:
    """The record a previous run left in `out`, or None (absent, unreadable, not one of ours)."""
    try:
        doc = json.loads((out / RECORD).read_text("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    if not (isinstance(doc, dict) and doc.get("version") == RECORD_VERSION and isinstance(doc.get("tool"), str)
            and isinstance(doc.get("files"), dict)):
        return None
    return doc


def foreign_entries(out: Path, tool: str, carry: str | None = None) -> tuple[list[str], str | None]:
    """Paths in `out` (relative, folders with a trailing '/') that `tool` may not replace, and the tool the
    folder's record names (None without a record). A file is ours when the record of a run of `tool` lists it
    with its size, and it was not modified after the record was written; a folder when everything in it is."""
    doc = _record(out)
    written = os.stat(out / RECORD).st_mtime_ns if doc is not None else 0
    owner = doc["tool"] if doc is not None else None
    files: dict[str, Any] = doc["files"] if doc is not None and owner == tool else {}
    wanted = set(files)  # files whose parent folders are ours too
    parents = {q.as_posix() for f in wanted for q in Path(f).parents if q != Path(".")}
    found: list[str] = []

    def walk(folder: Path, prefix: str) -> None:
        for entry in sorted(os.scandir(folder), key=lambda e: e.name):
            rel = prefix + entry.name
            if rel == carry and entry.is_dir(follow_symlinks=False):
                continue  # taken into the new folder as it is (publish's `carry`)
            if entry.is_dir(follow_symlinks=False):
                if rel in parents:
                    walk(Path(entry.path), rel + "/")
                else:
                    found.append(rel + "/")
            elif rel == RECORD and doc is not None and owner == tool:
                continue
            elif not _unchanged(entry, files.get(rel), written):
                found.append(rel)

    walk(out, "")
    return found, owner


def _unchanged(entry: os.DirEntry[str], size: Any, written: int) -> bool:
    if not isinstance(size, int) or not entry.is_file(follow_symlinks=False):
        return False
    st = entry.stat(follow_symlinks=False)
    return st.st_size == size and st.st_mtime_ns <= written


def check_out_dir(out: Path, protected: Collection[Path], tool: str, carry: str | None = None) -> Path:
    """Refuse an output folder that is, holds or lies inside an input, or that holds anything a previous run of
    `tool` did not write there. Returns the folder resolved. Nothing is changed."""
    out = check_not_input(out, protected)
    if os.path.lexists(out) and not out.is_dir():
        raise OutputError("exists and is not a folder", out)
    if out.is_dir():
        try:
            found, owner = foreign_entries(out, tool, carry)
        except OSError as exc:
            raise OutputError(f"cannot read the folder: {exc.strerror}", out) from None
        if found:
            shown = ", ".join(found[:_SHOWN]) + (f" and {len(found) - _SHOWN} more" if len(found) > _SHOWN else "")
            if owner is not None and owner != tool:
                why = f"holds the output of `{owner}`, which `{tool}` does not replace ({shown})"
            elif owner is None:
                why = f"is not empty and holds no output of `{tool}` ({shown})"
            else:
                why = f"holds files `{tool}` did not write or that changed since: {shown}"
            raise OutputError(f"{why}; nothing was changed: move them or choose another folder", out)
    return out


def _write_record(staging: Path, tool: str, names: Collection[str], fsync: bool) -> None:
    files = {name: os.stat(staging / name).st_size for name in names}
    text = json.dumps({"version": RECORD_VERSION, "tool": tool, "files": files}, indent=1, sort_keys=True)
    with open(staging / RECORD, "w", encoding="utf-8") as fh:
        fh.write(text + "\n")
        fh.flush()
        if fsync:  # else publish's one sync(2) covers it
            os.fsync(fh.fileno())


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


def publish(out: Path, files: Mapping[str, Content], protected: Collection[Path], tool: str, *,
            modes: Mapping[str, int] | None = None, carry: str | None = None) -> list[Path]:
    """Write `files` (relative name -> content) as the new `out`, replacing a previous output of `tool` there.
    `modes`: file modes set in staging (e.g. an executable script), so the published folder has them from the
    start. `carry`: a sub-folder of the previous `out` taken into the new one as it is (_carry_over; not recorded as
    written by this run)."""
    out = check_out_dir(out, protected, tool, carry)
    parent = out.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        for stale in stale_dirs(out, STAGING):
            shutil.rmtree(stale, ignore_errors=True)
        for stale in stale_dirs(out, OLD):  # left by a run killed during or after its swap
            if not out.exists() and (stale / "previous").is_dir():
                os.rename(stale / "previous", out)  # killed between the two renames: the previous outputs return
            _remove(stale)
        staging = beside_dir(out, STAGING)
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
        _write_record(staging, tool, list(files), written < FSYNC_EACH or not SYNC_ALL)  # last: none it lists is newer
        written += 1
        if written > FSYNC_EACH and SYNC_ALL:
            os.sync()
        for name, mode in (modes or {}).items():
            os.chmod(staging / name, mode)
        if carry is not None and (out / carry).is_dir() and not (out / carry).is_symlink():
            _carry_over(out / carry, staging / carry)
        os.chmod(staging, 0o755)
        if out.exists():
            check_out_dir(out, protected, tool, carry)  # again: a file put there meanwhile is not lost either
            old = beside_dir(out, OLD)
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
        if old is not None and restored:
            shutil.rmtree(old, ignore_errors=True)
        if not isinstance(exc, OSError):
            raise
        if not restored:
            raise OutputError(f"cannot write outputs: {exc.strerror}; previous outputs are in {old / 'previous'}",
                              out) from None
        raise OutputError(f"cannot write outputs: {exc.strerror}; previous outputs left as they were", out) from None
    if old is not None:
        _remove(old)
    return [out / name for name in files]
