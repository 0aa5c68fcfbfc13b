"""Production-line kit: a folder that programs and verifies a board with OpenOCD, no SDK needed (issue 9).

The kit holds copies of the MCU and SFLASH images from `bundle build`, the RAM helper `sflash_helper.elf` with the
board's serial-flash wiring patched into its config block, the OpenOCD Tcl scripts and program.sh / program.bat.
The MCU image goes through OpenOCD's stm32f2x flash driver; the SFLASH image through the helper's mailbox (the
WICED sflash_write protocol, wiced-formats.md section 5); then the helper reads back a CRC-32 of every artefact.

Board wiring comes from the board layout's `[sflash.spi]` table (keys in SPI_KEYS), the chip from the manifest.

A `bundle serialize` output (manifest with `serialization`, units.csv beside it) gives a kit that programs one unit
per run, chosen by its serial on the line: units.csv is checked against the manifest and the images, copied into
the kit and turned into a Tcl table; the MCU image is written with its per-unit ranges 0xFF and the unit's bytes
programmed over them, the SFLASH chunks get them in the helper's buffer, and both chips are verified against the
unit's CRC-32s from units.csv.
"""

from __future__ import annotations

import csv
import io
import re
import shlex
import zlib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Callable, Mapping

from .errors import ConfigError, InputError, OutputError, VerificationError, hexsize
from .inputs import MAX_KEY_BYTES, MAX_TEXT_BYTES, read_file
from .linetime import Estimate, count_board, estimate, helper_load_bytes
from .formats.sflash_helper import (
    SFLASH_HELPER_CONFIG_ADDRESS,
    SFLASH_HELPER_CONFIG_MAGIC,
    SFLASH_HELPER_CONFIG_VERSION,
    config_words,
    sflash_helper_config_t,
)
from .manifest import product_label
from .serialize import MAC_FIELD, SERIAL_FIELD, UNITS_CSV, PatchRange, format_mac, parse_mac
from .signing import SIGNATURE_SUFFIX

# interface config (Debian openocd's scripts/) per --adapter; the target is always target/stm32f2x.cfg
ADAPTERS: dict[str, str] = {
    "stlink": "interface/stlink.cfg",                                # ST-Link V2 / V2-1 / V3, SWD
    "olimex-arm-usb-ocd-h": "interface/ftdi/olimex-arm-usb-ocd-h.cfg",  # Olimex ARM-USB-OCD-H, 20-pin JTAG
    "ftdi": "interface/ftdi/olimex-arm-usb-tiny-h.cfg",               # FT2232H JTAG (Olimex ARM-USB-TINY-H)
    "jlink": "interface/jlink.cfg",                                  # SEGGER J-Link, JTAG
}
TARGET_CFG = "target/stm32f2x.cfg"
SERVERS = ("gdb", "telnet", "tcl")  # OpenOCD's servers; each `<name>_port disabled` in kit_config.tcl

HELPER_NAME = "sflash_helper.elf"
BLANK_SUFFIX = ".unit-blank.bin"  # a serialized kit's MCU image with its per-unit ranges erased (0xFF)
HELPER_CONFIG_SECTION = ".helper_config"
HELPER_BUFFER_SIZE = 16384        # data_buffer_size of the SDK helper and ours (STM32F2xx)
HELPER_MAX_SECTOR = 4096
FLAG_UNPROTECT = 0x1


# [sflash.spi] keys: (required, kind). Pins are "P<port letter><pin>", e.g. "PA5".
SPI_KEYS: dict[str, tuple[bool, type]] = {
    "spi_base": (True, int),             # SPI peripheral base address (SPI1 0x40013000)
    "rcc_enable_register": (True, int),  # RCC register with the SPI clock enable (SPI1: RCC_APB2ENR 0x40023844)
    "rcc_enable_bit": (True, int),       # bit in it (SPI1EN = 12)
    "gpio_port_base": (True, int),       # GPIOA base; port n is at gpio_port_base + n * gpio_port_stride
    "gpio_port_stride": (True, int),
    "gpio_af": (True, int),              # alternate function of SCK/MISO/MOSI (AF5 = SPI1/SPI2)
    "sck": (True, str),
    "miso": (True, str),
    "mosi": (True, str),
    "cs": (True, str),                   # chip select, driven as a GPIO output (active low)
    "prescaler": (True, int),            # SPI_CR1.BR 0..7: SCK = PCLK / 2^(BR+1)
    "mode": (True, int),                 # SPI mode 0..3 (CPOL << 1 | CPHA)
    "sector_erase_opcode": (False, int),  # default 0x20 (4 KiB sector erase)
    "page_size": (False, int),           # default 256 (1 = byte program)
    "unprotect": (False, bool),          # default false: clear block-protect bits before writing
}

_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")  # plain text in sh, cmd, Tcl and file names
_PIN = re.compile(r"^P([A-I])([0-9]|1[0-5])$")

# Manifest values the kit writes into program.sh, program.bat and kit_config.tcl: checked where they enter, against
# sets that are plain text for sh, cmd and Tcl alike (and then still quoted for each: shlex, tcl_word).
_KIT_TEXT: dict[str, tuple[re.Pattern[str], str]] = {
    "name": (re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._+,-]{0,63}$"),
             "1..64 letters, digits, spaces and . _ + , - (starting with a letter or digit)"),
    "chip.name": (_SAFE_NAME, "1..64 letters, digits and . _ - (starting with a letter or digit)"),
}


def safe_value(value: str, field: str, path: Path) -> str:
    """`value` of manifest `field` if it is in the field's safe set (_KIT_TEXT); else one line naming the set."""
    pattern, allowed = _KIT_TEXT[field]
    if not pattern.match(value):
        raise InputError(f"{field}: {value[:80]!r}{'...' if len(value) > 80 else ''}: the line kit takes {allowed} "
                         "(its scripts must not run it as code)", path)
    return value


def tcl_word(text: str) -> str:
    """`text` (printable ASCII) as one Tcl word that is only data: every character but letters and digits is
    backslash-escaped (in Tcl and OpenOCD's Jim a backslash before any other character stands for that character)."""
    if any(not " " <= c <= "~" for c in text):
        raise ValueError(f"tcl_word: {text!r} is not printable ASCII")
    return "".join(c if c.isalnum() else "\\" + c for c in text) or "{}"


@dataclass(frozen=True)
class KitArtefact:
    file: str
    kind: str        # "mcu" | "sflash"
    base: int
    size: int
    crc32: int
    source: Path
    data: bytes = field(repr=False)  # the bytes whose size and CRC-32 were checked: the kit ships exactly these


def spi_settings(spi: Mapping[str, Any], where: str | Path = "[sflash.spi]") -> dict[str, Any]:
    """Validate a board's raw `[sflash.spi]` table; return it with defaults filled in."""
    out: dict[str, Any] = {"sector_erase_opcode": 0x20, "page_size": 256, "unprotect": False}
    if not spi:
        raise ConfigError("board layout has no [sflash.spi] table (serial-flash wiring for the line kit)", where)
    for key in spi:
        if key not in SPI_KEYS:
            raise ConfigError(f"[sflash.spi] unknown key {key!r} (known: {', '.join(SPI_KEYS)})", where)
    for key, (required, kind) in SPI_KEYS.items():
        if key not in spi:
            if required:
                raise ConfigError(f"[sflash.spi] {key}: missing", where)
            continue
        value = spi[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise ConfigError(f"[sflash.spi] {key}: expected {kind.__name__}, got {value!r}", where)
        out[key] = value
    for key in ("sck", "miso", "mosi", "cs"):
        if not _PIN.match(out[key]):
            raise ConfigError(f"[sflash.spi] {key}: expected a pin like \"PA5\", got {out[key]!r}", where)
    limits = {"prescaler": 7, "mode": 3, "gpio_af": 15, "rcc_enable_bit": 31, "sector_erase_opcode": 0xFF}
    for key, top in limits.items():
        if not 0 <= out[key] <= top:
            raise ConfigError(f"[sflash.spi] {key}: must be 0..{top}, got {out[key]}", where)
    if out["page_size"] not in (1, 2, 4, 8, 16, 32, 64, 128, 256):
        raise ConfigError(f"[sflash.spi] page_size: expected a power of two <= 256, got {out['page_size']}", where)
    return out


def _pin(spi: Mapping[str, Any], key: str) -> tuple[int, int]:
    m = _PIN.match(spi[key])
    assert m is not None
    port = spi["gpio_port_base"] + (ord(m.group(1)) - ord("A")) * spi["gpio_port_stride"]
    return port, int(m.group(2))


def helper_config(spi: Mapping[str, Any], jedec_id: int, chip_size: int, sector_size: int) -> bytes:
    """The helper's config block for this board and chip (sflash_helper_config_t)."""
    if sector_size <= 0 or sector_size > HELPER_MAX_SECTOR or sector_size & (sector_size - 1):
        raise ConfigError(f"chip sector size {hexsize(sector_size)}: the helper needs a power of two <= 4096")
    pins = {k: _pin(spi, k) for k in ("sck", "miso", "mosi", "cs")}
    return sflash_helper_config_t.build({
        "magic": SFLASH_HELPER_CONFIG_MAGIC, "version": SFLASH_HELPER_CONFIG_VERSION,
        "spi_base": spi["spi_base"], "spi_rcc_enr": spi["rcc_enable_register"], "spi_rcc_bit": spi["rcc_enable_bit"],
        "gpio_af": spi["gpio_af"],
        "sck_port": pins["sck"][0], "sck_pin": pins["sck"][1], "miso_port": pins["miso"][0],
        "miso_pin": pins["miso"][1], "mosi_port": pins["mosi"][0], "mosi_pin": pins["mosi"][1],
        "cs_port": pins["cs"][0], "cs_pin": pins["cs"][1],
        "spi_br": spi["prescaler"], "spi_mode": spi["mode"], "expected_jedec_id": jedec_id, "chip_size": chip_size,
        "sector_size": sector_size, "sector_erase_opcode": spi["sector_erase_opcode"], "page_size": spi["page_size"],
        "flags": FLAG_UNPROTECT if spi["unprotect"] else 0, "jedec_id_read": 0, "reserved": 0,
    })


def _config_section(elf_bytes: bytes, path: Path) -> tuple[int, int] | None:
    """(file offset, size) of the helper's config section, or None for a helper without one (the SDK's)."""
    import io

    from elftools.common.exceptions import ELFError
    from elftools.elf.elffile import ELFFile

    try:
        elf = ELFFile(io.BytesIO(elf_bytes))
        section = elf.get_section_by_name(HELPER_CONFIG_SECTION)
        if elf["e_machine"] != "EM_ARM":
            raise InputError(f"not an ARM ELF ({elf['e_machine']})", path)
        if elf.get_section_by_name(".data_config") is None and elf.get_segment(0)["p_paddr"] != 0x20000000:
            raise InputError("no .data_config at 0x20000000: not an sflash_write helper", path)
    except ELFError as exc:
        raise InputError(f"not an ELF file: {exc}", path) from None
    if section is None or section.header["sh_type"] != "SHT_PROGBITS":
        return None
    offset, size = section["sh_offset"], section["sh_size"]
    if size < sflash_helper_config_t.sizeof() or section["sh_addr"] != SFLASH_HELPER_CONFIG_ADDRESS:
        raise InputError(f"{HELPER_CONFIG_SECTION}: expected {hexsize(sflash_helper_config_t.sizeof())} at "
                         f"0x{SFLASH_HELPER_CONFIG_ADDRESS:08X}", path)
    current = sflash_helper_config_t.parse(section.data())
    return (offset, size) if current.magic == SFLASH_HELPER_CONFIG_MAGIC else None


def patch_helper(elf_bytes: bytes, config: bytes, path: Path) -> tuple[bytes, bool]:
    """Write `config` into the helper's config section. Returns (ELF, True) for our helper, (unchanged, False)
    for a helper without the section (an SDK sflash_write build: the Tcl script then skips our extensions)."""
    where = _config_section(elf_bytes, path)
    if where is None:
        return elf_bytes, False
    offset, _ = where
    out = bytearray(elf_bytes)
    out[offset:offset + len(config)] = config
    return bytes(out), True


def chunks(data: bytes, chunk: int = HELPER_BUFFER_SIZE, fill: int = 0xFF) -> list[tuple[int, int, bool]]:
    """(offset, length, all_fill) per mailbox chunk: the Tcl script skips all-0xFF chunks after a chip erase."""
    erased = bytes([fill]) * chunk
    return [(off, len(data[off:off + chunk]), data[off:off + chunk] == erased[:len(data[off:off + chunk])])
            for off in range(0, len(data), chunk)]


def verified_bytes(path: Path, size: int, digest: str, field: str, manifest_path: Path) -> bytes:
    """`path`'s bytes, read once, if their size and SHA-256 are what the manifest's `field` (an entry) states. CRC-32 proves
    nothing here (4 chosen bytes give any CRC-32): it stays the on-target transfer check only."""
    data, source = read_file(path)
    if len(data) != size:
        raise VerificationError(f"{hexsize(len(data))}, {manifest_path.name} {field}.size says {hexsize(size)}: not the "
                                "file that was built", path)
    if source.sha256 != digest:
        raise VerificationError(f"SHA-256 {source.sha256}, {manifest_path.name} {field}.sha256 says {digest}: not the file "
                                "that was built", path)
    return data


def _artefacts(doc: Mapping[str, Any], manifest_path: Path) -> list[KitArtefact]:
    folder = manifest_path.parent
    raw = doc["artefacts"]
    picked: list[KitArtefact] = []
    for kind in ("mcu", "sflash"):
        entries = [a for a in raw if a["kind"] == kind and a["format"] == "bin"]
        if len(entries) != 1:
            raise InputError(f"artefacts: expected one {kind} artefact in bin format, found {len(entries)}", manifest_path)
        a = entries[0]
        where = f"artefacts[{raw.index(a)}]"
        name = a["file"]
        if not _SAFE_NAME.match(name):
            raise InputError(f"{where}.file: {name!r} must be a plain file name (1..64 letters, digits, . _ -)", manifest_path)
        source = folder / name
        data = verified_bytes(source, a["size"], a["sha256"], where, manifest_path)
        size, crc, base = a["size"], int(a["crc32"], 16), a["base_address"]
        if zlib.crc32(data) != crc:  # the bytes are right (SHA-256): the board would be checked against a wrong CRC
            raise InputError(f"{where}.crc32: 0x{crc:08x}, but {name} has CRC-32 0x{zlib.crc32(data):08x}",
                             manifest_path)
        picked.append(KitArtefact(name, kind, base, size, crc, source, data))
    return picked


# ---------------------------------------------------------------------------------------------------------------
# Serialized runs (`bundle serialize`): the manifest's `serialization` ranges and units.csv beside it
# ---------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class KitRange:
    """One manifest `serialization` entry: bytes of `file` that differ per unit."""

    name: str
    file: str
    address: int
    offset: int
    size: int

    @property
    def column(self) -> str:
        """Its units.csv column, named as `bundle serialize` names it (the contract lives in PatchRange)."""
        return PatchRange(self.name, self.file, self.address, self.offset, self.size, 0).column


@dataclass(frozen=True)
class KitUnit:
    index: int
    serial: str
    mac: str
    crc32: tuple[int, ...]     # per kit artefact, in artefact order
    values: tuple[bytes, ...]  # per KitRange, in range order
    line: int                  # in units.csv, for error messages


_CRC_TEXT = re.compile(r"^0x[0-9a-fA-F]{8}$")


def _serial_ranges(doc: Mapping[str, Any], path: Path, arts: list[KitArtefact]) -> list[KitRange]:
    """The manifest's `serialization` list checked against the kit's images; [] for a build that is not serialized."""
    raw = doc.get("serialization")
    if raw is None:
        return []
    if not raw:
        raise InputError("serialization: expected a non-empty list of ranges", path)
    by_file = {a.file: a for a in arts}
    out: list[KitRange] = []
    for i, entry in enumerate(raw):
        where = f"serialization[{i}]"
        name, file, address, offset, size = (entry[k] for k in ("name", "file", "address", "offset", "size"))
        if not _SAFE_NAME.match(name):
            raise InputError(f"{where}.name: {name!r}: expected letters, digits, . _ -", path)
        art = by_file.get(file)
        if art is None:
            raise InputError(f"{where}.file: {file!r} is not one of the kit's images ({', '.join(by_file)})", path)
        if size < 1 or offset < 0 or offset + size > art.size:
            raise InputError(f"{where}: {hexsize(size)} at offset 0x{offset:X} is outside {file} "
                             f"({hexsize(art.size)})", path)
        if address != art.base + offset:
            raise InputError(f"{where}.address: 0x{address:08X}, but offset 0x{offset:X} of {file} (at "
                             f"0x{art.base:08X}) is 0x{art.base + offset:08X}", path)
        out.append(KitRange(name, file, address, offset, size))
    ordered = sorted(out, key=lambda r: (r.file, r.offset))
    for a, b in zip(ordered, ordered[1:]):
        if a.file == b.file and b.offset < a.offset + a.size:
            raise InputError(f"serialization: {a.name} and {b.name} overlap in {a.file} at 0x{b.address:08X}", path)
    return out


def units_csv_bytes(doc: Mapping[str, Any], manifest_path: Path) -> bytes:
    """units.csv beside the manifest, read once and checked against the manifest's `units_csv` (size, SHA-256):
    `bundle serialize` records it there before signing, so a rewritten CSV (MACs, range bytes, CRCs changed
    consistently) is refused."""
    csv_path = manifest_path.parent / UNITS_CSV
    entry = doc.get("units_csv")
    if entry is None:
        raise InputError("serialization without units_csv (size and SHA-256 of units.csv): made by an older "
                         "`bundle serialize`; serialize the run again", manifest_path)
    if not csv_path.is_file():
        raise InputError("file not found: a manifest with serialization needs the units.csv that `bundle serialize` "
                         "wrote beside it", csv_path)
    return verified_bytes(csv_path, entry["size"], entry["sha256"], "units_csv", manifest_path)


def _unit_table(csv_path: Path, raw: bytes, ranges: list[KitRange], arts: list[KitArtefact],
                images: Mapping[str, bytes]) -> list[KitUnit]:
    """units.csv rows (`raw`, already checked against the manifest) checked against the manifest's ranges and the
    images: every column the kit needs, each range's hex the range's size, serial and MAC unique and equal to the
    bytes the unit gets, each per-unit CRC-32 that of the image with the unit's bytes (the line verifies against
    it)."""
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        raise InputError("not ASCII text (expected the units.csv of `bundle serialize`)", csv_path) from None
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader, [])
        rows = [(reader.line_num, row) for row in reader if row]
    except csv.Error as exc:
        raise InputError(f"line {reader.line_num}: not CSV: {exc}", csv_path) from None
    crc_columns = [f"{a.file.split('.')[0]}_crc32" for a in arts]  # as serialize._csv_text names them
    col: dict[str, int] = {}
    for name in ["index", "serial", "mac", *crc_columns, *(r.column for r in ranges)]:
        if header.count(name) != 1:
            what = "missing" if name not in header else "more than once"
            raise InputError(f"column {name!r} {what} (the manifest's serialization and artefacts need it)", csv_path)
        col[name] = header.index(name)
    if not rows:
        raise InputError("no unit rows", csv_path)

    units: list[KitUnit] = []
    seen: dict[str, dict[str, int]] = {"serial": {}, "mac": {}}
    for line, row in rows:
        def bad(column: str, what: str) -> InputError:
            return InputError(f"line {line}, column {column!r}: {what}", csv_path)

        if len(row) != len(header):
            raise InputError(f"line {line}: {len(row)} fields, the header has {len(header)}", csv_path)
        cell = {name: row[i] for name, i in col.items()}
        try:
            index = int(cell["index"])
        except ValueError:
            raise bad("index", f"{cell['index']!r} is not a number") from None
        serial = cell["serial"]
        if not _SAFE_NAME.match(serial):
            # typed on the line into program.sh / program.bat and part of the log's file name
            raise bad("serial", f"{serial!r}: the line kit takes serials of letters, digits, . _ - only")
        try:
            mac = format_mac(parse_mac(cell["mac"], "mac"))
        except ConfigError as exc:
            raise bad("mac", str(exc)) from None
        for column, value in (("serial", serial), ("mac", mac)):
            if value in seen[column]:
                raise bad(column, f"{value} already on line {seen[column][value]}")
            seen[column][value] = line
        crcs = []
        for column in crc_columns:
            if not _CRC_TEXT.match(cell[column]):
                raise bad(column, f"{cell[column]!r}: expected 0x and 8 hex digits")
            crcs.append(int(cell[column], 16))
        values = []
        for r in ranges:
            text_value = cell[r.column]
            try:
                value = bytes.fromhex(text_value) if len(text_value) == 2 * r.size else None
            except ValueError:
                value = None
            if value is None:
                raise bad(r.column, f"expected {2 * r.size} hex digits ({hexsize(r.size)}, manifest serialization), "
                                    f"got {text_value!r}")
            # the log names the unit by these columns: the bytes programmed must say the same
            if r.name == SERIAL_FIELD and value != serial.encode().ljust(r.size, b"\0"):
                raise bad(r.column, f"does not hold serial {serial} (column serial)")
            if r.name == MAC_FIELD and value != bytes.fromhex(mac.replace(":", "")):
                raise bad(r.column, f"does not hold MAC {mac} (column mac)")
            values.append(value)
        units.append(KitUnit(index, serial, mac, tuple(crcs), tuple(values), line))

    # each unit's CRC-32 is what the line compares the board with: a units.csv of another build fails here, not there
    work = {a.file: bytearray(images[a.file]) for a in arts}
    for unit in units:
        for r, value in zip(ranges, unit.values):
            work[r.file][r.offset:r.offset + r.size] = value
        for a, column, expect in zip(arts, crc_columns, unit.crc32):
            actual = zlib.crc32(work[a.file]) & 0xFFFFFFFF
            if actual != expect:
                raise VerificationError(f"line {unit.line}, column {column!r}: 0x{expect:08x}, but {a.file} with "
                                        f"this unit's bytes has CRC-32 0x{actual:08x}: units.csv is not from this "
                                        "build", csv_path)
    return units


def blank_ranges(data: bytes, ranges: list[KitRange], file: str) -> bytes:
    """`data` with `file`'s per-unit ranges erased (0xFF): internal flash can then take each unit's bytes with a
    plain program after the image is written (no second sector erase)."""
    out = bytearray(data)
    for r in ranges:
        if r.file == file:
            out[r.offset:r.offset + r.size] = b"\xff" * r.size
    return bytes(out)


def _takes_unit_bytes(ranges: list[KitRange], file: str, offset: int, size: int) -> bool:
    """True when [offset, offset + size) of `file` holds a per-unit range: such a chunk is always sent, even where
    the base image is all 0xFF."""
    return any(r.file == file and r.offset < offset + size and offset < r.offset + r.size for r in ranges)


def _serial_tcl(ranges: list[KitRange], units: list[KitUnit], unit_files: Mapping[str, str]) -> list[str]:
    lines = [
        "# serialized run (`bundle serialize`): one unit per run, chosen by its serial (kit_main SERIAL)",
        "# artefact -> the file written for it (its per-unit ranges erased; each unit's bytes are added after it)",
        "set kit_unit_files {" + " ".join(f"{a} {f}" for a, f in unit_files.items()) + "}",
        "# {file address offset size name} per manifest serialization entry",
        "set kit_ranges {",
        *(f"    {{{r.file} 0x{r.address:08x} {r.offset} {r.size} {r.name}}}" for r in ranges),
        "}",
        "# {index serial mac {crc32 per artefact} {bytes per range, hex}} per units.csv row",
        "set kit_units {",
    ]
    for u in units:
        crcs = " ".join(f"0x{c:08x}" for c in u.crc32)
        lines.append(f"    {{{u.index} {u.serial} {u.mac} {{{crcs}}} {{{' '.join(v.hex() for v in u.values)}}}}}")
    lines.append("}")
    return lines


def _tcl_config(kit_label: str, arts: list[KitArtefact], chunk_lists: dict[str, list[tuple[int, int, bool]]],
                config_words: list[int], chip_name: str, jedec_id: int, erase_chip: bool,
                serial: list[str]) -> str:
    lines = [
        "# kit_config.tcl -- generated by `bundle openocd`; read by sflash_kit.tcl. Do not edit: regenerate.",
        f"set kit_name {tcl_word(kit_label)}",  # name and version: on every log's 'kit:' line
        f"set kit_helper_elf {HELPER_NAME}",
        "# no gdb/telnet/tcl server: several OpenOCD instances on one line PC (one per adapter) never collide",
        *(f"if {{[llength [info commands {server}_port]]}} {{ {server}_port disabled }}  ;# plain tclsh: no servers"
          for server in SERVERS),
        "# sflash_helper_config_t words for 0x20004020 (also patched into the kit's helper ELF)",
        "set kit_helper_config {" + " ".join(f"0x{w:08x}" for w in config_words) + "}",
        f"set kit_chip_name {tcl_word(chip_name)}",
        f"set kit_jedec_id 0x{jedec_id:06x}",
        f"set kit_erase_chip {1 if erase_chip else 0}",
        "set kit_timeout_ms 30000",
        "set kit_timeout_erase_ms 180000",
        "# {file kind base size crc32 {{offset length all_0xFF} ...}}",
        "set kit_artefacts {",
    ]
    for a in arts:
        chunk_text = " ".join(f"{{{o} {n} {int(e)}}}" for o, n, e in chunk_lists.get(a.file, []))
        lines.append(f"    {{{a.file} {a.kind} 0x{a.base:08x} {a.size} 0x{a.crc32:08x} {{{chunk_text}}}}}")
    lines.append("}")
    lines.extend(serial)
    lines.append("return  ;# OpenOCD echoes a sourced file's last result")
    return "\n".join(lines) + "\n"


def _template(name: str) -> str:
    return resources.files("bundler").joinpath(f"kit/{name}").read_text(encoding="utf-8")


def make_kit(manifest_path: Path, adapter: str, out: Path, helper: Path | None = None, *,
             spi: Mapping[str, Any] | None = None, erase_chip: bool = True, pubkey: Path | None = None,
             sign_key: Path | None = None, on_estimate: Callable[[Estimate], None] | None = None) -> list[Path]:
    """Write a production-line kit for `manifest_path`'s images into `out`; return the files written.

    Every file taken from the bundle (images, units.csv) must have the size and SHA-256 the manifest states; the
    built-in helper the SHA-256 pinned beside it. `spi` overrides the board layout's [sflash.spi] table (tests,
    boards without a layout entry). With `pubkey`, a manifest whose signature (manifest.json.sig) does not verify
    is refused before anything else; with `sign_key`, the kit's file list kit.sha256 is signed (kit.sha256.sig).

    The kit README ends with the board's time estimate (bundler/linetime.py); `on_estimate` is given it too."""
    from .manifest import load_with_layouts
    from .publish import publish

    manifest_path = Path(manifest_path)
    if adapter not in ADAPTERS:
        raise InputError(f"--adapter {adapter!r}: expected one of {', '.join(ADAPTERS)}")
    out = _kit_out_dir(Path(out))
    if pubkey is not None:
        from .signing import verify

        verify(manifest_path, pubkey)
    # checked against the manifest schema (the fields below are typed); the board it was built with
    doc, _, board, _, _ = load_with_layouts(manifest_path)
    safe_value(doc["name"], "name", manifest_path)
    kit_label = product_label(doc)  # the name (checked just now) and version/revision (manifest schema: safe text)
    chip = doc["chip"]
    chip_name = safe_value(chip["name"], "chip.name", manifest_path)
    jedec_id, chip_size, sector_size = int(chip["jedec_id"], 16), chip["size"], chip["sector_size"]

    where: str | Path = "[sflash.spi]"
    if spi is None:
        spi, where = board.spi, board.path
    settings = spi_settings(spi, where)
    config = helper_config(settings, jedec_id, chip_size, sector_size)

    if helper is None:
        helper_path = Path(str(resources.files("bundler").joinpath(f"kit/{HELPER_NAME}")))
        helper_bytes = _builtin_helper(helper_path)
    else:
        helper_path = Path(helper)
        helper_bytes, _ = read_file(helper_path)
    helper_bytes, _ours = patch_helper(helper_bytes, config, helper_path)

    arts = _artefacts(doc, manifest_path)
    for a in arts:
        if a.kind == "sflash" and a.base + a.size > chip_size:
            raise InputError(f"{a.file}: {hexsize(a.size)} at 0x{a.base:x} does not fit the {chip_name} "
                             f"({hexsize(chip_size)})", manifest_path)
    images = {a.file: a.data for a in arts}
    ranges = _serial_ranges(doc, manifest_path, arts)
    units_csv = manifest_path.parent / UNITS_CSV
    csv_raw = units_csv_bytes(doc, manifest_path) if ranges else b""
    units = _unit_table(units_csv, csv_raw, ranges, arts, images) if ranges else []
    files: dict[str, bytes] = {}
    chunk_lists: dict[str, list[tuple[int, int, bool]]] = {}
    unit_files: dict[str, str] = {}
    for a in arts:
        data = images[a.file]
        if a.kind == "mcu" and any(r.file == a.file for r in ranges):
            # internal flash is programmed page-wise after an erase: write the ranges 0xFF, then the unit's bytes
            unit_files[a.file] = a.file.rsplit(".", 1)[0] + BLANK_SUFFIX
            files[unit_files[a.file]] = blank_ranges(data, ranges, a.file)
        else:
            files[a.file] = data
        if a.kind == "sflash":
            chunk_lists[a.file] = [(o, n, e and not _takes_unit_bytes(ranges, a.file, o, n)) for o, n, e in chunks(data)]
    words = list(config_words.parse(config))
    files[HELPER_NAME] = helper_bytes
    serial_tcl = _serial_tcl(ranges, units, unit_files) if ranges else []
    files["kit_config.tcl"] = _tcl_config(kit_label, arts, chunk_lists, words, chip_name, jedec_id, erase_chip,
                                          serial_tcl).encode()
    files["sflash_kit.tcl"] = _template("sflash_kit.tcl").encode()
    if ranges:
        files[UNITS_CSV] = csv_raw  # the bytes checked above: the run's record, and the table program.sh /
        # program.bat look the typed serial up in
    # values reach the scripts as data: quoted for sh; for cmd only names of the safe set (checked above)
    subst = {"@INTERFACE@": ADAPTERS[adapter], "@TARGET@": TARGET_CFG, "@SERIALIZED@": "1" if ranges else "0",
             "@ADAPTER@": adapter}
    for name in ("program.sh", "program.bat"):
        text = _template(name)
        text = text.replace("@NAME@", shlex.quote(kit_label) if name.endswith(".sh") else kit_label)
        for key, value in subst.items():
            text = text.replace(key, value)
        files[name] = text.encode() if name.endswith(".sh") else text.replace("\r\n", "\n").replace("\n", "\r\n").encode()
    counts = count_board([(a.kind, a.base, files.get(unit_files.get(a.file, a.file), a.data)) for a in arts],
                         {i: chunk_lists[a.file] for i, a in enumerate(arts) if a.kind == "sflash"},
                         sectors=board.mcu.sectors, flash_base=board.mcu.flash_base,
                         helper_bytes=helper_load_bytes(helper_bytes), page_size=settings["page_size"],
                         erase_chip=erase_chip, sdk_helper=not _ours)
    board_time = estimate(counts, adapter, chip_name, settings["prescaler"])
    files["README.md"] = (_template("README.md").rstrip("\n") + "\n\n## Time per board (this kit)\n\n"
                          + "\n".join(board_time.table()) + "\n").encode()
    files["manifest.json"], _ = read_file(manifest_path, max_size=MAX_TEXT_BYTES)
    signature = manifest_path.with_name(manifest_path.name + SIGNATURE_SUFFIX)
    if signature.is_file():  # the line keeps the proof of origin with the images it programs
        files[signature.name], _ = read_file(signature, max_size=MAX_KEY_BYTES)
    files[KIT_SUMS] = kit_sums(files)
    if sign_key is not None:
        from .signing import sign

        files[KIT_SUMS + SIGNATURE_SUFFIX] = sign(files[KIT_SUMS], sign_key)

    protected = [manifest_path] + [a.source for a in arts] + ([units_csv] if ranges else []) + \
        ([helper_path] if helper is not None else []) + ([sign_key] if sign_key is not None else [])
    # the line's logs of an earlier kit in the same folder go into the new kit as they are
    written = publish(out, files, protected, "bundle openocd", modes={"program.sh": 0o755}, carry=KIT_LOGS)
    if on_estimate is not None:
        on_estimate(board_time)
    return written


def _kit_out_dir(out: Path) -> Path:
    """The kit folder, refused (before anything is read or written) when it is the current folder or holds it:
    replacing it would leave the shell in a deleted folder."""
    resolved, here = out.resolve(), Path.cwd().resolve()
    if resolved == here or resolved in here.parents:
        raise OutputError("the kit folder is (or holds) the current folder; give another --out (e.g. ../line-kit) "
                          "or run from outside it", out)
    return resolved


def _builtin_helper(path: Path) -> bytes:
    """The packaged helper, refused unless it is the build `firmware/sflash_helper/build.sh` pinned (its SHA-256
    in sflash_helper.elf.sha256, written by that script)."""
    data, source = read_file(path)
    pin_path = path.with_name(path.name + ".sha256")
    pin, _ = read_file(pin_path, max_size=MAX_KEY_BYTES)
    expected = pin.decode("ascii", "replace").split(" ", 1)[0].strip()
    if source.sha256 != expected:
        raise VerificationError(f"SHA-256 {source.sha256}, {pin_path.name} says {expected}: the installed helper "
                                "was changed; reinstall bundle", path)
    return data


# ---------------------------------------------------------------------------------------------------------------
# kit.sha256: the kit's own file list, checked by program.sh / program.bat before OpenOCD starts
# ---------------------------------------------------------------------------------------------------------------
KIT_SUMS = "kit.sha256"
RECORD = ".bundle-owned.json"  # bundler.publish.RECORD (not imported: the kit check runs without the build modules)
KIT_LOGS = "logs"
_SUM_LINE = re.compile(r"^([0-9a-f]{64})  ([A-Za-z0-9._-]+)$")


def kit_sums(files: Mapping[str, bytes]) -> bytes:
    """`sha256sum` lines ("<hex>  <name>", LF, sorted) of every kit file: what `sha256sum -c` checks."""
    import hashlib

    return "".join(f"{hashlib.sha256(files[name]).hexdigest()}  {name}\n" for name in sorted(files)).encode("ascii")


def verify_kit(folder: Path, pubkey: Path | None = None) -> list[str]:
    """Check a kit folder offline: with `pubkey`, kit.sha256.sig must be a valid signature of kit.sha256 (made by
    `bundle openocd --sign`); every file listed must be a regular file with its SHA-256, and every file of the kit
    (except logs/) must be listed. Returns one line per file; raises VerificationError (exit 1) otherwise."""
    import hashlib

    folder = Path(folder)
    sums_path = folder / KIT_SUMS
    lines: list[str] = []
    if pubkey is not None:
        from .signing import verify

        verify(sums_path, pubkey, "the kit's file list")
        lines.append(f"{KIT_SUMS}: signature OK ({Path(pubkey).name})")
    raw, _ = read_file(sums_path, max_size=MAX_TEXT_BYTES)
    listed: dict[str, str] = {}
    for n, line in enumerate(raw.decode("ascii", "replace").splitlines(), 1):
        m = _SUM_LINE.match(line)
        if m is None or m.group(2) in (KIT_SUMS, KIT_SUMS + SIGNATURE_SUFFIX, KIT_LOGS):
            raise VerificationError(f"line {n}: expected \"<64 hex digits>  <kit file name>\"", sums_path)
        listed[m.group(2)] = m.group(1)
    for entry in sorted(folder.iterdir()):
        if entry.name in (KIT_SUMS, KIT_SUMS + SIGNATURE_SUFFIX, KIT_LOGS, RECORD):  # RECORD: publish's own file
            continue
        if entry.name not in listed:
            raise VerificationError(f"not listed in {KIT_SUMS}: not a file of this kit", entry)
    for name, digest in listed.items():
        path = folder / name
        if path.is_symlink() or not path.is_file():
            raise VerificationError(f"listed in {KIT_SUMS} but missing or not a regular file", path)
        actual = hashlib.sha256(read_file(path)[0]).hexdigest()
        if actual != digest:
            raise VerificationError(f"SHA-256 {actual}, {KIT_SUMS} says {digest}: kit file was modified", path)
        lines.append(f"{name}: SHA-256 OK")
    return lines


def uses_sdk_helper(helper: Path) -> bool:
    """True when `helper` has no bundle config block (an SDK sflash_write build)."""
    data = Path(helper).read_bytes()
    return _config_section(data, Path(helper)) is None


__all__ = ["ADAPTERS", "SPI_KEYS", "make_kit", "verify_kit", "kit_sums", "safe_value", "tcl_word", "spi_settings", "helper_config", "patch_helper", "chunks",
           "uses_sdk_helper", "blank_ranges"]
