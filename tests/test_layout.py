"""Board and chip layouts: the shipped files load, and broken ones give one-line errors naming file and key."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from bundler.errors import ConfigError
from bundler.layout import LAYOUTS_DIR, load_board, load_chip, read_toml

BOARD_TEXT = (LAYOUTS_DIR / "boards" / "bcm943362wcd4.toml").read_text()


def test_shipped_board_matches_the_sdk_memory_map() -> None:
    board = load_board("bcm943362wcd4")
    spans = {r.name: (r.start, r.size) for r in board.mcu.regions}
    # memory_with_bootloader.ld / dct.ld (wiced-formats.md §1)
    assert spans == {"bootloader": (0x08000000, 0x4000), "dct1": (0x08004000, 0x4000),
                     "dct2": (0x08008000, 0x4000), "app": (0x0800C000, 0xF4000)}
    assert (board.mcu.flash_base, board.mcu.flash_size, board.mcu.fill) == (0x08000000, 0x100000, 0xFF)
    assert (board.sflash.apps_lut_header_loc, board.sflash.apps_start_sector, board.sflash.sector_size) == (0, 1, 4096)


def test_every_shipped_chip_loads() -> None:
    names = [c["name"] for c in read_toml(LAYOUTS_DIR / "chips.toml")["chip"]]
    chips = [load_chip(n) for n in names]
    assert {c.name: c.jedec_id for c in chips}["MX25L8006E"] == 0xC22014
    assert all(c.size % c.sector_size == 0 for c in chips)


def _board(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "b.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("old, new, message", [
    ("sdk = \"3.5.2\"", "sdk = \"3.5.2\"\nsdkk = 1", r"unknown key 'sdkk' \(did you mean 'sdk'\?\)"),
    ("start = 0x08008000", "start = 0x08006000", "dct2 does not start and end on flash sector boundaries|overlaps"),
    ("size = 0xF4000", "size = 0xF8000", "app 0x0800C000.* is outside flash"),
    ("apps_start_sector = 1", "apps_start_sector = \"one\"", r"\[sflash\] apps_start_sector: expected int"),
    ("sector_count_rule = \"sdk\"", "sector_count_rule = \"round\"", "sector_count_rule: expected one of"),
    ("copies = [\"dct1\", \"dct2\"]", "copies = [\"dct1\", \"dct3\"]", "no region named 'dct3'"),
])
def test_broken_board_is_refused(tmp_path: Path, old: str, new: str, message: str) -> None:
    assert old in BOARD_TEXT
    path = _board(tmp_path, BOARD_TEXT.replace(old, new, 1))
    with pytest.raises(ConfigError, match=message) as info:
        load_board(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_a_variant_extends_a_board(tmp_path: Path) -> None:
    """`extends`: the other board's tables with the variant's merged over them; arrays replaced, not appended."""
    (tmp_path / "base.toml").write_text(BOARD_TEXT)
    variant = tmp_path / "variant.toml"
    variant.write_text('extends = "base.toml"\nname = "Variant"\n[sflash]\ncompatible_chips = ["SST25VF080B"]\n'
                       'chip = "SST25VF080B"\n[sflash.spi]\nunprotect = true\n')
    base, board = load_board(tmp_path / "base.toml"), load_board(variant)
    assert (board.name, board.id, board.mcu, board.dct) == ("Variant", "variant", base.mcu, base.dct)
    assert board.sflash.compatible_chips == ("SST25VF080B",)
    assert board.sflash.chip == "SST25VF080B" and board.sflash.sector_size == base.sflash.sector_size
    assert board.spi == {**base.spi, "unprotect": True}  # the base's pins kept, one key added
    # by name from layouts/boards/, as the shipped SST variant does
    variant.write_text('extends = "bcm943362wcd4"\nname = "Variant"\n')
    assert load_board(variant).mcu == load_board("bcm943362wcd4").mcu


@pytest.mark.parametrize("text, message", [
    ('extends = "nope"\n', r"b\.toml: extends: board layout 'nope' not found"),
    ('extends = 3\n', r"extends: expected a board name or path, got 3"),
    ('extends = "b.toml"\n', r"extends: 'b\.toml' leads back to b\.toml \(a loop\)"),
    ('extends = "bcm943362wcd4"\n[sflash]\nchipp = "X"\n', r"\[sflash\] unknown key 'chipp' \(did you mean 'chip'\?\)"),
])
def test_broken_extends_is_refused(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_board(_board(tmp_path, text))


def test_unknown_chip_suggests_nearest() -> None:
    with pytest.raises(ConfigError, match="did you mean 'MX25L8006E'"):
        load_chip("MX25L8006")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_arbitrary_board_text_never_crashes(tmp_path_factory: pytest.TempPathFactory, text: str) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "b.toml"
    path.write_text(text)
    with pytest.raises(ConfigError):
        load_board(path)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_mutated_board_loads_or_fails_cleanly(tmp_path_factory: pytest.TempPathFactory, data: st.DataObject) -> None:
    lines = BOARD_TEXT.splitlines()
    i = data.draw(st.integers(0, len(lines) - 1))
    lines[i] = data.draw(st.sampled_from(["", "x = 1", "[mcu]", "size = -1", "start = 0x0", "name = 3", lines[i][::-1]]))
    path = tmp_path_factory.mktemp("fuzz") / "b.toml"
    path.write_text("\n".join(lines))
    try:
        load_board(path)
    except ConfigError as exc:
        assert "\n" not in str(exc)


def test_errors_stay_on_one_line_whatever_the_input(tmp_path: Path) -> None:
    """Found by fuzz/fuzz_config.py: a board name with a newline made a two-line error."""
    from bundler.config import load_project

    path = tmp_path / "bundle.toml"
    path.write_text('name = "x"\nboard = "bcm\\nwcd4\\u001b[31m"\n')
    with pytest.raises(ConfigError) as info:
        load_project(path)
    assert "\n" not in str(info.value) and "\x1b" not in str(info.value) and "bcm\\nwcd4" in str(info.value)
