"""WicedFS read-only filesystem images: build from a folder, list and extract (format: bundler.formats.wicedfs).

Building follows the SDK's mk_wicedfs (H352 `libraries/filesystems/wicedfs/src/mk_wicedfs/wicedfs_create.c`) with
its non-determinism removed: names sorted by byte order (the tool's strcmp order; this order also matters on the
device, whose lookup in wicedfs.c compares only the length of the requested name, so a name must come before
longer names it prefixes), filename fields zero-filled after the NUL, no timestamps.

Reading is for hostile input: every offset is bounds-checked before use, each directory may be reached once
(no loops, no shared directories), and the total number of entries and file bytes cannot exceed what the image
could hold without overlapping, so work is linear in the image size whatever the header counts claim.
"""

from __future__ import annotations

import errno
import hashlib
import mmap
import os
import shutil
import stat
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

from construct import ConstructError

from .checks import NameTable
from .errors import InputError, OutputError, PlacementError, hexsize
from .formats.wicedfs import (
    WICEDFS_MAGIC,
    WICEDFS_TYPE_DIR,
    WICEDFS_TYPE_FILE,
    WICEDFS_TYPE_LINK,
    WICEDFS_TYPE_MASK,
    WICEDFS_VERSION,
    WicedFsFlavour,
    flavour,
)

# The format's filename_size is a u32, but mk_wicedfs takes names from readdir()'s d_name (NAME_MAX = 255 bytes
# on the hosts the SDK supports), so 255 bytes + NUL is the longest name an SDK-made image holds.
MAX_NAME_BYTES = 255
# Directories inside each other, for the builder and the readers; real resource trees are a few levels deep.
MAX_DEPTH = 64
# The readers' path limits: one path (Linux PATH_MAX, what an extract could create), and all paths together
# (at most 16 bytes of path per image byte, plus 1 MiB): with them, listing is linear in the image size.
MAX_PATH_BYTES = 4096
PATH_BYTES_PER_IMAGE_BYTE = 16


@dataclass(frozen=True)
class FsEntry:
    """One file or directory of an image. `offset` is the absolute offset of its content in the image (a file's
    first byte, or a directory's wicedfs_dir_header_t)."""

    path: str  # '/'-separated, relative to the root; undecodable name bytes kept as surrogate escapes
    is_dir: bool
    size: int  # 0 for directories
    offset: int
    sha256: str | None  # hex digest of a file's content; None for directories


# --------------------------------------------------------------------------------------------------- building


@dataclass
class _Node:
    name: bytes
    path: Path
    is_dir: bool
    size: int = 0  # file length from lstat
    children: list[_Node] = field(default_factory=list)
    blob_size: int = 0  # bytes this node's content takes in the image


class SlotOverflow(PlacementError):
    """The image a folder makes is larger than the room given; `size`: how large it would be (known before any
    byte is built)."""

    def __init__(self, message: str, file: Path, *, size: int) -> None:
        super().__init__(message, file)
        self.size = size


def build_image(folder: Path, *, wide: bool = False, max_size: int | None = None) -> bytes:
    """Make the WicedFS image of `folder` (mk_wicedfs32 layout, or mk_wicedfs64 with `wide`). Deterministic."""
    fl = flavour(wide)
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError("not a folder", folder)
    root = _Node(name=b"", path=folder, is_dir=True)
    _scan(root, fl, depth=0)

    total = fl.filesystem_header_size + root.blob_size
    # mk_wicedfs refuses content beyond 0x7FFFFFFF in the 32-bit flavour: offsets are wicedfs_ssize_t.
    if total > fl.ssize_max:
        raise PlacementError(
            f"image would be {hexsize(total)}, more than the {fl.name} format can address "
            f"({hexsize(fl.ssize_max)}); use the 64-bit flavour (--wide)",
            folder,
        )
    if max_size is not None and total > max_size:
        raise SlotOverflow(
            f"filesystem image is {hexsize(total)}, {hexsize(total - max_size)} larger than its slot "
            f"of {hexsize(max_size)}",
            folder, size=total,
        )

    out = bytearray(
        fl.wicedfs_filesystem_header_t.build(
            dict(magic_number=WICEDFS_MAGIC, version=WICEDFS_VERSION, root_dir_offset=fl.filesystem_header_size)
        )
    )
    _emit_dir(root, out, fl)
    if len(out) != total:  # a file changed size between scan and read
        raise InputError("the folder changed while the image was being built", folder)
    return bytes(out)


def _scan(node: _Node, fl: WicedFsFlavour, depth: int) -> None:
    """Fill node.children (sorted by name bytes) and node.blob_size, refusing what the format cannot hold."""
    if depth > MAX_DEPTH:
        raise InputError(f"folders nested deeper than {MAX_DEPTH} levels", node.path)
    try:
        with os.scandir(node.path) as it:
            dirents = list(it)
    except OSError as exc:
        raise InputError(f"cannot read folder: {exc.strerror}", node.path) from None
    children: list[_Node] = []
    for de in dirents:
        path = Path(de.path)
        name = os.fsencode(de.name)
        _check_name(name, path)
        try:
            st = de.stat(follow_symlinks=False)
        except OSError as exc:
            raise InputError(f"cannot stat: {exc.strerror}", path) from None
        if stat.S_ISLNK(st.st_mode):
            raise InputError("is a symbolic link; WicedFS has no links (copy the target in instead)", path)
        if stat.S_ISDIR(st.st_mode):
            child = _Node(name=name, path=path, is_dir=True)
            _scan(child, fl, depth + 1)
        elif stat.S_ISREG(st.st_mode):
            child = _Node(name=name, path=path, is_dir=False, size=st.st_size, blob_size=st.st_size)
        else:
            raise InputError("is neither a regular file nor a folder", path)
        children.append(child)
    children.sort(key=lambda c: c.name)  # C strcmp order = byte order
    node.children = children
    filename_size = max((len(c.name) for c in children), default=0) + 1
    node.blob_size = (
        fl.dir_header_size
        + len(children) * (fl.file_header_size + filename_size)
        + sum(c.blob_size for c in children)
    )


def _check_name(name: bytes, path: Path) -> None:
    if b"\x00" in name or b"/" in name:
        raise InputError("name contains a byte WicedFS names cannot hold (NUL or '/')", path)
    if len(name) > MAX_NAME_BYTES:
        raise InputError(
            f"name is {len(name)} bytes, longer than the {MAX_NAME_BYTES} bytes a WicedFS name may have", path
        )
    try:
        name.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError("name is not valid UTF-8", path) from None


def _emit_dir(node: _Node, out: bytearray, fl: WicedFsFlavour) -> None:
    """Append node's wicedfs_dir_header_t, file table and contents (nested in place), as mk_wicedfs lays them."""
    filename_size = max((len(c.name) for c in node.children), default=0) + 1
    entry_size = fl.file_header_size + filename_size
    out += fl.wicedfs_dir_header_t.build(
        dict(
            file_table_offset=fl.dir_header_size,
            num_files=len(node.children),
            file_header_size=entry_size,
            filename_size=filename_size,
        )
    )
    table_pos = len(out)
    out += bytes(entry_size * len(node.children))
    for i, child in enumerate(node.children):
        entry_pos = table_pos + i * entry_size
        content_pos = len(out)
        if child.is_dir:
            _emit_dir(child, out, fl)
        else:
            try:
                content = child.path.read_bytes()
            except OSError as exc:
                raise InputError(f"cannot read: {exc.strerror}", child.path) from None
            if len(content) != child.size:
                raise InputError("file changed while the image was being built", child.path)
            out += content
        out[entry_pos : entry_pos + entry_size] = fl.file_table_entry.build(
            dict(
                type_flags_permissions=WICEDFS_TYPE_DIR if child.is_dir else WICEDFS_TYPE_FILE,
                offset=content_pos - entry_pos,
                size=0 if child.is_dir else child.size,
                filename=child.name,
            ),
            filename_size=filename_size,
        )


# --------------------------------------------------------------------------------------------------- reading


def detect(data: bytes) -> bool:
    """True if `data` starts like a WicedFS image of either flavour (magic, version, root directory in bounds)."""
    for wide in (False, True):
        fl = flavour(wide)
        try:
            root = _parse_header(data, fl)
            _parse_dir_header(data, fl, root, "root directory")
        except InputError:
            continue
        return True
    return False


def list_image(data: bytes | mmap.mmap, *, wide: bool = False) -> list[FsEntry]:
    """All entries of the image, depth first in table order. Raises InputError (one line, with the offset) for
    anything the device's reader would not find, or that does not fit in the image."""
    if not isinstance(data, (bytes, mmap.mmap)):  # a read-only map of a file is not copied (a prebuilt image)
        data = bytes(data)
    fl = flavour(wide)
    n = len(data)
    root_pos = _parse_header(data, fl)
    _check_flavour(data, fl, root_pos)
    if root_pos + fl.dir_header_size > n:
        raise InputError(
            f"offset 0x8: root_dir_offset {_hx(root_pos)} puts the root directory header "
            f"({hexsize(fl.dir_header_size)}) outside the image ({hexsize(n)})"
        )

    # In an image whose parts do not overlap, all file tables together, and all file contents together, fit in
    # the image: more means overlapping parts, and refusing them keeps the work linear in the image size.
    budget = _Budget(table_bytes_left=n, file_bytes_left=n, path_bytes_left=PATH_BYTES_PER_IMAGE_BYTE * n + (1 << 20))
    seen_dirs: set[int] = set()
    result: list[FsEntry] = []
    # Iterative pre-order walk: a stack of (directory path, its remaining entries).
    stack = [("", iter(_read_dir(data, fl, root_pos, "", seen_dirs, budget)))]
    while stack:
        prefix, it = stack[-1]
        item = next(it, None)
        if item is None:
            stack.pop()
            continue
        entry = item
        result.append(entry)
        if entry.is_dir:
            if len(stack) > MAX_DEPTH:  # the root is stack[0]: this entry is at depth len(stack)
                raise InputError(f"offset 0x{entry.offset:X}: '{display_path(entry.path)}': directories nested more "
                                 f"than {MAX_DEPTH} deep (the most mk_wicedfs trees have here)")
            stack.append((entry.path, iter(_read_dir(data, fl, entry.offset, entry.path, seen_dirs, budget))))
    return result


@dataclass
class _Budget:
    table_bytes_left: int
    file_bytes_left: int
    path_bytes_left: int


def _parse_header(data: bytes, fl: WicedFsFlavour) -> int:
    """Check wicedfs_filesystem_header_t as wicedfs_init() does; return the root directory's offset."""
    size = fl.filesystem_header_size
    if len(data) < size:
        raise InputError(
            f"offset 0x0: {hexsize(len(data))} is too short for a WicedFS header ({hexsize(size)})"
        )
    hdr = fl.wicedfs_filesystem_header_t.parse(data[:size])
    if hdr.magic_number != WICEDFS_MAGIC:
        raise InputError(
            f"offset 0x0: magic_number is 0x{hdr.magic_number:08X}, expected 0x{WICEDFS_MAGIC:08X} ('BRCM'): "
            "not a WicedFS image"
        )
    if hdr.version != WICEDFS_VERSION:
        raise InputError(f"offset 0x4: version is {hdr.version}, expected {WICEDFS_VERSION}")
    return int(hdr.root_dir_offset)


def _looks_like(data: bytes, fl: WicedFsFlavour) -> bool:
    """Does the image have exactly the header shape mk_wicedfs writes in this flavour?"""
    try:
        root = fl.wicedfs_filesystem_header_t.parse(data[: fl.filesystem_header_size]).root_dir_offset
        if root != fl.filesystem_header_size:
            return False
        dh = fl.wicedfs_dir_header_t.parse(data[root : root + fl.dir_header_size])
    except ConstructError:
        return False
    return dh.file_table_offset == fl.dir_header_size


def _check_flavour(data: bytes, fl: WicedFsFlavour, root_pos: int) -> None:
    """Refuse an image of the other flavour with a message naming the option, instead of misreading it."""
    other = flavour(not fl.wide)
    if _looks_like(data, fl) or not _looks_like(data, other):
        return
    if other.wide:
        raise InputError(
            f"offset 0x8: root_dir_offset {root_pos} and a {other.dir_header_size}-byte directory header: this is "
            f"a {other.name} WicedFS image; read it with --wide (wide=True)"
        )
    raise InputError(
        f"offset 0x8: root_dir_offset {other.filesystem_header_size} and a {other.dir_header_size}-byte directory "
        f"header: this is a {other.name} WicedFS image; read it without --wide (wide=False)"
    )


def display_path(path: str) -> str:
    """A path for one-line messages and listings: non-printable characters and undecodable bytes escaped."""
    out = []
    for ch in path:
        code = ord(ch)
        if 0xDC80 <= code <= 0xDCFF:  # surrogateescape'd byte that was not UTF-8
            out.append(f"\\x{code - 0xDC00:02x}")
        elif ch == "\\" or not ch.isprintable():
            out.append(ch.encode("unicode_escape").decode("ascii"))
        else:
            out.append(ch)
    return "".join(out)


def _hx(value: int) -> str:
    return f"-0x{-value:X}" if value < 0 else f"0x{value:X}"


def _parse_dir_header(data: bytes, fl: WicedFsFlavour, pos: int, what: str):  # -> construct Container
    n = len(data)
    if pos < 0 or pos + fl.dir_header_size > n:
        raise InputError(
            f"offset 0x{max(pos, 0):X}: {what}: directory header at {_hx(pos)} ({hexsize(fl.dir_header_size)}) "
            f"is outside the image ({hexsize(n)})"
        )
    return fl.wicedfs_dir_header_t.parse(data[pos : pos + fl.dir_header_size])


def _read_dir(
    data: bytes, fl: WicedFsFlavour, pos: int, path: str, seen_dirs: set[int], budget: _Budget
) -> list[FsEntry]:
    """Entries of the directory whose wicedfs_dir_header_t is at `pos` (not recursing)."""
    n = len(data)
    what = f"directory '{display_path(path)}'" if path else "root directory"
    if pos in seen_dirs:
        raise InputError(
            f"offset 0x{pos:X}: {what} is a directory already reached (a loop back to an ancestor, "
            "or a shared directory)"
        )
    seen_dirs.add(pos)
    dh = _parse_dir_header(data, fl, pos, what)
    num_files, header_size, name_size = int(dh.num_files), int(dh.file_header_size), int(dh.filename_size)
    if num_files == 0:
        return []
    if name_size == 0 or header_size < fl.file_header_size + name_size:
        raise InputError(
            f"offset 0x{pos:X}: {what}: file_header_size {header_size} does not hold the "
            f"{fl.file_header_size}-byte entry header and a filename_size of {name_size} (at least 1)"
        )
    table_bytes = num_files * header_size
    if table_bytes > budget.table_bytes_left:
        raise InputError(
            f"offset 0x{pos:X}: {what}: num_files {num_files} x file_header_size {header_size} is more than the "
            f"image ({hexsize(n)}) can hold besides the other file tables"
        )
    budget.table_bytes_left -= table_bytes
    table = pos + int(dh.file_table_offset)
    if table < 0 or table + table_bytes > n:
        raise InputError(
            f"offset 0x{pos:X}: {what}: file table at {_hx(table)} ({num_files} entries of {header_size} bytes) "
            f"is outside the image ({hexsize(n)})"
        )
    entries: list[FsEntry] = []
    names = NameTable()
    prefix = f"{path}/" if path else ""
    read_size = fl.file_header_size + name_size
    for i in range(num_files):
        epos = table + i * header_size
        e = fl.file_table_entry.parse(data[epos : epos + read_size], filename_size=name_size)
        name: bytes = e.filename
        shown = display_path(name.decode("utf-8", "surrogateescape"))
        why = names.add(name)  # the device's lookup rule (checks.NameTable)
        if why == "unusable":
            raise InputError(f"offset 0x{epos:X}: {what}: entry {i} has an unusable name '{shown}'")
        if why == "twice":
            raise InputError(f"offset 0x{epos:X}: {what}: name '{shown}' appears twice")
        if why is not None:
            raise InputError(f"offset 0x{epos:X}: {what}: entry {i} '{shown}' comes after '{display_path(why)}', which "
                             "starts with it: the device's lookup (wicedfs.c find_item) finds that one instead")
        if len(prefix) + len(name) > MAX_PATH_BYTES:
            raise InputError(f"offset 0x{epos:X}: {what}: entry {i}: the path would be longer than {MAX_PATH_BYTES} "
                             "characters")
        entry_path = prefix + name.decode("utf-8", "surrogateescape")
        budget.path_bytes_left -= len(entry_path)
        if budget.path_bytes_left < 0:
            raise InputError(f"offset 0x{epos:X}: {what}: the paths of the entries total more than "
                             f"{PATH_BYTES_PER_IMAGE_BYTE} characters per image byte")
        where = f"offset 0x{epos:X}: '{display_path(entry_path)}'"
        kind = e.type_flags_permissions & WICEDFS_TYPE_MASK
        content = epos + int(e.offset)
        if kind == WICEDFS_TYPE_FILE:
            size = int(e.size)
            if content < 0 or content + size > n:
                raise InputError(
                    f"{where}: content at {_hx(content)} ({hexsize(size)}) "
                    f"is outside the image ({hexsize(n)})"
                )
            if size > budget.file_bytes_left:
                raise InputError(
                    f"{where}: files claim more bytes in total than the image "
                    f"({hexsize(n)}) holds (overlapping contents)"
                )
            budget.file_bytes_left -= size
            digest = hashlib.sha256(memoryview(data)[content : content + size]).hexdigest()
            entries.append(FsEntry(entry_path, False, size, content, digest))
        elif kind == WICEDFS_TYPE_DIR:
            if content < 0 or content + fl.dir_header_size > n:
                raise InputError(
                    f"{where}: directory header at {_hx(content)} is outside the "
                    f"image ({hexsize(n)})"
                )
            entries.append(FsEntry(entry_path, True, 0, content, None))
        else:
            label = "a link" if kind == WICEDFS_TYPE_LINK else "an unknown type"
            raise InputError(
                f"{where}: type {kind} is {label}; only files (1) and directories (0) "
                "are supported"
            )
    return entries


# --------------------------------------------------------------------------------------------------- extracting


def extract_image(data: bytes, dest: Path, *, wide: bool = False, force: bool = False,
                  protected: Collection[Path] = ()) -> list[FsEntry]:
    """Write the image's tree under `dest`, all or nothing: the whole image is validated first, the tree is written
    into a staging folder beside `dest` and renamed into place, so a refusal, an error or a kill leaves `dest` as
    it was (a folder a killed run left beside it is removed by the next run). `dest` must be absent or an empty
    folder; with `force` an existing folder receives the image's files, each moved in by one rename (its other
    files are kept; a link, a file where the image has a folder or the reverse, or one of the `protected` inputs
    (the image file itself), is refused before anything is written)."""
    from .publish import beside_dir, stale_dirs

    data = bytes(data)
    entries = list_image(data, wide=wide)
    dest = Path(dest)
    relative: list[tuple[FsEntry, tuple[str, ...]]] = []
    for entry in entries:
        parts = tuple(entry.path.split("/"))
        # list_image already refused these; checked again because this is where an escape would happen.
        if any(p in ("", ".", "..") or "\x00" in p for p in parts):
            raise InputError(f"offset 0x{entry.offset:X}: '{display_path(entry.path)}' would escape the extract folder")
        relative.append((entry, parts))
    if dest.is_symlink() or (dest.exists() and not dest.is_dir()):
        raise OutputError("exists and is not a folder", dest)
    try:
        merge = dest.is_dir() and any(dest.iterdir())
        if merge and not force:
            raise OutputError("folder is not empty; refusing to overwrite (use --force)", dest)
        if merge:
            inputs = {Path(p).resolve() for p in protected}
            for entry, parts in relative:
                _check_merge_target(dest.joinpath(*parts), entry.is_dir, inputs)
        dest.parent.mkdir(parents=True, exist_ok=True)
        for stale in stale_dirs(dest, _EXTRACT):
            shutil.rmtree(stale, ignore_errors=True)
        staging = beside_dir(dest, _EXTRACT)
    except OSError as exc:
        raise OutputError(f"cannot use as the extract folder: {exc.strerror}", dest) from None
    current = ""
    try:
        for entry, parts in relative:
            current = entry.path
            target = staging.joinpath(*parts)
            if entry.is_dir:
                target.mkdir()
            else:
                with open(target, "xb") as fh:  # a new file in our own folder: never through a link
                    fh.write(memoryview(data)[entry.offset : entry.offset + entry.size])
        current = ""
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(staging, 0o777 & ~umask)  # beside_dir makes it 0700; the extracted tree is an ordinary folder
        if not merge:
            _rename_over_empty(staging, dest)
        else:
            for entry, parts in relative:
                current = entry.path
                if entry.is_dir:
                    dest.joinpath(*parts).mkdir(exist_ok=True)
                else:
                    os.replace(staging.joinpath(*parts), dest.joinpath(*parts))
    except OSError as exc:
        shown = f"'{display_path(current)}'" if current else "the tree"
        if exc.errno == errno.ENAMETOOLONG:
            raise InputError(f"{shown}: path too long to extract here", dest) from None
        left = "" if merge else "; nothing was extracted"
        raise OutputError(f"cannot write {shown}: {exc.strerror}{left}", dest) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return entries


_EXTRACT = "extract"  # staging folder beside the extract folder: publish.beside_dir(dest, _EXTRACT)


def _check_merge_target(target: Path, is_dir: bool, inputs: set[Path]) -> None:
    """With --force, what the image puts at `target` must be able to replace what is there."""
    if target.resolve() in inputs:
        raise OutputError("is an input of this command; refusing to replace it", target)
    if target.is_symlink():
        raise OutputError("is a symbolic link; refusing to write through it", target)
    if is_dir and target.exists() and not target.is_dir():
        raise OutputError("exists and is not a folder", target)
    if not is_dir and target.is_dir():
        raise OutputError("is a folder; the image has a file there", target)


def _rename_over_empty(staging: Path, dest: Path) -> None:
    """Rename `staging` to `dest`, which is absent or an empty folder (POSIX rename replaces an empty folder; on
    Windows it is removed first: rmdir never removes a folder that is not empty)."""
    try:
        os.rename(staging, dest)
    except FileExistsError:
        os.rmdir(dest)
        os.rename(staging, dest)
