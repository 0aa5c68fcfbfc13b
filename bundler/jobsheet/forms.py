"""The checksum forms of one chip's image (a Row each: values per file, who shows it, how to reproduce with
srec_cat), computed once over the image (checksums.ProgrammerChecksums)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..checksums import Data, ProgrammerChecksums, crc32, hex32, merge_ranges, sha256, sum32_ranges
from ..writers import hex_data_spans
from .equipment import VERIFY

SLOT = 0x7FFF0000  # where the srec_cat commands on the sheet put a checksum (above any image here)


@dataclass
class Row:
    """One checksum form: its values per file, who shows it (text with {fn:key} markers) and how to reproduce."""

    label: str
    definition: str
    values: dict[str, str]
    shown_by: str
    reproduce: str = ""


def _srec(file: str, filters: str, big: str) -> str:
    """An srec_cat command printing a 4-byte result big-endian (reads as the value) via -hex-dump."""
    return (f"srec_cat {file} -binary {filters}{big} {SLOT:#x}{' 4 1' if 'checksum' in big else ''} "
            f"-crop {SLOT:#x} {SLOT + 4:#x} -o - -hex-dump")


def _crop_args(ranges: Sequence[tuple[int, int]]) -> str:
    return " ".join(f"{o:#x} {o + s:#x}" for o, s in merge_ranges(ranges))


def chip_rows(kind: str, image: Data, base: int, bin_name: str, hex_name: str | None, hex_text: Data | None,
               hex_skip_fill: bool, written: list[tuple[int, int]], excluded: list[tuple[int, int]],
               fill: int) -> list[Row]:
    sums = ProgrammerChecksums.of(image, written, excluded)
    files = [bin_name] + ([hex_name] if hex_name else [])

    def both(bin_value: str, hex_value: str | None = None) -> dict[str, str]:
        values = {bin_name: bin_value}
        if hex_name:
            values[hex_name] = bin_value if hex_value is None else hex_value
        return values

    # the data our .hex holds: every byte of the image, or its records that are not all fill (writers.intel_hex)
    file_sum_hex = None
    if hex_text is not None:
        held = sums.sum32_device if not hex_skip_fill else sum32_ranges(
            image, [(a, b - a) for a, b in hex_data_spans(image, base, fill)])
        file_sum_hex = hex32(held)
    mcu = kind == "mcu"
    dev_sum_by = ("Elnec PG4UW main checksum \"BYTE\" with the buffer covering the device{fn:elnec}; Dataman (32-bit "
                  "sum of all bytes{fn:dataman}; this row when the file covers the whole device); "
                  + ("ST-LINK Utility \"Memory checksum\" over the whole flash{fn:st-um0892}; STM32CubeProgrammer file "
                     "checksum (gaps as 0xFF, community report){fn:st-gaps}; " if mcu else "")
                  + f"Data I/O TaskLink RAM checksum covers the device range{{fn:dataio}} - algorithm: {VERIFY}")
    file_sum_by = ("ST-LINK Utility file checksum (only addresses present in the file, community report){fn:st-gaps}"
                   if mcu else "a .bin holds the whole device range: same number as the row above")
    dev_crc_by = ("Elnec PG4UW checksum calculator \"CRC-32\" with From/To = the device range{fn:elnec}"
                  + ("; SEGGER J-Flash computes a CRC (poly 0xEDB88320) over the selected sectors with unused bytes as "
                     "0xFF{fn:jflash-crc} - whether its start/final values match zlib's is not stated: " + VERIFY
                     if mcu else ""))
    file_crc_by = ((f"J-Flash logs a \"CRC of file\" on opening{{fn:jflash-log}} - algorithm not stated: {VERIFY}; "
                    if mcu else "") + "any crc32 tool (e.g. 7-Zip, Python zlib.crc32)")
    rows = [
        Row("Sum32, whole device range",
            f"32-bit sum of every byte of the device range, blank bytes counted as 0x{fill:02X}",
            both(hex32(sums.sum32_device)), dev_sum_by,
            _srec(bin_name, "", "-checksum-positive-b-e")),
        Row("Sum32, file data only",
            "32-bit sum of the bytes the file holds (a .bin holds the whole device range; a .hex holds the bytes of "
            "its data records)",
            both(hex32(sums.sum32_device), file_sum_hex), file_sum_by,
            f"srec_cat {hex_name} -intel -checksum-positive-b-e {SLOT:#x} 4 1 -crop {SLOT:#x} {SLOT + 4:#x} "
            f"-o - -hex-dump" if hex_name else ""),
        Row("CRC-32 (zlib), whole device range",
            f"zlib/IEEE CRC-32 (reflected 0x04C11DB7, init and final XOR 0xFFFFFFFF) of the device range with blank "
            f"bytes as 0x{fill:02X} - the same bytes as the .bin file",
            both(hex32(sums.crc32_device)), dev_crc_by,
            _srec(bin_name, "", "-crc32-b-e")),
        Row("CRC-32 (zlib) of the file as stored",
            "zlib CRC-32 of the file's bytes on disk (for a .hex: of its text) - a transfer check",
            both(hex32(sums.crc32_device), hex32(crc32(hex_text)) if hex_text is not None else None), file_crc_by),
        Row("CRC-32 (zlib), written part only",
            "zlib CRC-32 over the written regions (listed below) concatenated in ascending address order, the blank "
            "gaps between them skipped - what srec_cat's CRC-32 gives for data with holes{fn:srecord}",
            both(hex32(sums.crc32_written)),
            f"no programmer documented: {VERIFY}",
            _srec(bin_name, f"-crop {_crop_args(written)} ", "-crc32-b-e")),
        Row("SHA-256 of the file",
            "SHA-256 of the file's bytes",
            both(sums.sha256_device, sha256(hex_text) if hex_text is not None else None),
            "file transfer check (sha256sum FILE; certutil -hashfile FILE SHA256)"),
    ]
    if excluded:
        excl = _crop_args(excluded)
        rows += [
            Row("Sum32, whole device range, per-unit ranges excluded",
                "as \"Sum32, whole device range\" but without the per-unit bytes listed below",
                both(hex32(sums.sum32_device_excluding or 0)),
                f"Elnec PG4UW \"Exclude buffer data for checksum\" (made for serialization){{fn:elnec}}; others: {VERIFY}",
                _srec(bin_name, f"-exclude {excl} ", "-checksum-positive-b-e")),
            Row("CRC-32 (zlib), whole device range, per-unit ranges excluded",
                "zlib CRC-32 of the device range with the per-unit bytes cut out (the rest concatenated in address "
                "order){fn:srecord}",
                both(hex32(sums.crc32_device_excluding or 0)),
                f"Elnec PG4UW with excluded blocks{{fn:elnec}} (exclusion semantics for CRC: {VERIFY}); others: {VERIFY}",
                _srec(bin_name, f"-exclude {excl} ", "-crc32-b-e")),
        ]
    for row in rows:
        row.values = {f: row.values[f] for f in files if f in row.values}
    return rows
