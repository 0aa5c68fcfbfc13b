"""The serialization run (`bundle serialize`): build the base bundle once, find the per-unit places, make every
unit's bytes, files and checksums (bundler.units), check it all, reserve the numbers in the state file, publish.

Outputs (published all at once into --out): the base artefacts, manifest.json with `serialization`, units.csv (one
row per unit: serial, MAC, per-unit files, whole-image CRC-32 / sum32, checksums with the per-unit ranges excluded,
and the exact bytes for every range), and with a computed CRC per-unit Intel HEX patches (the DCT sector at
0x08004000; the SFLASH DCT image's sectors), plus whole per-unit images with --full.

With --state FILE, issued serial and MAC ranges are recorded (JSON) and never issued again; they are reserved in
the state after every check has passed and before the outputs are published, so a failed or killed publish burns
numbers rather than issuing them twice. Secrets of the DCT never reach the CSV, the manifest or the console.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError, OutputError, VerificationError
from .numbers import SerialStart, mac_range, parse_mac, serial_range
from .places import DctPlace, PatchRange, find_places, serial_field_size
from .result import UNIT_FILES, UNITS_CSV, SerializationResult, UnitSums
from .state import check_state, load_state, reserve, state_lock

if TYPE_CHECKING:
    from ..image import Image
    from ..stream import Content
    from ..units import Progress, UnitsCsv

TOOL = "bundle serialize"  # the command named in the output folder's record (publish.RECORD)


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
    from ..build import MANIFEST, MCU_BIN, SFLASH_BIN, make_bundle
    from ..checksums import complement_ranges, ranges_checksums
    from ..config import load_project
    from ..dct.config import effective_options
    from ..dct.copies import dct_crc
    from ..dct.options import options_for_board
    from ..dct.secrets import secret_values
    from ..manifest import dumps, validate
    from ..publish import check_out_dir, publish
    from ..units import BaseImage, RunFiles, UnitFiles, Units, UnitsCsv, UnitTable

    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ConfigError(f"--count {count}: expected at least 1 unit")
    if unit_files is not None and unit_files not in UNIT_FILES:
        raise ConfigError(f"--unit-files {unit_files!r}: expected one of {', '.join(UNIT_FILES)}")
    if full and unit_files not in (None, "full"):
        raise ConfigError(f"--full is --unit-files full: it cannot go with --unit-files {unit_files}")
    macs = mac_range(mac_start, count)
    project = load_project(project_path)
    options = effective_options(project.dct, options_for_board(project.board))
    serial_size = serial_field_size(options)
    serials = serial_range(serial_start, count, serial_size)
    state_path = None if state is None else Path(state).resolve()  # a link: its target is the state (and locked)
    out = Path(out)

    with state_lock(state_path):
        state_doc = None
        if state_path is not None:
            state_doc = load_state(state_path)
            check_state(state_path, state_doc, serials, macs)
        # this run's number in the state file (1, 2, ...): recorded there and in the signed manifest
        run_id = None if state_doc is None else len(state_doc["runs"]) + 1

        bundle = make_bundle(project, equipment=equipment)
        places = find_places(bundle, options)
        ranges = [r for p in places for r in p.ranges]
        images = {MCU_BIN: bundle.mcu, SFLASH_BIN: bundle.sflash}
        computed = any(p.recompute_crc for p in places)
        mode = "full" if full else unit_files or ("hex" if computed else "none")

        sums = {a["file"]: a for a in bundle.manifest["artefacts"]}  # the base images' checksums, as built

        def unit_crc(dct: bytes, copy_size: int) -> int:  # the CRC of the layout's DCT generation
            return dct_crc(dct, copy_size, options.generation)

        table = UnitTable(places, [BaseImage(name, img, int(sums[name]["crc32"], 16), int(sums[name]["sum32"], 16))
                                   for name, img in images.items()],
                          SerialStart.parse(serial_start), serial_size, parse_mac(mac_start), options.copy_size,
                          unit_crc)
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
            from ..signing import SIGNATURE_SUFFIX, key_fingerprint, sign

            base_files[MANIFEST + SIGNATURE_SUFFIX] = sign(base_files[MANIFEST], sign_key)
            signer = key_fingerprint(sign_key)
        from ..jobsheet import jobsheet_files  # the job sheet again, now listing the per-unit ranges

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
            reserve(state_path, state_doc, run)
        try:
            publish(out, files, protected, TOOL)
        except (OutputError, VerificationError, ConfigError) as exc:
            if state_path is None:
                raise
            raise type(exc)(f"{exc}; serials {serials[0]}..{serials[-1]} and MACs {macs[0]}..{macs[-1]} stay "
                            f"reserved in {state_path} (not reused)") from None
    return result


def _sector_hex_maker(place: DctPlace, image: Image, ranges: list[PatchRange]) -> Callable[[int, list[bytes]], bytes]:
    """Intel HEX of a unit's DCT sectors (every byte, so it replaces the sectors as a whole): the base sectors with
    the unit's bytes in the ranges inside them (only the records holding those are made per unit)."""
    from ..writers import PatchedHex

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


def _image_maker(image: Image, ranges: list[PatchRange], file: str) -> Callable[[int, list[bytes]], Content]:
    """A unit's whole image as a stream: the base image with the unit's bytes in its ranges."""
    from ..units import PatchedImage

    mine = [(k, r.offset) for k, r in enumerate(ranges) if r.file == file]
    return lambda _index, values: PatchedImage(image, tuple(sorted((at, values[k]) for k, at in mine)))


def _check_no_secrets(secrets: list[bytes], outputs: Mapping[str, bytes]) -> None:
    """No Wi-Fi passphrase, key or certificate may reach the manifest or the job sheet (units.holds_secret: as its
    bytes or hex, outside the numbers they print). A hit is bad input: exit 2, nothing written."""
    from ..units import holds_secret

    for name, data in outputs.items():
        if holds_secret(data, secrets):
            raise ConfigError(f"{name}: would hold a secret of the DCT; nothing written")
