"""jobsheet.html: the job sheet model rendered as one self-contained page (inline CSS, inline SVG map), one printed
page per chip."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from .equipment import SOURCES, VERIFY
from .model import SIGN_OFF, JobSheet, basis, other_rows, units_note, used_sources

# Print: the header and programming order on page 1, then exactly one page per chip (parts, file, the expected
# number, the other forms, the sign-off block), then the reference pages (who shows which form, regions, map).
_CSS = """
body{font:14px/1.45 'DejaVu Sans',Arial,sans-serif;color:#222;max-width:1120px;margin:24px auto;padding:0 16px}
h1{font-size:22px;margin:0 0 12px}h2{font-size:18px;margin:28px 0 8px;border-bottom:2px solid #2471a3}
h3{font-size:15px;margin:18px 0 6px}
table{border-collapse:collapse;margin:6px 0 10px;width:100%}
th,td{border:1px solid #bbb;padding:4px 7px;vertical-align:top;text-align:left}
th{background:#eef2f5}td.v{font-family:'DejaVu Sans Mono',Consolas,monospace;overflow-wrap:anywhere;min-width:10ch}
table.sums td:first-child{width:15%}table.sums td:last-child{width:42%}
td.k{width:190px;font-weight:bold;background:#f7f9fa}
code{font-family:'DejaVu Sans Mono',Consolas,monospace;font-size:12px;background:#f3f3f3;padding:1px 3px}
.verify{color:#a04000;font-weight:bold}.map{overflow-x:auto;border:1px solid #ddd;margin:8px 0}
ol.src li{font-size:12px;margin-bottom:4px}sup a{text-decoration:none}
.expect{border:3px solid #222;padding:8px 12px;margin:10px 0}
.expect .big{font:bold 34px/1.2 'DejaVu Sans Mono',Consolas,monospace;letter-spacing:1px;display:block;margin:4px 0}
.part{font-size:17px;font-weight:bold}.also{color:#555}
table.signoff td{height:30px}table.signoff td.k{width:220px}
@page{size:A4;margin:12mm}
@media print{
body{font-size:10.5px;max-width:none;margin:0;padding:0}
h1{font-size:17px}h2{font-size:14px;margin:0 0 6px}h3{font-size:12px;margin:8px 0 4px}
th,td{padding:2px 5px}code{font-size:9px}td.k{width:150px}
section.chip,section.reference{break-before:page;page-break-before:always}
section.chip{break-inside:avoid;page-break-inside:avoid}
table.signoff td{height:26px}.map{border:none;overflow:visible}.map svg{max-width:100%;height:auto}
}
"""


def _h(text: str, numbers: dict[str, int]) -> str:
    out = html.escape(text, quote=True)
    out = out.replace(html.escape(VERIFY), f'<span class="verify">{html.escape(VERIFY)}</span>')
    return re.sub(r"\{fn:([a-z0-9-]+)\}",
                  lambda m: f'<sup><a href="#src-{numbers[m.group(1)]}">[{numbers[m.group(1)]}]</a></sup>', out)


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], numbers: dict[str, int],
           mono: Sequence[int] = (), cls: str = "") -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    mono_td = '<td class="v">'
    body = "".join("<tr>" + "".join(f"{mono_td if i in mono else '<td>'}{_h(c, numbers)}</td>"
                                    for i, c in enumerate(r)) + "</tr>" for r in rows)
    attr = f' class="{cls}"' if cls else ""
    return f"<table{attr}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _facts(rows: Sequence[tuple[str, str]], numbers: dict[str, int], cls: str = "") -> str:
    body = "".join(f'<tr><td class="k">{html.escape(k)}</td><td>{_h(v, numbers)}</td></tr>' for k, v in rows)
    attr = f' class="{cls}"' if cls else ""
    return f"<table{attr}><tbody>{body}</tbody></table>"


def render_html(sheet: JobSheet) -> str:
    numbers = {k: i + 1 for i, k in enumerate(used_sources(sheet))}
    parts = ['<!DOCTYPE html>', '<html lang="en"><head><meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f"<title>{html.escape(sheet.title)}</title><style>{_CSS}</style></head><body>",
             f'<section class="header"><h1>{html.escape(sheet.title)}</h1>', _facts(sheet.intro, numbers),
             '<h2 id="order">Programming order</h2><ol class="order">'
             + "".join(f"<li>{_h(t, numbers)}</li>" for t in sheet.order) + "</ol></section>"]
    for n, chip in enumerate(sheet.chips, 1):
        e = chip.expected
        parts.append(f'<section class="chip" id="chip-{chip.kind}" data-kind="{chip.kind}">')
        parts.append(f"<h2>{n}. {html.escape(chip.heading)}</h2>")
        select = [("Part to select", chip.select())]
        if chip.alternatives:
            select.append(("Also supported by this layout, not this build", "; ".join(chip.alternatives)))
        body = "".join(f'<tr><td class="k">{html.escape(k)}</td><td class="{"part" if i == 0 else "also"}">'
                       f"{_h(v, numbers)}</td></tr>" for i, (k, v) in enumerate(select))
        parts.append(f'<table class="parts"><tbody>{body}</tbody></table>')
        parts.append(_facts(chip.facts, numbers))
        if e is not None:
            files = " and ".join(e.row.values)
            note = f"<br>{_h(units_note(chip), numbers)}" if units_note(chip) else ""
            parts.append(f'<div class="expect" data-family="{html.escape(e.family)}">Expected checksum '
                         f'({html.escape(files)}):<span class="big">{html.escape(e.value)}</span>'
                         f"{_h(basis(chip), numbers)}{note}</div>")
        parts.append("<h3>Other checksum forms</h3>")
        parts.append(_table(["Form", *chip.files], [[r.label, *(r.values.get(f, "-") for f in chip.files)]
                                                     for r in other_rows(chip)], numbers,
                            mono=range(1, 1 + len(chip.files)), cls="others"))
        parts.append("<h3>Sign-off</h3>")
        parts.append(_facts([(k, "") for k in SIGN_OFF], numbers, cls="signoff"))
        parts.append("</section>")
    for n, chip in enumerate(sheet.chips, 1):
        parts.append(f'<section class="reference" id="ref-{chip.kind}">')
        parts.append(f"<h2>{n}. {html.escape(chip.heading)}: checksum forms and records</h2>")
        rows = [[r.label, *(r.values.get(f, "-") for f in chip.files), r.shown_by] for r in chip.rows]
        parts.append("<h3>Checksum forms</h3>")
        parts.append(_table(["Form", *chip.files, "Shown by"], rows, numbers,
                            mono=range(1, 1 + len(chip.files)), cls="sums"))
        parts.append("<h3>Definitions and how to reproduce</h3><ul>")
        for r in chip.rows:
            cmd = f"<br><code>{html.escape(r.reproduce)}</code>" if r.reproduce else ""
            parts.append(f"<li><b>{html.escape(r.label)}</b>: {_h(r.definition, numbers)}.{cmd}</li>")
        parts.append("</ul>")
        if chip.per_unit:
            parts.append("<h3>Per-unit ranges (differ on every unit)</h3>")
            parts.append(_table(["Name", "Address", "Size", "Inside"], chip.per_unit, numbers, mono=(1,)))
        parts.append("<h3>Written regions</h3>")
        parts.append(_table(["Region", "Addresses", "Size written", "CRC-32", "Source"], chip.regions, numbers,
                            mono=(1, 3)))
        if chip.lut:
            parts.append("<h3>Apps look-up table (LUT) entries</h3>")
            parts.append(_table(["Index", "Component", "Start sector", "Sectors", "Address"], chip.lut, numbers,
                                mono=(4,)))
        parts.append("</section>")
    parts.append('<section class="reference" id="map-section"><h2 id="map">Memory map</h2>')
    parts.append(f'<div class="map">{sheet.svg}</div>')
    parts.append("<h2>Notes</h2><ul>" + "".join(f"<li>{_h(n, numbers)}</li>" for n in sheet.notes) + "</ul>")
    parts.append('<h2>Sources</h2><ol class="src">')
    parts += [f'<li id="src-{numbers[k]}">{html.escape(SOURCES[k])}</li>' for k in numbers]
    parts.append("</ol></section></body></html>")
    return "\n".join(parts) + "\n"
