#!/usr/bin/env python3
"""Independent reference writer for WICED's read-only filesystem image (WicedFS, 32-bit flavour).

Written for the ota_demo sample as an oracle for the bundler's own (Construct-based) writer:
it follows docs/wiced-formats.md section 4 and nothing else from the project. Stdlib only.

usage: mk_wicedfs_reference.py OUTPUT_IMAGE SOURCE_DIR     (same argument order as mk_wicedfs)

Facts checked against the SDK sources (read with the team's search tools, not copied):
  * amlweems/wiced-history libraries/filesystems/wicedfs/src/wicedfs_internal.h (#pragma pack(1)):
      filesystem header = magic u32, version u32, root_dir_offset usize              -> 12 bytes
      dir header        = file_table_offset ssize, num_files usize,
                          file_header_size u32, filename_size u32                    -> 16 bytes
      file table entry  = type_flags_permissions u32, offset ssize, size usize,
                          then filename_size bytes of name                           -> 12 + filename_size
      WICEDFS_MAGIC = 'B' | 'R'<<8 | 'C'<<16 | 'M'<<24 (0x4D435242); TYPE_DIR 0, TYPE_FILE 1, LINK 2.
  * .../src/wicedfs.h: usize/ssize are uint32_t/int32_t unless WICEDFS_64BIT_LENGTHS.
  * .../src/mk_wicedfs/wicedfs_create.c (create_wicedfs / write_dir / get_sorted_filelist):
      - version = 1, root_dir_offset = sizeof(filesystem header) = 12;
      - file_table_offset = sizeof(dir header) = 16; the table follows the dir header directly;
      - filename_size = longest d_name in that directory + 1 (so an empty directory gets 1 and
        file_header_size 13); file_header_size = 12 + filename_size;
      - "." and ".." skipped, nothing else (dot-files ARE included);
      - names sorted ascending with strcmp (byte order) by a selection sort;
      - content starts right after the table; for entry i, offset = content position minus the
        position of entry i itself; files are copied verbatim, sub-directories are written
        recursively in place (header + table + contents) - no alignment or padding anywhere;
      - directories get size 0 and type 0, files type 1 and their byte length; no flags or
        permission bits are set;
      - the tool strcpy()s the name into a malloc'd entry, so bytes after the NUL are
        uninitialised heap in the SDK output; here they are zero (the reader uses strncmp);
      - no overall length, CRC or trailing padding.
"""
from __future__ import annotations

import os
import struct
import sys

WICEDFS_MAGIC = 0x4D435242          # b"BRCM"
WICEDFS_VERSION = 1
WICEDFS_TYPE_DIR = 0
WICEDFS_TYPE_FILE = 1
FS_HEADER = struct.Struct("<IIi")   # magic, version, root_dir_offset (usize; 12 always fits)
DIR_HEADER = struct.Struct("<iIII")  # file_table_offset, num_files, file_header_size, filename_size
ENTRY_HEADER = struct.Struct("<Iii")  # type_flags_permissions, offset, size (usize, < 2 GiB here)
LIMIT_32 = 0x7FFFFFFF                # mk_wicedfs32 refuses files/images beyond this


class WicedFSError(Exception):
    pass


def _dir_image(path: bytes) -> bytes:
    names = sorted(n for n in os.listdir(path) if n not in (b".", b".."))
    filename_size = max((len(n) for n in names), default=0) + 1
    entry_size = ENTRY_HEADER.size + filename_size

    table = bytearray()
    contents = bytearray()
    content_start = DIR_HEADER.size + len(names) * entry_size
    for i, name in enumerate(names):
        full = os.path.join(path, name)
        entry_pos = DIR_HEADER.size + i * entry_size
        content_pos = content_start + len(contents)
        if os.path.isdir(full):          # follows symlinks, like the SDK's stat()
            kind, size, blob = WICEDFS_TYPE_DIR, 0, _dir_image(full)
        else:
            with open(full, "rb") as f:
                blob = f.read()
            kind, size = WICEDFS_TYPE_FILE, len(blob)
        if content_pos + len(blob) > LIMIT_32:
            raise WicedFSError(f"{os.fsdecode(full)}: image would exceed the 32-bit WicedFS limit")
        table += ENTRY_HEADER.pack(kind, content_pos - entry_pos, size)
        table += name + b"\0" * (filename_size - len(name))   # NUL-terminated, zero-filled
        contents += blob

    header = DIR_HEADER.pack(DIR_HEADER.size, len(names), entry_size, filename_size)
    return header + bytes(table) + bytes(contents)


def build_image(source_dir: str | os.PathLike[str]) -> bytes:
    """Return the WicedFS (32-bit) image of source_dir."""
    path = os.fsencode(source_dir)
    if not os.path.isdir(path):
        raise WicedFSError(f"{os.fsdecode(path)}: not a directory")
    image = FS_HEADER.pack(WICEDFS_MAGIC, WICEDFS_VERSION, FS_HEADER.size) + _dir_image(path)
    if len(image) > LIMIT_32:
        raise WicedFSError("image exceeds the 32-bit WicedFS limit")
    return image


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print("usage: mk_wicedfs_reference.py OUTPUT_IMAGE SOURCE_DIR", file=sys.stderr)
        return 2
    try:
        image = build_image(argv[2])
    except (OSError, WicedFSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    tmp = argv[1] + ".tmp"
    with open(tmp, "wb") as f:
        f.write(image)
    os.replace(tmp, argv[1])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
