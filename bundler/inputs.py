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
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from .errors import InputError, hexsize
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


def read_file(path: Path, display: str | None = None) -> tuple[bytes, Source]:
    """Read a whole input file once; refuse it if it changed while being read."""
    try:
        before = os.stat(path)
        with open(path, "rb") as fh:
            raw = fh.read()
        after = os.stat(path)
    except OSError as exc:
        raise _read_error(exc, display or path) from None
    if (before.st_size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns) or len(raw) != after.st_size:
        raise InputError("file changed while being read; run the build again", display or path)
    return raw, Source(display or str(path), hashlib.sha256(raw).hexdigest())


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


def file_bytes(path: Path, display: str | None = None) -> FileBytes:
    """Hash a raw input file in blocks (read_file's checks, without keeping the bytes)."""
    digest, size = hashlib.sha256(), 0
    try:
        before = os.stat(path)
        with open(path, "rb") as fh:
            while block := fh.read(BLOCK):
                digest.update(block)
                size += len(block)
        after = os.stat(path)
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
    if path.suffix.lower() in (".hex", ".ihex", ".ihx") or raw[:1] == b":":
        return "hex"
    return "bin"


def load_input(path: Path, display: str | None = None, *, address: int | None = None, fmt: str | None = None) -> LoadedInput:
    """Read an ELF/HEX/BIN file into segments. A raw binary needs `address` (where its first byte goes)."""
    raw, source = read_file(path, display)
    name = display or str(path)
    fmt = fmt or guess_format(path, raw)
    if fmt == "elf":
        segments, entry, stripped = _elf_segments(raw, name)
        return LoadedInput(path, source, raw, "elf", segments, entry, stripped)
    if fmt == "hex":
        return LoadedInput(path, source, raw, "hex", _hex_segments(raw, name))
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


def _hex_segments(raw: bytes, name: str) -> tuple[Segment, ...]:
    from intelhex import IntelHex, IntelHexError

    ih = IntelHex()
    try:
        ih.loadhex(io.StringIO(raw.decode("ascii")))
    except UnicodeDecodeError as exc:
        raise InputError(f"not an Intel HEX file: non-ASCII byte at offset {exc.start}", name) from None
    except IntelHexError as exc:
        raise InputError(f"invalid Intel HEX: {exc}", name) from None
    except Exception as exc:  # intelhex raises ValueError and others on hostile records
        raise InputError(f"invalid Intel HEX: {exc}", name) from None
    return tuple(Segment(start, ih.tobinstr(start, end - 1)) for start, end in ih.segments())


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
# allocate 4 GiB); the largest serial flash in layouts/chips.toml is 64 MiB.
MAX_IMAGE_SPAN = 64 << 20


def read_image_file(path: Path, fill: int = 0xFF, display: str | None = None) -> tuple[bytes, int | None, str]:
    """An image file as `bundle inspect` reads it: (bytes, base address or None, format "bin" | "hex" | "elf").

    A .hex (or a file starting with ':' that parses as HEX) becomes the bytes from its lowest to its highest address, gaps filled with
    `fill` (what an erased chip holds where a programmer writes nothing), based at its lowest address. An ELF is
    returned raw (format "elf"); anything else raw as "bin" with no base address."""
    raw, _ = read_file(path, display)
    return image_from_bytes(raw, path, fill, display)


def image_from_bytes(raw: bytes, path: Path, fill: int = 0xFF, display: str | None = None) -> tuple[bytes, int | None, str]:
    """`read_image_file` for bytes already read from `path` (a .bin comes back as the same object)."""
    name = display or str(path)
    if raw[:4] == ELF_MAGIC:
        return raw, None, "elf"
    named_hex = path.suffix.lower() in (".hex", ".ihex", ".ihx")
    if not named_hex and raw[:1] != b":":
        return raw, None, "bin"
    try:
        segments = _hex_segments(raw, name)
    except InputError:
        if named_hex:
            raise
        return raw, None, "bin"  # a binary that happens to start with ':'
    if not segments:
        raise InputError("Intel HEX file holds no data records", name)
    start, end = segments[0].address, max(s.end for s in segments)
    if end - start > MAX_IMAGE_SPAN:
        raise InputError(f"Intel HEX records span 0x{start:08X}-0x{end - 1:08X} ({hexsize(end - start)}), more than "
                         f"any image ({hexsize(MAX_IMAGE_SPAN)})", name)
    image = bytearray(bytes([fill])) * (end - start)
    for seg in segments:
        image[seg.address - start:seg.end - start] = seg.data
    return bytes(image), start, "hex"


def describe_segment(seg: Segment) -> str:
    return f"0x{seg.address:08X}-0x{seg.end - 1:08X} ({hexsize(len(seg.data))})"
