"""A WicedFS reader that reads as the WICED 3.5.2 device does (libraries/filesystems/wicedfs/src/wicedfs.c, read
through platform_filesystem.c read_callback -> wiced_apps_read), written for the tests with `struct` only, independent
of bundler: every read is of the size the SDK asks for, and a read past the component's sectors fails, as
wiced_apps_read does past its last sector.

- wicedfs_opendir sets filename_size = file_header_size, so wicedfs_readdir reads file_header_size bytes per name
  (starting after the 12-byte entry header): the last entry's read ends 12 bytes past the table.
- find_item reads a 16-byte wicedfs_dir_header_t at the item it finds, even a file's content (wicedfs_fopen).
- names are compared over the requested name's length only (cmp_filename: strncmp).
"""

from __future__ import annotations

import struct

FS_HEADER = struct.Struct("<III")  # magic_number, version, root_dir_offset
DIR_HEADER = struct.Struct("<iIII")  # file_table_offset, num_files, file_header_size, filename_size
FILE_HEADER = struct.Struct("<IiI")  # type_flags_permissions, offset, size
MAGIC = 0x4D435242


class ReadFailed(Exception):
    """wiced_apps_read failed: the read passed the component's sectors."""


class SdkWicedFs:
    def __init__(self, component: bytes) -> None:
        """`component`: exactly the bytes the device can read (the component's whole sectors)."""
        self.data = component
        magic, version, root = FS_HEADER.unpack(self.read(0, FS_HEADER.size))
        assert magic == MAGIC and version == 1, "wicedfs_init: bad magic/version"
        self.root = root

    def read(self, pos: int, size: int) -> bytes:
        if pos < 0 or pos + size > len(self.data):
            raise ReadFailed(f"read of {size} bytes at 0x{pos:X} passes the component's {len(self.data)} bytes")
        return self.data[pos:pos + size]

    def _find_item(self, path: str) -> tuple[int, int, int]:
        """(type, content address, size) like find_item; raises ReadFailed, or KeyError when not found."""
        name = path.encode()
        addr, kind, size = self.root, 0, 0
        while True:
            if name[:1] == b"/":
                name = name[1:]
            dir_header = DIR_HEADER.unpack(self.read(addr, DIR_HEADER.size))  # read at every item, files too
            if not name:
                return kind, addr, size
            cut = name.find(b"/")
            cmp_bytes = cut if cut >= 0 else len(name)
            table_offset, num_files, header_size, filename_size = dir_header
            table = addr + table_offset
            for i in range(num_files):
                entry = table + i * header_size
                kind_flags, offset, size = FILE_HEADER.unpack(self.read(entry, FILE_HEADER.size))
                cmp_len = min(cmp_bytes, filename_size)
                # strncmp(stored, name, cmp_len): the requested part holds no NUL, so equal iff the bytes are
                if self.read(entry + FILE_HEADER.size, cmp_len) == name[:cmp_len]:
                    kind = kind_flags & 0xF
                    addr = entry + offset
                    break
            else:
                raise KeyError(path)
            name = name[cmp_bytes:]

    def listdir(self, path: str) -> list[tuple[str, int, int]]:
        """wicedfs_opendir + wicedfs_readdir_with_size until -2: (name, type, size) of each entry."""
        kind, addr, _ = self._find_item(path or "/")
        assert kind == 0, f"{path}: not a directory"
        table_offset, num_files, header_size, _ = DIR_HEADER.unpack(self.read(addr, DIR_HEADER.size))
        filename_size = header_size  # the SDK's slip: handle->filename_size = curr_dir.file_header_size
        out = []
        for i in range(num_files):
            entry = addr + table_offset + i * header_size
            kind_flags, _, size = FILE_HEADER.unpack(self.read(entry, FILE_HEADER.size))
            name = self.read(entry + FILE_HEADER.size, filename_size).split(b"\0", 1)[0].decode()
            out.append((name, kind_flags & 0xF, size))
        return out

    def open_and_read(self, path: str) -> bytes:
        """wicedfs_fopen + wicedfs_fread of the whole file."""
        kind, addr, size = self._find_item(path)
        assert kind == 1, f"{path}: not a file"
        return self.read(addr, size) if size else b""

    def walk(self) -> dict[str, bytes]:
        """Every file reachable by listing from the root, opened and read by its path."""
        files: dict[str, bytes] = {}
        todo = [""]
        while todo:
            folder = todo.pop()
            for name, kind, _ in self.listdir(folder):
                path = f"{folder}/{name}" if folder else name
                if kind == 0:
                    todo.append(path)
                else:
                    files[path] = self.open_and_read(path)
        return files


def sflash_component(sflash: bytes, index: int, sector_size: int = 4096) -> bytes:
    """LUT entry `index` (app_header_t at 34 * index: count, secure, then 8 x (start, count) u16) -> its sectors."""
    count, _secure = struct.unpack_from("<BB", sflash, 34 * index)
    out = b""
    for k in range(count):
        start, n = struct.unpack_from("<HH", sflash, 34 * index + 2 + 4 * k)
        out += sflash[start * sector_size:(start + n) * sector_size]
    return out
