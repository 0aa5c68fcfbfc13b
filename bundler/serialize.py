"""`bundle serialize`: a unique serial number and MAC address per unit of a production run.

The base bundle is built once (`make_bundle`). A unit differs from it only in the DCT's `mfg_info.serial_number`
(char[20]) and `wifi_config.mac_address` (wiced_mac_t) - and, with `[dct] crc = "computed"`, the header's `crc32` -
in BOTH places the DCT is stored: DCT copy 1 in the MCU image and the DCT image component in SFLASH (LUT entry
DCT_DCT_IMAGE_INDEX -> its ELF's one loadable segment). Both places are found in the built images and listed in the
manifest's `serialization` key ({name, file, address, offset, size} per range).

Outputs (published all at once into --out): the base artefacts, manifest.json with `serialization`, units.csv (one
row per unit: serial, MAC, per-unit files, whole-image CRC-32 / sum32, checksums with the per-unit ranges excluded,
and the exact bytes for every range), and with a computed CRC per-unit Intel HEX patches (the DCT sector at
0x08004000; the SFLASH DCT image's sectors), plus whole per-unit images with --full.

With --state FILE, issued serial and MAC ranges are recorded (JSON) and never issued again; they are reserved in
the state after every check has passed and before the outputs are published, so a failed or killed publish burns
numbers rather than issuing them twice. Secrets of the DCT never reach the CSV, the manifest or the console.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ConfigError, InputError, OutputError, VerificationError

if TYPE_CHECKING:
    from .build import Bundle
    from .dct.options import DctOptions
    from .stream import Content
    from .units import Progress, UnitsCsv

SERIAL_FIELD, MAC_FIELD, CRC_FIELD = "mfg_info.serial_number", "wifi_config.mac_address", "header.crc32"
UNITS_CSV, UNITS_DIR = "units.csv", "units"
STATE_VERSION = 1
TOOL = "bundle serialize"  # the command named in the output folder's record (publish.RECORD)

_SERIAL_RE = re.compile(r"^(.*?)([0-9]+)$")
_MAC_RE = re.compile(r"^[0-9A-Fa-f]{2}([:-])[0-9A-Fa-f]{2}(\1[0-9A-Fa-f]{2}){4}$")
_OUI_BLOCK = 1 << 24  # the lower 24 bits (NIC part) under one OUI


# ---------------------------------------------------------------------------------------------------------------
# Serial numbers and MAC addresses
# ---------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SerialStart:
    """A serial as prefix + trailing decimal digits; units count the digits up keeping their width."""

    prefix: str
    first: int
    width: int

    @classmethod
    def parse(cls, text: str, what: str = "--serial-start") -> "SerialStart":
        if not text or not all("!" <= c <= "~" for c in text):
            raise ConfigError(f"{what} {text!r}: expected printable ASCII without spaces, e.g. SN00000001")
        m = _SERIAL_RE.match(text)
        if not m:
            raise ConfigError(f"{what} {text!r}: no trailing decimal digits to count up (e.g. SN00000001)")
        return cls(m.group(1), int(m.group(2)), len(m.group(2)))

    def nth(self, i: int) -> str:
        return f"{self.prefix}{self.first + i:0{self.width}d}"

    def last(self, count: int) -> int:
        return self.first + count - 1


class Numbered(Sequence[str]):
    """`count` consecutive serials or MACs, each made when read (a run of a million keeps none)."""

    def __init__(self, count: int, nth: Callable[[int], str]) -> None:
        self.count, self.nth = count, nth

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, i: int) -> str:  # type: ignore[override]  # one at a time, no slices
        if i < 0:
            i += self.count
        if not 0 <= i < self.count:
            raise IndexError(i)
        return self.nth(i)


def serial_range(start: str, count: int, field_size: int) -> Numbered:
    """`count` consecutive serials from `start` (which must fit char[field_size] with its NUL)."""
    s = SerialStart.parse(start)
    if len(start) > field_size - 1:
        raise ConfigError(f"--serial-start {start!r}: {len(start)} characters is too long for {SERIAL_FIELD}: at "
                          f"most {field_size - 1} (char[{field_size}] with its NUL terminator)")
    if len(str(s.last(count))) > s.width:
        room = 10 ** s.width - s.first
        raise ConfigError(f"--serial-start {start!r}: {count} serials would run past {s.prefix}{'9' * s.width} "
                          f"(the {s.width} trailing digits keep their width; {room} left)")
    return Numbered(count, s.nth)


def serial_numbers(start: str, count: int, field_size: int) -> list[str]:
    return list(serial_range(start, count, field_size))


def parse_mac(text: str, what: str = "--mac-start") -> int:
    if not isinstance(text, str) or not _MAC_RE.match(text):
        raise ConfigError(f"{what} {text!r}: not a MAC address like 02:0A:F7:00:00:01")
    value = int(text.replace(":", "").replace("-", ""), 16)
    if value >> 40 & 1:
        raise ConfigError(f"{what} {text}: a multicast address (bit 0 of the first octet set); a unit needs a "
                          "unicast MAC")
    return value


def format_mac(value: int) -> str:
    return ":".join(f"{b:02X}" for b in value.to_bytes(6, "big"))


def mac_range(start: str, count: int) -> Numbered:
    """`count` consecutive MACs (48-bit increment) that stay inside the OUI block of `start`."""
    value = parse_mac(start)
    low = value % _OUI_BLOCK
    if low + count > _OUI_BLOCK:
        oui = format_mac(value)[:8]
        raise ConfigError(f"--mac-start {start}: {count} addresses would cross the end of the OUI block "
                          f"{oui}:xx:xx:xx ({_OUI_BLOCK - low} left up to {oui}:FF:FF:FF)")
    return Numbered(count, lambda i: format_mac(value + i))


def mac_addresses(start: str, count: int) -> list[str]:
    return list(mac_range(start, count))


# ---------------------------------------------------------------------------------------------------------------
# Where the per-unit bytes are
# ---------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PatchRange:
    """Bytes that differ per unit: `address` is the bus address (MCU) or chip address (SFLASH), `offset` from the
    start of `file`; `dct_offset` where they are in the DCT."""

    name: str
    file: str
    address: int
    offset: int
    size: int
    dct_offset: int

    def manifest_entry(self) -> dict[str, Any]:
        return {"name": self.name, "file": self.file, "address": self.address, "offset": self.offset,
                "size": self.size}

    @property
    def column(self) -> str:
        """units.csv column holding this range's bytes (hex): file, address and field."""
        return f"{self.file}@0x{self.address:08X}:{self.name}"


@dataclass(frozen=True)
class DctPlace:
    """One stored DCT: the artefact it is in, its bytes, whether its CRC is recomputed per unit, its ranges."""

    file: str
    dct: bytes
    recompute_crc: bool
    ranges: tuple[PatchRange, ...]
    sectors: tuple[int, int]  # (offset in the artefact, size) of the flash sectors holding this DCT


def _crc_kind(dct: bytes, where: str, options: DctOptions) -> bool:
    """True when this DCT carries a real CRC (to recompute per unit); False for the SDK factory form."""
    from .dct.copies import dct_crc
    from .formats.dct import platform_dct_header_t

    hdr = platform_dct_header_t.parse(dct)
    if hdr.crc32 == 0 and hdr.initial_write == 1:
        return False
    if hdr.crc32 == dct_crc(dct, options.copy_size):
        return True
    raise ConfigError(f"{where}: the DCT's crc32 0x{hdr.crc32:08X} is neither 0 with initial_write 1 (crc = \"sdk\") "
                      "nor its CRC (crc = \"computed\"); a fixed [dct] crc value cannot be serialized")


def find_places(bundle: Bundle, options: DctOptions) -> list[DctPlace]:
    """The DCT in the MCU image (copy 1) and in SFLASH (the DCT image component), each checked in the built bytes."""
    from .build import MCU_BIN, SFLASH_BIN
    from .dct.copies import dct_crc_field, dct_serial_fields
    from .dct.locate import find_dct_in_sflash

    board = bundle.project.board
    fields = dct_serial_fields(options)
    crc_off, crc_size = dct_crc_field()

    def ranges(file: str, recompute: bool, locate: Callable[[int, int], tuple[int, int]]) -> tuple[PatchRange, ...]:
        wanted = [(SERIAL_FIELD, *fields[SERIAL_FIELD]), (MAC_FIELD, *fields[MAC_FIELD])]
        if recompute:
            wanted.append((CRC_FIELD, crc_off, crc_size))
        found = (PatchRange(name, file, *locate(off, size), size, off) for name, off, size in wanted)
        return tuple(sorted(found, key=lambda r: r.address))

    mcu = bundle.mcu
    dct1 = board.mcu.region(board.dct.copies[0])
    start = dct1.start - mcu.base_address
    if mcu.read(start, start + len(bundle.dct)) != bundle.dct:
        raise VerificationError(f"{MCU_BIN}: DCT copy 1 at 0x{dct1.start:08X} does not hold the built DCT")
    recompute = _crc_kind(bundle.dct, f"{MCU_BIN} DCT copy 1", options)
    places = [DctPlace(MCU_BIN, bundle.dct, recompute,
                       ranges(MCU_BIN, recompute, lambda off, size: (dct1.start + off, start + off)),
                       (start, dct1.size))]

    if "dct_image" in bundle.project.sflash:
        sflash = bundle.sflash
        found = find_dct_in_sflash(sflash.tobytes(), board.sflash.apps_lut_header_loc, board.sflash.sector_size)
        recompute = _crc_kind(found.data, f"{SFLASH_BIN} DCT image", options)

        def at(off: int, size: int) -> tuple[int, int]:
            image_off = found.image_offset(off, size)
            return sflash.base_address + image_off, image_off

        places.append(DctPlace(SFLASH_BIN, found.data, recompute, ranges(SFLASH_BIN, recompute, at),
                               found.sector_range))
    return places


# ---------------------------------------------------------------------------------------------------------------
# Units
# ---------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class UnitSums:
    crc32: int
    sum32: int


@dataclass
class Unit:
    index: int
    serial: str
    mac: str
    values: dict[PatchRange, bytes]  # the bytes of every range for this unit
    sums: dict[str, UnitSums]  # artefact -> whole-image checksums of this unit's image
    files: dict[str, str] = field(default_factory=dict)  # CSV column -> file name (relative to out)


@dataclass
class SerializationResult:
    out: Path
    crc_mode: str  # "sdk" (no per-unit CRC) | "computed"
    ranges: list[PatchRange]
    units: Sequence[Unit]  # each computed when read (bundler.units.Units)
    excluded: dict[str, UnitSums]  # artefact -> checksums with its per-unit ranges excluded (same for every unit)
    files: Collection[str]  # every file published, relative to out (names generated when iterated)
    state: Path | None = None
    unit_files: str = "none"  # what each unit got: "none" | "hex" | "full"


UNIT_FILES = ("hex", "full", "none")


# ---------------------------------------------------------------------------------------------------------------
# State file
# ---------------------------------------------------------------------------------------------------------------
# The state file (documented in the README, "bundle serialize"): a JSON object
#   {"version": 1, "runs": [{"serial_first": "SN00001001", "serial_last": "SN00001500",
#                            "mac_first": "02:0A:F7:00:10:00", "mac_last": "02:0A:F7:00:11:F3",
#                            "count": 500, "product": "ota_demo", "out": "/abs/run", "created": "..."}, ...]}
# serial_* and mac_* are required: serials with the same prefix and digit count, first <= last; unicast MACs of one
# OUI block, first <= last; `count` (optional) the number of serials and of MACs. `product`, `out`, `created`
# (optional) are text. Other keys are kept as they are.
_RUN_TEXT = ("product", "out", "created")


def _state_run(run: Any, where: str, path: Path) -> None:
    """Check one entry of `runs` against the state schema (a one-line InputError naming it otherwise)."""
    if not isinstance(run, dict):
        raise InputError(f"{where}: expected an object with serial_first, serial_last, mac_first, mac_last", path)
    for key in ("serial_first", "serial_last", "mac_first", "mac_last"):
        if not isinstance(run.get(key), str):
            raise InputError(f"{where}.{key}: expected a string, got {type(run.get(key)).__name__}", path)
    try:
        first, last = SerialStart.parse(run["serial_first"], "serial_first"), SerialStart.parse(run["serial_last"],
                                                                                                 "serial_last")
        mac_first, mac_last = parse_mac(run["mac_first"], "mac_first"), parse_mac(run["mac_last"], "mac_last")
    except ConfigError as exc:
        raise InputError(f"{where}: {exc}", path) from None
    if (first.prefix, first.width) != (last.prefix, last.width) or first.first > last.first:
        raise InputError(f"{where}: serial_first {run['serial_first']} .. serial_last {run['serial_last']} is not a "
                         "range (same prefix and digit count, first <= last)", path)
    if mac_first > mac_last or mac_first // _OUI_BLOCK != mac_last // _OUI_BLOCK:
        raise InputError(f"{where}: mac_first {run['mac_first']} .. mac_last {run['mac_last']} is not a range "
                         "(first <= last, one OUI block)", path)
    count = run.get("count")
    if count is not None and (isinstance(count, bool) or not isinstance(count, int)
                              or count != last.first - first.first + 1 or count != mac_last - mac_first + 1):
        raise InputError(f"{where}.count: {count!r} is not the number of serials and of MACs of the run", path)
    for key in _RUN_TEXT:
        if key in run and not isinstance(run[key], str):
            raise InputError(f"{where}.{key}: expected a string, got {type(run[key]).__name__}", path)


def _load_state(path: Path) -> dict[str, Any]:
    """The state at `path` (resolved), validated; a new one if the file does not exist."""
    if not path.exists():
        return {"version": STATE_VERSION, "runs": []}
    from .inputs import MAX_TEXT_BYTES, parse_json, read_file

    raw, _ = read_file(path, max_size=MAX_TEXT_BYTES)
    doc = parse_json(raw, path)
    if not isinstance(doc, dict) or doc.get("version") != STATE_VERSION or not isinstance(doc.get("runs"), list):
        raise InputError(f"not a serialization state file (expected an object with version {STATE_VERSION} and "
                         "runs [{serial_first, serial_last, mac_first, mac_last}, ...])", path)
    for n, run in enumerate(doc["runs"], 1):
        _state_run(run, f"run {n}", path)
    return doc


def _check_state(path: Path, state: Mapping[str, Any], serials: list[str], macs: list[str]) -> None:
    """Refuse a run whose serials or MACs overlap any recorded run (every run is compared)."""
    s = SerialStart.parse(serials[0])
    s_last = s.last(len(serials))
    m_first, m_last = parse_mac(macs[0]), parse_mac(macs[-1])
    for n, run in enumerate(state["runs"], 1):
        rs, rs_last = SerialStart.parse(run["serial_first"]), SerialStart.parse(run["serial_last"])
        rm_first, rm_last = parse_mac(run["mac_first"]), parse_mac(run["mac_last"])
        if (rs.prefix, rs.width) == (s.prefix, s.width) and s.first <= rs_last.first and rs.first <= s_last:
            raise ConfigError(f"serials {serials[0]}..{serials[-1]} overlap {run['serial_first']}.."
                              f"{run['serial_last']} already issued (run {n} in {path}); start after "
                              f"{run['serial_last']}")
        if m_first <= rm_last and rm_first <= m_last:
            raise ConfigError(f"MACs {macs[0]}..{macs[-1]} overlap {run['mac_first']}..{run['mac_last']} already "
                              f"issued (run {n} in {path}); start after {run['mac_last']}")


@contextmanager
def _state_lock(path: Path | None) -> Iterator[None]:
    """Hold an exclusive lock (a `<state>.lock` file beside it) so two runs cannot both pass the reuse check."""
    if path is None:
        yield
        return
    lock = path.with_name(path.name + ".lock")
    try:
        lock.parent.mkdir(parents=True, exist_ok=True)
        fh = open(lock, "a+")
    except OSError as exc:
        raise OutputError(f"cannot create the state lock: {exc.strerror}", lock) from None
    with fh:
        try:
            _lock_exclusive(fh)
        except OSError:
            raise OutputError("another `bundle serialize` run holds this state file; try again when it ends",
                              path) from None
        yield


def _lock_exclusive(fh: Any) -> None:
    """Lock the open lock file without waiting (OSError if another process holds it); released when it is closed.
    flock on POSIX; on Windows msvcrt.locking of its first byte (a lock may lie past the end of the file)."""
    try:
        import fcntl
    except ImportError:
        import msvcrt

        fh.seek(0)
        msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
        return
    fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)


# ---------------------------------------------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------------------------------------------
def serialize(project_path: str | Path, count: int, serial_start: str, mac_start: str, out: str | Path,
              state: str | Path | None = None, full: bool = False, sign_key: Path | None = None,
              unit_files: str | None = None, progress: Progress | None = None,
              equipment: Sequence[str] | None = None) -> SerializationResult:
    """Build the base bundle once and the per-unit data of `count` units; publish everything into `out` at once;
    then record the issued ranges in `state`. Everything is checked before anything is written.

    `unit_files`: "hex" (each unit's DCT sectors as Intel HEX; the default with crc = "computed"), "full" (also its
    whole images; `full=True` says the same) or "none" (the default with crc = "sdk"). `progress(what, done, total)`
    is called while units.csv and the unit files are written. `equipment`: the job sheet's expected checksum per
    chip, as for `bundle build`."""
    from .build import MANIFEST, MCU_BIN, SFLASH_BIN, make_bundle
    from .checksums import complement_ranges, ranges_checksums
    from .config import load_project
    from .dct.config import effective_options
    from .dct.copies import dct_crc, dct_serial_fields
    from .dct.options import options_for_board
    from .dct.secrets import secret_values
    from .manifest import dumps, validate
    from .output import atomic_write
    from .publish import check_out_dir, publish
    from .units import BaseImage, RunFiles, UnitFiles, Units, UnitsCsv, UnitTable

    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ConfigError(f"--count {count}: expected at least 1 unit")
    if unit_files is not None and unit_files not in UNIT_FILES:
        raise ConfigError(f"--unit-files {unit_files!r}: expected one of {', '.join(UNIT_FILES)}")
    if full and unit_files not in (None, "full"):
        raise ConfigError(f"--full is --unit-files full: it cannot go with --unit-files {unit_files}")
    macs = mac_range(mac_start, count)
    project = load_project(project_path)
    options = effective_options(project.dct, options_for_board(project.board))
    serial_size = dct_serial_fields(options)[SERIAL_FIELD][1]
    serials = serial_range(serial_start, count, serial_size)
    state_path = None if state is None else Path(state).resolve()  # a link: its target is the state (and locked)
    out = Path(out)

    with _state_lock(state_path):
        state_doc = None
        if state_path is not None:
            state_doc = _load_state(state_path)
            _check_state(state_path, state_doc, serials, macs)  # type: ignore[arg-type]  # sequences, not lists
        # this run's number in the state file (1, 2, ...): recorded there and in the signed manifest
        run_id = None if state_doc is None else len(state_doc["runs"]) + 1

        bundle = make_bundle(project, equipment=equipment)
        places = find_places(bundle, options)
        ranges = [r for p in places for r in p.ranges]
        images = {MCU_BIN: bundle.mcu, SFLASH_BIN: bundle.sflash}
        computed = any(p.recompute_crc for p in places)
        mode = "full" if full else unit_files or ("hex" if computed else "none")

        sums = {a["file"]: a for a in bundle.manifest["artefacts"]}  # the base images' checksums, as built
        table = UnitTable(places, [BaseImage(name, img, int(sums[name]["crc32"], 16), int(sums[name]["sum32"], 16))
                                   for name, img in images.items()],
                          SerialStart.parse(serial_start), serial_size, parse_mac(mac_start), options.copy_size,
                          dct_crc)
        excluded = {}
        for name, img in images.items():  # one pass over each base image
            kept = complement_ranges(len(img), [(r.offset, r.size) for r in ranges if r.file == name])
            c = ranges_checksums(img, kept, with_sha256=False)
            excluded[name] = UnitSums(c.crc32, c.sum32)

        # per-unit files: the DCT sectors as Intel HEX (the whole sector: it replaces it), whole images with "full"
        hex_column = {MCU_BIN: ("dct_hex", "dct.hex"), SFLASH_BIN: ("sflash_dct_hex", "sflash-dct.hex")}
        kinds = [hex_column[p.file] for p in places] if mode == "hex" or (mode == "full" and computed) else []
        kinds += [("mcu_bin", MCU_BIN), ("sflash_bin", SFLASH_BIN)] if mode == "full" else []
        names = UnitFiles(kinds, count)
        makers = {hex_column[p.file][0]: _sector_hex_maker(p, images[p.file], table.ranges) for p in places}
        makers.update({column: _image_maker(images[name], table.ranges, name)
                       for column, name in (("mcu_bin", MCU_BIN), ("sflash_bin", SFLASH_BIN))})

        secrets = sorted({s for p in places for s in secret_values(p.dct, options)})
        # units.csv is covered by the manifest (and so by its signature): the line kit refuses any other CSV. One
        # pass over the rows for its SHA-256 before the manifest is final; publishing makes them again.
        units_csv = units_csv_entry(UnitsCsv(table, count, names, excluded, secrets), run_id)
        manifest = dict(bundle.manifest)
        manifest["serialization"] = [r.manifest_entry() for r in ranges]
        manifest["units_csv"] = units_csv
        validate(manifest, MANIFEST)
        base_files = dict(bundle.files)
        base_files[MANIFEST] = dumps(manifest).encode()
        signer = None
        if sign_key is not None:  # before any number is reserved: a bad key costs nothing
            from .signing import SIGNATURE_SUFFIX, key_fingerprint, sign

            base_files[MANIFEST + SIGNATURE_SUFFIX] = sign(base_files[MANIFEST], sign_key)
            signer = key_fingerprint(sign_key)
        from .jobsheet import jobsheet_files  # the job sheet again, now listing the per-unit ranges

        sheets = jobsheet_files(manifest, base_files, project.board, equipment=bundle.equipment, signer=signer,
                                device_notes=bundle.device_notes)
        base_files.update(sheets)

        csv = UnitsCsv(table, count, names, excluded, secrets, progress)
        files = RunFiles(base_files, csv, table, count, names, makers, progress)
        # every secret check that can run before numbers are reserved: the fixed outputs and units.csv as far as a
        # secret could be in it (its rows are checked again while they are written)
        _check_no_secrets(secrets, {MANIFEST: base_files[MANIFEST], **sheets})  # type: ignore[dict-item]
        csv.check_before_reserving()
        result = SerializationResult(out, "computed" if computed else "sdk", ranges, Units(table, count, names),
                                     excluded, files.keys(), state_path, mode)

        protected = [*project.input_paths(), *([state_path] if state_path else []),
                     *([sign_key] if sign_key else [])]
        check_out_dir(out, protected, TOOL)
        if state_path is not None and state_doc is not None:
            # reserve the numbers BEFORE publishing: if publishing then fails or the run is killed, they are burned
            # (never issued twice) rather than issued again by the next run
            run = {"id": run_id, "product": project.name, "count": count, "serial_first": serials[0],
                   "serial_last": serials[-1], "mac_first": macs[0], "mac_last": macs[-1], "out": str(out.resolve())}
            created = manifest.get("created")
            if created:
                run["created"] = created
            state_doc["runs"].append(run)
            atomic_write(state_path, json.dumps(state_doc, indent=2) + "\n")
        try:
            publish(out, files, protected, TOOL)
        except (OutputError, VerificationError, ConfigError) as exc:
            if state_path is None:
                raise
            raise type(exc)(f"{exc}; serials {serials[0]}..{serials[-1]} and MACs {macs[0]}..{macs[-1]} stay "
                            f"reserved in {state_path} (not reused)") from None
    return result


def _sector_hex_maker(place: DctPlace, image: Any, ranges: list[PatchRange]) -> Callable[[int, list[bytes]], bytes]:
    """Intel HEX of a unit's DCT sectors (every byte, so it replaces the sectors as a whole): the base sectors with
    the unit's bytes in the ranges inside them (only the records holding those are made per unit)."""
    from .writers import PatchedHex

    offset, size = place.sectors
    inside = [(k, r.offset - offset, r.size) for k, r in enumerate(ranges) if r.file == place.file
              and offset <= r.offset and r.offset + r.size <= offset + size]
    text = PatchedHex(image.read(offset, offset + size), image.base_address + offset, [(o, n) for _, o, n in inside])
    return lambda _index, values: text.variant([(at, values[k]) for k, at, _ in inside])


def units_csv_entry(csv: UnitsCsv, run_id: int | None) -> dict[str, Any]:
    """The manifest's `units_csv` entry: what the line kit checks units.csv against (SHA-256 and size), from
    one pass over its rows (also checked for secrets on the way)."""
    import hashlib

    digest, size = hashlib.sha256(), 0
    for block in csv.chunks():
        digest.update(block)
        size += len(block)
    entry: dict[str, Any] = {"file": UNITS_CSV, "size": size, "sha256": digest.hexdigest()}
    if run_id is not None:
        entry["state_run"] = run_id
    return entry


def _image_maker(image: Any, ranges: list[PatchRange], file: str) -> Callable[[int, list[bytes]], Content]:
    """A unit's whole image as a stream: the base image with the unit's bytes in its ranges."""
    from .units import PatchedImage

    mine = [(k, r.offset) for k, r in enumerate(ranges) if r.file == file]
    return lambda _index, values: PatchedImage(image, tuple(sorted((at, values[k]) for k, at in mine)))


def _check_no_secrets(secrets: list[bytes], outputs: Mapping[str, bytes]) -> None:
    """No Wi-Fi passphrase, key or certificate may reach the manifest or the job sheet (units.holds_secret: as its
    bytes or hex, outside the numbers they print). A hit is bad input: exit 2, nothing written."""
    from .units import holds_secret

    for name, data in outputs.items():
        if holds_secret(data, secrets):
            raise ConfigError(f"{name}: would hold a secret of the DCT; nothing written")


def summary_lines(result: SerializationResult) -> list[str]:
    """What the CLI prints: no DCT content besides serials and MACs."""
    from .checksums import hex32

    first, last = result.units[0], result.units[-1]
    lines = [f"{len(result.units)} units: serials {first.serial}..{last.serial}, MACs {first.mac}..{last.mac}",
             f"DCT CRC: {result.crc_mode}" + ("; per-unit DCT patches in units/" if result.crc_mode == "computed"
                                               else "; patch the ranges below with the bytes in units.csv")]
    for r in result.ranges:
        lines.append(f"  {r.file} 0x{r.address:08X} (offset 0x{r.offset:X}) {r.size} bytes  {r.name}")
    for name, s in result.excluded.items():
        lines.append(f"{name} with per-unit ranges excluded: crc32 {hex32(s.crc32)}  sum32 {hex32(s.sum32)}")
    fixed = next((k for k, f in enumerate(result.files) if f.startswith(UNITS_DIR + "/")), len(result.files))
    per_unit = len(result.files) - fixed  # (the unit files come after the others: only those are counted here)
    lines.append(f"{result.out}: {len(result.files) - per_unit} files + {per_unit} per-unit files; "
                 f"{UNITS_CSV} has one row per unit")
    if result.state is not None:
        lines.append(f"state updated: {result.state}")
    return lines
