"""Which DCT generation a DCT copy's bytes are (`bundler.formats.dct.GENERATIONS`), and the refusal of a DCT whose
generation is not the one the layout's SDK version gives (its bootloader would not read it).

The bytes tell three families apart (wiced-formats.md §2.5/§2.6): BOOTLOADER_MAGIC_NUMBER at 0x08 is the 3.5.2
header; at 0x0C the 388-byte header, which is 3.7.0 when a platform_dct_version_t with its magic ends the fixed data,
else 3.1.1 - 3.4.0 (those three differ only after the header, in sections the bytes cannot name).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from construct import Construct

from ..errors import InputError
from ..formats import dct as F


@dataclass(frozen=True)
class Detected:
    generations: tuple[str, ...]  # GENERATIONS keys these bytes can be
    evidence: str  # what in the bytes says so

    def sdk_text(self) -> str:
        """The SDK versions of these generations, e.g. "SDK 3.1.1/3.1.2/3.3.1/3.4.0"."""
        return "SDK " + "/".join(v for g in self.generations for v in F.GENERATIONS[g].sdk_versions)


def _magic_at(blob: bytes, header: Construct) -> bool:
    size = header.sizeof()
    return len(blob) >= size and header.parse(blob[:size]).magic_number == F.BOOTLOADER_MAGIC_NUMBER


# the most bytes detect reads: up to the end of 3.7.0's platform_dct_version_t
SPAN: Final = F.section_offsets(gen=F.GENERATIONS["3.7.0"])["end"]


def detect(blob: bytes) -> Detected | None:
    """The generation(s) a DCT copy's bytes can be; None if neither header has the magic number."""
    new_header, old_header = F.platform_dct_header_sdk_3_5_2_t, F.platform_dct_header_sdk_3_1_2_t
    magic_new = F.member_offset(new_header, "magic_number")
    magic_old = F.member_offset(old_header, "magic_number")
    if _magic_at(blob, new_header):
        return Detected(("3.5.2",), f"magic_number at 0x{magic_new:02X} (platform_dct_header_sdk_3_5_2_t)")
    if not _magic_at(blob, old_header):
        return None
    at = F.section_offsets(gen=F.GENERATIONS["3.7.0"])["dct_version"]
    size = F.platform_dct_version_t.sizeof()
    if len(blob) >= at + size:
        version = F.platform_dct_version_t.parse(blob[at:at + size])
        if version.magic_number == F.DCT_VERSION_MAGIC_NUMBER:
            return Detected(("3.7.0",), f"magic_number at 0x{magic_old:02X} and platform_dct_version_t at 0x{at:X} "
                                        f"(version 0x{version.version:04X})")
    return Detected(tuple(g for g, gen in F.GENERATIONS.items()
                          if gen.header is old_header and gen.copy_rule == "is_current_dct"),
                    f"magic_number at 0x{magic_old:02X} (platform_dct_header_sdk_3_1_2_t), no platform_dct_version_t "
                    f"at 0x{at:X}")


def check(blob: bytes, sdk: str, name: str) -> Detected | None:
    """The detected generation; InputError naming both when it is not the generation of SDK `sdk`."""
    want = F.generation(sdk)
    found = detect(blob)
    if found is not None and want.name not in found.generations:
        raise InputError(f"the DCT is {found.sdk_text()} ({found.evidence}) but the layout's SDK is {sdk} (DCT "
                         f"generation {want.name}); set sdk = \"...\" in bundle.toml or read it with a matching board",
                         name)
    return found
