"""The run: the files named (folders walked) taken one at a time — read ahead by at most one file on a background
thread, loaded, detected, decoded, verified and reported to the listener as soon as each is done — then the report
document and its summary. Peak memory is one file (plus the one being read ahead) whatever the number of files.

SFLASH images come last: an MCU image's current DCT tells where an SFLASH image's LUT headers are after an OTA
relocation, so every MCU image of the batch is decoded first. An SFLASH image met before the end is detected, then
dropped and read again at the end (and refused if its bytes changed in between); the JSON document keeps the
order of the files as given.

Whatever the bytes, nothing raises out of `inspect_paths` for a file: problems become findings. Only a bad manifest
or bad options (board, chip, kind) raise a `BundleError` (exit 2), before any file is reported on (files named in
the call are already being read in the background: `ReadAhead`).
"""

from __future__ import annotations

import ctypes
import json
import os
import stat
import sys
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterable, Iterator, Protocol

from .. import TOOL_NAME, __version__
from ..checks import readable_size
from ..checksums import crc32, hex32, memoized, sha256
from ..errors import BundleError, InputError, hexsize
from ..inputs import ELF_MAGIC, HEX_SUFFIXES, image_from_bytes, max_size_of, read_file, read_hex_file
from .context import MAX_FILE_SIZE, Context, FileReport, Loaded, shown
from .dct import decode_dct_file
from .detect import KINDS, detect_item
from .elf import decode_elf
from .filesystem import decode_filesystem
from .image import mcu_image, sflash_image
from .mcu import decode_mcu
from .sflash import decode_sflash
from .sums import run_checksums
from .verify import verify, verify_component, vouched


INSPECT_VERSION = 1


# Files in a folder that are not images (the manifest, its signature, notes) are skipped, not reported as unknown.
SKIPPED_SUFFIXES = (".json", ".sig", ".pub", ".pem", ".md", ".txt", ".csv", ".toml", ".log", ".html", ".htm", ".svg",
                    ".pdf", ".png", ".jpg", ".zip")


class Listener(Protocol):
    """Told about the run as it goes (bundler.report.Renderer prints it)."""

    def begin(self, head: dict[str, Any]) -> None: ...

    def file(self, doc: dict[str, Any]) -> None: ...


def inspect_paths(paths: Iterable[str | Path], *, manifest: str | Path | None = None, kind: str | None = None,
                  board: str | Path | None = None, chip: str | None = None,
                  chip_size: int | None = None, listener: Listener | None = None,
                  keep_files: bool = True) -> dict[str, Any]:
    """Inspect files (folders: every file inside, sorted) and return the report document. `exit_code` in it is
    0 all good, 1 a verification failed, 2 an input could not be read or understood. The board and chip: `board`
    and `chip` (a chips.toml name) or `chip_size` (a part known only by its size) if given, else the manifest's,
    else the default board and, for an SFLASH image, a chip of the image's size. `listener` is given the
    document's head (board, manifest) once the manifest is read, then each file's entry as soon as it is done.
    `keep_files=False`: the document keeps of each file only what a summary shows (file, kind, format, status,
    artefact, its errors and failures), so a batch of thousands holds no decoded tables."""
    if kind is not None and kind not in KINDS:
        raise InputError(f"--kind {kind!r}: expected one of {', '.join(KINDS)}")
    paths = [Path(p) for p in paths]
    named = [p for p in paths if _plain_file(p)]
    ahead = ReadAhead(named) if len(named) == len(paths) else None  # only files: start reading before the manifest
    ctx = _context(manifest, board, chip, chip_size)
    files = _expand(paths, ctx.manifest_path)
    ctx.ahead = ahead or ReadAhead([p for p, _ in files])
    doc: dict[str, Any] = {
        "inspect_version": INSPECT_VERSION,
        "tool": {"name": TOOL_NAME, "version": __version__},
        "board": {"name": ctx.board.name, "layout": ctx.board.id},
        "manifest": None,
    }
    if ctx.manifest is not None:
        assert ctx.manifest_path is not None
        doc["manifest"] = {"file": str(ctx.manifest_path), "name": ctx.manifest.get("name"),
                           "sha256": ctx.manifest.get("run_sha256"), "layout_notes": ctx.manifest.get("run_notes")}
        if "product" in ctx.manifest:  # which release the images are (bundle.toml version / revision)
            doc["manifest"]["product"] = ctx.manifest["product"]
    if listener is not None:
        listener.begin(doc)
    docs: list[dict[str, Any] | None] = [None] * len(files)
    codes: list[int] = [2] * len(files)
    deferred: list[tuple[int, FileReport, Path, str]] = []  # SFLASH images: index, report, path, sha256 first read
    locations: list[tuple[str, list[Any]]] = []

    def done(i: int, rep: FileReport) -> None:
        full = rep.as_dict()
        codes[i] = rep.exit_code
        if listener is not None:
            listener.file(full)
        docs[i] = full if keep_files else _summary_entry(full)

    for i, (path, display) in enumerate(files):
        rep = FileReport(display)
        with _one_file(ctx):
            item = _guard(rep, lambda: _load(rep, path, kind, ctx))
            if item is not None and rep.doc["kind"] == "sflash":
                deferred.append((i, rep, path, rep.doc["sha256"]))
            elif item is not None:
                _guard(rep, lambda: _decode(rep, item, ctx, locations))
        item = None  # dropped before the next file is loaded
        if not deferred or deferred[-1][0] != i:
            done(i, rep)
    # several MCU images that disagree (files of different devices): none of their DCTs is used for SFLASH images
    if len({json.dumps(loc, sort_keys=True) for _, loc in locations}) > 1:
        locations = []
    # no read-ahead here: an SFLASH image being decoded and the next one read would double the peak (issue 15:
    # N files within 1.5x the memory of one); each is read (and its SHA-256 checked) when its turn comes
    ctx.ahead = None
    deferred.reverse()
    while deferred:  # popped: a report done and summarised is not held (with its decoded tables) to the end
        i, rep, path, digest = deferred.pop()
        with _one_file(ctx):
            item = _guard(rep, lambda: _reload(rep, path, digest, ctx))
            if item is not None:
                _guard(rep, lambda: _decode(rep, item, ctx, locations))
        item = None
        done(i, rep)
    ready = [d for d in docs if d is not None]
    summary = {"files": len(ready), "ok": sum(d["status"] == "ok" for d in ready),
               "failed": sum(d["status"] == "fail" for d in ready),
               "errors": sum(d["status"] == "error" for d in ready)}
    doc.update({"files": ready, "summary": summary, "exit_code": max(codes, default=2)})
    if not ready:
        doc["error"] = "no files to inspect"
    return doc


def _summary_entry(doc: dict[str, Any]) -> dict[str, Any]:
    entry = {k: doc.get(k) for k in ("file", "kind", "format", "status")}
    entry["verification"] = {"artefact": (doc.get("verification") or {}).get("artefact")}
    entry["findings"] = [f for f in doc["findings"] if f["severity"] in ("error", "fail")]
    return entry


@contextmanager
def _one_file(ctx: Context) -> Iterator[None]:
    """The checksum caches hold the bytes they were computed over: they live for one file, not the run."""
    ctx.sums = {}
    with memoized():  # decoding and verifying look at the same images several times: hash each once
        yield
    ctx.sums = {}


def _guard(rep: FileReport, step: Any) -> Any:
    """Run one step for one file; any exception becomes a finding (never a traceback)."""
    try:
        return step()
    except BundleError as exc:
        rep.add("error", "unreadable", str(exc))
    except MemoryError:
        rep.add("error", "too_large", "not enough memory to inspect this file")
    except Exception as exc:  # a decoder bug on hostile bytes must not crash the whole run
        rep.add("error", "internal", f"could not decode ({type(exc).__name__}: {exc})")
    return None


def _context(manifest: str | Path | None, board: str | Path | None, chip: str | None,
             chip_size: int | None) -> Context:
    from ..layout import DEFAULT_BOARD, chip_names, load_board, load_chip, unknown_chip
    from ..manifest import load_with_layouts

    doc = path = built_board = built_chip = None
    if manifest is not None:  # the board and chip the bundle was built with, embedded in its manifest
        path = Path(manifest)
        doc, digest, built_board, built_chip, notes = load_with_layouts(path)
        doc["run_sha256"], doc["run_notes"] = digest, notes
    the_board = load_board(board) if board is not None else built_board or load_board(DEFAULT_BOARD)
    chips = [load_chip(name) for name in chip_names()]
    if chip is not None and chip_size is not None:
        raise InputError("--chip names a known part, --chip-size an unknown one: give only one")
    sector = the_board.sflash.sector_size
    if chip_size is not None and (chip_size <= 0 or chip_size % sector):
        raise InputError(f"--chip-size {hexsize(chip_size)}: expected a positive multiple of the board's "
                         f"{hexsize(sector)} serial-flash sector")
    the_chip = load_chip(chip) if chip is not None else built_chip if chip_size is None else \
        unknown_chip(chip_size, sector, "--chip-size")
    return Context(the_board, chips, the_chip, doc, path)


def _expand(paths: Iterable[str | Path], manifest_path: Path | None) -> list[tuple[Path, str]]:
    out: list[tuple[Path, str]] = []
    skip = manifest_path.resolve() if manifest_path is not None else None
    for p in map(Path, paths):
        if p.is_dir():
            try:
                inside = sorted((q for q in p.rglob("*") if q.is_file()), key=lambda q: q.as_posix())
            except OSError as exc:
                raise InputError(f"cannot list the folder: {exc.strerror}", shown(p)) from None
            for q in inside:
                if q.resolve() == skip or q.suffix.lower() in SKIPPED_SUFFIXES or q.name.startswith("."):
                    continue
                out.append((q, shown(q)))
        else:
            out.append((p, shown(p)))
    return out


class ReadAhead:
    """Files read and hashed (SHA-256, CRC-32) in a background thread, in the order they will be taken, at most one
    file ahead of the one being inspected: the main thread meanwhile decodes the previous file (and, for the first,
    imports the decoders and reads the manifest). File reads, SHA-256 and CRC-32 release the GIL.

    Anything unusual is left to `_load`, whose read_file words the error."""

    def __init__(self, paths: Iterable[Path]) -> None:
        self._queue = [p for p in paths if _plain_file(p) and not _streamed_hex(p)]
        self._next = 0  # index in the queue of the next path `take` may be asked for
        self._done: dict[int, tuple[bytes, str, int] | None] = {}
        self._ready = threading.Condition()
        if self._queue:
            _one_malloc_arena()
            threading.Thread(target=self._run, name="inspect-read-ahead", daemon=True).start()

    def _run(self) -> None:
        for i, path in enumerate(self._queue):
            with self._ready:  # at most one file read and not yet taken
                self._ready.wait_for(lambda: i <= self._next)
            result = None  # `_load` reads the file again
            try:
                raw, source = read_file(path, max_size=MAX_FILE_SIZE)
                result = (raw, source.sha256, crc32(memoryview(raw)))
            except (BundleError, OSError, MemoryError):
                result = None
            finally:
                with self._ready:
                    self._done[i] = result
                    self._ready.notify_all()

    def take(self, path: Path) -> tuple[bytes, str, int] | None:
        """(bytes, sha256, crc32) of `path` once the thread has them; None if it did not read the file. Files are
        taken in the order given; those skipped over are dropped."""
        with self._ready:
            i = next((j for j in range(self._next, len(self._queue)) if self._queue[j] == path), None)
            if i is None:
                return None
            self._next = i + 1
            self._ready.notify_all()
            self._ready.wait_for(lambda: i in self._done)
            for j in [j for j in self._done if j < i]:
                del self._done[j]
            return self._done.pop(i)


# glibc's mallopt parameter (malloc.h): the most malloc arenas the process may have.
_M_ARENA_MAX = -8


def _one_malloc_arena() -> None:
    """Make glibc's malloc serve the read-ahead thread from the main thread's arena. By default a second thread
    gets its own arena, and a file's buffer freed by one thread's arena is not reused by the other's next file:
    two chips' worth stays mapped (bench, 16 MiB dumps: 1 pair 59 MiB, 2 pairs 77 MiB; one arena: 59 MiB).
    Elsewhere (musl, macOS, Windows) nothing is done."""
    if sys.platform != "linux":
        return
    libc = ctypes.CDLL(None)  # the running process's own symbols: the C library python is linked with
    if hasattr(libc, "gnu_get_libc_version"):  # glibc (musl has no arenas to limit)
        libc.mallopt(_M_ARENA_MAX, 1)


def _plain_file(path: Path) -> bool:
    """A regular file `_load` would read (no folder, FIFO or device; not too large)."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return False
    return stat.S_ISREG(st.st_mode) and st.st_size <= MAX_FILE_SIZE


def _load(rep: FileReport, path: Path, forced: str | None, ctx: Context) -> Loaded | None:
    item, file_sums = _read(rep, path, ctx)
    # as in the manifest: `size` = bytes of the image the file holds, crc32/sum32/sha256 = of the file itself
    rep.doc.update({"format": item.fmt, "size": len(item.image), **file_sums, "base_address": item.base,
                    "image": {"size": len(item.image), **run_checksums(ctx, item.image)}})
    kind, source, why = detect_item(item, forced, ctx)
    rep.doc.update({"kind": kind, "kind_source": source, "detected_because": why})
    if kind is None:
        rep.add("error", "unknown_kind", f"cannot tell what this is ({why}); give --kind "
                f"{'|'.join(KINDS)}" + ("" if ctx.manifest else " or --manifest"))
        return None
    return item


def _reload(rep: FileReport, path: Path, digest: str, ctx: Context) -> Loaded:
    """An SFLASH image read again for decoding (see the module docstring); refused if its bytes changed."""
    item, file_sums = _read(rep, path, ctx, sum32=False)
    if file_sums["sha256"] != digest:
        raise InputError("file changed while being inspected; run inspect again", rep.doc["file"])
    return item


def _read(rep: FileReport, path: Path, ctx: Context, sum32: bool = True) -> tuple[Loaded, dict[str, Any]]:
    """The file's image and the checksums of the file itself (file_size, crc32, sum32, sha256; sum32 only if
    asked). A file named .hex is parsed as it is read (its text is not kept); others come whole from the
    read-ahead thread (or are read here)."""
    name = rep.doc["file"]
    if _streamed_hex(path):
        hx = read_hex_file(path, ctx.board.mcu.fill, name)
        return Loaded(None, hx.image, hx.base, "hex", hx.sha256), {
            "file_size": hx.size, "crc32": hex32(hx.crc32), "sum32": hex32(hx.sum32), "sha256": hx.sha256}
    ahead = ctx.ahead.take(path) if ctx.ahead else None
    if ahead is None:
        raw, source = read_file(path, name, max_size_of(path, name))
        known: dict[str, Any] = {"sha256": source.sha256}  # read_file hashed it
    else:
        raw, digest, crc = ahead
        known = {"sha256": digest, "crc32": crc}
    for what, value in known.items():
        ctx.sums[(what, id(raw), 0, len(raw))] = (raw, value)
    image, base, fmt = image_from_bytes(raw, path, fill=ctx.board.mcu.fill, display=name)
    sums = run_checksums(ctx, raw) if sum32 else {"sha256": known["sha256"]}
    return Loaded(raw, image, base, fmt, known["sha256"]), {"file_size": len(raw), **sums}


def _streamed_hex(path: Path) -> bool:
    """A file named .hex (not an ELF under that name): read with inputs.read_hex_file."""
    if path.suffix.lower() not in HEX_SUFFIXES:
        return False
    try:
        with open(path, "rb") as fh:  # a regular file (checked by the caller's open_input): peek at the magic
            return fh.read(4) != ELF_MAGIC
    except OSError:
        return True  # read_hex_file words the error


def _decode(rep: FileReport, item: Loaded, ctx: Context, locations: list[tuple[str, list[Any]]]) -> None:
    kind = rep.doc["kind"]
    flash_image = None
    if kind == "mcu":
        image = mcu_image(rep, item, ctx)
        rep.doc["mcu"] = decode_mcu(rep, image, ctx)
        current = rep.doc["mcu"]["dct"].get("current_apps_locations")
        if current is not None:
            locations.append((rep.doc["file"], current))
        art_image = image
    elif kind == "sflash":
        image, chip = sflash_image(rep, item, ctx)
        rep.doc["sflash"] = decode_sflash(rep, image, chip, ctx, locations[0] if locations else None)
        art_image = image
    elif kind == "dct":
        rep.doc["dct"] = decode_dct_file(rep, item, ctx)
        art_image = item.image
    elif kind == "app":
        flash: list[tuple[int, bytes]] = []
        rep.doc["app"] = decode_elf(rep, item.image, ctx.board, region=None, flash_out=flash)
        flash_image = flash[0] if flash else None
        art_image = item.image
    elif kind == "filesystem":
        rep.doc["filesystem"] = decode_filesystem(  # as the build would store it: its whole sectors
            rep, item.image, region=None, readable=readable_size(ctx.board.sflash, len(item.image)))
        art_image = item.image
    else:
        rep.doc["wifi_firmware"] = {"size": len(item.image), "sha256": sha256(item.image)}
        art_image = item.image
    if ctx.manifest is not None:
        content = rep.findings[:]  # what decoding found; verification (identity) comes next
        if kind in ("mcu", "sflash"):
            rep.doc["verification"] = verify(rep, item, ctx)
        else:
            rep.doc["verification"] = verify_component(rep, kind, art_image, ctx, flash_image)
        vouched(content, rep.doc["verification"])
