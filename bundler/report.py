"""Rendering of `bundle inspect` reports (`bundler.inspect.inspect_paths`): rich tables on a terminal, the same
tables as plain aligned text otherwise (pipes, CI logs), or one JSON document.

The report is rendered as a list of blocks (headings, key/value lines, tables) so both text forms show the same
content. Secrets never reach this module: the DCT decoder has already replaced them with {"redacted", "length"}.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from typing import Any, TextIO

from .errors import hexsize, inert
from .manifest import product_label


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)


Block = str | Table  # a str is a line of text; a line starting with "# " is a heading


def render(report: dict[str, Any], *, as_json: bool = False, file: TextIO | None = None,
           terminal: bool | None = None, quiet: bool = False) -> None:
    """Print `report` to `file` (stdout): JSON, rich tables (terminal) or plain text."""
    out = Renderer(as_json=as_json, file=file, terminal=terminal, quiet=quiet)
    out.begin(report)
    for f in report["files"]:
        out.file(f)
    out.end(report)


class Renderer:
    """Prints an inspect report while it is made (`inspect_paths(..., listener=)`): the manifest line first, each
    file's blocks as soon as that file is done, the summary last. JSON is one document, printed at the end.
    `quiet`: one verdict line per file, then the summary line."""

    def __init__(self, *, as_json: bool = False, file: TextIO | None = None, terminal: bool | None = None,
                 quiet: bool = False) -> None:
        self.out = file or sys.stdout
        self.as_json, self.quiet = as_json, quiet
        self.tty = terminal if terminal is not None else (hasattr(self.out, "isatty") and self.out.isatty())
        self._console: Any = None
        self._printed = False

    def begin(self, head: dict[str, Any]) -> None:
        """`head`: the report's "manifest" entry is all that is used."""
        if head.get("manifest") and not self.as_json:
            m = head["manifest"]
            self._print([f"manifest: {m['file']} ({product_label(m)}, sha256 {_short(m.get('sha256'))})"])

    def file(self, f: dict[str, Any]) -> None:
        if self.as_json:
            return
        self._print([_verdict(f)] if self.quiet else _file_blocks(f))

    def end(self, report: dict[str, Any]) -> None:
        if self.as_json:
            _write(self.out, to_json(report))
            return
        blocks: list[Block] = []
        if len(report["files"]) > 1 and not self.quiet:
            blocks += ["", _summary_table(report["files"])]
        blocks += _tail_blocks(report)
        self._print(blocks)

    def _print(self, blocks: list[Block]) -> None:
        if self.tty:
            if self._console is None:
                self._console = _console(self.out)
            _rich(blocks, self._console)
        else:
            _write(self.out, plain_text(blocks, first=not self._printed))
            if hasattr(self.out, "flush"):
                self.out.flush()
        self._printed = True


def _write(out: TextIO, text: str) -> None:
    """Write, degrading characters the stream's encoding lacks (a Latin-1 console) instead of failing."""
    try:
        out.write(text)
    except UnicodeEncodeError:
        enc = getattr(out, "encoding", None) or "ascii"
        out.write(text.encode(enc, "replace").decode(enc))


def to_json(report: dict[str, Any]) -> str:
    return json.dumps(report, indent=2, default=_json_default) + "\n"


def _json_default(value: Any) -> Any:
    """Last-resort spelling for a value the report should not hold (so output never fails)."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"hex": bytes(value).hex()}
    return str(value)


# --------------------------------------------------------------------------------------------------- content


def _hx(v: Any, width: int = 8) -> str:
    return f"0x{v:0{width}X}" if isinstance(v, int) and not isinstance(v, bool) else "-" if v is None else str(v)


def _yn(v: Any) -> str:
    return "-" if v is None else "yes" if v else "no"


def _short(sha: Any) -> str:
    return f"{sha[:16]}…" if isinstance(sha, str) and len(sha) > 16 else "-" if sha is None else str(sha)


_STATUS = {"ok": "OK", "fail": "FAIL", "error": "ERROR"}


def _first_problem(f: dict[str, Any]) -> dict[str, Any] | None:
    bad = [x for sev in ("error", "fail") for x in f["findings"] if x["severity"] == sev]
    return next((x for x in bad if x["code"] != "image_checksum"), bad[0] if bad else None)


def _summary_table(files: list[dict[str, Any]]) -> Table:
    t = Table("summary", ["file", "kind", "artefact", "status", "first problem"])
    for f in files:
        worst = _first_problem(f)
        v = f.get("verification") or {}
        t.rows.append([f["file"], f.get("kind") or "?", v.get("artefact") or "-", _STATUS[f["status"]],
                       worst["message"] if worst else "-"])
    return t


def _verdict(f: dict[str, Any]) -> str:
    """--quiet: the file, what it is, its status and its first problem, on one line."""
    worst = _first_problem(f)
    v = f.get("verification") or {}
    against = f" vs {v['artefact']}" if v.get("artefact") else ""
    return (f"{_STATUS[f['status']]:5}  {f['file']}: {f.get('kind') or 'unknown'}{against}"
            + (f" — {worst['message']}" if worst else ""))


def _tail_blocks(report: dict[str, Any]) -> list[Block]:
    s = report["summary"]
    blocks: list[Block] = [f"# {s['files']} file(s): {s['ok']} ok, {s['failed']} failed, {s['errors']} not "
                           f"understood -> exit {report['exit_code']}"]
    if report.get("error"):
        blocks.append(f"error: {report['error']}")
    return blocks


def _file_blocks(f: dict[str, Any]) -> list[Block]:
    status = _STATUS[f["status"]]
    b: list[Block] = [f"# {f['file']}: {f.get('kind') or 'unknown'} ({f.get('format') or '?'}) — {status}"]
    if f.get("size") is not None:
        line = f"file {hexsize(f['file_size'])}  crc32 {f['crc32']}  sum32 {f['sum32']}  sha256 {f['sha256']}"
        b.append(line)
        if f.get("format") == "hex":
            im = f["image"]
            b.append(f"image from 0x{f['base_address']:08X}: {hexsize(im['size'])}  crc32 {im['crc32']}  "
                     f"sum32 {im['sum32']}  sha256 {im['sha256']}")
    if f.get("detected_because"):
        b.append(f"kind from {f.get('kind_source') or 'content'}: {f['detected_because']}")
    if "mcu" in f:
        b.extend(_mcu_blocks(f["mcu"]))
    if "sflash" in f:
        b.extend(_sflash_blocks(f["sflash"]))
    if "dct" in f:
        d = f["dct"]
        if d.get("elf"):
            b.extend(_elf_blocks("DCT image ELF", d["elf"]))
        if d.get("copy"):
            b.extend(_dct_blocks([d["copy"]], None, d.get("boot")))
    if "app" in f:
        b.extend(_elf_blocks("stored app (ELF)", f["app"]))
    if "filesystem" in f:
        b.extend(_fs_blocks("filesystem", f["filesystem"]))
    if "wifi_firmware" in f:
        w = f["wifi_firmware"]
        b.append(f"Wi-Fi firmware: {hexsize(w['size'])}, sha256 {w['sha256']}")
    if f.get("verification"):
        b.extend(_verification_blocks(f["verification"]))
    if f["findings"]:
        t = Table("findings", ["severity", "code", "message"])
        for x in f["findings"]:
            t.rows.append([x["severity"], x["code"], x["message"]])
        b.append(t)
    return b


def _mcu_blocks(m: dict[str, Any]) -> list[Block]:
    t = Table("MCU flash regions", ["region", "range", "size", "used", "erased", "crc32", "sha256"])
    for r in m["regions"]:
        t.rows.append([r["name"], f"0x{r['address']:08X}-0x{r['address'] + r['size'] - 1:08X}", hexsize(r["size"]),
                       str(r["used_size"]), _yn(r["erased"]), r["crc32"], _short(r["sha256"])])
    out: list[Block] = [t]
    d = m["dct"]
    out.extend(_dct_blocks(d["copies"], d["current"], d.get("boot")))
    v = Table("vector tables", ["table", "address", "initial SP", "SP in SRAM", "reset handler", "Thumb",
                                "reset in region"])
    for name, x in m["vectors"].items():
        if x is None:
            v.rows.append([name, "-", "-", "-", "-", "-", "- (erased)"])
        else:
            v.rows.append([name, _hx(x["address"]), _hx(x["initial_sp"]), _yn(x["sp_in_sram"]),
                           _hx(x["reset_handler"]), _yn(x["thumb"]), _yn(x["reset_in_region"])])
    out.append(v)
    return out


def _dct_blocks(copies: list[dict[str, Any]], current: dict[str, Any] | None, boot: dict[str, Any] | None) -> list[Block]:
    t = Table("DCT copies", ["copy", "region", "state", "valid", "sequence", "initial_write", "write_incomplete",
                             "crc32 stored", "crc32 computed", "reason"])
    for c in copies:
        h = c.get("header") or {}
        v = c.get("dct_version") or h  # 3.7.0: sequence and initial_write are in platform_dct_version_t
        crc = c.get("crc") or {}
        t.rows.append([str(c["copy"]), f"{c['region']} @0x{c['address']:08X}", c["state"], _yn(c["valid"]),
                       str(v.get("sequence", "-")), str(v.get("initial_write", "-")), str(h.get("write_incomplete", "-")),
                       crc.get("stored", "-"), crc.get("computed", "-"), c["reason"]])
    out: list[Block] = [t]
    found = [f"copy {c['copy']} is {c['generation']['sdk']} ({c['generation']['evidence']})"
             for c in copies if c.get("generation")]
    layout = [f"the layout's bootloader is SDK {current['sdk']} (DCT generation {current['generation']}, "
              f"{current['header_size']}-byte header, copy chosen by {current['copy_rule']})"] \
        if current and "generation" in current else []
    if found or layout:
        out.append("generation: " + "; ".join(layout + found))
    if current is not None:
        out.append(f"current DCT copy: {current['copy'] if current['copy'] else 'none'} — {current['reason']}")
    used = next((c for c in copies if current and c["copy"] == current["copy"]), copies[0] if copies else None)
    if used and used.get("header"):
        h = used["header"]
        a = Table(f"apps_locations (DCT copy {used['copy']})", ["index", "id", "location", "size / file"])
        for i, loc in enumerate(h["apps_locations"]):
            extra = loc.get("filesystem_filename") or (f"hex {loc['detail']['hex'][:16]}…" if "detail" in loc else
                                                       str(loc.get("size", "-")))
            a.rows.append([str(i), str(loc.get("id")), _hx(loc.get("location")), extra])
        out.append(a)
    if boot:
        out.append(f"next boot: {boot['summary']}")
        out.extend(f"3.5.2 device: {fact}" for fact in boot.get("device_facts", []))
    if used and used.get("decoded"):
        out.append(_dct_fields_table(used["decoded"], used["copy"]))
    return out


def _dct_fields_table(model: dict[str, Any], copy: int) -> Table:
    """DCT sections other than the header, non-empty values only (secrets appear as <redacted, n bytes>)."""
    from .dct.toml_out import flatten

    import re

    t = Table(f"DCT copy {copy} settings (non-empty fields)", ["field", "value"])
    rows = flatten({k: v for k, v in model.items() if k not in ("header", "crc")})
    # stored_ap_list entries without an SSID are unused slots: skip them whole
    used_aps = {m.group(1) for key, value in rows if (m := re.match(r"(.*stored_ap_list\[\d+\])\.SSID$", key))
                and value != '""'}
    for key, value in rows:
        ap = re.match(r"(.*stored_ap_list\[\d+\])\.", key)
        if ap and ap.group(1) not in used_aps:
            continue
        if value in ('""', "0", "false", "False", '"00:00:00:00:00:00"', "0x00000000", "<redacted, 0 bytes>"):
            continue
        t.rows.append([key, value])
    return t


def _sflash_blocks(s: dict[str, Any]) -> list[Block]:
    chip = s.get("chip") or {}
    out: list[Block] = [f"serial flash: chip {chip.get('name')} ({hexsize(chip.get('size', 0))}), LUT at "
                        f"0x{s['lut_address']:X}, headers located by {s['located_by']}"]
    t = Table("apps look-up table", ["index", "name", "header at", "moved", "count", "secure", "sector runs"])
    for e in s["entries"]:
        runs = ", ".join(f"{r['start_sector']}+{r['sector_count']} (0x{r['address']:06X}-0x{r['address'] + r['size'] - 1:06X})"
                         + (" PAST CHIP" if r["past_chip"] else "") for r in e["runs"]) or e.get("note", "-")
        moved = f"yes ({e['located_by']})" if e["relocated"] else "no"
        t.rows.append([str(e["index"]), e["name"], _hx(e["header_address"], 4), moved, str(e["count"]),
                       str(e["secure"]), runs])
    out.append(t)
    if s["extra_header_slots"]:
        x = Table("header slots after the 8th", ["slot", "address", "count", "runs", "used by"])
        for slot in s["extra_header_slots"]:
            runs = ", ".join(f"{r['start_sector']}+{r['sector_count']}" for r in slot["runs"])
            who = slot["used_by"] or "none"
            x.rows.append([str(slot["slot"]), _hx(slot["address"], 4), str(slot["count"]), runs, who])
        out.append(x)
    c = Table("components", ["index", "name", "kind", "address", "size", "crc32", "sha256", "content"])
    for comp in s["components"]:
        c.rows.append([str(comp["index"]), comp["name"], comp["kind"], _hx(comp["address"], 6),
                       str(comp["size"]), comp.get("crc32") or "-", _short(comp.get("sha256")), _content(comp)])
    out.append(c)
    for comp in s["components"]:
        if comp.get("elf") and comp["kind"] == "app":
            out.extend(_elf_blocks(f"{comp['name']} (stored ELF)", comp["elf"]))
        if comp.get("dct"):
            out.extend(_dct_blocks([comp["dct"]], None, None))
        if comp.get("filesystem"):
            out.extend(_fs_blocks(comp["name"], comp["filesystem"]))
    if s["unused_not_erased"]:
        out.append("unused but not erased sectors: " + ", ".join(
            f"{u['first_sector']}-{u['last_sector']}" for u in s["unused_not_erased"]))
    return out


def _content(comp: dict[str, Any]) -> str:
    if comp["kind"] == "app":
        e = comp["elf"]
        return f"entry {_hx(e.get('e_entry'))}, {len(e.get('segments', []))} program headers" if e.get("valid") else "not an ELF"
    if comp["kind"] == "dct_image":
        d = comp.get("dct")
        return f"DCT, {'valid' if d and d['valid'] else 'NOT valid'} as copy 1" if d else "no DCT segment"
    if comp["kind"] == "filesystem":
        fs = comp["filesystem"]
        return f"{sum(not x['is_dir'] for x in fs['files'])} files" if fs["valid"] else "not a WicedFS image"
    if comp["kind"] == "blob":
        return f"raw ({comp.get('size_from')})"
    return comp["kind"]


def _elf_blocks(title: str, e: dict[str, Any]) -> list[Block]:
    if not e.get("valid") and "segments" not in e:
        return [f"{title}: not a valid ELF"]
    out: list[Block] = [f"{title}: entry {_hx(e.get('e_entry'))} (Thumb {_yn(e.get('entry_thumb'))}), "
                        f"{e.get('e_phnum')} program headers at 0x{e.get('e_phoff', 0):X}, stored size {e.get('size')}"]
    t = Table(f"{title} program headers", ["#", "type", "offset", "paddr (load)", "vaddr", "filesz", "memsz", "loaded",
                                            "sha256"])
    for s in e.get("segments", []):
        ptype = {1: "LOAD", 0x70000001: "ARM_EXIDX"}.get(s["p_type"], _hx(s["p_type"]))
        t.rows.append([str(s["index"]), ptype, _hx(s["p_offset"]), _hx(s["p_paddr"]), _hx(s["p_vaddr"]),
                       str(s["p_filesz"]), str(s["p_memsz"]), _yn(s["loaded"]), _short(s["sha256"])])
    out.append(t)
    if e.get("segments_not_listed"):
        out.append(f"... and {e['segments_not_listed']} more program headers")
    if e.get("vectors"):
        v = e["vectors"]
        out.append(f"vector table at {_hx(v['address'])}: initial SP {_hx(v['initial_sp'])} (in SRAM "
                   f"{_yn(v['sp_in_sram'])}), reset {_hx(v['reset_handler'])} (Thumb {_yn(v['thumb'])}, in region "
                   f"{_yn(v['reset_in_region'])})")
    return out


def _fs_blocks(title: str, fs: dict[str, Any]) -> list[Block]:
    if not fs["valid"]:
        return [f"{title}: not a readable WicedFS image"]
    t = Table(f"{title}: WicedFS files", ["path", "size", "offset", "sha256"])
    for x in fs["files"]:
        t.rows.append([x["path"] + ("/" if x["is_dir"] else ""), "-" if x["is_dir"] else str(x["size"]),
                       _hx(x["offset"], 6), _short(x["sha256"])])
    return [t]


def _verification_blocks(v: dict[str, Any]) -> list[Block]:
    out: list[Block] = [f"verification against {v.get('artefact')}: {v['result'].upper()}"]
    if v.get("region") is not None:
        out[-1] += f" (region {v['region']})"
    if "expected" in v:
        out.append(f"image crc32 {v['actual']['crc32']} (expected {v['expected']['crc32']}), sha256 "
                   f"{_short(v['actual']['sha256'])} (expected {_short(v['expected']['sha256'])})")
    if v.get("regions"):
        t = Table("regions", ["region", "offset", "address", "size", "status", "crc32", "expected crc32",
                              "first difference"])
        for r in v["regions"]:
            fd = r.get("first_difference")
            t.rows.append([r["name"], _hx(r["offset"], 6), _hx(r["address"]), str(r["size"]), r["status"],
                           (r.get("actual") or {}).get("crc32", "-"), r["expected"]["crc32"],
                           f"{_hx(fd['address'])}" if fd else "-"])
        out.append(t)
    o = v.get("outside_regions")
    if o:
        out.append(f"outside the regions: {o['non_fill_bytes']} byte(s) not 0x{o['fill']:02X}")
    return out


# --------------------------------------------------------------------------------------------------- backends


def inert_blocks(blocks: list[Block]) -> list[Block]:
    """Every line, title and cell with its control characters escaped: names, paths and manifest fields come from
    the inputs, and a crafted one must not move the cursor, recolour or paint fake lines on the terminal."""
    return [Table(inert(b.title), [inert(c) for c in b.columns], [[inert(c) for c in row] for row in b.rows])
            if isinstance(b, Table) else inert(b) for b in blocks]


def plain_text(blocks: list[Block], first: bool = True) -> str:
    """The blocks as aligned text; `first`: nothing was printed before (no blank line before the first heading)."""
    lines: list[str] = []
    for blk in inert_blocks(blocks):
        if isinstance(blk, Table):
            lines.append(f"{blk.title}:")
            widths = [len(c) for c in blk.columns]
            for row in blk.rows:
                widths = [max(w, len(cell)) for w, cell in zip(widths, row)]
            for row in [blk.columns, *blk.rows]:
                cells = [cell.ljust(w) for cell, w in zip(row, widths)]
                lines.append("  " + "  ".join(cells).rstrip())
        elif blk.startswith("# "):
            lines.append("")
            lines.append(blk[2:])
        else:
            lines.append(blk)
    text = "\n".join(lines) + "\n"
    return text.lstrip("\n") if first else text


def _console(out: TextIO) -> Any:
    from rich.console import Console

    console = Console(file=out, highlight=False)
    # the tables are wide; no emoji codes or markup come from the inputs (":x:" in a name stays text)
    return Console(file=out, highlight=False, emoji=False, width=max(console.width, 132))


def _rich(blocks: list[Block], console: Any) -> None:
    from rich.markup import escape
    from rich.table import Table as RichTable

    from rich import box

    for blk in inert_blocks(blocks):
        if isinstance(blk, Table):
            t = RichTable(title=escape(blk.title), title_justify="left", show_lines=False, box=box.SIMPLE_HEAD)
            for col in blk.columns:
                t.add_column(escape(col), overflow="fold")
            for row in blk.rows:
                t.add_row(*(escape(c) for c in row))
            console.print(t)
        elif blk.startswith("# "):
            console.rule(escape(blk[2:]), align="left")
        else:
            console.print(escape(blk))
