"""`bundle build`: inputs -> DCT -> MCU and SFLASH images -> artefacts + manifest, published all at once."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from .checksums import memoized
from .config import GENERATED, InputSpec, Project, load_project
from .errors import InputError, PlacementError, hexsize
from .formats.elf import PF_R, PF_W, PT_LOAD, build_elf
from .formats.lut import APP_COMPONENTS
from .image import Image, Part, Piece, assemble_mcu, assemble_sflash
from .inputs import LoadedInput, Segment, Source, file_bytes, is_dir, load_input, read_file, stored_app_elf
from .manifest import MANIFEST_FILE as MANIFEST, Artefact, dumps, make_manifest
from .publish import publish
from .stream import BLOCK, Content
from .writers import HexText

MCU_BIN, MCU_HEX, SFLASH_BIN = "mcu.bin", "mcu.hex", "sflash.bin"


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


def _dct(project: Project) -> tuple[bytes, Source, int]:
    """DCT copy 1 (used bytes), where it came from, and its header's crc32 field."""
    from .dct.config import build_dct
    from .dct.options import options_for_board
    from .formats.dct import platform_dct_header_t

    used = build_dct(project.dct, project.base_dir, options_for_board(project.board))
    if "file" in project.dct:
        _, source = read_file(project.base_dir / project.dct["file"], project.dct["file"])
    else:
        _, source = read_file(project.path, project.path.name)
    return used, source, platform_dct_header_t.parse(used).crc32


def dct_image_elf(project: Project, dct: bytes) -> bytes:
    """The DCT image component: an ELF with one PT_LOAD at DCT copy 1 holding the DCT (wiced_dct_load needs
    e_phnum == 1)."""
    start = project.board.mcu.region(project.board.dct.copies[0]).start
    phdr = {"p_type": PT_LOAD, "p_vaddr": start, "p_paddr": start, "p_memsz": len(dct), "p_flags": PF_R | PF_W,
            "p_align": 4}
    return build_elf([(phdr, dct)], entry=0)


def _check_app_placement(project: Project, name: str, loaded: LoadedInput) -> None:
    """A stored app is copied into internal flash by its segments' physical addresses: they must fall in the app
    region (or in SRAM, which the loader also accepts)."""
    mcu = project.board.mcu
    app = mcu.region(project.board.sflash.app_region)
    for seg in loaded.segments:
        if seg.address >= mcu.sram_base and seg.end <= mcu.sram_base + mcu.sram_size:
            continue
        if not app.contains(seg.address, len(seg.data)):
            raise PlacementError(
                f"[sflash] {name}: segment at 0x{seg.address:08X} ({hexsize(len(seg.data))}) would load outside "
                f"the app region 0x{app.start:08X}-0x{app.end - 1:08X}", loaded.source.file)


def _component(project: Project, name: str, spec: InputSpec | str, dct: bytes, dct_source: Source,
               room: int | None) -> tuple[Piece, Source]:
    """The bytes stored for one LUT component. `room` is the most a folder-built filesystem may take."""
    if spec == GENERATED:
        return dct_image_elf(project, dct), dct_source
    assert isinstance(spec, InputSpec)
    if name == "filesystem" and is_dir(spec.path):
        from .wicedfs import build_image

        image = build_image(spec.path, max_size=room)
        return image, Source(spec.display, hashlib.sha256(image).hexdigest())
    if name in APP_COMPONENTS:
        loaded = load_input(spec.path, spec.display, fmt=spec.format or "elf")
        _check_app_placement(project, name, loaded)
        return stored_app_elf(loaded), loaded.source
    if name == "dct_image":
        loaded = load_input(spec.path, spec.display, fmt="elf")
        start = project.board.mcu.region(project.board.dct.copies[0]).start
        if len(loaded.segments) != 1 or loaded.segments[0].address != start:
            raise InputError(f"a DCT image must be an ELF with one loadable segment at 0x{start:08X}", spec.display)
        return loaded.raw, loaded.source
    # other raw components (filesystem, Wi-Fi firmware: often MiBs) go from their file to sflash.bin in blocks
    raw = file_bytes(spec.path, spec.display)
    if name == "filesystem":
        from .wicedfs import detect

        if not detect(raw.head(BLOCK)):  # the headers are at the start (mk_wicedfs: root directory right after)
            raise InputError("not a WicedFS image (expected magic 'BRCM', version 1 at offset 0)", spec.display)
    return raw, Source(raw.display, raw.sha256)


def _room(project: Project, sizes: list[int]) -> int | None:
    """The largest component that still fits the chip after components of `sizes` (by the layout's sector rule);
    None when those alone overflow it (placement then reports the whole overflow)."""
    sf = project.board.sflash
    free = project.chip.size // sf.sector_size - sf.apps_start_sector - sum(sf.sector_count(n) for n in sizes)
    return free * sf.sector_size - (1 if sf.sector_count_rule == "sdk" else 0) if free > 0 else None


def make_bundle(project: Project, *, hex_skip_fill: bool | None = None, sign_key: Path | None = None,
                equipment: Sequence[str] | None = None) -> Bundle:
    """Build both images, the artefacts (as streams) and the manifest. Raises before anything is written.
    `equipment`: the job sheet's expected checksum per chip (jobsheet.parse_equipment; default bundle.toml's)."""
    board = project.board
    dct, dct_source, dct_crc_field = _dct(project)
    dct1 = board.mcu.region(board.dct.copies[0])
    parts = [Part(dct1.name, (Segment(dct1.start, dct),), dct_source)]
    for key, spec in project.mcu.items():
        region = board.mcu.region(key)
        loaded = load_input(spec.path, spec.display, address=region.start if spec.address is None else spec.address,
                            fmt=spec.format, bounds=(board.mcu.flash_base, board.mcu.flash_base + board.mcu.flash_size,
                                                     "the MCU flash"))
        if not loaded.segments:
            raise InputError("holds no loadable bytes", spec.display)
        parts.append(Part(key, loaded.segments, loaded.source))
    mcu = assemble_mcu(board.mcu, parts)

    # the filesystem folder is built last: its room is what the chip has left after the other components
    order = sorted(project.sflash, key=lambda name: name == "filesystem")
    components: dict[str, tuple[Piece, Source]] = {}
    for name in order:
        components[name] = _component(project, name, project.sflash[name], dct, dct_source,
                                      _room(project, [len(data) for data, _ in components.values()]))
    sflash = assemble_sflash(board.sflash, project.chip, {name: components[name] for name in project.sflash})
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
                                    signer=signer))
    files[MANIFEST] = manifest_bytes
    if signature is not None:
        from .signing import SIGNATURE_SUFFIX

        files[MANIFEST + SIGNATURE_SUFFIX] = signature
    return Bundle(project, dct, mcu, sflash, manifest, files, chosen)


def build_bundle(config: str | Path, out_dir: str | Path, *, hex_skip_fill: bool | None = None,
                 sign_key: Path | None = None, equipment: Sequence[str] | None = None) -> Bundle:
    """`bundle build`: load bundle.toml, build in memory, then publish every file into `out_dir` at once."""
    project = load_project(config)
    bundle = make_bundle(project, hex_skip_fill=hex_skip_fill, sign_key=sign_key, equipment=equipment)
    protected = [project.path, *project.input_paths(), *([sign_key] if sign_key else [])]
    publish(Path(out_dir), bundle.files, protected=protected)
    return bundle
