"""ELF32 little-endian header and program header, as the WICED loader reads them
(WICED/platform/include/elf.h: packed structs identical to Elf32_Ehdr / Elf32_Phdr).

Used to write stored ELFs (stripped apps, the DCT image) and to decode stored apps in inspect; full ELF reading of
inputs goes through pyelftools.
"""

from __future__ import annotations

from typing import Any

from construct import Bytes, Const, ConstructError, Int16ul, Int32ul, Int8ul, Struct

ELF_MAGIC = b"\x7fELF"
ELFCLASS32, ELFDATA2LSB, EV_CURRENT = 1, 1, 1
ET_EXEC, EM_ARM = 2, 40
PT_LOAD = 1
PF_X, PF_W, PF_R = 1, 2, 4
EF_ARM_EABI_VER5 = 0x05000000

# Elf32_Ehdr (52 bytes)
Elf32_Ehdr = Struct(
    "e_ident" / Struct(
        "EI_MAG" / Const(ELF_MAGIC),
        "EI_CLASS" / Int8ul,
        "EI_DATA" / Int8ul,
        "EI_VERSION" / Int8ul,
        "EI_OSABI" / Int8ul,
        "EI_ABIVERSION" / Int8ul,
        "EI_PAD" / Bytes(7),
    ),
    "e_type" / Int16ul,
    "e_machine" / Int16ul,
    "e_version" / Int32ul,
    "e_entry" / Int32ul,
    "e_phoff" / Int32ul,
    "e_shoff" / Int32ul,
    "e_flags" / Int32ul,
    "e_ehsize" / Int16ul,
    "e_phentsize" / Int16ul,
    "e_phnum" / Int16ul,
    "e_shentsize" / Int16ul,
    "e_shnum" / Int16ul,
    "e_shstrndx" / Int16ul,
)

# Elf32_Phdr (32 bytes)
Elf32_Phdr = Struct(
    "p_type" / Int32ul,
    "p_offset" / Int32ul,
    "p_vaddr" / Int32ul,
    "p_paddr" / Int32ul,
    "p_filesz" / Int32ul,
    "p_memsz" / Int32ul,
    "p_flags" / Int32ul,
    "p_align" / Int32ul,
)

assert Elf32_Ehdr.sizeof() == 52 and Elf32_Phdr.sizeof() == 32


def elf_header(blob: bytes) -> Any | None:
    """The Elf32_Ehdr at the start of `blob`, or None if it has no ELF magic or is too short for the header."""
    try:
        return Elf32_Ehdr.parse(blob)
    except ConstructError:
        return None


def program_headers(blob: bytes, ehdr: Any) -> list[Any]:
    """The program headers the WICED loader reads (e_phnum of them, e_phentsize apart from e_phoff), up to the first
    one that is not wholly inside `blob`: fewer than e_phnum means the table is cut (or e_phentsize is too small)."""
    size = Elf32_Phdr.sizeof()
    out = []
    for i in range(ehdr.e_phnum):
        at = ehdr.e_phoff + i * ehdr.e_phentsize
        if ehdr.e_phentsize < size or at + size > len(blob):
            break
        out.append(Elf32_Phdr.parse(blob[at:at + size]))
    return out


def loaded_by_wiced(phdr: dict) -> bool:
    """The WICED loader copies a segment iff p_filesz != 0 and (p_type & 1) (wiced_waf_common.c)."""
    return phdr["p_filesz"] != 0 and bool(phdr["p_type"] & 1)


def build_elf(segments: list[tuple[dict, bytes]], entry: int, flags: int = EF_ARM_EABI_VER5) -> bytes:
    """An ARM ELF32 executable holding only a header, program headers and segment data (no sections), the shape the
    WICED loader needs. `segments` are (Elf32_Phdr fields without p_offset, file bytes); data is 4-byte aligned."""
    phoff = Elf32_Ehdr.sizeof()
    offset = phoff + Elf32_Phdr.sizeof() * len(segments)
    phdrs, blobs = [], []
    for phdr, data in segments:
        offset += -offset % 4
        phdrs.append(Elf32_Phdr.build({**phdr, "p_offset": offset if data else 0, "p_filesz": len(data)}))
        blobs.append((offset, data))
        offset += len(data)
    header = Elf32_Ehdr.build(dict(
        e_ident=dict(EI_CLASS=ELFCLASS32, EI_DATA=ELFDATA2LSB, EI_VERSION=EV_CURRENT, EI_OSABI=0,
                     EI_ABIVERSION=0, EI_PAD=bytes(7)),
        e_type=ET_EXEC, e_machine=EM_ARM, e_version=EV_CURRENT, e_entry=entry, e_phoff=phoff, e_shoff=0,
        e_flags=flags, e_ehsize=Elf32_Ehdr.sizeof(), e_phentsize=Elf32_Phdr.sizeof(), e_phnum=len(segments),
        e_shentsize=0, e_shnum=0, e_shstrndx=0,
    ))
    out = bytearray(header + b"".join(phdrs))
    for off, data in blobs:
        out += bytes(off - len(out)) + data
    return bytes(out)
