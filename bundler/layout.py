"""Board and chip layouts (`layouts/*.toml`): the only place platform facts enter the program.

A board file describes the MCU's internal flash (base, size, sectors, named regions), where the DCT copies are, and
the serial-flash rules of the SDK build (LUT location, first component sector, sector size, sector-count rule).
`layouts/chips.toml` lists the serial-flash parts the SDK driver knows. A new board is a new TOML file.

The layouts ship inside the package (`bundler.layouts`, mapped from the repository's top-level layouts/ by
setup.py) and are found with importlib.resources. A build embeds the resolved board and chip tables in its manifest
(`embed`), so that `from_manifest` gives readers of a bundle the layout it was built with, wherever it came from.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import json
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any, Iterable, Mapping

from .errors import ConfigError, InputError, hexsize
from .inputs import is_file


def _layouts_dir() -> Path:
    # every supported install (editable, plain, wheel, pipx) puts the package data on the file system
    try:
        return Path(str(resources.files("bundler.layouts")))
    except ModuleNotFoundError:  # an editable install made before setup.py mapped layouts/ into the package
        raise ImportError("bundler.layouts is not installed: this install predates the layouts as package data; "
                          "run `pip install -e .` (or reinstall the tool) again") from None


LAYOUTS_DIR = _layouts_dir()
SECTOR_COUNT_RULES = ("sdk", "ceil")
DEFAULT_BOARD = "bcm943362wcd4"  # what inspect and dct decode read with when neither --board nor a manifest says


@dataclass(frozen=True)
class Region:
    name: str
    start: int
    size: int

    @property
    def end(self) -> int:
        """One past the last address."""
        return self.start + self.size

    def contains(self, start: int, size: int) -> bool:
        return self.start <= start and start + size <= self.end


@dataclass(frozen=True)
class Timing:
    """A part's operation times from its datasheet (`[mcu.timing]`, `[chip.timing]`), for the line kit's time model
    (bundler/linetime.py): name -> (typical, maximum) seconds, and the document they are from."""

    figures: Mapping[str, tuple[float, float]]
    source: str

    def typical(self, name: str) -> float:
        return self.figures[name][0]


@dataclass(frozen=True)
class McuLayout:
    part: str
    flash_base: int
    flash_size: int
    fill: int
    sram_base: int
    sram_size: int
    sectors: tuple[int, ...]
    regions: tuple[Region, ...]
    part_number: str | None = None  # the orderable part fitted (what a programmer's device list names)
    also_supported: tuple[str, ...] = ()  # other orderable parts this layout fits (not the one fitted)
    timing: Timing | None = None  # halfword_program, sector_erase_<KiB>k per sector size

    def region(self, name: str) -> Region:
        for region in self.regions:
            if region.name == name:
                return region
        raise KeyError(name)


@dataclass(frozen=True)
class DctLayout:
    copies: tuple[str, str]
    include_bt: bool
    include_p2p: bool
    include_ota2: bool


@dataclass(frozen=True)
class SflashLayout:
    chip: str
    compatible_chips: tuple[str, ...]
    fill: int
    sector_size: int
    apps_lut_header_loc: int
    apps_start_sector: int
    sector_count_rule: str
    secure: tuple[int, ...]
    app_region: str  # the MCU region the bootloader copies a stored app into
    part_numbers: tuple[tuple[str, str], ...] = ()  # (chip, orderable part number) for the chips the board takes

    def part_number(self, chip: str) -> str | None:
        """The orderable part a programmer's device list names for `chip` on this board, if the layout says."""
        return dict(self.part_numbers).get(chip)

    def sector_count(self, size: int) -> int:
        """Sectors a component of `size` bytes takes (sector_count.pl: size // sector + 1, even when exact)."""
        if self.sector_count_rule == "sdk":
            return size // self.sector_size + 1
        return -(-size // self.sector_size)


@dataclass(frozen=True)
class Board:
    id: str
    name: str
    description: str
    sdk: str
    mcu: McuLayout
    dct: DctLayout
    sflash: SflashLayout
    path: Path  # the board file, or the manifest it was embedded in
    spi: Mapping[str, Any] = field(default_factory=dict)  # raw [sflash.spi]; validated by the line-kit generator
    data: Mapping[str, Any] = field(default_factory=dict)  # the resolved tables (extends merged): what a manifest embeds
    source: str = "file"  # "installed": by name from LAYOUTS_DIR; "file": a board file given by path


@dataclass(frozen=True)
class Chip:
    name: str
    jedec_id: int
    size: int
    sector_size: int
    data: Mapping[str, Any] = field(default_factory=dict)  # the chip's table, as a manifest embeds it
    source: str = "inline"  # "installed": by name from chips.toml; "inline": a table in bundle.toml
    timing: Timing | None = None  # sector_erase, page_program, chip_erase


class _Table:
    """Typed access to one TOML table with one-line errors naming file and key; rejects unknown keys."""

    def __init__(self, data: Any, where: str, path: Path | str) -> None:
        if not isinstance(data, dict):
            raise ConfigError(f"[{where}] must be a table", path)
        self.data, self.where, self.path, self.used = data, where, path, set[str]()

    def _get(self, key: str, kind: type | tuple[type, ...], default: Any) -> Any:
        self.used.add(key)
        if key not in self.data:
            if default is _REQUIRED:
                raise ConfigError(f"[{self.where}] {key}: missing", self.path)
            return default
        value = self.data[key]
        if isinstance(value, bool) and kind is int or not isinstance(value, kind):
            name = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            raise ConfigError(f"[{self.where}] {key}: expected {name}, got {value!r}", self.path)
        return value

    def str(self, key: str, default: Any = None) -> str:
        return self._get(key, str, _REQUIRED if default is None else default)

    def int(self, key: str, default: Any = None, *, minimum: int = 0, maximum: int = 0xFFFFFFFF) -> int:
        """A number in minimum..maximum (by default 32-bit: every address and size of these parts is)."""
        value = self._get(key, int, _REQUIRED if default is None else default)
        if value < minimum:
            raise ConfigError(f"[{self.where}] {key}: must be >= {minimum}, got {value}", self.path)
        if value > maximum:
            raise ConfigError(f"[{self.where}] {key}: must be <= 0x{maximum:X}, got 0x{value:X}", self.path)
        return value

    def bool(self, key: str, default: bool) -> bool:
        return self._get(key, bool, default)

    def list(self, key: str, default: Any = None) -> list[Any]:
        return self._get(key, list, _REQUIRED if default is None else default)

    def table(self, key: str, default: Any = None) -> "_Table":
        return _Table(self._get(key, dict, _REQUIRED if default is None else default), f"{self.where}.{key}".strip("."), self.path)

    def done(self, allowed: Iterable[str] | None = None) -> None:
        """Refuse a key nobody read, naming the keys the table takes (`allowed`, default: the keys read so far)."""
        known = sorted(self.used) if allowed is None else list(allowed)
        unknown = sorted(set(self.data) - self.used)
        if unknown:
            hint = difflib.get_close_matches(unknown[0], known, n=1)
            suggestion = f" (did you mean {hint[0]!r}?)" if hint else ""
            where = f"[{self.where}]" if self.where else "top level:"
            raise ConfigError(f"{where} unknown key {unknown[0]!r}{suggestion}; allowed keys: {', '.join(known)}",
                              self.path)


_REQUIRED = object()


def read_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML file; unreadable, too large, too deeply nested or malformed files become one-line ConfigErrors."""
    from .inputs import MAX_TEXT_BYTES, parse_toml, read_file

    try:
        raw, _ = read_file(path, max_size=MAX_TEXT_BYTES)
    except InputError as exc:
        raise ConfigError(str(exc)) from None
    return parse_toml(raw, path, ConfigError)


def _resolve(name_or_path: str | Path, folder: str, base_dir: Path | None) -> Path:
    """A layout is a path (relative to the referring file) or a name in layouts/<folder>/."""
    candidate = Path(name_or_path)
    if candidate.suffix == ".toml":
        return candidate if candidate.is_absolute() or base_dir is None else base_dir / candidate
    return LAYOUTS_DIR / folder / f"{name_or_path}.toml"


def load_board(name_or_path: str | Path, referrer: Path | None = None) -> Board:
    """Load and validate a board layout by name (layouts/boards/<name>.toml) or path (relative to `referrer`,
    the bundle.toml that names it)."""
    path = _resolve(name_or_path, "boards", None if referrer is None else referrer.parent)
    if not is_file(path):
        raise ConfigError(f"board layout {str(name_or_path)!r} not found at {path} (known boards: "
                          f"{', '.join(board_names())})", referrer or path)
    data = _board_toml(path, [path])
    data.pop("extends", None)  # resolved: the merged tables say everything
    return _board(data, path.stem, path, path, "file" if Path(name_or_path).suffix == ".toml" else "installed")


def board_names() -> list[str]:
    """The boards installed with the tool (LAYOUTS_DIR/boards/*.toml)."""
    return sorted(p.stem for p in (LAYOUTS_DIR / "boards").glob("*.toml"))


def check_sdk(sdk: str, where: Path | str) -> str:
    """`sdk` (board layout, or bundle.toml's override): an SDK version with a known DCT generation ("" = 3.5.2)."""
    from .formats.dct import generation

    if sdk:
        try:
            generation(sdk)
        except KeyError as exc:
            raise ConfigError(f"sdk: {exc.args[0]}", where) from None
    return sdk


def _board(data: dict[str, Any], board_id: str, path: Path, where: Path | str, source: str) -> Board:
    """A Board from resolved tables; errors name `where` (a board file, or a manifest's embedded layout)."""
    top = _Table(data, "", where)
    board = Board(
        id=board_id,
        name=top.str("name"),
        description=top.str("description", ""),
        sdk=check_sdk(top.str("sdk", ""), where),
        mcu=_mcu(top.table("mcu")),
        dct=_dct(top.table("dct")),
        sflash=_sflash(top.table("sflash")),
        path=path,
        spi=top.table("sflash").data.get("spi", {}),
        data=data,
        source=source,
    )
    top.done()
    _check_board(board, where)
    return board


def _board_toml(path: Path, chain: list[Path]) -> dict[str, Any]:
    """A board file's tables; with `extends = "<board>"` (a name or a path relative to the file), the other board's
    tables with this file's merged over them (tables key by key, any other value or array replaced): a variant
    of a board (another serial-flash part) states only what differs."""
    doc = read_toml(path)
    base_name = doc.get("extends")
    if base_name is None:
        return doc
    if not isinstance(base_name, str):
        raise ConfigError(f"extends: expected a board name or path, got {base_name!r}", path)
    base = _resolve(base_name, "boards", path.parent)
    if not is_file(base):
        raise ConfigError(f"extends: board layout {base_name!r} not found at {base}", path)
    if base.resolve() in (p.resolve() for p in chain):
        raise ConfigError(f"extends: {base_name!r} leads back to {base.name} (a loop)", path)
    return _merge_tables(_board_toml(base, chain + [base]), doc)


def _merge_tables(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        out[key] = _merge_tables(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) \
            else value
    return out


def _mcu(t: _Table) -> McuLayout:
    regions = []
    for i, raw in enumerate(t.list("regions")):
        r = _Table(raw, f"mcu.regions[{i}]", t.path)
        regions.append(Region(r.str("name"), r.int("start"), r.int("size", minimum=1)))
        r.done()
    sectors = t.list("sectors")
    if not all(isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in sectors):
        raise ConfigError("[mcu] sectors: expected a list of positive sizes", t.path)
    mcu = McuLayout(
        part=t.str("part"),
        flash_base=t.int("flash_base"),
        flash_size=t.int("flash_size", minimum=1),
        fill=t.int("fill", 0xFF, maximum=0xFF),
        sram_base=t.int("sram_base"),
        sram_size=t.int("sram_size", minimum=1),
        sectors=tuple(sectors),
        regions=tuple(sorted(regions, key=lambda r: r.start)),
        part_number=t._get("part_number", str, None),
        also_supported=tuple(_names(t, "also_supported")),
        timing=_timing(t, ["halfword_program", *(mcu_erase_key(s) for s in sorted(set(sectors)))]),
    )
    t.done()
    return mcu


def mcu_erase_key(size: int) -> str:
    """The [mcu.timing] figure for erasing a sector of `size` bytes: sector_erase_16k, ..."""
    return f"sector_erase_{size // 1024}k"


def _timing(t: _Table, names: list[str]) -> Timing | None:
    """The optional `timing` sub-table: each of `names` as [typical, maximum] seconds, and `source`."""
    if "timing" not in t.data:
        t.used.add("timing")
        return None
    tt = t.table("timing")
    figures: dict[str, tuple[float, float]] = {}
    for name in names:
        pair = tt.list(name)
        if len(pair) != 2 or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in pair) \
                or not 0 <= pair[0] <= pair[1]:
            raise ConfigError(f"[{tt.where}] {name}: expected [typical, maximum] seconds, 0 <= typical <= maximum, "
                              f"got {pair!r}", t.path)
        figures[name] = (float(pair[0]), float(pair[1]))
    timing = Timing(figures, tt.str("source"))
    tt.done()
    return timing


def _names(t: _Table, key: str) -> list[str]:
    names = t.list(key, [])
    if not all(isinstance(n, str) and n for n in names):
        raise ConfigError(f"[{t.where}] {key}: expected a list of part names", t.path)
    return names


def _part_numbers(t: _Table) -> list[tuple[str, str]]:
    """[sflash] part_numbers = { CHIP = "ORDERABLE-PART", ... }: each an orderable part of that chip."""
    table = t._get("part_numbers", dict, {})
    for chip, part in table.items():
        if not (isinstance(part, str) and part.startswith(chip)):
            raise ConfigError(f"[sflash.part_numbers] {chip}: expected an orderable part number of {chip} (starting "
                              f"with its name), got {part!r}", t.path)
    return sorted(table.items())


def _dct(t: _Table) -> DctLayout:
    copies = t.list("copies")
    if len(copies) != 2 or not all(isinstance(c, str) for c in copies):
        raise ConfigError("[dct] copies: expected two region names [copy1, copy2]", t.path)
    dct = DctLayout(
        copies=(copies[0], copies[1]),
        include_bt=t.bool("include_bt", False),
        include_p2p=t.bool("include_p2p", False),
        include_ota2=t.bool("include_ota2", False),
    )
    t.done()
    return dct


def _sflash(t: _Table) -> SflashLayout:
    t.used.add("spi")
    rule = t.str("sector_count_rule", "sdk")
    if rule not in SECTOR_COUNT_RULES:
        raise ConfigError(f"[sflash] sector_count_rule: expected one of {SECTOR_COUNT_RULES}, got {rule!r}", t.path)
    sflash = SflashLayout(
        chip=t.str("chip"),
        compatible_chips=tuple(t.list("compatible_chips", [])),
        fill=t.int("fill", 0xFF, maximum=0xFF),
        sector_size=t.int("sector_size", minimum=1),
        apps_lut_header_loc=t.int("apps_lut_header_loc"),
        apps_start_sector=t.int("apps_start_sector", minimum=0),
        sector_count_rule=rule,
        secure=tuple(t.list("secure", [])),
        app_region=t.str("app_region"),
        part_numbers=tuple(_part_numbers(t)),
    )
    t.done()
    return sflash


def _check_board(board: Board, path: Path | str) -> None:
    """Cross-checks: regions inside flash, no overlap, on sector boundaries; DCT copies name regions."""
    mcu = board.mcu
    flash = Region("flash", mcu.flash_base, mcu.flash_size)
    if sum(mcu.sectors) != mcu.flash_size:
        raise ConfigError(f"[mcu] sectors add up to {hexsize(sum(mcu.sectors))}, flash_size is {hexsize(mcu.flash_size)}", path)
    boundaries = {mcu.flash_base}
    for size in mcu.sectors:
        boundaries.add(max(boundaries) + size)
    names = set()
    for prev, region in zip((None, *mcu.regions), mcu.regions):
        if region.name in names:
            raise ConfigError(f"[mcu.regions] duplicate region name {region.name!r}", path)
        names.add(region.name)
        if not flash.contains(region.start, region.size):
            raise ConfigError(f"[mcu.regions] {region.name} 0x{region.start:08X}+{hexsize(region.size)} is outside flash", path)
        if prev is not None and region.start < prev.end:
            raise ConfigError(f"[mcu.regions] {region.name} overlaps {prev.name}", path)
        if region.start not in boundaries or region.end not in boundaries:
            raise ConfigError(f"[mcu.regions] {region.name} does not start and end on flash sector boundaries", path)
    for copy in board.dct.copies:
        if copy not in names:
            raise ConfigError(f"[dct] copies: no region named {copy!r}", path)
    if board.sflash.app_region not in names:
        raise ConfigError(f"[sflash] app_region: no region named {board.sflash.app_region!r}", path)
    sf = board.sflash
    if not all(isinstance(i, int) and 0 <= i < 8 for i in sf.secure):
        raise ConfigError("[sflash] secure: expected LUT indexes 0..7", path)


@functools.lru_cache(maxsize=1)
def _chip_tables() -> dict[str, Any]:
    """layouts/chips.toml by chip name, parsed once per process (inspect looks up every chip)."""
    return {c.get("name"): c for c in read_toml(LAYOUTS_DIR / "chips.toml").get("chip", [])}


def chip_names() -> list[str]:
    return list(_chip_tables())


def load_chip(spec: str | Mapping[str, Any], path: Path | None = None) -> Chip:
    """A chip by name from layouts/chips.toml, or an inline table with the same keys."""
    chips_path = LAYOUTS_DIR / "chips.toml"
    source = "inline"
    if isinstance(spec, str):
        known = _chip_tables()
        if spec not in known:
            hint = difflib.get_close_matches(spec, list(known), n=1)
            suggestion = f" (did you mean {hint[0]!r}?)" if hint else ""
            raise ConfigError(f"unknown chip {spec!r}{suggestion}; known: {', '.join(sorted(known))}", path or chips_path)
        spec, path, source = known[spec], chips_path, "installed"
    return _chip(dict(spec), path or chips_path, source)


def _chip(data: dict[str, Any], where: Path | str, source: str) -> Chip:
    t = _Table(data, "chip", where)
    chip = Chip(
        name=t.str("name"),
        jedec_id=t.int("jedec_id"),
        size=t.int("size", minimum=1),
        sector_size=t.int("sector_size", 4096, minimum=1),
        data=data,
        source=source,
        timing=_timing(t, ["sector_erase", "page_program", "chip_erase"]),
    )
    t.done()
    if chip.size % chip.sector_size:
        raise ConfigError(f"[chip] size {hexsize(chip.size)} is not a multiple of sector_size", t.path)
    return chip


def unknown_chip(size: int, sector_size: int, why: str) -> Chip:
    """A serial-flash part known only by its size (`inspect --chip-size`, or a dump's size): JEDEC ID unknown (0)."""
    amount = f"{size >> 20} MiB" if size % (1 << 20) == 0 else f"{size / 1024:g} KiB"
    return Chip(f"unknown {amount} chip ({why})", 0, size, sector_size)


def plausible_chip_size(size: int, sector_size: int) -> bool:
    """Serial NOR flash comes in powers of two, 512 Kbit to 2 Gbit: a dump of such a size is taken to be a whole
    chip of that size."""
    return 1 << 16 <= size <= 1 << 28 and size & (size - 1) == 0 and size % sector_size == 0


# ------------------------------------------------------------------------------------- layouts in a manifest
# The manifest's `layouts` holds the resolved board and chip tables with the SHA-256 of each (of its canonical
# JSON), so that a bundle is read with the layout it was built with even where that layout is not installed.


def layout_sha256(data: Mapping[str, Any]) -> str:
    """SHA-256 of a layout's canonical JSON: keys sorted, no spaces, UTF-8."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def embed(board: Board, chip: Chip) -> dict[str, Any]:
    """The manifest's `layouts` object for a build with `board` and `chip`."""
    for what, data, where in (("board", board.data, board.path), ("chip", chip.data, "[chip]")):
        try:
            layout_sha256(data)
        except (TypeError, ValueError):
            raise ConfigError(f"{what} layout: a value is not a number, string, boolean, array or table "
                              "(dates and non-finite numbers cannot go into the manifest)", where) from None
    return {"board": {"id": board.id, "source": board.source, "sha256": layout_sha256(board.data),
                      "data": board.data},
            "chip": {"name": chip.name, "source": chip.source, "sha256": layout_sha256(chip.data), "data": chip.data}}


def from_manifest(doc: Mapping[str, Any], path: Path) -> tuple[Board, Chip, list[str]]:
    """The board and chip a (schema-valid) manifest was built with, and notes on installed layouts of the same
    name that disagree with it. An embedded layout edited after the build is refused naming the field. A manifest
    from before layouts were embedded names them only: the installed ones are used."""
    embedded = doc.get("layouts")
    if embedded is None:
        mc = doc["chip"]
        chip = next((c for c in (load_chip(n) for n in chip_names()) if c.name == mc["name"] and c.size == mc["size"]),
                    None) or Chip(mc["name"], int(mc["jedec_id"], 16), mc["size"], mc["sector_size"])
        return load_board(doc["board"]["layout"]), chip, []
    notes: list[str] = []
    eb, ec = embedded["board"], embedded["chip"]
    # only names the installed tool lists: an id from the manifest never becomes a path
    installed_board = _installed(lambda: load_board(eb["id"]).data) \
        if eb["source"] == "installed" and eb["id"] in board_names() else None
    installed_chip = _chip_tables().get(ec["name"]) if ec["source"] == "installed" else None
    board = _board(dict(eb["data"]), eb["id"], path, f"{path}: layouts.board.data", eb["source"])
    chip = _chip(dict(ec["data"]), f"{path}: layouts.chip.data", ec["source"])
    mb, mc = doc["board"], doc["chip"]
    if mb["sdk"] != board.sdk:  # bundle.toml's `sdk` overrode the layout's: the manifest records what was built
        board = replace(board, sdk=check_sdk(mb["sdk"], f"{path}: board.sdk"))
    _check_embedded(path, "board", eb, installed_board, {
        "id": (board.id, mb["layout"], "board.layout"), "data.name": (board.name, mb["name"], "board.name"),
        "data.mcu.flash_base": (board.mcu.flash_base, mb["flash_base"], "board.flash_base"),
        "data.mcu.flash_size": (board.mcu.flash_size, mb["flash_size"], "board.flash_size")})
    _check_embedded(path, "chip", ec, installed_chip, {
        "data.name": (chip.name, mc["name"], "chip.name"), "name": (ec["name"], mc["name"], "chip.name"),
        "data.jedec_id": (chip.jedec_id, int(mc["jedec_id"], 16), "chip.jedec_id"),
        "data.size": (chip.size, mc["size"], "chip.size"),
        "data.sector_size": (chip.sector_size, mc["sector_size"], "chip.sector_size")})
    for what, name, data, installed in (("board", eb["id"], eb["data"], installed_board),
                                        ("chip", ec["name"], ec["data"], installed_chip)):
        at = None if installed is None else _difference(installed, data)
        if at is not None:
            notes.append(f"{path}: layouts.{what}: the installed {what} layout {name!r} differs from the one this "
                         f"bundle was built with (at {at}); the manifest's is used")
    return board, chip, notes


def _installed(read: Any) -> Any:
    """An installed layout's data, or None where it does not load."""
    try:
        return read()
    except ConfigError:
        return None


def _check_embedded(path: Path, what: str, entry: Mapping[str, Any], installed: Any,
                    facts: Mapping[str, tuple[Any, Any, str]]) -> None:
    """Refuse an embedded layout that was edited: one that contradicts the manifest's own board/chip fields, or
    whose data no longer has its SHA-256 (the field is named by comparing with the installed layout, if any)."""
    for field_name, (embedded, stated, other) in facts.items():
        if embedded != stated:
            raise InputError(f"layouts.{what}.{field_name}: {embedded!r} contradicts {other} {stated!r} "
                             "(the manifest was edited)", path)
    actual = layout_sha256(entry["data"])
    if actual != entry["sha256"]:
        at = None if installed is None or layout_sha256(installed) != entry["sha256"] else \
            _difference(installed, entry["data"])
        raise InputError(f"layouts.{what}.data{'' if at is None else '.' + at}: edited after the build (the data's "
                         f"SHA-256 is {actual}, layouts.{what}.sha256 says {entry['sha256']})", path)


def _difference(a: Any, b: Any, at: str = "") -> str | None:
    """The first key path (`mcu.regions[3].size`) where two layout tables differ, or None if they are equal."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            found = _difference(a.get(key), b.get(key), f"{at}.{key}" if at else key)
            if found is not None:
                return found
        return None
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return next((d for i, (x, y) in enumerate(zip(a, b)) if (d := _difference(x, y, f"{at}[{i}]"))), None)
    return None if a == b and type(a) is type(b) else (at or "(top level)")
