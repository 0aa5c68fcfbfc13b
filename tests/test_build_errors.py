"""Every refusal of `bundle build`: exit code 2, one line naming the file and the problem, nothing written."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bundler.cli import app
from bundler.formats.elf import PT_LOAD, build_elf


def build(config: Path, out: Path):
    return CliRunner().invoke(app, ["build", str(config), "--out", str(out)])


def edit(config: Path, old: str, new: str) -> None:
    text = config.read_text()
    assert old in text, old
    config.write_text(text.replace(old, new, 1))


def elf_file(path: Path, segments: list[tuple[int, bytes]]) -> Path:
    path.write_bytes(build_elf([({"p_type": PT_LOAD, "p_vaddr": a, "p_paddr": a, "p_memsz": len(d), "p_flags": 5,
                                  "p_align": 4}, d) for a, d in segments], entry=segments[0][0] | 1))
    return path


def assert_refused(result, out: Path, *patterns: str) -> None:
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert "Traceback" not in result.output
    for pattern in patterns:
        assert pattern in lines[0], lines[0]
    assert not out.exists() or not any(out.iterdir())
    assert not [p for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.")]


def test_missing_input(sample_copy: Path, tmp_path: Path) -> None:
    edit(sample_copy, 'app = "build/app.elf"', 'app = "build/nope.elf"')
    assert_refused(build(sample_copy, tmp_path / "out"), tmp_path / "out", "build/nope.elf: file not found")


def test_unreadable_input_a_folder(sample_copy: Path, tmp_path: Path) -> None:
    edit(sample_copy, 'app = "build/app.elf"', 'app = "build"')
    assert_refused(build(sample_copy, tmp_path / "out"), tmp_path / "out", "build: ", "folder")


def test_part_larger_than_its_region(sample_copy: Path, tmp_path: Path) -> None:
    (sample_copy.parent / "big.bin").write_bytes(b"\x00" * 0x4001)
    edit(sample_copy, 'bootloader = "build/bootloader.elf"', 'bootloader = "big.bin"')
    assert_refused(build(sample_copy, tmp_path / "out"), tmp_path / "out", "big.bin:", "outside region bootloader",
                   "16385 bytes (0x4001)")


def test_address_outside_the_chip(sample_copy: Path, tmp_path: Path) -> None:
    (sample_copy.parent / "x.bin").write_bytes(b"\x00" * 16)
    edit(sample_copy, 'app = "build/app.elf"', 'app = { file = "x.bin", address = 0x08100000 }')
    assert_refused(build(sample_copy, tmp_path / "out"), tmp_path / "out", "x.bin:", "outside flash 0x08000000-0x080FFFFF")


def test_elf_segment_outside_flash(sample_copy: Path, tmp_path: Path) -> None:
    elf_file(sample_copy.parent / "far.elf", [(0x0800C000, b"\x01" * 64), (0x08200000, b"\x02" * 64)])
    edit(sample_copy, 'app = "build/app.elf"', 'app = "far.elf"')
    assert_refused(build(sample_copy, tmp_path / "out"), tmp_path / "out", "far.elf:", "0x08200000", "outside flash")


def test_overlapping_segments(sample_copy: Path, tmp_path: Path) -> None:
    elf_file(sample_copy.parent / "ovl.elf", [(0x0800C000, b"\x01" * 0x100), (0x0800C080, b"\x02" * 0x100)])
    edit(sample_copy, 'app = "build/app.elf"', 'app = "ovl.elf"')
    assert_refused(build(sample_copy, tmp_path / "out"), tmp_path / "out", "ovl.elf:", "overlaps", "128 bytes (0x80)")


def test_components_that_do_not_fit_the_chip(sample_copy: Path, tmp_path: Path) -> None:
    (sample_copy.parent / "huge.bin").write_bytes(os.urandom(0x100000))
    edit(sample_copy, 'wifi_firmware = "firmware/43362A2-PLACEHOLDER.bin"', 'wifi_firmware = "huge.bin"')
    assert_refused(build(sample_copy, tmp_path / "out"), tmp_path / "out", "MX25L8006E", "too many")


def test_stored_app_loading_outside_the_app_region(sample_copy: Path, tmp_path: Path) -> None:
    elf_file(sample_copy.parent / "boot.elf", [(0x08000000, b"\x01" * 64)])
    edit(sample_copy, 'fr_app = "build/ota_fr.stripped.elf"', 'fr_app = "boot.elf"')
    assert_refused(build(sample_copy, tmp_path / "out"), tmp_path / "out", "boot.elf:", "fr_app", "outside the app region")


def test_not_an_elf(sample_copy: Path, tmp_path: Path) -> None:
    (sample_copy.parent / "junk.elf").write_bytes(b"\x7fELF" + b"\xff" * 60)
    edit(sample_copy, 'app = "build/app.elf"', 'app = "junk.elf"')
    assert_refused(build(sample_copy, tmp_path / "out"), tmp_path / "out", "junk.elf:", "not a valid ELF")


@pytest.mark.parametrize("old, new, pattern", [
    ('board = "bcm943362wcd4"', 'board = "nope"', "board layout 'nope' not found"),
    ('chip = "MX25L8006E"', 'chip = "MX25L8006"', "did you mean 'MX25L8006E'"),
    ('[mcu]', '[mcu]\ndct1 = "x.bin"', "the DCT copies are made from [dct]"),
    ('[mcu]', '[mcu]\nbootlader = "x.bin"', "has no such region"),
    ('name = "ota_demo"', 'name = "ota_demo"\nnmae = 1', "unknown key 'nmae'"),
])
def test_bad_bundle_toml(sample_copy: Path, tmp_path: Path, old: str, new: str, pattern: str) -> None:
    edit(sample_copy, old, new)
    assert_refused(build(sample_copy, tmp_path / "out"), tmp_path / "out", "bundle.toml", pattern)


def test_out_that_would_overwrite_an_input_is_refused(sample_copy: Path) -> None:
    result = build(sample_copy, sample_copy.parent)
    assert result.exit_code == 2 and "would overwrite input" in result.output
    result = build(sample_copy, sample_copy.parent / "build" / "app.elf")
    assert result.exit_code == 2 and "would overwrite input" in result.output


def test_failed_build_keeps_previous_outputs(sample_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert build(sample_copy, out).exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    edit(sample_copy, 'app = "build/app.elf"', 'app = "build/nope.elf"')
    result = build(sample_copy, out)
    assert result.exit_code == 2
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_filesystem_folder_larger_than_its_slot_says_by_how_much(sample_copy: Path, tmp_path: Path) -> None:
    """Room for the filesystem = chip sectors - LUT - other components' sectors (wifi 225000 B -> 55 sectors,
    DCT image, two 1-sector apps), minus the SDK rule's extra sector."""
    from bundler.build import make_bundle
    from bundler.config import load_project

    base = make_bundle(load_project(sample_copy))
    other = sum(e.sector_count for e in base.sflash.lut if e.name != "filesystem")
    room = (256 - 1 - other) * 4096 - 1
    fs = base.sflash.tobytes()[base.sflash.lut[3].start_sector * 4096:][:3188]
    (sample_copy.parent / "resources" / "big.bin").write_bytes(b"\x00" * (room - len(fs) + 10))
    result = build(sample_copy, tmp_path / "out")
    from bundler.errors import hexsize

    # the filesystem sits before the Wi-Fi firmware in the LUT: the firmware is what passes the chip's end
    assert_refused(result, tmp_path / "out", "[sflash] filesystem (resources/): its image would be",
                   f"more than the room left ({hexsize(room)}); with it, [sflash] wifi_firmware",
                   "past the end of chip MX25L8006E", "the smallest chip that holds them is")


def test_a_name_the_os_refuses_is_a_clean_error(sample_copy: Path, tmp_path: Path) -> None:
    """Found by fuzz/fuzz_config.py: a 300-character board name made Path.is_file() raise ENAMETOOLONG."""
    edit(sample_copy, 'board = "bcm943362wcd4"', f'board = "{"b" * 300}"')
    assert_refused(build(sample_copy, tmp_path / "out"), tmp_path / "out", "bundle.toml", "not found")
    sample_copy.write_text(sample_copy.read_text().replace(f'board = "{"b" * 300}"', 'board = "bcm943362wcd4"'))
    edit(sample_copy, 'filesystem = "resources/"', f'filesystem = "{"r" * 300}/"')
    assert_refused(build(sample_copy, tmp_path / "out"), tmp_path / "out", "r" * 300)
