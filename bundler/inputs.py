"""Input readers: ELF (pyelftools), Intel HEX (intelhex) and raw binaries, turned into placed segments.

Each input file is read once into memory and hashed; everything later works on those bytes, so a file changed
while the build runs cannot make the artefacts disagree with the manifest (a change during the read is refused).
Raw components that are stored verbatim (a filesystem image, the Wi-Fi firmware: often MiBs) are not held: they
are hashed in blocks and read again when written (FileBytes), and a read that finds other bytes is refused.
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterator

from .errors import BundleError, InputError, hexsize
from .stream import BLOCK

ELF_MAGIC = b"\x7fELF"


@dataclass(frozen=True)
class Segment:
    """Bytes to place at a physical (load) address."""

    address: int
    data: bytes

    @property
    def end(self) -> int:
        return self.address + len(self.data)


@dataclass(frozen=True)
class Source:
    """An input file as the manifest names it: path relative to bundle.toml, and the hash of what was read."""

    file: str
    sha256: str


@dataclass(frozen=True)
class LoadedInput:
    path: Path
    source: Source
    raw: bytes
    format: str  # "elf" | "hex" | "bin"
    segments: tuple[Segment, ...]
    entry: int | None = None
    stripped: bool = True  # ELF only: no symbol table or debug sections (as the SDK's *.stripped.elf)


# Largest inputs, by kind (README "Limits"): nothing is read past them.
MAX_IMAGE_BYTES = 64 << 20  # an image or raw component: the largest chip in layouts/chips.toml (test_limits checks)
MAX_INPUT_BYTES = 256 << 20  # an ELF (debug sections included) or an Intel HEX text; anything not more specific
MAX_TEXT_BYTES = 16 << 20  # bundle.toml, a layout, a manifest, a state file, units.csv
MAX_KEY_BYTES = 64 << 10  # a PEM key or a signature
MAX_NESTING = 64  # arrays / tables inside each other in a JSON or TOML document

_KINDS = ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a folder"))


def not_regular(mode: int) -> str | None:
    """What a file that is not a regular file is ("a FIFO (named pipe)", ...), or None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    return next((what for test, what in _KINDS if test(mode)), "not a regular file")


def open_input(path: Path, display: str | Path | None = None, max_size: int = MAX_INPUT_BYTES) -> tuple[BinaryIO, int]:
    """Open an input for reading: (file, size). Only a regular file no larger than `max_size` is opened; a FIFO,
    device or socket is refused by name without blocking (opened non-blocking, checked with fstat)."""
    name = display or path
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
                     | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        raise _read_error(exc, name) from None
    except ValueError:  # a NUL in the name
        raise InputError("file not found", name) from None
    try:
        st = os.fstat(fd)
        what = not_regular(st.st_mode)
        if what is not None:
            raise InputError(f"is {what}, expected a regular file", name)
        if st.st_size > max_size:
            raise InputError(f"is {hexsize(st.st_size)}, larger than this kind of input can be ({hexsize(max_size)})",
                             name)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb"), st.st_size
    except BaseException:
        os.close(fd)
        raise


def read_file(path: Path, display: str | None = None, max_size: int = MAX_INPUT_BYTES) -> tuple[bytes, Source]:
    """Read a whole input file once (a regular file of at most `max_size` bytes); refuse it if it changed while
    being read."""
    name = display or str(path)
    fh, size = open_input(path, name, max_size)
    try:
        with fh:
            before = os.fstat(fh.fileno())
            raw = fh.read(size + 1)  # (read() would allocate any size asked for up front, so not max_size)
            after = os.fstat(fh.fileno())
    except OSError as exc:
        raise _read_error(exc, name) from None
    if len(raw) > max_size:
        raise InputError(f"grew past {hexsize(max_size)} while being read", name)
    if (before.st_size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns) or len(raw) != after.st_size:
        raise InputError("file changed while being read; run the build again", name)
    return raw, Source(name, hashlib.sha256(raw).hexdigest())


def _nesting(doc: Any) -> int:
    """Depth of lists/dicts inside each other (iterative: a deep document cannot exhaust the stack here)."""
    deepest, stack = 0, [(doc, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, (list, dict)):
            deepest = max(deepest, depth)
            if depth > MAX_NESTING:
                break
            stack.extend((v, depth + 1) for v in (value.values() if isinstance(value, dict) else value))
    return deepest


def parse_json(raw: bytes, name: str | Path, error: type[BundleError] = InputError) -> Any:
    """A JSON document; malformed, or nested deeper than MAX_NESTING, is one line (`error`)."""
    import json

    return _parse_text(raw, name, error, "not JSON", json.loads, json.JSONDecodeError)


def parse_toml(raw: bytes, name: str | Path, error: type[BundleError] = InputError) -> dict[str, Any]:
    """A TOML document; malformed, or nested deeper than MAX_NESTING, is one line (`error`)."""
    import tomllib

    return _parse_text(raw, name, error, "invalid TOML", tomllib.loads, tomllib.TOMLDecodeError)  # type: ignore[no-any-return]


def _parse_text(raw: bytes, name: str | Path, error: type[BundleError], what: str, loads: Callable[[str], Any],
                malformed: type[Exception]) -> Any:
    deep = f"{what}: nested deeper than {MAX_NESTING} levels"
    try:
        doc = loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, malformed) as exc:
        raise error(f"{what}: {exc}", name) from None
    except RecursionError:  # the parsers recurse per level: far past MAX_NESTING they run out of stack
        raise error(deep, name) from None
    if _nesting(doc) > MAX_NESTING:
        raise error(deep, name)
    return doc


@dataclass(frozen=True, eq=False)
class FileBytes:
    """A raw input file's bytes, read from disk in blocks whenever they are needed instead of held: a multi-MiB
    component goes from its file to the artefact (issue 6). `sha256` is of the bytes first read; a later full read
    that finds others (the file changed during the build) is refused, so an artefact always matches its manifest."""

    path: Path
    display: str
    size: int
    sha256: str

    def __len__(self) -> int:
        return self.size

    def head(self, size: int) -> bytes:
        return b"".join(self.chunks(0, min(size, self.size)))

    def chunks(self, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        end = self.size if end is None else end
        digest = hashlib.sha256() if (start, end) == (0, self.size) else None
        left = end - start
        try:
            with open(self.path, "rb") as fh:
                fh.seek(start)
                while left > 0:
                    block = fh.read(min(BLOCK, left))
                    if not block:
                        break
                    left -= len(block)
                    if digest is not None:
                        digest.update(block)
                    yield block
        except OSError as exc:
            raise InputError(f"cannot read again: {exc.strerror}", self.display) from None
        if left or (digest is not None and digest.hexdigest() != self.sha256):
            raise InputError("file changed during the build; run the build again", self.display)


def file_bytes(path: Path, display: str | None = None, max_size: int = MAX_IMAGE_BYTES) -> FileBytes:
    """Hash a raw input file in blocks (read_file's checks, without keeping the bytes)."""
    digest, size = hashlib.sha256(), 0
    fh, _ = open_input(path, display, max_size)
    try:
        with fh:
            before = os.fstat(fh.fileno())
            while size <= max_size and (block := fh.read(BLOCK)):
                digest.update(block)
                size += len(block)
            after = os.fstat(fh.fileno())
    except OSError as exc:
        raise _read_error(exc, display or path) from None
    if (before.st_size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns) or size != after.st_size:
        raise InputError("file changed while being read; run the build again", display or path)
    return FileBytes(Path(path), display or str(path), size, digest.hexdigest())


def _read_error(exc: OSError, name: str | Path) -> InputError:
    if isinstance(exc, FileNotFoundError):
        return InputError("file not found", name)
    if isinstance(exc, IsADirectoryError):
        return InputError("is a folder, expected a file", name)
    return InputError(f"cannot read: {exc.strerror}", name)


def is_file(path: Path) -> bool:
    """Path.is_file() for a user-given path: a name the OS refuses (too long, ...) is simply not a file."""
    try:
        return path.is_file()
    except OSError:
        return False


def is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:
        return False


def guess_format(path: Path, raw: bytes) -> str:
    if raw[:4] == ELF_MAGIC:
        return "elf"
    if path.suffix.lower() in HEX_SUFFIXES or raw[:1] == b":":
        return "hex"
    return "bin"


def load_input(path: Path, display: str | None = None, *, address: int | None = None, fmt: str | None = None,
               bounds: tuple[int, int, str] | None = None) -> LoadedInput:
    """Read an ELF/HEX/BIN file into segments. A raw binary needs `address` (where its first byte goes). `bounds`
    (start, end, what): a HEX record outside them is refused as soon as it is read."""
    raw, source = read_file(path, display, MAX_IMAGE_BYTES if fmt == "bin" else MAX_INPUT_BYTES)
    name = display or str(path)
    fmt = fmt or guess_format(path, raw)
    if fmt == "elf":
        segments, entry, stripped = _elf_segments(raw, name)
        return LoadedInput(path, source, raw, "elf", segments, entry, stripped)
    if fmt == "hex":
        return LoadedInput(path, source, raw, "hex", _hex_segments(raw, name, bounds))
    if fmt == "bin":
        segments = (Segment(address, raw),) if address is not None else ()
        return LoadedInput(path, source, raw, "bin", segments)
    raise InputError(f"unknown format {fmt!r}; expected elf, hex or bin", name)


def _elf_segments(raw: bytes, name: str) -> tuple[tuple[Segment, ...], int, bool]:
    """PT_LOAD segments with file bytes, placed at their physical address (LMA), as OpenOCD's
    `flash write_image` and objcopy -O binary place them."""
    from elftools.elf.elffile import ELFFile

    try:
        elf = ELFFile(io.BytesIO(raw))
        if elf.elfclass != 32 or not elf.little_endian or elf["e_machine"] != "EM_ARM":
            raise InputError(
                f"ELF is {elf.elfclass}-bit {'little' if elf.little_endian else 'big'}-endian "
                f"{elf['e_machine']}, expected 32-bit little-endian ARM", name)
        segments = []
        for i, seg in enumerate(elf.iter_segments()):
            if seg["p_type"] != "PT_LOAD" or seg["p_filesz"] == 0:
                continue
            data = seg.data()
            if len(data) != seg["p_filesz"]:
                raise InputError(f"segment {i}: file bytes at offset 0x{seg['p_offset']:X} run past the end of the file", name)
            segments.append(Segment(seg["p_paddr"], data))
        stripped = not any(s.name == ".symtab" or s.name.startswith(".debug") for s in elf.iter_sections())
        return tuple(sorted(segments, key=lambda s: s.address)), elf["e_entry"], stripped
    except InputError:
        raise
    except Exception as exc:  # pyelftools raises ELFError and assorted others on hostile files
        raise InputError(f"not a valid ELF file: {exc}", name) from None


def _hex_segments(raw: bytes, name: str, bounds: tuple[int, int, str] | None = None) -> tuple[Segment, ...]:
    from .hexread import parse_hex

    hexdata = parse_hex(_blocks(raw), name, bounds=bounds, max_span=MAX_IMAGE_SPAN)
    return tuple(Segment(start, data) for start, data in hexdata.segments)


def _blocks(raw: bytes) -> Iterator[bytes]:
    view = memoryview(raw)
    for i in range(0, len(raw), BLOCK):
        yield bytes(view[i:i + BLOCK])


def stored_app_elf(loaded: LoadedInput) -> bytes:
    """The bytes an app occupies in SFLASH: the SDK stores `*.stripped.elf`. A stripped ELF is stored unchanged; an
    unstripped one is reduced to its ELF header, program headers and loadable segments."""
    if loaded.format != "elf":
        raise InputError(f"an app stored in serial flash must be an ELF file, got {loaded.format}", loaded.source.file)
    return loaded.raw if loaded.stripped else _reduced_elf(loaded.raw)


def stored_form(raw: bytes, name: str) -> bytes:
    """What `bundle build` stores in SFLASH for the app ELF `raw` (itself when already stripped)."""
    _, _, stripped = _elf_segments(raw, name)
    return raw if stripped else _reduced_elf(raw)


def _reduced_elf(raw: bytes) -> bytes:
    from elftools.elf.elffile import ELFFile

    from .formats.elf import PT_LOAD, build_elf  # construct: imported where needed (read_file is used without it)

    elf = ELFFile(io.BytesIO(raw))
    kept = []
    for seg in elf.iter_segments():
        if seg["p_type"] == "PT_LOAD":
            fields = {k: seg[k] for k in ("p_vaddr", "p_paddr", "p_memsz", "p_flags", "p_align")}
            kept.append(({"p_type": PT_LOAD, **fields}, seg.data()))
    return build_elf(kept, elf["e_entry"], elf["e_flags"])


# A HEX file whose records span more than this is refused (a record at 0 and one at 0xFFFFFFF0 would otherwise
# allocate 4 GiB): the largest image there is.
MAX_IMAGE_SPAN = MAX_IMAGE_BYTES
HEX_SUFFIXES = (".hex", ".ihex", ".ihx")


def read_image_file(path: Path, fill: int = 0xFF, display: str | None = None) -> tuple[bytes, int | None, str]:
    """An image file as `bundle inspect` reads it: (bytes, base address or None, format "bin" | "hex" | "elf").

    A .hex (or a file starting with ':' that parses as HEX) becomes the bytes from its lowest to its highest address,
    gaps filled with `fill` (what an erased chip holds where a programmer writes nothing), based at its lowest
    address. An ELF is returned raw (format "elf"); anything else raw as "bin" with no base address. Each format
    is read up to its own largest size (MAX_INPUT_BYTES for HEX and ELF, MAX_IMAGE_BYTES for a binary)."""
    raw, _ = read_file(path, display, max_size_of(path, display))
    return image_from_bytes(raw, path, fill, display)


def max_size_of(path: Path, display: str | None = None) -> int:
    """The largest file of `path`'s format: its suffix, or its first bytes (ELF magic, ':')."""
    if path.suffix.lower() in HEX_SUFFIXES:
        return MAX_INPUT_BYTES
    fh, _ = open_input(path, display)
    try:
        with fh:
            head = fh.read(4)
    except OSError as exc:
        raise _read_error(exc, display or path) from None
    return MAX_INPUT_BYTES if head == ELF_MAGIC or head[:1] == b":" else MAX_IMAGE_BYTES


def image_from_bytes(raw: bytes, path: Path, fill: int = 0xFF, display: str | None = None) -> tuple[bytes, int | None, str]:
    """`read_image_file` for bytes already read from `path` (a .bin comes back as the same object)."""
    name = display or str(path)
    if raw[:4] == ELF_MAGIC:
        return raw, None, "elf"
    named_hex = path.suffix.lower() in HEX_SUFFIXES
    if not named_hex and raw[:1] != b":":
        if len(raw) > MAX_IMAGE_BYTES:
            raise InputError(f"is {hexsize(len(raw))}, larger than any image ({hexsize(MAX_IMAGE_BYTES)})", name)
        return raw, None, "bin"
    try:
        segments = _hex_segments(raw, name)
    except InputError:
        if named_hex or len(raw) > MAX_IMAGE_BYTES:
            raise
        return raw, None, "bin"  # a binary that happens to start with ':'
    if not segments:
        raise InputError("Intel HEX file holds no data records", name)
    return hex_image(segments, fill), segments[0].address, "hex"


@dataclass(frozen=True)
class HexFile:
    """An Intel HEX file read in one streaming pass: the image it loads, and the checksums of the file itself."""

    image: bytes  # from its lowest to its highest address, gaps as the fill
    base: int
    size: int  # of the file
    crc32: int
    sum32: int
    sha256: str


def read_hex_file(path: Path, fill: int = 0xFF, display: str | None = None,
                  bounds: tuple[int, int, str] | None = None) -> HexFile:
    """Read an Intel HEX file block by block: the text is parsed and hashed as it is read, never held whole, so
    memory is the data it holds (bundler/hexread.py). Refused if it changed while being read."""
    from .checksums import sum32
    from .hexread import parse_hex

    name = display or str(path)
    fh, _ = open_input(path, name, MAX_INPUT_BYTES)
    crc, digest, total, size = 0, hashlib.sha256(), 0, 0

    def blocks() -> Iterator[bytes]:
        nonlocal crc, total, size
        while size <= MAX_INPUT_BYTES and (block := fh.read(BLOCK)):
            crc = zlib.crc32(block, crc)
            digest.update(block)
            total += sum32(memoryview(block))  # a memoryview: never memoized (the blocks are not kept)
            size += len(block)
            yield block

    try:
        with fh:
            before = os.fstat(fh.fileno())
            reader = blocks()
            segments = tuple(Segment(a, d) for a, d in parse_hex(reader, name, bounds=bounds,
                                                                  max_span=MAX_IMAGE_SPAN).segments)
            for _ in reader:  # after the end-of-file record: still part of the file's checksums
                pass
            after = os.fstat(fh.fileno())
    except OSError as exc:
        raise _read_error(exc, name) from None
    if (before.st_size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns) or size != after.st_size:
        raise InputError("file changed while being read; run the build again", name)
    if not segments:
        raise InputError("Intel HEX file holds no data records", name)
    return HexFile(hex_image(segments, fill), segments[0].address, size, crc & 0xFFFFFFFF, total & 0xFFFFFFFF,
                   digest.hexdigest())


def hex_image(segments: tuple[Segment, ...], fill: int) -> bytes:
    """The bytes from the lowest to the highest address of `segments` (in address order), gaps as `fill`."""
    start, end = segments[0].address, max(s.end for s in segments)
    if len(segments) == 1:
        return segments[0].data
    image = bytearray(bytes([fill])) * (end - start)
    for seg in segments:
        image[seg.address - start:seg.end - start] = seg.data
    return bytes(image)


def describe_segment(seg: Segment) -> str:
    return f"0x{seg.address:08X}-0x{seg.end - 1:08X} ({hexsize(len(seg.data))})"
