"""What `bundle serialize` prints after a run: the numbers issued, the per-unit ranges, the checksums with them
excluded, the files; no DCT content besides serials and MACs."""

from __future__ import annotations

from ..checksums import hex32
from .result import UNITS_CSV, UNITS_DIR, SerializationResult


def summary_lines(result: SerializationResult) -> list[str]:
    """What the CLI prints: no DCT content besides serials and MACs."""
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
