"""`bundle inspect`: detect what an image file is, decode it, and verify it against a manifest.

A pure library: `inspect_paths` returns one JSON-ready report (schema: `schemas/inspect.schema.json`); rendering is
in `bundler.report`. Whatever the bytes, nothing raises out of `inspect_paths` for a file: problems become
*findings* with a severity:

- ``error``   the input could not be read or understood (unreadable, unknown kind)      -> exit 2
- ``fail``    a verification failed: the image differs from the manifest, or would not
              work on the device (no valid DCT copy, LUT entry past the chip, ...)       -> exit 1
- ``warning`` suspicious but the device would work (stale bytes in an unused sector, ...)
- ``note``    information (read-back longer than the artefact but only fill, ...)

Only a bad manifest or bad options (board, chip, kind) raise a `BundleError` (exit 2), before any file is reported on
(files named in the call are already being read in the background: `_ReadAhead`).

Formats and rules: ../shared/docs/wiced-formats.md §1 (flash map), §2 (DCT, copy choice), §3 (LUT, stored ELF),
§4 (WicedFS), §6 (boot flow). Structures come from `bundler.formats`; nothing here unpacks bytes at fixed offsets.
"""

from __future__ import annotations

import functools
import json
import os
import stat
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator

from . import TOOL_NAME, __version__
from .checksums import crc32, hex32, memoized, sha256, sum32
from .errors import BundleError, InputError, hexsize
from .inputs import image_from_bytes, read_file, stored_form
from .stream import not_fill

if TYPE_CHECKING:  # imported where used: inspect_paths starts reading the files before construct & co. load
    from .layout import Board, Chip, Region

INSPECT_VERSION = 1
KINDS = ("mcu", "sflash", "dct", "app", "filesystem", "wifi_firmware")
DEFAULT_BOARD = "bcm943362wcd4"  # layouts/boards/<name>.toml used when neither --board nor a manifest names one
MAX_FILE_SIZE = 256 << 20  # larger files are refused unread (no WICED image comes close)
MAX_LISTED = 16  # runs of unexpected bytes / segments listed one by one before a summary line
MAX_SEGMENTS = 64
# Files in a folder that are not images (the manifest, its signature, notes) are skipped, not reported as unknown.
SKIPPED_SUFFIXES = (".json", ".sig", ".pub", ".pem", ".md", ".txt", ".csv", ".toml", ".log", ".html", ".htm", ".svg",
                    ".pdf", ".png", ".jpg", ".zip")
SEVERITY_EXIT = {"error": 2, "fail": 1, "warning": 0, "note": 0}


# --------------------------------------------------------------------------------------------------- context


@dataclass
class Context:
    board: Board
    chips: list[Chip]
    chip: Chip | None  # forced by --chip or named by the manifest
    manifest: dict[str, Any] | None = None
    manifest_path: Path | None = None
    references: dict[str, bytes | None] = field(default_factory=dict)  # artefact file -> verified image bytes
    ahead: "_ReadAhead | None" = None
    sums: dict[tuple[str, int, int, int], tuple[bytes, Any]] = field(default_factory=dict)  # see _once

    @property
    def dct_options(self) -> Any:
        from .dct import options_for_board

        return options_for_board(self.board)


class FileReport:
    """What is known about one file; `as_dict()` is its JSON form."""

    def __init__(self, file: str) -> None:
        self.doc: dict[str, Any] = {"file": file, "format": None, "kind": None, "kind_source": None}
        self.findings: list[dict[str, Any]] = []

    def add(self, severity: str, code: str, message: str, *, region: str | None = None, offset: int | None = None,
            address: int | None = None) -> None:
        self.findings.append({"severity": severity, "code": code, "message": message, "region": region,
                              "offset": offset, "address": address})

    @property
    def exit_code(self) -> int:
        return max((SEVERITY_EXIT[f["severity"]] for f in self.findings), default=0)

    def as_dict(self) -> dict[str, Any]:
        status = {0: "ok", 1: "fail", 2: "error"}[self.exit_code]
        return {**self.doc, "status": status, "findings": self.findings}


# --------------------------------------------------------------------------------------------------- entry point


def inspect_paths(paths: Iterable[str | Path], *, manifest: str | Path | None = None, kind: str | None = None,
                  board: str | Path | None = None, chip: str | None = None) -> dict[str, Any]:
    """Inspect files (folders: every file inside, sorted) and return the report document. `exit_code` in it is
    0 all good, 1 a verification failed, 2 an input could not be read or understood."""
    with memoized():  # decoding and verifying look at the same images several times: hash each once
        return _inspect_paths(paths, manifest, kind, board, chip)


def _inspect_paths(paths: Iterable[str | Path], manifest: str | Path | None, kind: str | None,
                   board: str | Path | None, chip: str | None) -> dict[str, Any]:
    if kind is not None and kind not in KINDS:
        raise InputError(f"--kind {kind!r}: expected one of {', '.join(KINDS)}")
    paths = list(paths)
    ahead = _ReadAhead(map(Path, paths))
    ctx = _context(manifest, board, chip)
    ctx.ahead = ahead
    files = _expand(paths, ctx.manifest_path)
    reports: list[FileReport] = []
    loaded: list[tuple[FileReport, Any]] = []
    for path, display in files:
        rep = FileReport(display)
        reports.append(rep)
        loaded.append((rep, _guard(rep, lambda: _load(rep, path, kind, ctx))))
    # MCU images first: the current DCT of an MCU image inspected in the same run tells where an SFLASH image's LUT
    # headers are after an OTA relocation (the device reads them through the DCT in internal flash).
    locations: list[tuple[str, list[Any]]] = []
    for rep, item in loaded:
        if item is not None and rep.doc["kind"] == "mcu":
            _guard(rep, lambda: _decode(rep, item, ctx, locations))
    # several MCU images that disagree (files of different devices): none of their DCTs is used for SFLASH images
    if len({json.dumps(loc, sort_keys=True) for _, loc in locations}) > 1:
        locations = []
    for rep, item in loaded:
        if item is not None and rep.doc["kind"] != "mcu":
            _guard(rep, lambda: _decode(rep, item, ctx, locations))
    docs = [r.as_dict() for r in reports]
    exit_code = max((r.exit_code for r in reports), default=2)
    summary = {"files": len(docs), "ok": sum(d["status"] == "ok" for d in docs),
               "failed": sum(d["status"] == "fail" for d in docs), "errors": sum(d["status"] == "error" for d in docs)}
    doc: dict[str, Any] = {
        "inspect_version": INSPECT_VERSION,
        "tool": {"name": TOOL_NAME, "version": __version__},
        "board": {"name": ctx.board.name, "layout": ctx.board.id},
        "manifest": None,
        "files": docs,
        "summary": summary,
        "exit_code": exit_code,
    }
    if ctx.manifest is not None:
        assert ctx.manifest_path is not None
        doc["manifest"] = {"file": str(ctx.manifest_path), "name": ctx.manifest.get("name"),
                           "sha256": ctx.manifest.get("_sha256")}
    if not docs:
        doc["error"] = "no files to inspect"
    return doc


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


def _context(manifest: str | Path | None, board: str | Path | None, chip: str | None) -> Context:
    from .layout import Chip, chip_names, load_board, load_chip
    from .manifest import load as load_manifest

    doc = path = None
    if manifest is not None:
        path = Path(manifest)
        doc, digest = load_manifest(path)
        doc["_sha256"] = digest
    board_name = board or (doc["board"]["layout"] if doc else DEFAULT_BOARD)
    the_board = load_board(board_name)
    chips = [load_chip(name) for name in chip_names()]
    the_chip = None
    if chip is not None:
        the_chip = load_chip(chip)
    elif doc is not None:
        mc = doc["chip"]
        the_chip = next((c for c in chips if c.name == mc["name"] and c.size == mc["size"]), None) or Chip(
            mc["name"], int(mc["jedec_id"], 16), mc["size"], mc["sector_size"])
    return Context(the_board, chips, the_chip, doc, path)


def _expand(paths: Iterable[str | Path], manifest_path: Path | None) -> list[tuple[Path, str]]:
    out: list[tuple[Path, str]] = []
    skip = manifest_path.resolve() if manifest_path is not None else None
    for p in map(Path, paths):
        if p.is_dir():
            try:
                inside = sorted((q for q in p.rglob("*") if q.is_file()), key=lambda q: q.as_posix())
            except OSError as exc:
                raise InputError(f"cannot list the folder: {exc.strerror}", _display(p)) from None
            for q in inside:
                if q.resolve() == skip or q.suffix.lower() in SKIPPED_SUFFIXES or q.name.startswith("."):
                    continue
                out.append((q, _display(q)))
        else:
            out.append((p, _display(p)))
    return out


def _display(p: Path) -> str:
    return str(p).encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


# --------------------------------------------------------------------------------------------------- checksums
# One run looks at the same bytes several times: the file and its image (the same object for a .bin), a manifest
# region that is also a LUT component, the artefact match and the region check. Each checksum of a range of an
# immutable `bytes` object is computed once per run (for `bytes` only: a bytearray may change in between).


def _once(ctx: Context, what: str, data: bytes, lo: int, hi: int, compute: Callable[[memoryview], Any]) -> Any:
    if type(data) is not bytes:
        return compute(memoryview(data)[lo:hi])
    key = (what, id(data), lo, hi)
    hit = ctx.sums.get(key)
    if hit is not None and hit[0] is data:  # the entry keeps `data` alive: its id cannot be reused meanwhile
        return hit[1]
    value = compute(memoryview(data)[lo:hi])
    ctx.sums[key] = (data, value)
    return value


def _sha256(ctx: Context, data: bytes, lo: int = 0, hi: int | None = None) -> str:
    lo, hi = _span(data, lo, hi)
    return _once(ctx, "sha256", data, lo, hi, sha256)  # type: ignore[no-any-return]


def _crc32(ctx: Context, data: bytes, lo: int = 0, hi: int | None = None) -> int:
    lo, hi = _span(data, lo, hi)
    return _once(ctx, "crc32", data, lo, hi, crc32)  # type: ignore[no-any-return]


def _sum32(ctx: Context, data: bytes) -> int:
    """checksums.sum32 of `data`, where each block of erased flash adds its size x fill unread: the byte sum is
    the slowest checksum (~1.5 ms per MiB) and erased sectors are most of an SFLASH image."""

    def compute(view: memoryview) -> int:
        fill = ctx.board.sflash.fill  # any value gives the same sum; the erased one skips the most
        return sum((end - start) * fill if erased else sum32(view[start:end])
                   for start, end, erased in _spans(data, fill, 0, len(data))) & 0xFFFFFFFF

    return _once(ctx, "sum32", data, 0, len(data), compute)  # type: ignore[no-any-return]


def _checksums(ctx: Context, data: bytes) -> dict[str, str]:
    """`Checksums.of(data).as_dict()`, once per run."""
    return {"crc32": hex32(_crc32(ctx, data)), "sum32": hex32(_sum32(ctx, data)), "sha256": _sha256(ctx, data)}


# --------------------------------------------------------------------------------------------------- reading


class _ReadAhead:
    """The files named in the call (not folders: they are listed after the manifest is read) read and hashed
    (SHA-256, CRC-32) in a background thread, from the start of the run: the main thread meanwhile imports the
    decoders (construct & co.), validates the manifest and loads the layouts. File reads, SHA-256 and CRC-32
    release the GIL: on a 16 MiB image ~25 ms of a ~200 ms run overlap.

    Anything unusual is left to `_load`, whose read_file words the error."""

    def __init__(self, paths: Iterable[Path]) -> None:
        self._queue = dict.fromkeys(p for p in paths if _plain_file(p))  # in order, once each
        self._done: dict[Path, tuple[bytes, str, int] | None] = {}
        self._ready = threading.Condition()
        if self._queue:
            threading.Thread(target=self._run, name="inspect-read-ahead", daemon=True).start()

    def _run(self) -> None:
        for path in self._queue:
            result = None  # `_load` reads the file again
            try:
                raw, source = read_file(path)
                result = (raw, source.sha256, crc32(memoryview(raw)))
            except Exception:
                result = None
            finally:
                with self._ready:
                    self._done[path] = result
                    self._ready.notify_all()

    def take(self, path: Path) -> tuple[bytes, str, int] | None:
        """(bytes, sha256, crc32) of `path` once the thread has them; None if it did not read the file."""
        if path not in self._queue:
            return None
        with self._ready:
            self._ready.wait_for(lambda: path in self._done)
        return self._done[path]


def _plain_file(path: Path) -> bool:
    """A regular file `_load` would read (no folder, FIFO or device; not too large)."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return False
    return stat.S_ISREG(st.st_mode) and st.st_size <= MAX_FILE_SIZE


@dataclass
class Loaded:
    raw: bytes  # the file's bytes
    image: bytes  # the bytes it puts in memory (= raw for bin/elf; HEX records from the lowest address)
    base: int | None  # HEX: its lowest address; bin: None (where it goes is the kind's base)
    fmt: str  # "bin" | "hex" | "elf"


def _load(rep: FileReport, path: Path, forced: str | None, ctx: Context) -> Loaded | None:
    try:
        size = os.stat(path).st_size
    except FileNotFoundError:
        raise InputError("file not found", rep.doc["file"]) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", rep.doc["file"]) from None
    if path.is_dir():
        raise InputError("is a folder", rep.doc["file"])
    if size > MAX_FILE_SIZE:
        raise InputError(f"{hexsize(size)} is larger than any image ({hexsize(MAX_FILE_SIZE)})", rep.doc["file"])
    ahead = ctx.ahead.take(path) if ctx.ahead else None
    if ahead is None:
        raw, source = read_file(path, rep.doc["file"])
        known: dict[str, Any] = {"sha256": source.sha256}  # read_file hashed it
    else:
        raw, digest, crc = ahead
        known = {"sha256": digest, "crc32": crc}
    for what, value in known.items():
        ctx.sums[(what, id(raw), 0, len(raw))] = (raw, value)
    image, base, fmt = image_from_bytes(raw, path, fill=ctx.board.mcu.fill, display=rep.doc["file"])
    item = Loaded(raw, image, base, fmt)
    # as in the manifest: `size` = bytes of the image the file holds, crc32/sum32/sha256 = of the file itself
    rep.doc.update({"format": fmt, "size": len(image), "file_size": len(raw), **_checksums(ctx, raw),
                    "base_address": base, "image": {"size": len(image), **_checksums(ctx, image)}})
    kind, source, why = _detect(item, forced, ctx)
    rep.doc.update({"kind": kind, "kind_source": source, "detected_because": why})
    if kind is None:
        rep.add("error", "unknown_kind", f"cannot tell what this is ({why}); give --kind "
                f"{'|'.join(KINDS)}" + ("" if ctx.manifest else " or --manifest"))
        return None
    return item


# --------------------------------------------------------------------------------------------------- detection


def _detect(item: Loaded, forced: str | None, ctx: Context) -> tuple[str | None, str | None, str]:
    if forced is not None:
        return forced, "option", "--kind"
    kind, why = detect_kind(item.image, item.base, item.fmt, ctx.board, ctx.chips)
    if kind is not None:
        return kind, "content", why
    if ctx.manifest is not None:
        art = _match_artefact(item, None, ctx)
        if art is not None:
            return art["kind"], "manifest", f"{why}; matched manifest artefact {art['file']} by size and content"
    return None, None, why


def detect_kind(data: bytes, base: int | None, fmt: str, board: Board, chips: list[Chip]) -> tuple[str | None, str]:
    """(kind or None, why) from content and size: ELF -> app (or dct: one segment at DCT copy 1); WicedFS header ->
    filesystem; DCT magic at offset 8 in at most a DCT copy -> dct; otherwise the better of the MCU and SFLASH
    scores (vector tables, DCT magic in the copies, a plausible LUT, the size)."""
    mcu = board.mcu
    if fmt == "elf":
        info = _elf_header(data)
        dct1 = mcu.region(board.dct.copies[0])
        if info is not None and info[1] == 1 and info[2] == dct1.start:
            return "dct", f"ELF with one program header at 0x{dct1.start:08X} (DCT image)"
        return "app", "ELF file (stored app)"
    if fmt == "hex":
        if base is not None and mcu.flash_base <= base < mcu.flash_base + mcu.flash_size:
            return "mcu", f"Intel HEX based at 0x{base:08X}, inside the MCU flash"
        if base == 0 and _lut_plausible(data, board):
            return "sflash", "Intel HEX based at 0 holding an apps look-up table"
        return None, f"Intel HEX based at 0x{(base or 0):08X}, outside the MCU flash"
    from .wicedfs import detect

    if detect(data):
        return "filesystem", "WicedFS header (magic 'BRCM', version 1) at offset 0"
    if len(data) <= mcu.region(board.dct.copies[0]).size and _dct_magic(data, 0):
        return "dct", "DCT magic 0x4D435242 at offset 8"
    mcu_score, mcu_why = _mcu_score(data, board)
    sf_score, sf_why = _sflash_score(data, board, chips)
    if mcu_score >= 2 and mcu_score >= sf_score:
        return "mcu", "; ".join(mcu_why)
    if sf_score >= 3:
        return "sflash", "; ".join(sf_why)
    return None, f"{hexsize(len(data))}, no MCU vector table or DCT, no apps look-up table"


def _mcu_score(data: bytes, board: Board) -> tuple[int, list[str]]:
    mcu, score, why = board.mcu, 0, []
    if len(data) == mcu.flash_size:
        score += 1
        why.append(f"size is the MCU flash size {hexsize(mcu.flash_size)}")
    for copy in board.dct.copies:
        r = mcu.region(copy)
        if _dct_magic(data, r.start - mcu.flash_base):
            score += 2
            why.append(f"DCT magic in {copy}")
            break
    boot = _boot_region(board)
    if _vectors_ok(data, boot.start - mcu.flash_base, board, boot):
        score += 1
        why.append(f"vector table at 0x{mcu.flash_base:08X}")
    app = mcu.region(board.sflash.app_region)
    if _vectors_ok(data, app.start - mcu.flash_base, board, app):
        score += 1
        why.append(f"vector table at 0x{app.start:08X}")
    return score, why


def _sflash_score(data: bytes, board: Board, chips: list[Chip]) -> tuple[int, list[str]]:
    score, why = 0, []
    if _lut_plausible(data, board):
        score += 3
        why.append(f"apps look-up table at 0x{board.sflash.apps_lut_header_loc:X}")
    if any(len(data) == c.size for c in chips):
        score += 1
        why.append(f"size {hexsize(len(data))} is a serial-flash chip size")
    return score, why


def _dct_magic(data: bytes, offset: int) -> bool:
    from .formats.dct import BOOTLOADER_MAGIC_NUMBER, platform_dct_header_t

    size = platform_dct_header_t.sizeof()
    if offset < 0 or offset + size > len(data):
        return False
    return platform_dct_header_t.parse(data[offset:offset + size]).magic_number == BOOTLOADER_MAGIC_NUMBER


def _vectors_ok(data: bytes, offset: int, board: Board, region: Region) -> bool:
    v = _parse_vectors(data, offset)
    return v is not None and _vector_checks(v, board, region)["ok"]


def _lut_plausible(data: bytes, board: Board) -> bool:
    """Eight app_header_t with count <= 8, secure 0/1, every run inside 16-bit sectors after the LUT, at least one
    entry used, and the first slot after the table erased or holding another plausible header."""
    from .formats.lut import APP_HEADER_MAX_SECTOR_ENTRIES, COMPONENTS, wiced_apps_lut

    loc = board.sflash.apps_lut_header_loc
    size = wiced_apps_lut.sizeof()
    if loc + size > len(data):
        return False
    headers = wiced_apps_lut.parse(data[loc:loc + size])
    used = 0
    for h in headers:
        if h.count > APP_HEADER_MAX_SECTOR_ENTRIES or h.secure > 1:
            return False
        for run in h.sectors[:h.count]:
            if run.count == 0 or run.start * board.sflash.sector_size <= loc:
                return False
        used += h.count > 0
    return used > 0 and len(headers) == len(COMPONENTS)


def _elf_header(data: bytes) -> tuple[Any, int, int | None] | None:
    """(Elf32_Ehdr, e_phnum, p_paddr of the first program header or None) or None if not an ELF header."""
    from construct import ConstructError

    from .formats.elf import Elf32_Ehdr, Elf32_Phdr

    try:
        hdr = Elf32_Ehdr.parse(data)
    except ConstructError:
        return None
    first = None
    end = hdr.e_phoff + Elf32_Phdr.sizeof()
    if hdr.e_phnum >= 1 and end <= len(data):
        first = Elf32_Phdr.parse(data[hdr.e_phoff:end]).p_paddr
    return hdr, hdr.e_phnum, first


# --------------------------------------------------------------------------------------------------- decoding


def _decode(rep: FileReport, item: Loaded, ctx: Context, locations: list[tuple[str, list[Any]]]) -> None:
    kind = rep.doc["kind"]
    flash_image = None
    if kind == "mcu":
        image = _mcu_image(rep, item, ctx)
        rep.doc["mcu"] = decode_mcu(rep, image, ctx)
        current = rep.doc["mcu"]["dct"].get("current_apps_locations")
        if current is not None:
            locations.append((rep.doc["file"], current))
        art_image = image
    elif kind == "sflash":
        image, chip = _sflash_image(rep, item, ctx)
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
        rep.doc["filesystem"] = decode_filesystem(rep, item.image, region=None)
        art_image = item.image
    else:
        rep.doc["wifi_firmware"] = {"size": len(item.image), "sha256": sha256(item.image)}
        art_image = item.image
    if ctx.manifest is not None:
        if kind in ("mcu", "sflash"):
            rep.doc["verification"] = verify(rep, item, ctx)
        else:
            rep.doc["verification"] = verify_component(rep, kind, art_image, ctx, flash_image)


def _mcu_image(rep: FileReport, item: Loaded, ctx: Context) -> bytes:
    """The file's bytes as they sit from the flash base: a HEX based above it is preceded by fill. Size checks."""
    mcu = ctx.board.mcu
    data = item.image
    if item.fmt == "hex":
        assert item.base is not None
        if item.base < mcu.flash_base:
            rep.add("fail", "outside_flash", f"HEX records start at 0x{item.base:08X}, below the flash base "
                    f"0x{mcu.flash_base:08X}", address=item.base)
            return data
        data = bytes([mcu.fill]) * (item.base - mcu.flash_base) + data
        if len(data) > mcu.flash_size:
            rep.add("fail", "outside_flash", f"HEX records end at 0x{mcu.flash_base + len(data) - 1:08X}, past the "
                    f"flash (0x{mcu.flash_base:08X}-0x{mcu.flash_base + mcu.flash_size - 1:08X})",
                    address=mcu.flash_base + mcu.flash_size)
        elif len(data) < mcu.flash_size:
            rep.add("note", "hex_partial", f"HEX records cover 0x{item.base:08X}-0x{mcu.flash_base + len(data) - 1:08X}; "
                    f"the rest of the flash is taken as erased (0x{mcu.fill:02X})")
            data = data + bytes([mcu.fill]) * (mcu.flash_size - len(data))
        return data
    return _check_size(rep, data, mcu.flash_size, mcu.fill, "the MCU flash", mcu.flash_base, manifest=ctx.manifest)


def _sflash_image(rep: FileReport, item: Loaded, ctx: Context) -> tuple[bytes, Chip]:
    chip = _chip_for(rep, len(item.image), ctx)
    data = item.image
    if item.fmt == "hex" and item.base:
        data = bytes([ctx.board.sflash.fill]) * item.base + data
    return _check_size(rep, data, chip.size, ctx.board.sflash.fill, f"chip {chip.name}", 0,
                       manifest=ctx.manifest), chip


def _check_size(rep: FileReport, data: bytes, size: int, fill: int, what: str, base: int, manifest: Any) -> bytes:
    """A read-back longer than the chip/flash passes if the extra bytes are all fill; shorter fails. With a manifest
    the artefact's size is checked instead (in `verify`)."""
    if manifest is not None:
        return data
    if len(data) > size:
        return _cut_longer(rep, data, size, fill, what, base, "file")
    if len(data) < size:
        rep.add("fail", "truncated", f"file is {hexsize(len(data))}, shorter than {what} ({hexsize(size)}): "
                f"{hexsize(size - len(data))} missing from offset 0x{len(data):X} (address 0x{base + len(data):08X})",
                offset=len(data), address=base + len(data))
    return data


def _cut_longer(rep: FileReport, data: bytes, size: int, fill: int, what: str, base: int, subject: str,
                compared: str = "") -> bytes:
    """`data` is longer than `what` (`size` bytes at address `base`): a read-back of a larger part passes (a note) if
    the extra bytes are all fill, else fails at the first other byte. Returns the first `size` bytes."""
    first = _first_not(data, fill, size)
    if first is None:
        rep.add("note", "longer_fill", f"{subject} is {hexsize(len(data))}, {hexsize(len(data) - size)} longer than "
                f"{what}; the extra bytes are all 0x{fill:02X} (fill){compared}")
    else:
        rep.add("fail", "longer", f"{subject} is {hexsize(len(data))}, longer than {what} ({hexsize(size)}), and the "
                f"extra bytes are not all 0x{fill:02X}: first at offset 0x{first:X} (address 0x{base + first:08X})",
                offset=first, address=base + first)
    return data[:size]


def _chip_for(rep: FileReport, size: int, ctx: Context) -> Chip:
    if ctx.chip is not None:
        chip = ctx.chip
    else:
        sf = ctx.board.sflash
        by_name = {c.name: c for c in ctx.chips}
        preferred = [by_name[n] for n in (sf.chip, *sf.compatible_chips) if n in by_name]
        chip = next((c for c in preferred + ctx.chips if c.size == size), None) or by_name.get(sf.chip) or ctx.chips[0]
    rep.doc["chip"] = {"name": chip.name, "jedec_id": hex32(chip.jedec_id), "size": chip.size,
                       "sector_size": chip.sector_size}
    return chip


_SCAN = 4096  # erased images are mostly fill: compare whole blocks with memcmp, run the regex only where one differs
_COARSE = 16  # blocks compared at once first: a whole erased 64 KiB is one memcmp


@functools.lru_cache(maxsize=4)
def _blanks(fill: int) -> tuple[bytes, bytes]:
    """`fill` x (a block, _COARSE blocks)."""
    return bytes([fill]) * _SCAN, bytes([fill]) * (_SCAN * _COARSE)


def _span(data: bytes, lo: int, hi: int | None) -> tuple[int, int]:
    """data[lo:hi] as an in-bounds (start, end), end >= start."""
    lo = max(0, lo)
    return lo, max(lo, len(data) if hi is None else min(hi, len(data)))


def _spans(data: bytes, fill: int, lo: int, hi: int) -> Iterator[tuple[int, int, bool]]:
    """data[lo:hi] cut into maximal (start, end, erased) spans of whole blocks (from lo; the last may be shorter):
    erased spans are all `fill`, the others have in each block a byte that is not. `startswith` compares in place
    (memcmp); a memoryview slice compared with bytes goes element by element, ~20x slower."""
    blank, coarse = _blanks(fill)
    start, pos, erased = lo, lo, True
    while pos < hi:
        if pos + len(coarse) <= hi and data.startswith(coarse, pos):
            step, now = len(coarse), True
        else:
            step = min(_SCAN, hi - pos)
            now = data.startswith(blank if step == _SCAN else blank[:step], pos)
        if now != erased and pos > start:
            yield start, pos, erased
            start = pos
        erased = now
        pos += step
    if hi > start:
        yield start, hi, erased


def _non_fill_runs(data: bytes, fill: int, lo: int = 0, hi: int | None = None) -> Iterator[tuple[int, int]]:
    """(start, end) of each run of bytes other than `fill` in data[lo:hi], as offsets in `data`."""
    lo, hi = _span(data, lo, hi)
    pattern = not_fill(fill)
    for start, end, erased in _spans(data, fill, lo, hi):
        if not erased:  # a maximal span: a run cannot go on into the erased blocks around it
            for m in pattern.finditer(data, start, end):
                yield m.start(), m.end()


def _first_not(data: bytes, fill: int, lo: int = 0, hi: int | None = None) -> int | None:
    """Offset in `data` of the first byte of data[lo:hi] that is not `fill`, or None."""
    return next((start for start, _ in _non_fill_runs(data, fill, lo, hi)), None)


def _last_not(data: bytes, fill: int, lo: int = 0, hi: int | None = None) -> int | None:
    """Offset in `data` of the last byte of data[lo:hi] that is not `fill`, or None (blocks from the end)."""
    lo, hi = _span(data, lo, hi)
    blank, end = _blanks(fill)[0], hi
    while end > lo:
        start = max(lo, end - _SCAN)
        if not data.startswith(blank if end - start == _SCAN else blank[:end - start], start):
            return start + len(data[start:end].rstrip(blank[:1])) - 1
        end = start
    return None


def _region_sums(ctx: Context, data: bytes, lo: int, hi: int, fill: int) -> dict[str, Any]:
    """data[lo:hi]: erased?, the size up to its last byte that is not fill, crc32, sha256."""
    last = _last_not(data, fill, lo, hi)
    return {"erased": last is None, "used_size": 0 if last is None else last + 1 - lo,
            "crc32": hex32(_crc32(ctx, data, lo, hi)), "sha256": _sha256(ctx, data, lo, hi)}


# ---- MCU


def decode_mcu(rep: FileReport, data: bytes, ctx: Context) -> dict[str, Any]:
    """Regions of the board layout, both DCT copies, the copy the bootloader uses, what the next boot does, the
    bootloader's and the app's vector tables."""
    board, mcu = ctx.board, ctx.board.mcu
    regions = []
    for r in mcu.regions:
        off = r.start - mcu.flash_base
        lo, hi = _span(data, off, off + r.size)
        regions.append({"name": r.name, "address": r.start, "offset": off, "size": r.size,
                        "present": hi - lo, **_region_sums(ctx, data, lo, hi, mcu.fill)})
    dct = decode_dct_copies(rep, data, ctx)
    vectors = {}
    boot_region = _boot_region(board)
    app = mcu.region(board.sflash.app_region)
    for name, region in (("bootloader", boot_region), (board.sflash.app_region, app)):
        off = region.start - mcu.flash_base
        if _first_not(data, mcu.fill, off, off + region.size) is None:  # erased, or not in the file
            vectors[name] = None
            if name == board.sflash.app_region:
                loads = dct.get("boot", {}).get("loads_app")
                if loads:
                    rep.add("note", "app_erased", f"the {name} region is erased; the bootloader will load {loads} "
                            "into it at the next boot", region=name, address=region.start)
                else:
                    rep.add("fail", "nothing_to_boot", f"the {name} region is erased and the DCT does not make the "
                            "bootloader load an app: nothing to run", region=name, address=region.start)
            else:
                rep.add("fail", "no_bootloader", f"the {name} region is erased", region=name, address=region.start)
            continue
        v = _parse_vectors(data, off)
        if v is None:
            rep.add("fail", "vectors", f"{name}: no room for a vector table at 0x{region.start:08X}", region=name)
            vectors[name] = None
            continue
        checks = _vector_checks(v, board, region)
        vectors[name] = {"address": region.start, **checks}
        _report_vectors(rep, checks, name, region)
    return {"flash_base": mcu.flash_base, "flash_size": mcu.flash_size, "fill": mcu.fill, "regions": regions,
            "dct": dct, "vectors": vectors}


def _boot_region(board: Board) -> Region:
    """The layout region named "bootloader" (else the first one): the bootloader's vector table starts it."""
    return next((r for r in board.mcu.regions if r.name == "bootloader"), board.mcu.regions[0])


def _parse_vectors(data: bytes, offset: int) -> Any:
    from .formats.vectors import VECTOR_TABLE_HEAD_SIZE, cortex_m_vector_table_t

    if offset < 0 or offset + VECTOR_TABLE_HEAD_SIZE > len(data):
        return None
    return cortex_m_vector_table_t.parse(data[offset:offset + VECTOR_TABLE_HEAD_SIZE])


def _vector_checks(v: Any, board: Board, region: Region) -> dict[str, Any]:
    """Initial SP inside SRAM (the top is allowed: the stack grows down) and word aligned; reset handler a Thumb
    address inside `region` (the code it starts)."""
    mcu = board.mcu
    sp, reset = v.initial_sp, v.reset_handler
    sp_ok = mcu.sram_base < sp <= mcu.sram_base + mcu.sram_size and sp % 4 == 0
    thumb = bool(reset & 1)
    in_region = region.contains(reset & ~1, 2)
    return {"initial_sp": sp, "reset_handler": reset, "sp_in_sram": sp_ok, "thumb": thumb,
            "reset_in_region": in_region, "ok": sp_ok and thumb and in_region}


def _report_vectors(rep: FileReport, checks: dict[str, Any], name: str, region: Region, where: str = "") -> None:
    mcu_msg = f"{where}{name} vector table at 0x{region.start:08X}"
    if not checks["sp_in_sram"]:
        rep.add("fail", "vectors", f"{mcu_msg}: initial stack pointer 0x{checks['initial_sp']:08X} is not a word "
                "address inside SRAM", region=name, address=region.start)
    if not checks["thumb"]:
        rep.add("fail", "vectors", f"{mcu_msg}: reset handler 0x{checks['reset_handler']:08X} lacks the Thumb bit",
                region=name, address=region.start + 4)
    if not checks["reset_in_region"]:
        rep.add("fail", "vectors", f"{mcu_msg}: reset handler 0x{checks['reset_handler']:08X} is outside {name} "
                f"(0x{region.start:08X}-0x{region.end - 1:08X})", region=name, address=region.start + 4)


def decode_dct_copies(rep: FileReport, data: bytes, ctx: Context) -> dict[str, Any]:
    from .dct import choose_current

    board, mcu = ctx.board, ctx.board.mcu
    copy_size = mcu.region(board.dct.copies[0]).size
    blobs = []
    copies = []
    for n, name in enumerate(board.dct.copies, start=1):
        r = mcu.region(name)
        off = r.start - mcu.flash_base
        blob = data[off:off + r.size]
        blobs.append(blob)
        copies.append(_decode_copy(rep, blob, n, name, r.start, ctx))
    current, reason = choose_current(blobs[0], blobs[1], copy_size)
    out: dict[str, Any] = {"copies": copies, "current": {"copy": current, "reason": reason}}
    if current is None:
        rep.add("fail", "no_valid_dct", f"no valid DCT copy: {reason}", region=board.dct.copies[0],
                address=mcu.region(board.dct.copies[0]).start)
        out["boot"] = {"summary": "no valid DCT: the app erases DCT copy 1 and writes a bare header (all settings "
                       "lost); the bootloader runs the app in internal flash", "loads_app": None}
        return out
    for c in copies:
        if c["copy"] != current and c["state"] == "present" and not c["valid"]:
            rep.add("warning", "dct_copy_invalid", f"{c['region']} is not valid ({c['reason']}); copy {current} is used",
                    region=c["region"], address=c["address"])
    header = copies[current - 1]["header"]
    out["boot"] = boot_summary(header, ctx)
    out["current_apps_locations"] = header["apps_locations"]
    return out


def _decode_copy(rep: FileReport, blob: bytes, n: int, name: str, address: int, ctx: Context) -> dict[str, Any]:
    from .dct import copy_status, dct_crc, decode_dct, dec_header
    from .formats.dct import platform_dct_header_t

    fill = ctx.board.mcu.fill
    copy_size = ctx.board.mcu.region(ctx.board.dct.copies[n - 1]).size
    out: dict[str, Any] = {"copy": n, "region": name, "address": address}
    if not blob:
        out.update({"state": "missing", "valid": False, "reason": f"copy {n}: not in the file", "header": None,
                    "crc": None, "decoded": None})
        return out
    if _first_not(blob, fill) is None:
        out.update({"state": "erased", "valid": False, "reason": f"copy {n}: erased", "header": None,
                    "crc": None, "decoded": None})
        return out
    st = copy_status(blob, n, copy_size)
    out.update({"state": "present", "valid": st.valid, "reason": st.reason})
    if len(blob) < platform_dct_header_t.sizeof():
        out.update({"header": None, "crc": None, "decoded": None})
        return out
    header = dec_header(platform_dct_header_t.parse(blob))
    out["header"] = header
    computed = dct_crc(blob, copy_size)
    out["crc"] = {"stored": hex32(header["crc32"]), "computed": hex32(computed), "ok": computed == header["crc32"]}
    try:
        out["decoded"] = decode_dct(blob, ctx.dct_options)
    except BundleError as exc:
        out["decoded"] = None
        if st.valid:
            rep.add("fail", "dct_decode", f"{name}: {exc}", region=name, address=address)
    return out


def boot_summary(header: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """What the 3.5.2 bootloader does with boot_detail (wiced-formats.md §6 steps 2-3)."""
    from .formats.lut import COMPONENTS

    bd = header["boot_detail"]
    ld = bd["load_details"]
    app = ctx.board.mcu.region(ctx.board.sflash.app_region)
    out: dict[str, Any] = {"valid": ld["valid"], "load_once": ld["load_once"], "entry_point": bd["entry_point"],
                           "source": ld["source"], "destination": ld["destination"], "loads_app": None}
    if ld["valid"]:
        src = ld["source"]
        if ld["destination"].get("id") not in ("INTERNAL", "NONE"):
            out["summary"] = f"load refused: destination {ld['destination'].get('id')} (only INTERNAL is allowed)"
            return out
        if src.get("id") == "EXTERNAL_FIXED_LOCATION":
            loc = src.get("location", 0)
            names = [COMPONENTS[i] for i, a in enumerate(header["apps_locations"])
                     if a.get("id") == "EXTERNAL_FIXED_LOCATION" and a.get("location") == loc and i < len(COMPONENTS)]
            what = names[0] if names else f"the app whose LUT header is at SFLASH 0x{loc:X}"
            out["loads_app"] = what
            once = "once (load_once: the DCT is then rewritten with valid 0)" if ld["load_once"] else "at every boot"
            out["summary"] = (f"load {what} (LUT header at SFLASH 0x{loc:X}) into internal flash {once}, then jump to "
                              "its ELF entry point")
            return out
        if src.get("id") == "EXTERNAL_FILESYSTEM_FILE":
            out["loads_app"] = f"file {src.get('filesystem_filename')!r}"
            out["summary"] = (f"load file {src.get('filesystem_filename')!r} from the filesystem (only with "
                              "BOOTLOADER_LOAD_MAIN_APP_FROM_FILESYSTEM), then jump to its entry point")
            return out
        out["summary"] = f"boot_detail valid but source {src.get('id')}: nothing to load"
    if bd["entry_point"]:
        out["summary"] = (out.get("summary", "") + "; " if "summary" in out else "") + \
            f"jump to entry point 0x{bd['entry_point']:08X}"
    else:
        out["summary"] = (out.get("summary", "") + "; " if "summary" in out else "") + \
            f"run the app in internal flash through its reset vector at 0x{app.start + 4:08X}"
    return out


# ---- DCT file (bare DCT blob or DCT image ELF)


def decode_dct_file(rep: FileReport, item: Loaded, ctx: Context) -> dict[str, Any]:
    data = item.image
    dct1 = ctx.board.mcu.region(ctx.board.dct.copies[0])
    out: dict[str, Any] = {}
    if item.fmt == "elf":
        elf = decode_elf(rep, data, ctx.board, region=None, role="dct_image")
        out["elf"] = elf
        blob = elf.pop("_dct_blob", None)
        if blob is None:
            return out
        data = blob
    elif item.fmt == "hex" and item.base is not None and item.base != dct1.start:
        rep.add("warning", "dct_address", f"HEX based at 0x{item.base:08X}, DCT copy 1 is at 0x{dct1.start:08X}")
    if len(data) > dct1.size:
        rep.add("fail", "dct_size", f"{hexsize(len(data))} is larger than a DCT copy ({hexsize(dct1.size)})")
        data = data[:dct1.size]
    copy = _decode_copy(rep, data, 1, dct1.name, dct1.start, ctx)
    out["copy"] = copy
    if copy["state"] == "erased":
        rep.add("fail", "dct_erased", "the DCT is erased (all fill)")
    elif not copy["valid"]:
        rep.add("fail", "dct_invalid", f"not valid as DCT copy 1: {copy['reason']}", region=dct1.name)
    if copy.get("header"):
        out["boot"] = boot_summary(copy["header"], ctx)
    return out


# ---- stored ELF (apps, DCT image)


def decode_elf(rep: FileReport, blob: bytes, board: Board, *, region: str | None, role: str = "app",
               flash_out: list[tuple[int, bytes]] | None = None) -> dict[str, Any]:
    """A stored ELF as the WICED loader reads it (wiced-formats.md §3.3): header, program headers, which are loaded
    and where, the entry point, the vector table at the app region's start. Findings name `region`. `flash_out`
    receives (address, bytes) the loader would write into the app region; a DCT image's segment is returned under
    "_dct_blob" (callers pop it before the report is shown)."""
    from construct import ConstructError

    from .formats.elf import ELF_MAGIC, EM_ARM, Elf32_Ehdr, Elf32_Phdr, loaded_by_wiced
    from .layout import Region

    what = region or "ELF"
    if blob[:4] != ELF_MAGIC:
        rep.add("fail", "not_elf", f"{what}: no ELF magic at its start (0x{blob[:4].hex() or 'empty'})", region=region)
        return {"valid": False, "size": 0}
    try:
        hdr = Elf32_Ehdr.parse(blob)
    except ConstructError:
        rep.add("fail", "not_elf", f"{what}: {hexsize(len(blob))} is too short for an ELF header", region=region)
        return {"valid": False, "size": len(blob)}
    ident = hdr.e_ident
    out: dict[str, Any] = {"valid": True, "e_type": hdr.e_type, "e_machine": hdr.e_machine, "e_entry": hdr.e_entry,
                           "e_flags": hex32(hdr.e_flags), "e_phoff": hdr.e_phoff, "e_phnum": hdr.e_phnum,
                           "e_shoff": hdr.e_shoff, "e_shnum": hdr.e_shnum}
    if ident.EI_CLASS != 1 or ident.EI_DATA != 1:
        rep.add("fail", "elf_class", f"{what}: not a 32-bit little-endian ELF (class {ident.EI_CLASS}, data "
                f"{ident.EI_DATA})", region=region)
        out["valid"] = False
    if hdr.e_machine != EM_ARM:
        rep.add("warning", "elf_machine", f"{what}: e_machine {hdr.e_machine}, expected {EM_ARM} (ARM)", region=region)
    phsize = Elf32_Phdr.sizeof()
    if hdr.e_phnum and hdr.e_phentsize != phsize:
        rep.add("fail", "elf_phentsize", f"{what}: e_phentsize {hdr.e_phentsize}, the loader reads {phsize}-byte "
                "program headers", region=region)
    end = max(Elf32_Ehdr.sizeof(), hdr.e_phoff + hdr.e_phnum * phsize)
    fit = max(0, min(hdr.e_phnum, (len(blob) - hdr.e_phoff) // phsize)) if hdr.e_phoff <= len(blob) else 0
    if fit < hdr.e_phnum:
        rep.add("fail", "elf_truncated", f"{what}: {hdr.e_phnum} program headers at offset 0x{hdr.e_phoff:X} run "
                f"past its {hexsize(len(blob))}", region=region)
    mcu = board.mcu
    app = mcu.region(board.sflash.app_region)
    dct1 = mcu.region(board.dct.copies[0])
    sram = Region("sram", mcu.sram_base, mcu.sram_size)
    segments, loaded = [], []
    for i in range(fit):
        off = hdr.e_phoff + i * phsize
        ph = Elf32_Phdr.parse(blob[off:off + phsize])
        seg = {"index": i, "p_type": ph.p_type, "p_offset": ph.p_offset, "p_vaddr": ph.p_vaddr,
               "p_paddr": ph.p_paddr, "p_filesz": ph.p_filesz, "p_memsz": ph.p_memsz, "p_flags": ph.p_flags,
               "loaded": loaded_by_wiced(ph), "sha256": None}
        if seg["loaded"]:
            if ph.p_offset + ph.p_filesz > len(blob):
                rep.add("fail", "elf_truncated", f"{what}: segment {i} file bytes 0x{ph.p_offset:X}+"
                        f"{hexsize(ph.p_filesz)} run past its {hexsize(len(blob))}", region=region)
            else:
                data = blob[ph.p_offset:ph.p_offset + ph.p_filesz]
                seg["sha256"] = sha256(data)
                loaded.append((ph, data))
                end = max(end, ph.p_offset + ph.p_filesz)
            dest = dct1 if role == "dct_image" else app
            if not (dest.contains(ph.p_paddr, ph.p_filesz) or sram.contains(ph.p_paddr, ph.p_filesz)):
                rep.add("fail", "elf_destination", f"{what}: segment {i} loads at 0x{ph.p_paddr:08X} "
                        f"({hexsize(ph.p_filesz)}), outside {dest.name} (0x{dest.start:08X}-0x{dest.end - 1:08X}) "
                        "and SRAM", region=region)
        if i < MAX_SEGMENTS:
            segments.append(seg)
    if hdr.e_shnum and hdr.e_shoff + hdr.e_shnum * hdr.e_shentsize <= len(blob):
        end = max(end, hdr.e_shoff + hdr.e_shnum * hdr.e_shentsize)
    out["segments"] = segments
    if fit > MAX_SEGMENTS:
        out["segments_not_listed"] = fit - MAX_SEGMENTS
    out["size"] = min(end, len(blob))
    if role == "dct_image":
        if len(loaded) != 1 or loaded[0][0].p_paddr != dct1.start:
            rep.add("fail", "dct_image", f"{what}: a DCT image needs exactly one loaded segment at "
                    f"0x{dct1.start:08X} (wiced_dct_load), found {len(loaded)}", region=region)
        else:
            out["_dct_blob"] = loaded[0][1]
        return out
    if not loaded:
        rep.add("fail", "elf_empty", f"{what}: no segment the loader would copy", region=region)
    entry = hdr.e_entry
    out["entry_thumb"] = bool(entry & 1)
    out["entry_in_segment"] = any(ph.p_vaddr <= (entry & ~1) < ph.p_vaddr + max(ph.p_memsz, ph.p_filesz)
                                  for ph, _ in loaded)
    if loaded and not out["entry_in_segment"]:
        rep.add("warning", "elf_entry", f"{what}: entry point 0x{entry:08X} is in no loaded segment", region=region)
    for ph, data in loaded:
        if ph.p_paddr == app.start:
            v = _parse_vectors(data, 0)
            if v is not None:
                checks = _vector_checks(v, board, app)
                out["vectors"] = {"address": app.start, **checks}
                _report_vectors(rep, checks, app.name, app, where=f"{what}: ")
    # the bytes the loader writes into the app region (segments by p_paddr, gaps erased): compared with the MCU
    # image's app region when an app ELF is checked against a manifest
    flash = sorted((ph.p_paddr, d) for ph, d in loaded if app.contains(ph.p_paddr, len(d)))
    if flash:
        start, end = flash[0][0], max(a + len(d) for a, d in flash)
        image = bytearray(bytes([mcu.fill])) * (end - start)
        for a, d in flash:
            image[a - start:a - start + len(d)] = d
        if flash_out is not None:
            flash_out.append((start, bytes(image)))
    return out


# ---- filesystem


def decode_filesystem(rep: FileReport, blob: bytes, *, region: str | None) -> dict[str, Any]:
    from .wicedfs import list_image

    try:
        entries = list_image(blob)
    except BundleError as exc:
        rep.add("fail", "filesystem", f"{region or 'filesystem'}: {exc}", region=region)
        return {"valid": False, "size": 0, "files": []}
    end = 12
    files = []
    for e in entries:
        end = max(end, e.offset + e.size)
        files.append({"path": _display_str(e.path), "is_dir": e.is_dir, "size": e.size, "offset": e.offset,
                      "sha256": e.sha256})
    return {"valid": True, "size": min(end, len(blob)), "files": files}


def _display_str(s: str) -> str:
    return s.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


# ---- SFLASH


def decode_sflash(rep: FileReport, data: bytes, chip: Chip, ctx: Context,
                  mcu_locations: tuple[str, list[Any]] | None) -> dict[str, Any]:
    """The apps look-up table entry by entry (headers found through the DCT's apps_locations), what each entry
    holds, header slots after the 8th, and sectors that no entry uses but are not erased."""
    from .formats.lut import APP_HEADER_SIZE, COMPONENTS, app_header_t

    sf = ctx.board.sflash
    chip_size = chip.size
    sector = sf.sector_size
    loc = sf.apps_lut_header_loc
    fill = sf.fill

    def header_at(address: int) -> Any:
        if address + APP_HEADER_SIZE > min(len(data), chip_size):
            return None
        return app_header_t.parse(data[address:address + APP_HEADER_SIZE])

    def runs_of(h: Any, index: int, name: str, report: bool) -> list[dict[str, Any]]:
        runs = []
        count = h.count
        if count > len(h.sectors):
            if report:
                rep.add("fail", "lut_count", f"LUT entry {index} ({name}): count {count} > {len(h.sectors)} sector "
                        "runs", region="lut")
            count = len(h.sectors)
        for j, run in enumerate(h.sectors[:count]):
            start, n = run.start * sector, run.count * sector
            r = {"start_sector": run.start, "sector_count": run.count, "address": start, "size": n,
                 "past_chip": start + n > chip_size}
            if report and r["past_chip"]:
                rep.add("fail", "lut_past_chip", f"LUT entry {index} ({name}) run {j}: sectors {run.start}+{run.count} "
                        f"(0x{start:X}-0x{start + n - 1:X}) run past the chip ({hexsize(chip_size)})",
                        region=name, address=start)
            elif report and start <= loc < start + n:
                rep.add("fail", "lut_overlap", f"LUT entry {index} ({name}) run {j} covers the LUT at 0x{loc:X}",
                        region=name, address=start)
            runs.append(r)
        return runs

    def content(runs: list[dict[str, Any]]) -> bytes:
        parts = []
        for r in runs:
            parts.append(data[r["address"]:min(r["address"] + r["size"], chip_size)])
        return b"".join(parts)

    # 1. the LUT slots as built (34*i) and the DCT image found through slot 1
    default = [loc + APP_HEADER_SIZE * i for i in range(len(COMPONENTS))]
    lut_headers = [header_at(a) for a in default]
    if any(h is None for h in lut_headers):
        rep.add("fail", "lut_missing", f"the apps look-up table at 0x{loc:X} is not in the file", region="lut",
                address=loc)
    located_by = "LUT slots (34 x index)"
    locations: list[int | None] = list(default)
    dct_model = None
    dct_index = COMPONENTS.index("dct_image")
    if lut_headers[dct_index] is not None and lut_headers[dct_index].count:
        probe = FileReport("")
        blob = content(runs_of(lut_headers[dct_index], dct_index, "dct_image", False))
        elf = decode_elf(probe, blob, ctx.board, region="dct_image", role="dct_image")
        if "_dct_blob" in elf:
            try:
                from .dct import dec_header
                from .formats.dct import platform_dct_header_t

                dct_model = dec_header(platform_dct_header_t.parse(elf["_dct_blob"]))
            except Exception:
                dct_model = None
    if mcu_locations is not None:
        located_by = f"apps_locations of the current DCT in {mcu_locations[0]}"
        source_locations = mcu_locations[1]
    elif dct_model is not None:
        located_by = "apps_locations of the DCT image (LUT entry 1)"
        source_locations = dct_model["apps_locations"]
    else:
        source_locations = None
    if source_locations is not None:
        for i, a in enumerate(source_locations[:len(COMPONENTS)]):
            locations[i] = a.get("location") if a.get("id") == "EXTERNAL_FIXED_LOCATION" else None
    if mcu_locations is not None:
        # a slot the MCU's DCT points at but that was never written cannot be this chip's header: the images are
        # from different devices (or states); use the built-in slot for that entry
        for i, address in enumerate(locations):
            if address is not None and address != default[i]:
                raw = data[address:address + APP_HEADER_SIZE]
                if len(raw) == APP_HEADER_SIZE and _first_not(raw, fill) is None:
                    rep.add("warning", "lut_dct_mismatch", f"the DCT in {mcu_locations[0]} points LUT entry {i} "
                            f"({COMPONENTS[i]}) at slot 0x{address:X}, which is erased here: slot "
                            f"0x{default[i]:X} used instead (images of different devices?)", region="lut",
                            address=address)
                    locations[i] = default[i]

    # 2. header slots after the 8th: wiced_apps_set_size (OTA growth) writes the grown header to the next free slot
    # without erasing and repoints the DCT entry in internal flash. Without that DCT, a written slot whose runs
    # extend an entry's runs (same first runs, more of them) is taken as that entry's current header.
    mcu_dct = mcu_locations is not None
    slot_headers = []
    slots = (sector - (loc % sector)) // APP_HEADER_SIZE
    for k in range(len(COMPONENTS), slots):
        address = loc + APP_HEADER_SIZE * k
        raw = data[address:address + APP_HEADER_SIZE]
        if len(raw) < APP_HEADER_SIZE or _first_not(raw, fill) is None:
            continue
        slot_headers.append((k, address, app_header_t.parse(raw)))
    how = ["dct" if source_locations is not None else "lut_slot"] * len(COMPONENTS)
    if not mcu_dct:
        for i in range(len(COMPONENTS)):
            h = header_at(locations[i]) if locations[i] is not None else None
            if h is None or not 0 < h.count <= len(h.sectors):
                continue
            mine = [(r.start, r.count) for r in h.sectors[:h.count]]
            for k, address, sh in slot_headers:
                theirs = [(r.start, r.count) for r in sh.sectors[:min(sh.count, len(sh.sectors))]]
                if len(theirs) > len(mine) and theirs[:len(mine)] == mine and address != locations[i]:
                    locations[i], how[i] = address, "inferred"

    # 3. each entry through its location
    entries = []
    covered: list[tuple[int, int, str]] = []
    for i, name in enumerate(COMPONENTS):
        address = locations[i]
        e: dict[str, Any] = {"index": i, "name": name, "header_address": address,
                             "relocated": address is not None and address != default[i], "located_by": how[i],
                             "count": 0, "secure": 0, "runs": [], "size": 0}
        if address is None:
            e["note"] = "apps_locations id is not EXTERNAL_FIXED_LOCATION: not in serial flash"
            entries.append(e)
            continue
        h = header_at(address)
        if h is None:
            rep.add("fail", "lut_header_past_chip", f"apps_locations[{i}] ({name}) points at 0x{address:X}, past the "
                    f"{'chip' if address + APP_HEADER_SIZE > chip_size else 'file'}", region="lut", address=address)
            entries.append(e)
            continue
        if how[i] == "inferred":
            rep.add("note", "lut_relocated", f"LUT entry {i} ({name}): header slot 0x{address:X} extends the header "
                    f"at 0x{default[i]:X} (grown by an OTA update); it is used, as the DCT in internal flash would "
                    "point at it (inspect the MCU image in the same run to confirm)", region="lut", address=address)
        elif e["relocated"]:
            rep.add("note", "lut_relocated", f"LUT entry {i} ({name}) header was moved to slot 0x{address:X} "
                    f"(found through {located_by})", region="lut", address=address)
        e["count"], e["secure"] = h.count, h.secure
        e["runs"] = runs_of(h, i, name, True)
        e["size"] = sum(r["size"] for r in e["runs"])
        for r in e["runs"]:
            if not r["past_chip"]:
                covered.append((r["address"], r["address"] + r["size"], name))
        entries.append(e)
    _check_overlaps(rep, covered)

    extra = []
    for k, address, h in slot_headers:
        runs = runs_of(h, k, f"slot {k}", False)
        used_by = [COMPONENTS[i] for i, a in enumerate(locations) if a == address]
        slot = {"slot": k, "address": address, "count": h.count, "runs": runs, "used_by": used_by[0] if used_by else None}
        if not used_by:
            rep.add("note", "lut_extra_slot", f"header slot {k} at 0x{address:X} is written but no LUT entry uses it "
                    f"(headers located by {located_by}): a stale header from an earlier relocation?",
                    region="lut", address=address)
        for r in runs:
            if not r["past_chip"]:
                covered.append((r["address"], r["address"] + r["size"], f"slot {k}"))
        extra.append(slot)
    # the headers left in the original slots of relocated entries still name (a subset of) the same sectors
    for i, h in enumerate(lut_headers):
        if h is not None and entries[i]["relocated"]:
            for r in runs_of(h, i, COMPONENTS[i], False):
                if not r["past_chip"]:
                    covered.append((r["address"], r["address"] + r["size"], COMPONENTS[i]))

    # 4. what each entry holds
    components = []
    for e in entries:
        if not e["runs"]:
            continue
        runs = [r for r in e["runs"] if not r["past_chip"]]
        # runs back to back (as built): the blob is one stretch of the image, checksummed once with its region
        origin = runs[0]["address"] if runs and all(a["address"] + a["size"] == b["address"]
                                                    for a, b in zip(runs, runs[1:])) else None
        comp = decode_component(rep, e["index"], e["name"], content(runs), ctx, fill,
                                origin=None if origin is None else (data, origin))
        comp["address"] = e["runs"][0]["address"]
        components.append(comp)

    # 5. sectors used by nothing but not erased
    lut_sectors = range(loc // sector, (loc + sector - 1) // sector + 1)
    n_sectors = min(len(data), chip_size) // sector
    used = bytearray(n_sectors)
    for s in lut_sectors:
        if s < n_sectors:
            used[s] = 1
    for start, end, _ in covered:
        for s in range(start // sector, min(-(-end // sector), n_sectors)):
            used[s] = 1
    stale = _stale_sectors(data, sector, fill, used)
    for first, last, at in stale[:MAX_LISTED]:
        rep.add("warning", "unused_not_erased", f"sectors {first}-{last} (0x{first * sector:X}-0x{(last + 1) * sector - 1:X}) "
                f"are used by no LUT entry but are not erased (first byte not 0x{fill:02X} at 0x{at:X})",
                address=at, offset=at)
    if len(stale) > MAX_LISTED:
        rep.add("warning", "unused_not_erased", f"... and {len(stale) - MAX_LISTED} more runs of such sectors")
    sums = [{"name": "lut", "address": loc, "offset": loc, "size": sector,
             **_region_sums(ctx, data, loc, loc + sector, fill)}]
    return {"chip": rep.doc.get("chip"), "sector_size": sector, "lut_address": loc, "located_by": located_by,
            "entries": entries, "extra_header_slots": extra, "components": components,
            "unused_not_erased": [{"first_sector": a, "last_sector": b, "first_address": c} for a, b, c in stale],
            "regions": sums}


def _check_overlaps(rep: FileReport, covered: list[tuple[int, int, str]]) -> None:
    ordered = sorted(covered)
    for (a0, a1, an), (b0, b1, bn) in zip(ordered, ordered[1:]):
        if b0 < a1 and an != bn:
            rep.add("fail", "lut_overlap", f"{bn} sectors at 0x{b0:X} overlap {an} (0x{a0:X}-0x{a1 - 1:X})",
                    region=bn, address=b0)


def _stale_sectors(data: bytes, sector: int, fill: int, used: bytearray) -> list[tuple[int, int, int]]:
    """Runs (first sector, last sector, first non-fill address) of sectors s < len(used) with used[s] == 0 that
    are not erased."""
    blank = bytes([fill]) * sector
    out: list[tuple[int, int, int]] = []
    for s in range(len(used)):
        if used[s] or data.startswith(blank, s * sector):
            continue
        at = _first_not(data, fill, s * sector, (s + 1) * sector) or 0
        if out and out[-1][1] == s - 1:
            out[-1] = (out[-1][0], s, out[-1][2])
        else:
            out.append((s, s, at))
    return out


def decode_component(rep: FileReport, index: int, name: str, blob: bytes, ctx: Context, fill: int,
                     origin: tuple[bytes, int] | None = None) -> dict[str, Any]:
    """What one LUT entry holds: a stored app (ELF), the DCT image (ELF + decoded DCT), the filesystem (file list),
    the Wi-Fi firmware (size and hash; its exact size comes from the manifest when there is one). `origin`:
    (image, offset) when `blob` is image[offset:offset + len(blob)]."""
    from .formats.lut import APP_COMPONENTS

    comp: dict[str, Any] = {"index": index, "name": name}
    if _first_not(blob, fill) is None:
        comp.update({"kind": "erased", "size": 0, "sha256": None, "crc32": None})
        rep.add("note", "component_erased", f"{name}: its {hexsize(len(blob))} of sectors are erased", region=name)
        return comp
    if name in APP_COMPONENTS:
        elf = decode_elf(rep, blob, ctx.board, region=name)
        comp.update({"kind": "app", "elf": elf})
        size = elf.get("size", 0)
    elif name == "dct_image":
        elf = decode_elf(rep, blob, ctx.board, region=name, role="dct_image")
        dct_blob = elf.pop("_dct_blob", None)
        comp.update({"kind": "dct_image", "elf": elf})
        size = elf.get("size", 0)
        if dct_blob is not None:
            dct1 = ctx.board.mcu.region(ctx.board.dct.copies[0])
            copy = _decode_copy(rep, dct_blob[:dct1.size], 1, name, dct1.start, ctx)
            comp["dct"] = copy
            if copy["state"] == "present" and not copy["valid"]:
                rep.add("fail", "dct_invalid", f"{name}: the DCT it holds is not valid as copy 1 ({copy['reason']}); "
                        "a factory reset would restore it", region=name)
    elif name == "filesystem":
        fs = decode_filesystem(rep, blob, region=name)
        comp.update({"kind": "filesystem", "filesystem": fs})
        size = fs["size"]
    else:
        size = _manifest_region_size(ctx, name)
        comp["size_from"] = "manifest" if size is not None else "trailing fill trimmed"
        if size is None:
            last = _last_not(blob, fill)
            size = 0 if last is None else last + 1
        comp["kind"] = "blob"
    src, at = origin or (blob, 0)
    size = min(size, len(blob))
    comp.update({"size": size, "sha256": _sha256(ctx, src, at, at + size),
                 "crc32": hex32(_crc32(ctx, src, at, at + size))})
    return comp


def _manifest_region_size(ctx: Context, name: str) -> int | None:
    if ctx.manifest is None:
        return None
    for art in ctx.manifest["artefacts"]:
        if art["kind"] == "sflash":
            for r in art["regions"]:
                if r["name"] == name:
                    return int(r["size"])
    return None


# --------------------------------------------------------------------------------------------------- verification


def _artefact_image_sums(art: dict[str, Any]) -> dict[str, str]:
    """Checksums of the image bytes an artefact holds (= the file's for a .bin; `image` for a .hex)."""
    src = art.get("image") if art["format"] == "hex" else art
    src = src or art
    return {k: src[k] for k in ("crc32", "sum32", "sha256")}


def _match_artefact(item: Loaded, kind: str | None, ctx: Context) -> dict[str, Any] | None:
    """The manifest artefact this file is (by kind and content): an identical file first, then the same image,
    then the one with the most regions whose checksums match, then the same format, then the same size. Regions
    are hashed only for the artefacts the file and image checksums leave in the lead."""
    assert ctx.manifest is not None
    file_sha, image_sha = _sha256(ctx, item.raw), _sha256(ctx, item.image)

    def region_matches(art: dict[str, Any]) -> int:
        shift = (art["base_address"] if item.base is None else item.base) - art["base_address"]
        if shift < 0:
            return 0
        return sum(0 <= r["offset"] - shift and r["offset"] - shift + r["size"] <= len(item.image) and
                   _sha256(ctx, item.image, r["offset"] - shift, r["offset"] - shift + r["size"]) == r["sha256"]
                   for r in art["regions"])

    candidates = [(art, (art["sha256"] == file_sha, _artefact_image_sums(art)["sha256"] == image_sha))
                  for art in ctx.manifest["artefacts"] if kind is None or art["kind"] == kind]
    lead = max((same for _, same in candidates), default=None)
    best, best_key = None, None
    for art, same in candidates:
        if same != lead:
            continue  # behind on the file or image checksum: cannot be the best whatever its regions
        key = (*same, region_matches(art), art["format"] == item.fmt, art["size"] == len(item.image))
        if kind is None and not any(key[:3]) and not key[4]:
            continue  # without a kind, only content or size can make the match
        if best_key is None or key > best_key:
            best, best_key = art, key
    return best


def _reference(art: dict[str, Any], ctx: Context) -> bytes | None:
    """The artefact's image bytes, when its file sits next to the manifest unchanged (sha256 as listed): lets a
    mismatch be located to the byte. A .bin of the same kind is preferred (it is the image)."""
    assert ctx.manifest is not None and ctx.manifest_path is not None
    candidates = [a for a in ctx.manifest["artefacts"] if a["kind"] == art["kind"] and
                  _artefact_image_sums(a)["sha256"] == _artefact_image_sums(art)["sha256"]]
    candidates.sort(key=lambda a: a["format"] != "bin")
    for a in candidates:
        if a["file"] in ctx.references:
            if ctx.references[a["file"]] is not None:
                return ctx.references[a["file"]]
            continue
        path = ctx.manifest_path.parent / a["file"]
        image = None
        try:
            from .inputs import image_from_bytes

            if path.is_file() and path.stat().st_size <= MAX_FILE_SIZE:
                raw = path.read_bytes()
                if sha256(raw) == a["sha256"]:
                    image, base, _ = image_from_bytes(raw, path, fill=a["fill"])
                    if base is not None and base > a["base_address"]:
                        image = bytes([a["fill"]]) * (base - a["base_address"]) + image
                    image = image[:a["size"]] + bytes([a["fill"]]) * max(0, a["size"] - len(image))
        except (OSError, BundleError):
            image = None
        ctx.references[a["file"]] = image
        if image is not None:
            return image
    return None


def verify(rep: FileReport, item: Loaded, ctx: Context) -> dict[str, Any]:
    """Compare an MCU or SFLASH image file with its manifest artefact: whole-file and whole-image checksums, every
    region, and fill everywhere outside the regions. Mismatches name the region, the first differing offset and
    address (when the artefact file is next to the manifest) and both checksums."""
    art = _match_artefact(item, rep.doc["kind"], ctx)
    if art is None:
        rep.add("fail", "no_artefact", f"the manifest has no {rep.doc['kind']} artefact")
        return {"artefact": None, "result": "fail"}
    fill, size, abase = art["fill"], art["size"], art["base_address"]
    out: dict[str, Any] = {"artefact": art["file"], "result": "pass", "identical_file": False}
    if art["sha256"] == _sha256(ctx, item.raw):
        out["identical_file"] = True
        rep.add("note", "identical", f"identical to {art['file']} (sha256 {art['sha256']})")
    # place the image at the artefact's base
    image = item.image
    base = abase if item.base is None else item.base
    notes_before = len(rep.findings)
    if base > abase:
        image = bytes([fill]) * (base - abase) + image
    elif base < abase:
        first = _first_not(image, fill, 0, abase - base)
        if first is not None:
            rep.add("fail", "before_artefact", f"data at 0x{base + first:08X}, before the artefact's base "
                    f"0x{abase:08X}", address=base + first)
        image = image[abase - base:]
    if len(image) > size:
        image = _cut_longer(rep, image, size, fill, art["file"], abase, "image",
                            f": compared on the first {hexsize(size)}")
    elif len(image) < size:
        if item.fmt == "hex":
            rep.add("note", "hex_partial", f"HEX records end at offset 0x{len(image):X}; the remaining "
                    f"{hexsize(size - len(image))} are taken as erased (0x{fill:02X})")
            image = image + bytes([fill]) * (size - len(image))
        else:
            rep.add("fail", "truncated", f"{hexsize(len(image))} is shorter than {art['file']} ({hexsize(size)}): "
                    f"{hexsize(size - len(image))} missing from offset 0x{len(image):X} (address "
                    f"0x{abase + len(image):08X})", offset=len(image), address=abase + len(image))
    expected = _artefact_image_sums(art)
    actual = _checksums(ctx, image)
    out["expected"], out["actual"] = expected, actual
    out["size"] = {"expected": size, "actual": len(item.image)}
    same = actual["sha256"] == expected["sha256"] and len(image) == size
    reference = None if same else _reference(art, ctx)
    out["reference_available"] = reference is not None
    if not same and len(image) == size:
        rep.add("fail", "image_checksum", f"image differs from {art['file']}: crc32 {actual['crc32']} expected "
                f"{expected['crc32']}, sha256 {actual['sha256'][:16]}… expected {expected['sha256'][:16]}…")
    regions = []
    for r in art["regions"]:
        off, rsize = r["offset"], r["size"]
        entry = {"name": r["name"], "offset": off, "address": abase + off, "size": rsize,
                 "expected": {"crc32": r["crc32"], "sha256": r["sha256"]}, "actual": None, "status": "ok",
                 "first_difference": None}
        if rsize and len(image) < off + rsize:
            entry["status"] = "missing"
            rep.add("fail", "region_missing", f"region {r['name']} (offset 0x{off:X}, address 0x{abase + off:08X}, "
                    f"{hexsize(rsize)}) is not all in the file: it ends at offset 0x{len(image):X}",
                    region=r["name"], offset=off, address=abase + off)
        else:
            entry["actual"] = {"crc32": hex32(_crc32(ctx, image, off, off + rsize)),
                               "sha256": _sha256(ctx, image, off, off + rsize)}
            if entry["actual"]["sha256"] != r["sha256"]:
                entry["status"] = "mismatch"
                where = ""
                chunk = image[off:off + rsize]
                if reference is not None:
                    d = _first_diff(chunk, reference[off:off + rsize])
                    if d is not None:
                        entry["first_difference"] = {"offset": off + d, "address": abase + off + d,
                                                     "actual": chunk[d], "expected": reference[off + d]}
                        where = (f"; first difference at offset 0x{off + d:X} (address 0x{abase + off + d:08X}): "
                                 f"0x{chunk[d]:02X}, expected 0x{reference[off + d]:02X}")
                else:
                    where = ("; first differing byte unknown (the artefact file is not next to the manifest, or "
                             "differs from it)")
                fd = entry["first_difference"]
                rep.add("fail", "region_mismatch", f"region {r['name']} (offset 0x{off:X}, address 0x{abase + off:08X}, "
                        f"{hexsize(rsize)}) differs: crc32 {entry['actual']['crc32']} expected {r['crc32']}, sha256 "
                        f"{entry['actual']['sha256'][:16]}… expected {r['sha256'][:16]}…{where}", region=r["name"],
                        offset=fd["offset"] if fd else off, address=fd["address"] if fd else abase + off)
        regions.append(entry)
    out["regions"] = regions
    out["outside_regions"] = _check_outside(rep, image, art, ctx)
    out["result"] = "fail" if any(f["severity"] in ("fail", "error") for f in rep.findings[notes_before:]) else "pass"
    return out


def _first_diff(a: bytes, b: bytes) -> int | None:
    """Offset of the first differing byte (compared 64 KiB at a time with memcmp, then byte by byte; bytes slices:
    memoryviews compare element by element)."""
    n, step, i = min(len(a), len(b)), 1 << 16, 0
    while i < n and a[i:i + step] == b[i:i + step]:
        i += step
    if i >= n:
        return None if len(a) == len(b) else n
    while a[i] == b[i]:
        i += 1
    return i


def _check_outside(rep: FileReport, image: bytes, art: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """Every byte outside the artefact's regions must be the fill; report each run of other bytes with its address
    and where it is (board region / SFLASH sector and LUT entry)."""
    fill, abase = art["fill"], art["base_address"]
    # the gaps between the regions, scanned for runs of non-fill bytes
    gaps, at = [], 0
    for r in sorted(art["regions"], key=lambda r: r["offset"]):
        gaps.append((at, max(at, r["offset"])))
        at = max(at, r["offset"] + r["size"])
    gaps.append((at, max(at, len(image))))
    bad = [run for a, b in gaps if b > a for run in _non_fill_runs(image, fill, a, b)]
    runs: list[dict[str, Any]] = []
    for s, e in bad[:MAX_LISTED]:
        where = _where(art, s, ctx)
        runs.append({"offset": s, "address": abase + s, "size": e - s, "where": where, "first_value": image[s]})
        what = "byte" if e - s == 1 else f"{e - s} bytes"
        rep.add("fail", "not_erased", f"{what} at offset 0x{s:X} (address 0x{abase + s:08X}) in {where} should be "
                f"erased (0x{fill:02X}) but read 0x{image[s]:02X}" + ("" if e - s == 1 else " ..."),
                region=where.split(" ")[0], offset=s, address=abase + s)
    if len(bad) > MAX_LISTED:
        rep.add("fail", "not_erased", f"... and {len(bad) - MAX_LISTED} more runs of non-erased bytes outside "
                "every region")
    return {"fill": fill, "non_fill_bytes": sum(e - s for s, e in bad), "runs": runs}


def _where(art: dict[str, Any], offset: int, ctx: Context) -> str:
    """Name the place of an unexpected byte: the board layout region (MCU) or the LUT entry / sector (SFLASH)."""
    address = art["base_address"] + offset
    if art["kind"] == "mcu":
        for r in ctx.board.mcu.regions:
            if r.start <= address < r.end:
                used = [m for m in art["regions"] if m["name"] == r.name]
                return f"{r.name} ({'erased area' if not used else 'after its content'})"
        return "flash outside every region"
    sector = ctx.manifest["chip"]["sector_size"] if ctx.manifest else ctx.board.sflash.sector_size
    s = offset // sector
    for e in (ctx.manifest or {}).get("lut", []):
        if e["sector_count"] and e["start_sector"] <= s < e["start_sector"] + e["sector_count"]:
            return f"{e['name']} (sector {s}, after its content)"
    return f"sector {s} (unused, erased area)"


def verify_component(rep: FileReport, kind: str, data: bytes, ctx: Context,
                     flash_image: tuple[int, bytes] | None = None) -> dict[str, Any]:
    """A single component file (a stored app, the DCT, the filesystem, the firmware): compared with the region of
    the same content, if the manifest has one; an app ELF also by the bytes it loads into the MCU's app region."""
    assert ctx.manifest is not None
    digest = sha256(data)
    if flash_image is not None:
        start, image = flash_image
        loaded = sha256(image)
        for art in ctx.manifest["artefacts"]:
            for r in art["regions"]:
                if art["kind"] == "mcu" and art["base_address"] + r["offset"] == start and r["sha256"] == loaded:
                    rep.add("note", "matches_region", f"loads the same {hexsize(len(image))} as region {r['name']} of "
                            f"{art['file']} (at 0x{start:08X})", region=r["name"])
                    return {"artefact": art["file"], "region": r["name"], "result": "pass"}
    for art in ctx.manifest["artefacts"]:
        for r in art["regions"]:
            if r["sha256"] == digest:
                rep.add("note", "matches_region", f"identical to region {r['name']} of {art['file']}", region=r["name"])
                return {"artefact": art["file"], "region": r["name"], "result": "pass"}
    stored_digest = None
    if kind == "app":  # an unstripped ELF (symbols, debug sections): what the build stores of it is its stripped form
        try:
            stored = stored_form(data, rep.doc["file"])
        except InputError:  # an ELF pyelftools cannot walk: the decode above has said what is wrong with it
            stored = data
        stored_digest = sha256(stored) if stored is not data else None
        for art in ctx.manifest["artefacts"]:
            for r in art["regions"]:
                if r["sha256"] == stored_digest:
                    rep.add("note", "matches_region", f"its stripped form ({hexsize(len(stored))}: ELF header, program "
                            f"headers and loadable segments, as the SDK stores *.stripped.elf) is region {r['name']} "
                            f"of {art['file']}", region=r["name"])
                    return {"artefact": art["file"], "region": r["name"], "result": "pass"}
    # a read-back of a slot (a whole DCT copy, a component's sectors): the region's bytes then only fill
    for art in ctx.manifest["artefacts"]:
        for r in art["regions"]:
            size = r["size"]
            if 0 < size < len(data) and _first_not(data, art["fill"], size) is None and \
                    sha256(data[:size]) == r["sha256"]:
                rep.add("note", "matches_region", f"its first {hexsize(size)} are region {r['name']} of "
                        f"{art['file']}; the remaining {hexsize(len(data) - size)} are all 0x{art['fill']:02X} (fill)",
                        region=r["name"])
                return {"artefact": art["file"], "region": r["name"], "result": "pass"}
    names = {"dct": ("dct1", "dct_image"), "app": ("fr_app", "ota_app", "app0", "app1", "app2", "app"),
             "filesystem": ("filesystem",), "wifi_firmware": ("wifi_firmware",)}[kind]
    cands = [(a, r) for a in ctx.manifest["artefacts"] for r in a["regions"] if r["name"] in names]
    if not cands:
        rep.add("note", "no_region", f"the manifest lists no region holding a {kind}")
        return {"artefact": None, "region": None, "result": "pass"}
    a, r = cands[0]
    hint = ("; this ELF has symbols and neither it nor its stripped form is stored: if the build was given the "
            "SDK's *.stripped.elf, inspect that file") if kind == "app" and stored_digest else ""
    rep.add("fail", "component_mismatch", f"matches no region of the manifest; {r['name']} of {a['file']} has sha256 "
            f"{r['sha256'][:16]}… ({hexsize(r['size'])}), this file {digest[:16]}… ({hexsize(len(data))}){hint}",
            region=r["name"])
    return {"artefact": a["file"], "region": r["name"], "result": "fail"}
