"""Regenerate the crafted bad WicedFS images of this folder (stdlib only, independent of bundler).

Run: python tests/fuzz_corpus/wicedfs/make_corpus.py. Each image isolates one defect; tests/test_wicedfs_fuzz.py
lists the message fragment each must produce. Layout (32-bit flavour, little-endian, packed):
  fs header  : magic "BRCM", version u32, root_dir_offset u32          (12 bytes)
  dir header : file_table_offset i32, num_files u32, file_header_size u32, filename_size u32   (16 bytes)
  entry      : type_flags_permissions u32, offset i32 (from this entry), size u32, name[filename_size]
"""

from __future__ import annotations

import struct
from pathlib import Path

HERE = Path(__file__).resolve().parent


def fs_header(root: int = 12, magic: bytes = b"BRCM", version: int = 1) -> bytes:
    return magic + struct.pack("<II", version, root)


def dir_header(num: int, name_size: int, table_off: int = 16, header_size: int | None = None) -> bytes:
    return struct.pack("<iIII", table_off, num, 12 + name_size if header_size is None else header_size, name_size)


def entry(kind: int, offset: int, size: int, name: bytes, name_size: int) -> bytes:
    return struct.pack("<IiI", kind, offset, size) + name.ljust(name_size, b"\0")


def one_file(name: bytes, content: bytes = b"hi", kind: int = 1, offset: int | None = None) -> bytes:
    ns = len(name) + 1
    off = 12 + ns if offset is None else offset
    return fs_header() + dir_header(1, ns) + entry(kind, off, len(content), name, ns) + content


def images() -> dict[str, bytes]:
    good = one_file(b"a")
    out = {
        "bad_magic.bin": b"BRCX" + good[4:],
        "bad_version.bin": good[:4] + struct.pack("<I", 2) + good[8:],
        "truncated_header.bin": good[:7],
        "root_outside.bin": fs_header(root=0x1000) + good[12:],
        "huge_num_files.bin": fs_header() + dir_header(0xFFFFFFFF, 2) + entry(1, 14, 0, b"a", 2),
        "entry_outside.bin": one_file(b"a", offset=0x7FFFFFF0),
        "negative_offset.bin": one_file(b"a", offset=-100),
        "dotdot_name.bin": one_file(b".."),
        "slash_name.bin": one_file(b"../../etc/passwd"),
        "link_entry.bin": one_file(b"l", kind=2),
        "header_size_too_small.bin": fs_header() + dir_header(1, 8, header_size=12) + entry(1, 12, 0, b"a", 0),
    }
    # root -> "d" -> "up", where "up" is a directory whose content is the root directory header (offset 12).
    root = fs_header() + dir_header(1, 2)
    d_entry_pos = len(root)
    d_pos = d_entry_pos + 14
    root += entry(0, d_pos - d_entry_pos, 0, b"d", 2)
    sub = dir_header(1, 3)
    up_entry_pos = d_pos + 16
    sub += entry(0, 12 - up_entry_pos, 0, b"up", 3)
    out["dir_loop.bin"] = root + sub
    # two names the same
    out["duplicate_names.bin"] = (
        fs_header() + dir_header(2, 2) + entry(1, 28, 1, b"a", 2) + entry(1, 14, 1, b"a", 2) + b"x"
    )
    # 64 directories whose headers all share one 1-entry table with a 200-byte name field: more table bytes
    # than the image holds (overlapping tables), which would otherwise make the work quadratic.
    n = 64
    table_pos = 12 + 16 + n * 14 + n * 16
    img = bytearray(fs_header() + dir_header(n, 2))
    for i in range(n):
        e = 28 + i * 14
        img += entry(0, 28 + n * 14 + i * 16 - e, 0, bytes([0x41 + i % 26, 0x61 + i // 26]), 2)
    for i in range(n):
        pos = 28 + n * 14 + i * 16
        img += dir_header(1, 200, table_off=table_pos - pos)
    img += entry(1, 0, 0, b"f", 200)
    out["overlapping_tables.bin"] = bytes(img)
    # 40 files that each claim the whole image as content: more file bytes than the image holds.
    n = 40
    img = bytearray(fs_header() + dir_header(n, 3))
    size = 12 + 16 + n * 15
    for i in range(n):
        e = 28 + i * 15
        img += entry(1, -e, size, b"f%02d"[:1] + bytes([0x30 + i // 10, 0x30 + i % 10]), 3)
    out["file_bytes_bomb.bin"] = bytes(img)
    # a valid image of the 64-bit-length flavour: refused unless read with --wide.
    wide = b"BRCM" + struct.pack("<IQ", 1, 16) + struct.pack("<qQII", 24, 1, 22, 2)
    wide += struct.pack("<IqQ", 1, 22, 2) + b"a\0" + b"hi"
    out["wide_flavour.bin"] = wide
    return out


if __name__ == "__main__":
    for name, data in images().items():
        (HERE / name).write_bytes(data)
        print(f"{name}: {len(data)} bytes")
