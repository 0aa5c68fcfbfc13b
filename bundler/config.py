"""`bundle.toml`: names the board layout, the serial-flash chip and the inputs (paths relative to the file)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .formats.lut import APP_COMPONENTS, COMPONENTS
from .layout import Board, Chip, _Table, check_sdk, load_board, load_chip, read_toml

GENERATED = "generated"  # sflash.dct_image = "generated": the DCT image ELF made from [dct]


@dataclass(frozen=True)
class InputSpec:
    """One input named in bundle.toml: `key` is an MCU region or an SFLASH component."""

    key: str
    path: Path
    display: str  # as written in bundle.toml, for messages and the manifest
    address: int | None = None
    format: str | None = None


@dataclass(frozen=True)
class Project:
    path: Path
    name: str
    board: Board
    chip: Chip
    mcu: dict[str, InputSpec]
    sflash: dict[str, InputSpec | str]
    dct: dict[str, Any] = field(default_factory=dict)
    hex_skip_fill: bool = False
    version: str | None = None  # the product's release, e.g. "1.4.2": manifest product.version, job sheet, kit logs
    revision: str | None = None  # e.g. a VCS id: manifest product.revision
    equipment: tuple[str, ...] = ()  # [output] equipment: the job sheet's expected checksum per chip (bundler.jobsheet.equipment)

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    def input_paths(self) -> list[Path]:
        """Every file or folder the build reads: bundle.toml, the board file, [mcu]/[sflash] inputs and the files
        [dct] names (`file`, `{ file = ... }`, `{ pem = ... }` anywhere in the table) - an output there is refused."""
        specs = [*self.mcu.values(), *self.sflash.values()]
        return [self.path, self.board.path, *(s.path for s in specs if isinstance(s, InputSpec)),
                *(self.base_dir / name for name in _named_files(self.dct))]


def _named_files(table: Any) -> list[str]:
    """The paths a [dct] table names: the values of its `file` and `pem` keys, at any depth."""
    if isinstance(table, list):
        return [name for item in table for name in _named_files(item)]
    if not isinstance(table, dict):
        return []
    return [name for key, value in table.items() for name in (
        [value] if key in ("file", "pem") and isinstance(value, str) else _named_files(value))]


def _input(key: str, raw: Any, where: str, path: Path) -> InputSpec:
    if isinstance(raw, str):
        raw = {"file": raw}
    t = _Table(raw, f"{where}.{key}", path)
    display = t.str("file")
    spec = InputSpec(key, path.parent / display, display, t._get("address", int, None), t._get("format", str, None))
    t.done()
    if spec.format not in (None, "elf", "hex", "bin"):
        raise ConfigError(f"[{where}.{key}] format: expected elf, hex or bin, got {spec.format!r}", path)
    return spec


def _product_text(top: _Table, key: str) -> str | None:
    """version / revision: free text, but only characters that are safe where it is printed (line-kit shell and
    batch scripts, Tcl, log lines); the rule is the manifest schema's `product_text`, so both agree."""
    import re

    from .manifest import schema

    value = top._get(key, str, None)
    rule = schema()["$defs"]["product_text"]
    if value is not None and not re.fullmatch(rule["pattern"], value):
        raise ConfigError(f"{key} {value!r}: expected {rule['description']}", top.path)
    return value


def load_project(path: str | Path) -> Project:
    """Load and validate bundle.toml and the board and chip it names."""
    path = Path(path)
    top = _Table(read_toml(path), "", path)
    name = top.str("name", path.parent.name)
    version, revision = _product_text(top, "version"), _product_text(top, "revision")
    board = load_board(top.str("board"), path)
    sdk = top._get("sdk", str, None)
    if sdk is not None:  # the SDK the product's bootloader was built from, over the board layout's `sdk`
        board = replace(board, sdk=check_sdk(sdk, path))
    chip_spec = top._get("chip", (str, dict), board.sflash.chip)
    chip = load_chip(chip_spec, path)

    mcu_table = top.table("mcu", {})
    dct_regions = set(board.dct.copies)
    mcu = {}
    for key, raw in mcu_table.data.items():
        if key in dct_regions:
            raise ConfigError(f"[mcu] {key}: the DCT copies are made from [dct] (use [dct] file = ... for a prebuilt DCT)", path)
        try:
            board.mcu.region(key)
        except KeyError:
            regions = ", ".join(r.name for r in board.mcu.regions if r.name not in dct_regions)
            raise ConfigError(f"[mcu] {key}: board {board.name} has no such region (regions: {regions})", path) from None
        mcu[key] = _input(key, raw, "mcu", path)
        mcu_table.used.add(key)

    sflash_table = top.table("sflash", {})
    sflash: dict[str, InputSpec | str] = {}
    for key in COMPONENTS:
        if key not in sflash_table.data:
            continue
        raw = sflash_table.data[key]
        sflash_table.used.add(key)
        if key == "dct_image" and raw == GENERATED:
            sflash[key] = GENERATED
        else:
            sflash[key] = _input(key, raw, "sflash", path)
    sflash_table.done(COMPONENTS)

    output = top.table("output", {})
    hex_skip_fill = output.bool("hex_skip_fill", False)
    equipment = output._get("equipment", (str, list), [])
    output.done()
    dct = top._get("dct", dict, {})
    top.done()
    for key, spec in sflash.items():
        if key in APP_COMPONENTS and isinstance(spec, InputSpec) and spec.format not in (None, "elf"):
            raise ConfigError(f"[sflash] {key}: apps are stored as ELF files; got format {spec.format!r}", path)
    from .jobsheet import parse_equipment

    return Project(path, name, board, chip, mcu, sflash, dct, hex_skip_fill, version, revision,
                   parse_equipment([equipment] if isinstance(equipment, str) else equipment, path))
