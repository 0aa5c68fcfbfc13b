"""The programming-house job sheet: JOBSHEET.md and a self-contained jobsheet.html (inline CSS, inline SVG map).

One module per job (import from them directly; the names below are re-exported for callers of `bundler.jobsheet`):

- `equipment` programming equipment families, the checksum form each shows, and the published sources
- `forms`     the checksum forms (rows) of one chip's image and the srec_cat commands reproducing them
- `model`     the sheet as data, from the manifest and the artefacts' bytes (`build_jobsheet`)
- `markdown`  the model as JOBSHEET.md (`render_markdown`)
- `html_out`  the model as jobsheet.html (`render_html`)
- `files`     the three output files for a build (`jobsheet_files`)
"""

from .equipment import DEFAULT_EQUIPMENT, EQUIPMENT, SOURCES, VERIFY, Equipment, equipment_for, parse_equipment
from .files import jobsheet_files
from .forms import Row
from .html_out import render_html
from .markdown import render_markdown
from .model import JOBSHEET_HTML, JOBSHEET_MD, MEMORY_MAP_SVG, SIGN_OFF, ChipSheet, JobSheet, build_jobsheet

__all__ = ["DEFAULT_EQUIPMENT", "EQUIPMENT", "JOBSHEET_HTML", "JOBSHEET_MD", "MEMORY_MAP_SVG", "SIGN_OFF", "SOURCES",
           "VERIFY", "ChipSheet", "Equipment", "JobSheet", "Row", "build_jobsheet", "equipment_for",
           "jobsheet_files", "parse_equipment", "render_html", "render_markdown"]
