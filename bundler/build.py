"""`bundle build`: inputs -> DCT -> MCU and SFLASH images -> artefacts + manifest, published all at once."""

from __future__ import annotations

import hashlib
import mmap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from . import checks
from .checksums import memoized
from .config import GENERATED, InputSpec, Project, load_project
from .errors import ConfigError, InputError, PlacementError, hexsize
from .formats.lut import APP_COMPONENTS
from .formats.vectors import VECTOR_TABLE_HEAD_SIZE
from .image import Image, Part, Piece, assemble_mcu, assemble_sflash, plan_sflash, room_left
from .inputs import FileBytes, LoadedInput, Segment, Source, file_bytes, is_dir, load_input, read_file, stored_app_elf
from .manifest import MANIFEST_FILE as MANIFEST, Artefact, dumps, make_manifest
from .publish import publish
from .stream import BLOCK, Content
from .wicedfs import SlotOverflow
from .writers import HexText

MCU_BIN, MCU_HEX, SFLASH_BIN = "mcu.bin", "mcu.hex", "sflash.bin"
TOOL = "bundle build"  # the command named in the output folder's record (publish.RECORD)


@dataclass
class Bundle:
    """Everything a build produces; `files` are the outputs by file name (bytes, or streams over the images that
    publish writes block by block), manifest last."""

    project: Project
    dct: bytes
    mcu: Image
    sflash: Image
    manifest: dict[str, Any]
    files: dict[str, Content] = field(default_factory=dict)
    equipment: tuple[str, ...] = ()  # the job sheet's --equipment choice (jobsheet.parse_equipment)
    notes: list[str] = field(default_factory=list)  # what the build changed for the device's sake (told the user)
    device_notes: list[str] = field(default_factory=list)  # what this device does at a factory reset (job sheet)


@dataclass(frozen=True)
class _DctFile:
    """`dct_image` given as a file: its bytes (stored as they are), the DCT it holds, where it came from."""

    raw: bytes
    dct: bytes
    source: Source


def _dct_image_file(project: Project) -> _DctFile | None:
    """`dct_image` given as a file, read once and checked as wiced_dct_load reads it."""
    spec = project.sflash.get("dct_image")
    if not isinstance(spec, InputSpec):
        return None
    raw, source = read_file(spec.path, spec.display)
    what = "[sflash] dct_image"
    elf = checks.read_elf(raw, what)
    blob, found = checks.dct_image(elf, project.board, what)
    checks.raise_fatal(elf.findings + found, lambda m: InputError(m, spec.display))
    assert blob is not None
    return _DctFile(raw, blob, source)


def _dct(project: Project, dct_file: _DctFile | None) -> tuple[bytes, Source, int]:
    """DCT copy 1 (used bytes), where it came from, and its stored CRC field. With `dct_image` a file and no
    [dct] table, copy 1 is that file's DCT (SFLASH and internal flash then hold the same configuration); with both,
    they must agree."""
    from .dct import generation
    from .dct.config import build_dct
    from .dct.copies import stored_crc
    from .dct.options import options_for_board

    board = project.board
    if dct_file is not None and not project.dct:
        used, source = dct_file.dct, dct_file.source
        generation.check(used, options_for_board(board).sdk, source.file)  # another SDK's DCT: refused naming both
    else:
        used = build_dct(project.dct, project.base_dir, options_for_board(board))
        if "file" in project.dct:
            _, source = read_file(project.base_dir / project.dct["file"], project.dct["file"])
        else:
            _, source = read_file(project.path, project.path.name)
        if dct_file is not None:
            _same_dct(project, used, dct_file)
    checks.raise_fatal(checks.dct_copy1(used, board, "DCT copy 1"), lambda m: InputError(m, source.file))
    # the stored CRC (header crc32 in 3.5.2, platform_dct_version_t.crc32 in 3.7.0; 0 where the generation has none)
    return used, source, stored_crc(used, options_for_board(board).generation) or 0


def _same_dct(project: Project, used: bytes, dct_file: _DctFile) -> None:
    """The DCT of [dct] and the one of the dct_image file, as the DCT copy 1 sector would hold each."""
    dct1 = project.board.mcu.region(project.board.dct.copies[0])
    fill = bytes([project.board.mcu.fill])
    mine, theirs = used.ljust(dct1.size, fill), dct_file.dct.ljust(dct1.size, fill)
    if mine != theirs:
        at = next(i for i, (a, b) in enumerate(zip(mine, theirs)) if a != b)
        raise InputError(f"[dct] and [sflash] dct_image {dct_file.source.file} give different DCTs (first difference "
                         f"at offset 0x{at:X}): DCT copy 1 and the DCT image would disagree; remove [dct] to take "
                         "copy 1 from the file, or make dct_image \"generated\"", project.path)


def _no_address(where: str, spec: InputSpec, loaded: LoadedInput) -> None:
    if spec.address is not None and loaded.format == "elf":
        raise ConfigError(f"{where}: address 0x{spec.address:X} given with an ELF input; an ELF is placed by its own "
                          "physical addresses (remove address)", spec.display)


def _check_vectors(project: Project, key: str, spec: InputSpec, loaded: LoadedInput) -> None:
    """The bootloader's and the app's vector tables, read from the bytes placed at their region's start."""
    board = project.board
    region = board.mcu.region(key)
    if key not in (checks.boot_region(board).name, board.sflash.app_region):
        return
    at, size = region.start, VECTOR_TABLE_HEAD_SIZE
    head = next((s.data[at - s.address:at - s.address + size] for s in loaded.segments if s.address <= at < s.end),
                None)
    if head is None:
        raise InputError(f"[mcu] {key}: nothing is placed at 0x{region.start:08X}, where the {key} vector table must "
                         "be", spec.display)
    _, found = checks.vector_table(head, board, region, f"[mcu] {key}: {key}")
    checks.raise_fatal(found, lambda m: InputError(m, spec.display))


def _component(project: Project, name: str, spec: InputSpec | str, dct: bytes, dct_source: Source,
               dct_file: _DctFile | None, room: int | None, notes: list[str]) -> tuple[Piece, Source]:
    """The bytes stored for one LUT component, checked by the device's rules. `room` is the most a folder-built
    filesystem may take; what the build changes for the device is added to `notes`."""
    if spec == GENERATED:
        from .dct.image import dct_image_elf

        return dct_image_elf(project.board, dct), dct_source
    assert isinstance(spec, InputSpec)
    what = f"[sflash] {name}"
    if name == "filesystem":
        return _filesystem(project, spec, room, notes)
    if name in APP_COMPONENTS:
        loaded = load_input(spec.path, spec.display, fmt=spec.format or "elf")
        _no_address(what, spec, loaded)
        stored = stored_app_elf(loaded)
        elf = checks.read_elf(stored, what)
        _, found = checks.stored_app(elf, project.board, what)
        checks.raise_fatal(elf.findings + found, lambda m: InputError(m, spec.display))
        return stored, loaded.source
    if name == "dct_image":
        assert dct_file is not None
        return dct_file.raw, dct_file.source
    # the Wi-Fi firmware (often MiBs) goes from its file to sflash.bin in blocks
    firmware = file_bytes(spec.path, spec.display)
    return firmware, Source(firmware.display, firmware.sha256)


def _overflow(project: Project, name: str, size: int, room: int,
              components: dict[str, tuple[Piece, Source]]) -> PlacementError | None:
    """A folder-built component larger than the room left, told with what it makes pass the chip's end (as a
    prebuilt one is: plan_sflash's message, where it would end and the chip that holds all); None if all fit."""
    display = project.sflash[name].display
    try:
        plan_sflash(project.board.sflash, project.chip, {**{n: len(d) for n, (d, _) in components.items()}, name: size},
                    {**{n: s.file for n, (_, s) in components.items()}, name: display})
    except PlacementError as placed:
        if str(placed).startswith(f"[sflash] {name} "):  # the component itself passes the end: that says it all
            return placed
        return PlacementError(f"[sflash] {name} ({display}): its image would be {hexsize(size)}, "
                              f"{hexsize(size - room)} more than the room left ({hexsize(room)}); with it, {placed}")
    return None


def _filesystem(project: Project, spec: InputSpec, room: int | None, notes: list[str]) -> tuple[Piece, Source]:
    """A folder made into an image, or a prebuilt image, parsed by the reader inspect uses (names the device
    reaches), then padded when the 3.5.2 reader would read past the component's sectors."""
    from .wicedfs import build_image, detect

    what = "[sflash] filesystem"
    piece: Piece
    data: bytes | mmap.mmap
    if is_dir(spec.path):
        data = build_image(spec.path, max_size=room)
        source = Source(spec.display, hashlib.sha256(data).hexdigest())
        piece = data
    else:
        # hashed in blocks, parsed through a read-only map, written from the file again (refused if it changed):
        # a multi-MiB image is never held (issue 6)
        piece = file_bytes(spec.path, spec.display)
        source = Source(piece.display, piece.sha256)
        data = _mapped(piece)
    try:
        if not detect(data[:BLOCK]):  # the headers are at the start (mk_wicedfs: root directory right after)
            raise InputError("not a WicedFS image (expected magic 'BRCM', version 1 at offset 0)", spec.display)
        try:
            pad, found = checks.filesystem_padding(data, project.board.sflash, what)
        except InputError as exc:
            raise InputError(f"{what}: the device's reader cannot use this image: {exc}", spec.display) from None
        if pad:
            items = ", ".join(f.subject for f in found if f.subject)
            notes.append(f"{what} ({spec.display}): added {pad} zero bytes after the {len(data)}-byte image: the "
                         f"3.5.2 WicedFS reader reads past the component's sectors for {items} (wicedfs.c: "
                         "wicedfs_readdir reads file_header_size bytes per name, find_item 16 bytes at a file's "
                         "content)")
            piece = bytes(data) + bytes(pad)
    finally:
        if isinstance(data, mmap.mmap):
            data.close()
    return piece, source


def _mapped(raw: FileBytes) -> bytes | mmap.mmap:
    """The file's bytes as a read-only map (b"" for an empty file)."""
    if not raw.size:
        return b""
    try:
        with open(raw.path, "rb") as fh:
            return mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read again: {getattr(exc, 'strerror', None) or exc}", raw.display) from None


def _device_notes(project: Project, mcu: Image, components: dict[str, tuple[Piece, Source]]) -> list[str]:
    """For the job sheet: whether a factory reset installs the program the MCU image holds."""
    board = project.board
    fr_app = components.get("fr_app")
    if board.sflash.app_region not in project.mcu or fr_app is None or not isinstance(fr_app[0], bytes):
        return []
    region = next(r for r in mcu.regions if r.name == board.sflash.app_region)  # the app's bytes, as placed
    app = (mcu.base_address + region.offset, mcu.read(region.offset, region.offset + region.size))
    text = checks.factory_reset_app(checks.app_flash_image(checks.read_elf(fr_app[0], "fr_app"), board), app,
                                    board.mcu.fill)
    return [text] if text else []


def make_bundle(project: Project, *, hex_skip_fill: bool | None = None, sign_key: Path | None = None,
                equipment: Sequence[str] | None = None) -> Bundle:
    """Build both images, the artefacts (as streams) and the manifest. Raises before anything is written.
    `equipment`: the job sheet's expected checksum per chip (jobsheet.parse_equipment; default bundle.toml's)."""
    board = project.board
    checks.raise_fatal([f for f in [checks.chip_sector(board, project.chip)] if f],
                       lambda m: ConfigError(m, project.path))
    dct_file = _dct_image_file(project)
    dct, dct_source, dct_crc_field = _dct(project, dct_file)
    dct1 = board.mcu.region(board.dct.copies[0])
    parts = [Part(dct1.name, (Segment(dct1.start, dct),), dct_source)]
    placed: list[tuple[str, InputSpec, LoadedInput]] = []
    for key, spec in project.mcu.items():
        region = board.mcu.region(key)
        loaded = load_input(spec.path, spec.display, address=region.start if spec.address is None else spec.address,
                            fmt=spec.format, bounds=(board.mcu.flash_base, board.mcu.flash_base + board.mcu.flash_size,
                                                     "the MCU flash"))
        _no_address(f"[mcu] {key}", spec, loaded)
        if not loaded.segments:
            raise InputError("holds no loadable bytes", spec.display)
        parts.append(Part(key, loaded.segments, loaded.source))
        placed.append((key, spec, loaded))
    mcu = assemble_mcu(board.mcu, parts)
    for key, spec, loaded in placed:  # placed first: a part too large for its region is told as such
        _check_vectors(project, key, spec, loaded)

    # the filesystem folder is built last: its room is what the chip has left after the other components
    order = sorted(project.sflash, key=lambda name: name == "filesystem")
    components: dict[str, tuple[Piece, Source]] = {}
    notes: list[str] = []
    for name in order:
        room = room_left(board.sflash, project.chip, [len(data) for data, _ in components.values()])
        try:
            components[name] = _component(project, name, project.sflash[name], dct, dct_source, dct_file, room, notes)
        except SlotOverflow as exc:
            raise (_overflow(project, name, exc.size, room or 0, components) or exc) from None
    sflash = assemble_sflash(board.sflash, project.chip, {name: components[name] for name in project.sflash})
    device_notes = _device_notes(project, mcu, components)
    del components

    # the artefacts are streams over the images' parts: hashed now, written by publish, never held whole (issue 6)
    skip = project.hex_skip_fill if hex_skip_fill is None else hex_skip_fill
    artefacts = [
        Artefact(MCU_BIN, "bin", mcu, mcu),
        Artefact(MCU_HEX, "hex", HexText(mcu, skip), mcu, skip),
        Artefact(SFLASH_BIN, "bin", sflash, sflash),
    ]
    from .jobsheet import jobsheet_files, parse_equipment  # programming-house job sheet + memory map (issue 8)

    chosen = project.equipment if equipment is None else parse_equipment(equipment)
    with memoized():  # the manifest and the job sheet hash the same images: once each
        manifest = make_manifest(project, artefacts, dct, dct_crc_field)
        files: dict[str, Content] = {a.file: a.content for a in artefacts}
        manifest_bytes = dumps(manifest).encode()
        signature, signer = None, None
        if sign_key is not None:
            from .signing import key_fingerprint, sign

            signature, signer = sign(manifest_bytes, sign_key), key_fingerprint(sign_key)
        # the sheet prints the manifest's SHA-256 (and the signer): it is made once the manifest's bytes are final
        files.update(jobsheet_files(manifest, {**files, MANIFEST: manifest_bytes}, board, equipment=chosen,
                                    signer=signer, device_notes=device_notes))
    files[MANIFEST] = manifest_bytes
    if signature is not None:
        from .signing import SIGNATURE_SUFFIX

        files[MANIFEST + SIGNATURE_SUFFIX] = signature
    return Bundle(project, dct, mcu, sflash, manifest, files, chosen, notes, device_notes)


def build_bundle(config: str | Path, out_dir: str | Path, *, hex_skip_fill: bool | None = None,
                 sign_key: Path | None = None, equipment: Sequence[str] | None = None) -> Bundle:
    """`bundle build`: load bundle.toml, build in memory, then publish every file into `out_dir` at once."""
    project = load_project(config)
    bundle = make_bundle(project, hex_skip_fill=hex_skip_fill, sign_key=sign_key, equipment=equipment)
    protected = [*project.input_paths(), *([sign_key] if sign_key else [])]
    publish(Path(out_dir), bundle.files, protected, TOOL)
    return bundle
