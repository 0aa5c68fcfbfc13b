"""manifest.json: what was built, from what, and the checksums to expect. Field names are a contract (issue 2)."""

from __future__ import annotations

import datetime
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from . import TOOL_NAME, __version__
from .checksums import Checksums, hex32
from .errors import ConfigError, InputError
from .layout import embed

if TYPE_CHECKING:  # types only: reading a manifest (inspect, the line kit) needs neither the config nor the images
    from .config import Project
    from .layout import Board, Chip
    from .image import Image
    from .stream import Content

MANIFEST_VERSION = 1
MANIFEST_FILE = "manifest.json"  # its name in a bundle folder


@dataclass(frozen=True)
class Artefact:
    """One output file and the image it holds."""

    file: str
    format: str  # "bin" | "hex"
    content: Content  # the image itself for a .bin, its HexText for a .hex
    image: Image
    hex_skip_fill: bool = False


def created_timestamp() -> str | None:
    """Only from SOURCE_DATE_EPOCH, so that the same inputs give the same manifest."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch is None:
        return None
    try:
        moment = datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc)
    except (ValueError, OverflowError, OSError):
        raise ConfigError(f"SOURCE_DATE_EPOCH={epoch!r}: expected a non-negative integer (seconds since 1970)") from None
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _region(image: Image, region: Any) -> dict[str, Any]:
    sums = Checksums.of(image.region_bytes(region))
    source = None if region.source is None else {"file": region.source.file, "sha256": region.source.sha256}
    return {"name": region.name, "offset": region.offset, "size": region.size,
            "sha256": sums.sha256, "crc32": hex32(sums.crc32), "source": source}


def artefact_entry(art: Artefact) -> dict[str, Any]:
    """One artefact's entry. Call within checksums.memoized(): a .bin and the .hex of the same image, the manifest
    and the job sheet then hash each image once."""
    img = art.image
    entry: dict[str, Any] = {
        "file": art.file, "kind": img.kind, "format": art.format, "base_address": img.base_address,
        "size": img.size, "fill": img.fill, **Checksums.of(art.content).as_dict(),
    }
    if art.format == "hex":
        entry["hex_skip_fill"] = art.hex_skip_fill
        entry["image"] = Checksums.of(img).as_dict()
    entry["regions"] = [_region(img, r) for r in img.regions]
    return entry


def make_manifest(project: Project, artefacts: list[Artefact], dct_used: bytes, dct_crc_field: int) -> dict[str, Any]:
    board, chip, mcu = project.board, project.chip, project.board.mcu
    doc: dict[str, Any] = {"manifest_version": MANIFEST_VERSION, "tool": {"name": TOOL_NAME, "version": __version__},
                           "name": project.name}
    created = created_timestamp()
    if created:
        doc["created"] = created
    product = {k: v for k, v in (("version", project.version), ("revision", project.revision)) if v is not None}
    if product:
        doc["product"] = product
    doc["board"] = {"name": board.name, "layout": board.id, "sdk": board.sdk, "mcu_part": mcu.part,
                    "flash_base": mcu.flash_base, "flash_size": mcu.flash_size}
    doc["chip"] = {"name": chip.name, "jedec_id": hex32(chip.jedec_id), "size": chip.size, "sector_size": chip.sector_size}
    doc["dct"] = {"address": mcu.region(board.dct.copies[0]).start, "used_size": len(dct_used),
                  "crc_mode": project.dct.get("crc", "sdk"), "crc32_field": hex32(dct_crc_field)}
    sflash = next(a.image for a in artefacts if a.image.kind == "sflash")
    doc["lut"] = [{"index": e.index, "name": e.name, "start_sector": e.start_sector, "sector_count": e.sector_count,
                   "secure": e.secure} for e in sflash.lut or []]
    doc["artefacts"] = [artefact_entry(a) for a in artefacts]
    doc["layouts"] = embed(board, chip)  # the bundle reads back without the layout files (layout.from_manifest)
    return doc


def product_label(doc: Mapping[str, Any]) -> str:
    """"<name> version 1.4.2 (revision abc123)": which release a manifest's images are, as the job sheet, inspect
    and the line kit's logs print it."""
    product = doc.get("product") or {}
    version = product.get("version")
    text = f"{doc.get('name', '?')} version {version}" if version else f"{doc.get('name', '?')} (version not recorded)"
    return text + (f" (revision {product['revision']})" if product.get("revision") else "")


def dumps(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2) + "\n"


def schema() -> dict[str, Any]:
    # next to this module (as layout.py finds layouts/): importlib.resources would add ~4 ms to every inspect
    return json.loads((Path(__file__).parent / "schemas" / "manifest.schema.json").read_text(encoding="utf-8"))


def load(path: Path) -> tuple[dict[str, Any], str]:
    """Read and validate a manifest.json: (the document, the SHA-256 of the file). Any problem is a one-line
    InputError naming the file."""
    from .inputs import MAX_TEXT_BYTES, parse_json, read_file

    raw, source = read_file(path, max_size=MAX_TEXT_BYTES)
    doc = parse_json(raw, path)
    validate(doc, str(path))
    return doc, source.sha256


def load_with_layouts(path: Path) -> tuple[dict[str, Any], str, Board, Chip, list[str]]:
    """`load`, plus the board and chip the bundle was built with (`layout.from_manifest`: the embedded layouts)
    and the notes on installed layouts of the same name that differ, which are also given as warnings."""
    import warnings

    from .layout import from_manifest

    doc, digest = load(path)
    board, chip, notes = from_manifest(doc, path)
    for note in notes:
        warnings.warn(note, stacklevel=2)
    return doc, digest, board, chip, notes


_validator: Any = None  # the compiled schema, built at the first validate()


def validate(doc: Any, name: str = "manifest") -> None:
    """Raise InputError if `doc` does not follow the manifest schema.

    The check is jsonschema-rs (Rust, full draft 2020-12: ~15 ms to import, <1 ms to build and run, where
    jsonschema costs ~60 ms per command). Only an invalid document loads jsonschema, whose best_match names the
    most relevant error (inside a oneOf, the failing field rather than the whole alternative)."""
    global _validator
    if _validator is None:
        import jsonschema_rs

        _validator = jsonschema_rs.Draft202012Validator(schema())
    if _validator.is_valid(doc):
        return
    import jsonschema

    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema()).iter_errors(doc))
    if error is not None:
        path, message = error.absolute_path, error.message
    else:  # only jsonschema-rs objects: ECMA-262 `$` refuses a trailing newline that Python's re lets through
        first = next(iter(_validator.iter_errors(doc)))
        path, message = first.instance_path, first.message
    where = "/".join(str(p) for p in path) or "(top level)"
    raise InputError(f"not a valid manifest at {where}: {message}", name)
