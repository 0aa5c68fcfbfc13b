"""WicedFS read-only filesystem image structures (WICED SDK 3.5.2), declared once.

Sources (checked, not copied): H352 `libraries/filesystems/wicedfs/src/wicedfs_internal.h` (the three packed
structures, type values, magic), `src/wicedfs.h` (`wicedfs_usize_t`/`wicedfs_ssize_t` are 32-bit unless
`WICEDFS_64BIT_LENGTHS`), `src/mk_wicedfs/Makefile` (`mk_wicedfs32` = default types, `mk_wicedfs64` =
`-DWICEDFS_64BIT_LENGTHS`), `src/mk_wicedfs/wicedfs_create.c` (how the tool fills the fields) and `src/wicedfs.c`
(what the device's reader accepts). All structures are `#pragma pack(1)`, little-endian (Cortex-M3).

Layout written by mk_wicedfs (offsets are relative, so a directory blob is position independent):
  wicedfs_filesystem_header_t at 0, root_dir_offset = sizeof(header) (from the start of this header)
  wicedfs_dir_header_t, file_table_offset = sizeof(dir header) (from the start of this dir header)
  num_files x (wicedfs_file_header_t + filename[filename_size]), file_header_size = sizeof(file header) +
      filename_size, filename_size = longest name in the directory + 1 (1 for an empty directory)
  contents in table order, no padding: a file's bytes, or a complete nested directory.
  wicedfs_file_header_t.offset is from the start of THAT table entry to its content.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from construct import (
    ExprAdapter,
    FixedSized,
    GreedyBytes,
    Int32sl,
    Int32ul,
    Int64sl,
    Int64ul,
    Struct,
    this,
)

# wicedfs_internal.h: WICEDFS_MAGIC = 'B' | 'R'<<8 | 'C'<<16 | 'M'<<24, i.e. the bytes "BRCM" on disk.
WICEDFS_MAGIC = 0x4D435242
WICEDFS_VERSION = 1  # wicedfs_init() rejects any other version

# wicedfs_internal.h: type_flags_permissions low nibble. mk_wicedfs writes only DIR or FILE, no flags/permissions.
WICEDFS_TYPE_DIR = 0
WICEDFS_TYPE_FILE = 1
WICEDFS_TYPE_LINK = 2
WICEDFS_TYPE_MASK = 0xF


@dataclass(frozen=True)
class WicedFsFlavour:
    """The structures of one flavour: 32-bit lengths (mk_wicedfs32, the SDK default) or 64-bit lengths."""

    wide: bool
    wicedfs_filesystem_header_t: Struct
    wicedfs_dir_header_t: Struct
    wicedfs_file_header_t: Struct
    # wicedfs_file_header_t followed by the fixed-width filename field (parse/build with filename_size=...).
    file_table_entry: Struct
    usize_max: int
    ssize_max: int

    @property
    def name(self) -> str:
        return "64-bit-length (mk_wicedfs64)" if self.wide else "32-bit (mk_wicedfs32)"

    @property
    def filesystem_header_size(self) -> int:
        return self.wicedfs_filesystem_header_t.sizeof()

    @property
    def dir_header_size(self) -> int:
        return self.wicedfs_dir_header_t.sizeof()

    @property
    def file_header_size(self) -> int:
        """sizeof(wicedfs_file_header_t), i.e. an entry without its filename field."""
        return self.wicedfs_file_header_t.sizeof()


@cache
def flavour(wide: bool = False) -> WicedFsFlavour:
    usize = Int64ul if wide else Int32ul  # wicedfs_usize_t
    ssize = Int64sl if wide else Int32sl  # wicedfs_ssize_t

    wicedfs_filesystem_header_t = Struct(
        "magic_number" / Int32ul,  # WICEDFS_MAGIC
        "version" / Int32ul,  # 1
        "root_dir_offset" / usize,  # to the root wicedfs_dir_header_t, from the start of this header
    )
    wicedfs_dir_header_t = Struct(
        "file_table_offset" / ssize,  # from the start of this directory header to its file table
        "num_files" / usize,  # entries in the file table
        "file_header_size" / Int32ul,  # bytes per file table entry, filename field included
        "filename_size" / Int32ul,  # bytes of the filename field of each entry
    )
    file_header_fields = (
        "type_flags_permissions" / Int32ul,  # low nibble: WICEDFS_TYPE_*
        "offset" / ssize,  # from the start of this entry to its content (file bytes or nested dir header)
        "size" / usize,  # content length; 0 for directories
    )
    wicedfs_file_header_t = Struct(*file_header_fields)
    # The reader compares names with strncmp over filename_size bytes: the name ends at the first NUL (or at the
    # end of the field). Built names are followed by NUL and zero fill (mk_wicedfs leaves that fill uninitialised).
    file_table_entry = Struct(
        *file_header_fields,
        "filename"
        / ExprAdapter(
            FixedSized(this._params.filename_size, GreedyBytes),
            decoder=lambda raw, ctx: raw.split(b"\x00", 1)[0],
            encoder=lambda name, ctx: name + b"\x00",  # FixedSized zero-fills, and refuses a name with no room
        ),
    )
    bits = 64 if wide else 32
    return WicedFsFlavour(
        wide=wide,
        wicedfs_filesystem_header_t=wicedfs_filesystem_header_t,
        wicedfs_dir_header_t=wicedfs_dir_header_t,
        wicedfs_file_header_t=wicedfs_file_header_t,
        file_table_entry=file_table_entry,
        usize_max=(1 << bits) - 1,
        ssize_max=(1 << (bits - 1)) - 1,
    )
