"""Programming equipment and the published statements behind it: which checksum form (a Row label) each family
shows per chip, `--equipment` parsed and chosen per chip, and the footnoted sources (only where a published
statement says so; everything else says "verify on your equipment")."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError

VERIFY = "verify on your equipment"

# Published statements behind the equipment labels. Keys are used as {fn:key} markers in text.
SOURCES: dict[str, str] = {
    "st-um0892": "ST UM0892 (STM32 ST-LINK Utility), section \"Memory checksum\": the checksum is an arithmetic sum, "
                 "byte per byte, truncated to a 32-bit word; quoted in the ST community thread "
                 "https://community.st.com/s/question/0D50X00009sVMu7/stlink-utility-checksum-changed",
    "st-gaps": "ST community report (user measurements, not an ST document): ST-LINK Utility sums only the bytes "
               "present in the file (gaps skipped), STM32CubeProgrammer counts gaps as 0xFF - "
               "https://qa-community.st.com/stm32cubeprogrammer-mcus-30/checksum-discrepancy-between-"
               "stm32cubeprogrammer-and-st-link-utility-149894",
    "elnec": "Elnec PG4UW user manual, Checksum dialog: the main checksum covers Buffer start..Buffer end (or a "
             "user From/To range); \"BYTE: sum by bytes to DWORD\", \"CRC-32: standard CRC-32\"; blocks can be "
             "excluded from the checksum for serialization - "
             "https://www.manualshelf.com/manual/elnec/60-038/user-manual-english/page-103.html (the same text, "
             "with the checksum-type list, in the PG4UW-based B&K Precision 866C manual p. 64)",
    "dataio": "Data I/O TaskLink help, \"Checksum\": the checksum of the data in programmer RAM, from the beginning "
              "of RAM to the end of the data that fits the selected device (algorithm and width not stated there) - "
              "https://www.dataio.com/TLHelp/PSV/Content/FLASHPAK/Checksum.htm",
    "dataman": "Dataman, \"Dataman Programmer Checksum Calculation\": a 32-bit number, initial value zero, adding "
               "all bytes - https://www.dataman.com/dataman-programmer-checksum-calculation",
    "jflash-log": "SEGGER forum thread 6731: J-Flash logs \"CRC of data\" and \"CRC of file\" when it opens a data "
                  "file (algorithms not stated there) - https://forum.segger.com/index.php/Thread/"
                  "6731-SOLVED-J-Flash-CRC-checksum-does-not-compute-as-instructed/",
    "jflash-crc": "Embitek (SEGGER distributor, Japan) FAQ Q220106: J-Flash's CRC uses polynomial 0xEDB88320, "
                  "initial value 0x00000000, over the sectors selected in the project, undefined/unused bytes "
                  "counted as 0xFF (refers to wiki.segger.com/UM08003_JFlash#CRC_calculation) - "
                  "https://www.embitek.co.jp/support/faq/jflash/Q220106/",
    "srecord": "srec_input(1), SRecord 1.65: -Checksum_Positive_* inserts the simple byte sum (holes count as "
               "zero); -CRC32_* inserts the standard CRC-32 (initial value all ones), bytes in ascending address "
               "order, holes ignored - https://srecord.sourceforge.net/man/man1/srec_input.1.html",
}


SUM_DEVICE, CRC_DEVICE = "Sum32, whole device range", "CRC-32 (zlib), whole device range"


@dataclass(frozen=True)
class Equipment:
    """A family of programming equipment: which checksum form (a Row label) it shows per chip kind, and the
    published statement that says so. Only families whose form is documented are here (SOURCES)."""

    label: str
    forms: Mapping[str, str]  # chip kind ("mcu", "sflash") -> Row label
    basis: str  # why this form, with {fn:key} markers


DEFAULT_EQUIPMENT = "crc32"
# `bundle build --equipment FAMILY` / bundle.toml [output] equipment: the one number the sheet prints large per chip.
# SEGGER J-Flash (CRC start/final values not stated) and Data I/O (algorithm not stated) are not offered.
EQUIPMENT: dict[str, Equipment] = {
    "crc32": Equipment("any CRC-32 tool; Elnec PG4UW checksum calculator \"CRC-32\" over the device range",
                       {"mcu": CRC_DEVICE, "sflash": CRC_DEVICE}, "standard CRC-32 of the whole device{fn:elnec}"),
    "elnec": Equipment("Elnec PG4UW, main checksum \"BYTE\" (buffer = device)", {"mcu": SUM_DEVICE, "sflash": SUM_DEVICE},
                       "\"BYTE: sum by bytes to DWORD\" over the buffer{fn:elnec}"),
    "dataman": Equipment("Dataman programmer checksum", {"mcu": SUM_DEVICE, "sflash": SUM_DEVICE},
                         "32-bit sum of all bytes{fn:dataman}"),
    "st-link-utility": Equipment("ST-LINK Utility \"Memory checksum\" (whole flash)", {"mcu": SUM_DEVICE},
                                 "byte sum truncated to 32 bits{fn:st-um0892}"),
    "stm32cubeprogrammer": Equipment("STM32CubeProgrammer checksum (gaps as 0xFF)", {"mcu": SUM_DEVICE},
                                     "byte sum, gaps counted as 0xFF (community report){fn:st-gaps}"),
}
KINDS = ("mcu", "sflash")


def parse_equipment(values: Sequence[str], where: str | Path | None = None) -> tuple[str, ...]:
    """Check `--equipment` values: FAMILY (every chip it documents) or KIND=FAMILY (one chip). Returns them as given."""
    for value in values:
        kind, _, family = value.rpartition("=") if isinstance(value, str) else ("?", "", "?")
        if family not in EQUIPMENT or kind not in ("", *KINDS):
            raise ConfigError(f"equipment {value!r}: expected FAMILY or mcu=FAMILY / sflash=FAMILY, FAMILY one of "
                              f"{', '.join(EQUIPMENT)}", where)
        if kind and kind not in EQUIPMENT[family].forms:
            takes = ", ".join(f for f, e in EQUIPMENT.items() if kind in e.forms)
            raise ConfigError(f"equipment {value!r}: {family} does not program the {kind} chip (for it: {takes})",
                              where)
    return tuple(values)


def equipment_for(kind: str, equipment: Sequence[str]) -> tuple[str, str]:
    """(family, why chosen) for a chip: KIND=FAMILY first, then the last bare FAMILY that documents this chip."""
    for value in reversed(equipment):
        chip, _, family = value.rpartition("=")
        if chip == kind:
            return family, f"--equipment {value}"
    for value in reversed(equipment):
        if "=" not in value and kind in EQUIPMENT[value].forms:
            return value, f"--equipment {value}"
    skipped = [v for v in equipment if "=" not in v]
    why = (f"the default, as {skipped[-1]} does not program this chip" if skipped
           else "the default (bundle build --equipment FAMILY picks another)")
    return DEFAULT_EQUIPMENT, why
