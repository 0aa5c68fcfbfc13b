"""The job sheet's output files: JOBSHEET.md, jobsheet.html and memory-map.svg as bytes for a build's outputs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..checksums import Data
from .html_out import render_html
from .markdown import render_markdown
from .model import JOBSHEET_HTML, JOBSHEET_MD, MEMORY_MAP_SVG, build_jobsheet

if TYPE_CHECKING:
    from ..layout import Board


def jobsheet_files(manifest: Mapping[str, Any], files: Mapping[str, Data], board: Board | None = None, *,
                   equipment: Sequence[str] = (), signer: str | None = None,
                   device_notes: Sequence[str] = ()) -> dict[str, bytes]:
    """JOBSHEET.md, jobsheet.html and memory-map.svg as bytes, ready to add to a build's outputs. `files` must hold
    the artefacts and the final manifest.json (build_jobsheet)."""
    from ..svgmap import svg_from_manifest

    sheet = build_jobsheet(manifest, files, board, equipment=equipment, signer=signer,
                           device_notes=device_notes)
    return {
        JOBSHEET_MD: render_markdown(sheet).encode("utf-8"),
        JOBSHEET_HTML: render_html(sheet).encode("utf-8"),
        MEMORY_MAP_SVG: svg_from_manifest(manifest, board, xml_declaration=True).encode("utf-8"),
    }
