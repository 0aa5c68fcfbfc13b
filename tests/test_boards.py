"""The board layouts read from the 3.3.1 and 3.7.0 SDK trees (layouts/boards/<platform>-<sdk>.toml): one per STM32
platform whose makefile sets up the multi-app serial-flash LUT and whose platform.h includes the SPI flash, every
value equal to what tools/sdkfacts/boards.py extracted from that tree (tools/sdkfacts/boards.json), every SDK file
it came from cited, and the sample's parts built on each (or refused in one line saying why)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from bundler.build import build_bundle
from bundler.errors import PlacementError
from bundler.layout import LAYOUTS_DIR, Board, board_names, load_board, load_chip
from bundler.linekit import helper_config, spi_settings
from emu.host import Host
from emu.spinor import SpiNor
from emu.stm32 import Board as Stm32, Wiring

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "ota_demo"
HELPER = ROOT / "bundler" / "kit" / "sflash_helper.elf"  # the line kit's RAM helper
FACTS = json.loads((ROOT / "tools" / "sdkfacts" / "boards.json").read_text())
DCT_FACTS = json.loads((ROOT / "tools" / "sdkfacts" / "dct_layout.json").read_text())  # compiled per tree
# Board file of each extracted platform that takes a layout: <platform lowercased>-<the tree's SDK version>
EXPECTED = {f"{name.lower()}-{tree['sdk']}": (key, name)
            for key, tree in FACTS.items() for name, f in tree["platforms"].items()
            if f["multi_app_lut"] and f["spi_flash"]}
MBIT = 1 << 17


def _facts(board_id: str) -> tuple[str, dict[str, Any]]:
    key, name = EXPECTED[board_id]
    return key, FACTS[key]["platforms"][name]


def test_every_lut_platform_of_the_trees_has_a_layout_and_no_other() -> None:
    """A layout per (platform, tree) whose makefile sets APPS_LUT_HEADER_LOC/APPS_START_SECTOR and whose
    platform.h defines WICED_PLATFORM_INCLUDES_SPI_FLASH; none for a platform a tree lacks."""
    sdk_boards = {n for n in board_names() if re.search(r"-\d+\.\d+\.\d+$", n)}
    assert sdk_boards == set(EXPECTED)
    # the minimum set, in both trees where the tree has them
    for name in ("bcm943362wcd4", "bcm943362wcd4_ext", "bcm9wcdplus114", "bcm943362wcd6", "bcm943364wcd1"):
        assert {f"{name}-3.3.1", f"{name}-3.7.0"} <= sdk_boards
    # platforms with the LUT in their makefile but the SPI flash left out of platform.h take no layout
    left_out = {(k, n) for k, t in FACTS.items() for n, f in t["platforms"].items()
                if f["multi_app_lut"] and not f["spi_flash"]}
    assert left_out == {("currantlabs/WICED-SDK-3.7.0-7@HEAD", "BCM943341WCD1"),
                        ("kamejoko80/wiced-emw3165@HEAD", "BCM943341WCD1"), ("kamejoko80/wiced-emw3165@HEAD", "EMW3165")}
    # the two 3.5.2 names keep working
    assert {load_board(n).sdk for n in ("bcm943362wcd4", "bcm943362wcd4-sst")} == {"3.5.2"}


@pytest.mark.parametrize("board_id", sorted(EXPECTED))
def test_board_values_equal_the_extraction(board_id: str) -> None:
    key, f = _facts(board_id)
    board = load_board(board_id)
    regions = {r.name: [r.start, r.size] for r in board.mcu.regions}
    assert (board.name, board.sdk) == (EXPECTED[board_id][1], FACTS[key]["sdk"])
    assert board.mcu.part_number == f["mcu_part_number"] and f["mcu_variant"] in board.mcu.part
    assert (board.mcu.flash_base, board.mcu.flash_size) == (f["flash_base"], f["flash_size"])
    assert [board.mcu.sram_base, board.mcu.sram_size] == f["sram"]
    assert regions == {"bootloader": f["bootloader"], "dct1": f["dct1"], "dct2": f["dct2"], "app": f["app"]}
    # the regions tile the linker script's flash regions exactly (BTLDR_* .. APP_CODE)
    memory = f["memory"]
    assert f["bootloader"][1] == sum(memory[n][1] for n in ("BTLDR_VECTORS", "SHARED_API", "BTLDR_CODE"))
    assert board.dct.copies == ("dct1", "dct2")
    assert (board.dct.include_bt, board.dct.include_p2p, board.dct.include_ota2) == \
        (f["include_bt"], f["include_p2p"], f["include_ota2"])
    sf = board.sflash
    assert (sf.apps_lut_header_loc, sf.apps_start_sector, sf.sector_size) == \
        (f["apps_lut_header_loc"], f["apps_start_sector"], f["sflash_sector_size"])
    assert sf.app_region == "app"
    # the app region starts at the first sector the bootloader erases for a stored app (waf_platform.c)
    starts = [board.mcu.flash_base + sum(board.mcu.sectors[:i]) for i in range(len(board.mcu.sectors))]
    assert regions["app"][0] == starts[f["app_erase_sectors"][0]]
    chip = load_chip(sf.chip)
    if f["sflash_mbit"] is not None:
        assert chip.size == f["sflash_mbit"] * MBIT
    if f["sflash_part_number"] is not None:
        assert f["sflash_part_number"].startswith(chip.name) and sf.part_number(chip.name) == f["sflash_part_number"]


@pytest.mark.parametrize("board_id", sorted(EXPECTED))
def test_board_cites_the_files_its_values_come_from(board_id: str) -> None:
    key, f = _facts(board_id)
    text = (LAYOUTS_DIR / "boards" / f"{board_id}.toml").read_text()
    label, commit = key.split("@")[0], FACTS[key]["commit"][:7]
    assert f"{label}@{commit}" in text  # the tree and its revision
    for source in f["sources"].values():
        assert source in text, source


def _sample_on(tmp_path: Path, board_id: str) -> Path:
    """The sample with `board = board_id` and the board's own chip."""
    dest = tmp_path / "sample"
    shutil.copytree(SAMPLE, dest)
    toml = dest / "bundle.toml"
    text = re.sub(r'(?m)^chip = .*\n', "", toml.read_text())
    toml.write_text(re.sub(r'(?m)^board = .*$', f'board = "{board_id}"', text, count=1))
    return toml


def _objcopy(elf: Path, out: Path) -> bytes:
    subprocess.run(["arm-none-eabi-objcopy", "-O", "binary", "--gap-fill", "0xff", str(elf), str(out)], check=True)
    return out.read_bytes()


def _check_images(out: Path, board: Board, key: str, f: dict[str, Any], tmp_path: Path) -> None:
    """mcu.bin is the extracted flash (size), with the sample's bootloader and app where objcopy puts them, DCT
    copy 1 laid out as the tree's own compiled headers say (dct_layout.json of the same tree), copy 2 erased;
    sflash.bin is the board's chip."""
    mcu = (out / "mcu.bin").read_bytes()
    assert len(mcu) == f["flash_size"]
    for part, (start, _size) in (("bootloader", f["bootloader"]), ("app", f["app"])):
        raw = _objcopy(SAMPLE / "build" / f"{part}.elf", tmp_path / f"{part}.bin")
        offset = start - f["flash_base"]
        assert mcu[offset:offset + len(raw)] == raw, part
    offsets = DCT_FACTS[key]["offsetof"]
    at = {name: offset + f["dct1"][0] - f["flash_base"] for name, offset in offsets.items()}  # in mcu.bin
    assert mcu[at["platform_dct_header_t.magic_number"]:][:4] == b"BRCM"  # BOOTLOADER_MAGIC_NUMBER (Wiced.mk)
    mfg = at["platform_dct_data_t.mfg_info"] + offsets["platform_dct_mfg_info_t.serial_number"]
    mac = at["platform_dct_data_t.wifi_config"] + offsets["platform_dct_wifi_config_t.mac_address"]
    assert mcu[mfg:mfg + 11] == b"SN00000001\0" and mcu[mac:mac + 6] == bytes.fromhex("020AF7000001")  # the sample's
    if board.sdk == "3.7.0":  # platform_dct_version_t last: DCT_VERSION magic and version 0x0370
        version = at["platform_dct_data_t.dct_version"]
        field = {name: version + offsets[f"platform_dct_version_t.{name}"] for name in ("magic_number", "version")}
        assert mcu[field["magic_number"]:][:4] == (0xDC0200CD).to_bytes(4, "little")
        assert mcu[field["version"]:][:2] == (0x0370).to_bytes(2, "little")
    dct2 = f["dct2"][0] - f["flash_base"]
    assert mcu[dct2:dct2 + f["dct2"][1]] == b"\xff" * f["dct2"][1]
    assert len((out / "sflash.bin").read_bytes()) == load_chip(board.sflash.chip).size


@pytest.mark.parametrize("board_id", sorted(EXPECTED))
def test_the_sample_builds_on_every_board(tmp_path: Path, board_id: str) -> None:
    """The sample with `board = "<platform>-<sdk>"` (its chip, its SDK's DCT generation): built and placed on the
    board's own flash map."""
    key, f = _facts(board_id)
    build_bundle(_sample_on(tmp_path, board_id), tmp_path / "out")
    _check_images(tmp_path / "out", load_board(board_id), key, f, tmp_path)


# one board per APP_CODE size (976 KiB, 464 KiB): the rule is the region's size, not the board
APP_SIZES = {_facts(b)[1]["app"][1]: b for b in sorted(EXPECTED, reverse=True)}


@pytest.mark.parametrize("board_id", sorted(APP_SIZES.values()))
def test_an_app_too_big_for_the_board_is_refused_in_one_line(tmp_path: Path, board_id: str) -> None:
    """A 512 KiB app: placed on the boards with 976 KiB of APP_CODE, refused on the 464 KiB ones (STM32F411)
    naming the app and its region."""
    _, f = _facts(board_id)
    toml = _sample_on(tmp_path, board_id)
    big = toml.parent / "build" / "big.bin"
    app = (SAMPLE / "build" / "app.bin").read_bytes()  # the sample app (vector table first), padded to 512 KiB
    big.write_bytes(app + b"\xff" * (0x80000 - len(app)))
    toml.write_text(toml.read_text().replace('app = "build/app.elf"',
                                             f'app = {{ file = "build/big.bin", address = 0x{f["app"][0]:08X} }}'))
    if f["app"][1] >= 0x80000:
        build_bundle(toml, tmp_path / "out")
        mcu = (tmp_path / "out" / "mcu.bin").read_bytes()
        start = f["app"][0] - f["flash_base"]
        assert len(mcu) == f["flash_size"] and mcu[start:start + 0x80000] == big.read_bytes()
        return
    with pytest.raises(PlacementError) as info:
        build_bundle(toml, tmp_path / "out")
    message = str(info.value)  # the region, its room and the overflow (image.assemble_mcu)
    assert re.search(rf"big\.bin: app segment .* is outside region app 0x{f['app'][0]:08X}-0x{sum(f['app']) - 1:08X} "
                     r".* it would end at 0x0808C000, .* too many$", message), message
    assert "\n" not in message and not (tmp_path / "out").exists()


def test_readme_lists_every_board_with_its_source() -> None:
    """README's boards table: one row per board layout of the trees, naming its tree and commit and makefile."""
    readme = (ROOT / "README.md").read_text()
    for board_id, (key, name) in EXPECTED.items():
        f = FACTS[key]["platforms"][name]
        row = next((line for line in readme.splitlines() if line.startswith(f"| `{board_id}` |")), None)
        assert row is not None, board_id
        assert f"{key.split('@')[0]}@{FACTS[key]['commit'][:7]}" in row and f["sources"]["makefile"] in row
        assert f"{f['mcu_part_number']} ({f['flash_size'] >> 10} KiB" in row and f"| {f['app'][1] >> 10} KiB |" in row


# SPI peripheral base, its RCC enable register and bit (RM0033 / RM0090 / RM0383 / RM0402 memory map and RCC: the
# same on STM32F2 and F4)
SPI_PERIPHERALS = {"SPI1": (0x40013000, 0x40023844, 12), "SPI2": (0x40003800, 0x40023840, 14)}
HSI_HZ = 16_000_000  # the clock after `reset halt`, when the line kit's helper runs


@pytest.mark.parametrize("board_id", sorted(EXPECTED))
def test_board_spi_wiring_equals_the_extraction(board_id: str) -> None:
    """[sflash.spi] (the line kit's wiring): the pins and peripheral of platform.c's wiced_spi_flash, SPI mode 3
    (SPI_CLOCK_IDLE_HIGH | SPI_CLOCK_RISING_EDGE), a clock no faster than the SDK drives that flash."""
    _, f = _facts(board_id)
    wiring = f["spi_flash_wiring"]
    spi = spi_settings(load_board(board_id).spi, board_id)
    assert {k: spi[k] for k in ("sck", "miso", "mosi", "cs")} == {k: wiring[k] for k in ("sck", "miso", "mosi", "cs")}
    assert (spi["spi_base"], spi["rcc_enable_register"], spi["rcc_enable_bit"]) == SPI_PERIPHERALS[wiring["peripheral"]]
    assert wiring["mode"] == ["SPI_CLOCK_IDLE_HIGH", "SPI_CLOCK_RISING_EDGE"] and spi["mode"] == 3
    assert HSI_HZ >> (spi["prescaler"] + 1) <= wiring["speed"]


def _emulated_wiring(wiring: dict[str, Any]) -> Wiring:
    """The emulated board wired as platform.c says (GPIO port n at 0x40020000 + 0x400 n: RM0033/RM0090 memory map)."""
    def pin(name: str) -> tuple[int, int]:
        return 0x40020000 + 0x400 * (ord(wiring[name][1]) - ord("A")), int(wiring[name][2:])
    base, rcc, bit = SPI_PERIPHERALS[wiring["peripheral"]]
    return Wiring(spi_base=base, spi_rcc_enr=rcc, spi_rcc_bit=bit, gpio_af=5, sck=pin("sck"), miso=pin("miso"),
                  mosi=pin("mosi"), cs=pin("cs"))


# one board per distinct serial-flash wiring (SPI1 on PA4-PA7; SPI2 on PB12-PB15)
WIRINGS = {json.dumps(_facts(b)[1]["spi_flash_wiring"], sort_keys=True): b for b in sorted(EXPECTED, reverse=True)}


@pytest.mark.parametrize("board_id", sorted(WIRINGS.values()))
def test_the_line_kit_helper_writes_the_flash_through_the_layouts_wiring(board_id: str) -> None:
    """The RAM helper with the config block `bundle openocd` makes from the layout's [sflash.spi], on an emulated
    STM32 whose serial flash is wired as the tree's platform.c says: it reads the chip's JEDEC id and writes
    and reads back a chunk."""
    _, f = _facts(board_id)
    board = load_board(board_id)
    chip = load_chip(board.sflash.chip)
    nor = SpiNor(chip.size, chip.jedec_id)
    config = helper_config(spi_settings(board.spi, board_id), chip.jedec_id, chip.size, chip.sector_size)
    host = Host(Stm32(nor, _emulated_wiring(f["spi_flash_wiring"])), HELPER, config)
    data = bytes(range(256)) * 16
    assert host.command(0x80 | 0x08, 0x1000, data) == 0  # WRITE_EIN | POST_VERIFY: OK
    assert bytes(nor.mem[0x1000:0x1000 + len(data)]) == data
