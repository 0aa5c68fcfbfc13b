"""What a serialization run made: each unit (its serial, MAC, range bytes, whole-image checksums, files) and the
run's result (the ranges, the checksums with them excluded, the files published), with the output names."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .places import PatchRange

UNITS_CSV, UNITS_DIR = "units.csv", "units"
UNIT_FILES = ("hex", "full", "none")  # --unit-files: what each unit gets


@dataclass(frozen=True)
class UnitSums:
    crc32: int
    sum32: int


@dataclass
class Unit:
    index: int
    serial: str
    mac: str
    values: dict[PatchRange, bytes]  # the bytes of every range for this unit
    sums: dict[str, UnitSums]  # artefact -> whole-image checksums of this unit's image
    files: dict[str, str] = field(default_factory=dict)  # CSV column -> file name (relative to out)


@dataclass
class SerializationResult:
    out: Path
    crc_mode: str  # "sdk" (no per-unit CRC) | "computed"
    ranges: list[PatchRange]
    units: Sequence[Unit]  # each computed when read (bundler.units.Units)
    excluded: dict[str, UnitSums]  # artefact -> checksums with its per-unit ranges excluded (same for every unit)
    files: Collection[str]  # every file published, relative to out (names generated when iterated)
    state: Path | None = None
    unit_files: str = "none"  # what each unit got: "none" | "hex" | "full"
