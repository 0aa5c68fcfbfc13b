"""JOBSHEET.md: the job sheet model rendered as Markdown (footnotes as [^n])."""

from __future__ import annotations

import re

from .equipment import SOURCES
from .model import MEMORY_MAP_SVG, SIGN_OFF, JobSheet, basis, other_rows, units_note, used_sources


def _md_cell(text: str, numbers: dict[str, int]) -> str:
    text = re.sub(r"\{fn:([a-z0-9-]+)\}", lambda m: f"[^{numbers[m.group(1)]}]", text)
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(sheet: JobSheet) -> str:
    numbers = {k: i + 1 for i, k in enumerate(used_sources(sheet))}
    out = [f"# {sheet.title}", ""]
    out += ["| | |", "|---|---|"] + [f"| {k} | {_md_cell(v, numbers)} |" for k, v in sheet.intro] + [""]
    out += ["## Programming order", ""] + [f"{i}. {_md_cell(t, numbers)}" for i, t in enumerate(sheet.order, 1)]
    out.append("")
    for n, chip in enumerate(sheet.chips, 1):
        e = chip.expected
        out += [f"## {n}. {chip.heading}", "", "| | |", "|---|---|",
                f"| Part to select | {_md_cell(chip.select(), numbers)} |"]
        if chip.alternatives:
            out.append(f"| Also supported by this layout, not this build | "
                       f"{'; '.join(_md_cell(p, numbers) for p in chip.alternatives)} |")
        out += [f"| {k} | {_md_cell(v, numbers)} |" for k, v in chip.facts]
        if e is not None:
            out += ["", f"### Expected checksum: **`{e.value}`**", "",
                    f"{_md_cell(basis(chip), numbers)}; of {' and '.join(f'`{f}`' for f in e.row.values)}.",
                    *([f"{units_note(chip)}"] if units_note(chip) else [])]
        out += ["", "Other checksum forms (section \"Checksum forms\" says who shows which):", "",
                "| Form | " + " | ".join(f"`{f}`" for f in chip.files) + " |", "|---|" + "---|" * len(chip.files)]
        for row in other_rows(chip):
            out.append(f"| {_md_cell(row.label, numbers)} | "
                       + " | ".join(f"`{row.values.get(f, '-')}`" for f in chip.files) + " |")
        out += ["", "### Sign-off", "", "| | |", "|---|---|"] + [f"| {k} | |" for k in SIGN_OFF] + [""]
    for n, chip in enumerate(sheet.chips, 1):
        out += [f"## {n}. {chip.heading}: checksum forms and records", "", "### Checksum forms", "",
                "| Form | " + " | ".join(f"`{f}`" for f in chip.files) + " | Shown by |",
                "|---|" + "---|" * len(chip.files) + "---|"]
        for row in chip.rows:
            vals = " | ".join(f"`{row.values.get(f, '-')}`" for f in chip.files)
            out.append(f"| {_md_cell(row.label, numbers)} | {vals} | {_md_cell(row.shown_by, numbers)} |")
        out += ["", "Definitions and how to reproduce:", ""]
        for row in chip.rows:
            out.append(f"- **{_md_cell(row.label, numbers)}**: {_md_cell(row.definition, numbers)}.")
            if row.reproduce:
                out.append(f"  `{row.reproduce}`")
        if chip.per_unit:
            out += ["", "### Per-unit ranges (differ on every unit)", "",
                    "| Name | Address | Size | Inside |", "|---|---|---|---|"]
            out += [f"| {' | '.join(_md_cell(c, numbers) for c in r)} |" for r in chip.per_unit]
        out += ["", "### Written regions", "", "| Region | Addresses | Size written | CRC-32 | Source |",
                "|---|---|---|---|---|"]
        out += [f"| {' | '.join(_md_cell(c, numbers) for c in r)} |" for r in chip.regions]
        if chip.lut:
            out += ["", "### Apps look-up table (LUT) entries", "", "| Index | Component | Start sector | Sectors | Address |",
                    "|---|---|---|---|---|"]
            out += [f"| {' | '.join(r)} |" for r in chip.lut]
        out.append("")
    out += ["## Memory map", "", f"![Memory map]({MEMORY_MAP_SVG})", "", "## Notes", ""]
    out += [f"- {_md_cell(n, numbers)}" for n in sheet.notes]
    out += ["", "## Sources", ""]
    out += [f"[^{numbers[k]}]: {SOURCES[k]}" for k in numbers]
    return "\n".join(out) + "\n"
