"""Read every STM32 platform of a WICED SDK tree and print the numbers a board layout takes, with the file of each.

Usage: python tools/sdkfacts/boards.py GIT_DIR REV --sdk VERSION [--label NAME] [--merge TABLE.json]
(prints JSON on stdout, or adds it to TABLE.json; tools/sdkfacts/README.md lists the runs that made the table)

GIT_DIR is a mirror of a full SDK tree, one with platforms/ (the search tool's fetch of
github:kamejoko80/wiced-emw3165 (3.3.1) or github:currantlabs/WICED-SDK-3.7.0-7 (3.7.0)). For each
platforms/<P>/<P>.mk whose HOST_MCU_FAMILY is an STM32 family the script reads, at REV:

* the platform makefile: MCU family, variant and part number, APPS_LUT_HEADER_LOC and APPS_START_SECTOR (the
  multi-app serial-flash look-up table), the DCT sections its GLOBAL_DEFINES enable;
* the platform's platform.h: whether WICED_PLATFORM_INCLUDES_SPI_FLASH is defined (the serial-flash driver is
  built only then); its platform.c: the serial flash's SPI peripheral, pins, speed and clock mode
  (`wiced_spi_flash`, platform_spi_peripherals, platform_gpio_pins); its README.txt: the serial flash's size in Mbit and part number where it states them;
* WICED/platform/MCU/<family>/GCC/<variant>/memory_with_bootloader.ld (the memory map of a build with bootloader
  and DCT, which <family>.mk selects by variant): every MEMORY region's origin and length, evaluated by
  arm-none-eabi-ld (binutils) in a scratch folder outside the repository;
* WICED/platform/MCU/<family>/WAF/waf_platform.c: the internal-flash sectors the bootloader erases before it
  copies a stored app (PLATFORM_APP_START_SECTOR .. PLATFORM_APP_END_SECTOR, chosen by the variant's define from
  <family>.mk);
* WICED/platform/MCU/wiced_apps_common.c: SFLASH_SECTOR_SIZE (the unit of the LUT's sector numbers).

Only numbers, identifiers (part numbers, region names) and the tree's file paths are printed: no SDK text. The
committed output (tools/sdkfacts/boards.json) is what tests/test_boards.py checks the board layouts against.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from facts_table import add_common, emit, label

STM32_FAMILY = re.compile(r"^STM32F\dxx$")
DCT_DEFINES = {"WICED_DCT_INCLUDE_BT_CONFIG": "include_bt", "WICED_DCT_INCLUDE_P2P_CONFIG": "include_p2p",
               "OTA2_SUPPORT": "include_ota2"}
C_COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)
MK_ASSIGN = re.compile(r"^\s*([A-Z0-9_]+)\s*(:=|\+=|=|\?=)\s*(.*?)\s*$")
LD_REGION_NAME = re.compile(r"(\w+)\s*\([rwx!]+\)\s*:\s*ORIGIN\b")
MBIT_FLASH = re.compile(r"(\d+)\s*Mbit\b[^\n]*\bflash|flash\b[^\n]*?(\d+)\s*Mbit", re.I)
FLASH_PART = re.compile(r"\b((?:MX25|MX66|SST25|W25Q|N25Q|EN25|IS25)[0-9A-Z-]+)")


def _git(git_dir: Path, *args: str) -> bytes:
    return subprocess.run(["git", "--git-dir", str(git_dir), *args], check=True, capture_output=True).stdout


def _show(git_dir: Path, rev: str, path: str) -> str | None:
    try:
        return _git(git_dir, "show", f"{rev}:{path}").decode("utf-8", "replace")
    except subprocess.CalledProcessError:
        return None


def makefile_vars(text: str) -> dict[str, list[str]]:
    """Every assignment of a makefile, in order, by variable (conditions ignored: a platform makefile assigns
    these once, outside any `ifeq`)."""
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        m = MK_ASSIGN.match(line.split("#", 1)[0])
        if m:
            found.setdefault(m.group(1), []).append(m.group(3))
    return found


def variant_defines(family_mk: str) -> dict[str, str]:
    """<family>.mk: the standard-peripheral-library define each HOST_MCU_VARIANT gets
    (`ifneq (,$(filter $(HOST_MCU_VARIANT), A B))` followed by `GLOBAL_DEFINES += D`)."""
    out: dict[str, str] = {}
    lines = family_mk.splitlines()
    for i, line in enumerate(lines):
        m = re.match(r"^\s*ifneq\s*\(,\s*\$\(filter \$\(HOST_MCU_VARIANT\),\s*([^)]*)\)\)", line)
        d = re.match(r"^\s*GLOBAL_DEFINES\s*\+=\s*(\w+)\s*$", lines[i + 1]) if m and i + 1 < len(lines) else None
        if m and d:
            out.update({variant: d.group(1) for variant in m.group(1).split()})
    return out


def memory_regions(ld: str) -> dict[str, list[int]]:
    """The MEMORY regions of a GNU ld script: region -> [origin, length], as arm-none-eabi-ld itself evaluates
    them (the script INCLUDEd by a probe script that defines ORIGIN()/LENGTH() of each region as symbols, linked in
    a scratch folder, the symbols read back with arm-none-eabi-nm). The region names come from the MEMORY block."""
    block = re.search(r"\bMEMORY\s*\{(.*?)\}", C_COMMENT.sub(" ", ld), re.S)
    names = LD_REGION_NAME.findall(block.group(1)) if block else []
    if not names:
        return {}
    with tempfile.TemporaryDirectory(prefix="sdkfacts-") as tmp:
        work = Path(tmp)
        (work / "memory.ld").write_text(ld)
        (work / "probe.ld").write_text("INCLUDE memory.ld\nSECTIONS { .text : { *(.text) } }\n" + "".join(
            f"__origin_{i} = ORIGIN({n});\n__length_{i} = LENGTH({n});\n" for i, n in enumerate(names)))
        subprocess.run(["arm-none-eabi-as", "-o", str(work / "empty.o")], input=b"", check=True)
        subprocess.run(["arm-none-eabi-ld", "-T", "probe.ld", "-o", "probe.elf", "empty.o"], cwd=work, check=True)
        symbols = {sym: int(value, 16) for value, _kind, sym in (
            line.split() for line in subprocess.run(["arm-none-eabi-nm", str(work / "probe.elf")], check=True,
                                                    capture_output=True, text=True).stdout.splitlines())}
    return {n: [symbols[f"__origin_{i}"], symbols[f"__length_{i}"]] for i, n in enumerate(names)}


def app_erase_sectors(waf: str, define: str | None) -> list[int] | None:
    """[PLATFORM_APP_START_SECTOR, PLATFORM_APP_END_SECTOR] of waf_platform.c for the variant's define: the
    `#if defined(...)` / `#elif` chain picks the end sector, or one unconditional definition holds for all."""
    start = end = None
    condition: list[str] | None = None  # the defines of the branch being read (None: outside any #if)
    taken = False  # a branch of the current chain already matched
    for line in C_COMMENT.sub(" ", waf).splitlines():
        directive = re.match(r"^\s*#\s*(if|elif|else|endif)\b(.*)", line)
        if directive:
            kind, rest = directive.groups()
            if kind == "if":
                taken = False
            if kind in ("if", "elif"):
                condition = re.findall(r"defined\s*\(\s*(\w+)\s*\)", rest)
            elif kind == "else":
                condition = [] if not taken else ["-"]
            else:
                condition = None
            continue
        m = re.match(r"^\s*#\s*define\s+PLATFORM_APP_(START|END)_SECTOR\s*\(?\s*FLASH_Sector_(\d+)", line)
        if not m:
            continue
        applies = condition is None or (condition == [] and not taken) or (define in (condition or []))
        if applies:
            if condition:
                taken = True
            if m.group(1) == "START":
                start = int(m.group(2))
            else:
                end = int(m.group(2))
    return None if start is None or end is None else [start, end]


def spi_flash_wiring(platform_c: str, platform_h: str) -> dict[str, Any] | None:
    """platform.c's `wiced_spi_flash` device: its SPI peripheral, chip select, speed and mode flags, and the pins of
    that peripheral (platform_spi_peripherals[port] -> platform_gpio_pins[...] = { GPIOx, n }) as "PA5"."""
    text = C_COMMENT.sub(" ", platform_c)
    device = re.search(r"wiced_spi_device_t\s+wiced_spi_flash\s*=\s*\{(.*?)\};", text, re.S)
    if device is None:
        return None
    field = lambda body, name: re.search(rf"\.{name}\s*=\s*(?:\(\s*\w+\s*\)\s*)?([^,\n]+?)\s*,?\s*$", body, re.M)
    port, cs = field(device.group(1), "port").group(1), field(device.group(1), "chip_select").group(1)
    cs = (_c_define(platform_h, cs) or cs).strip("( )")  # WICED_SPI_FLASH_CS -> ( WICED_GPIO_5 )
    pins = {m.group(1): f"P{m.group(2)}{int(m.group(3))}"
            for m in re.finditer(r"\[\s*(\w+)\s*\]\s*=\s*\{\s*GPIO([A-K])\s*,\s*(\d+)\s*\}", text)}
    table = text[text.index("platform_spi_peripherals"):]
    entry = table[re.search(rf"\[\s*{port}\s*\]\s*=", table).end():]
    def pin(name: str) -> str:
        return pins[re.search(rf"\.{name}\s*=\s*&platform_gpio_pins\[\s*(\w+)\s*\]", entry).group(1)]
    mode = field(device.group(1), "mode").group(1)
    return {"peripheral": field(entry, "port").group(1), "gpio_af": field(entry, "gpio_af").group(1),
            "sck": pin("pin_clock"), "miso": pin("pin_miso"), "mosi": pin("pin_mosi"), "cs": pins[cs],
            "speed": int(field(device.group(1), "speed").group(1)),
            "mode": sorted(re.findall(r"SPI_CLOCK_\w+", mode))}


def _c_define(text: str, name: str) -> str | None:
    m = re.search(rf"^\s*#\s*define\s+{name}\b[ \t]*\(?\s*([^)\n]*?)\s*\)?\s*$", C_COMMENT.sub(" ", text), re.M)
    return None if m is None else m.group(1)


def _int(value: str | None) -> int | None:
    return None if value is None else int(value.rstrip("UuLl"), 0)


def platform_facts(git_dir: Path, rev: str, name: str, mk_text: str) -> dict[str, Any] | None:
    """The facts of one platform (None if its MCU is not an STM32)."""
    mk_path = f"platforms/{name}/{name}.mk"
    mk = makefile_vars(mk_text)
    family = (mk.get("HOST_MCU_FAMILY") or [""])[-1]
    if not STM32_FAMILY.match(family):
        return None
    variant = mk["HOST_MCU_VARIANT"][-1]
    defines = " ".join(mk.get("GLOBAL_DEFINES", [])).split()
    sources: dict[str, str] = {"makefile": mk_path}
    facts: dict[str, Any] = {
        "mcu_family": family, "mcu_variant": variant,
        "mcu_part_number": (mk.get("HOST_MCU_PART_NUMBER") or [None])[-1],
        "apps_lut_header_loc": _int((mk.get("APPS_LUT_HEADER_LOC") or [None])[-1]),
        "apps_start_sector": _int((mk.get("APPS_START_SECTOR") or [None])[-1]),
        **{key: define in defines for define, key in DCT_DEFINES.items()},
    }
    header_path = f"platforms/{name}/platform.h"
    header = _show(git_dir, rev, header_path) or ""
    facts["spi_flash"] = _c_define(header, "WICED_PLATFORM_INCLUDES_SPI_FLASH") is not None
    sources["spi_flash"] = header_path
    source_path = f"platforms/{name}/platform.c"
    facts["spi_flash_wiring"] = spi_flash_wiring(_show(git_dir, rev, source_path) or "", header) \
        if facts["spi_flash"] else None
    if facts["spi_flash_wiring"]:
        sources["spi_flash_wiring"] = source_path
    readme_path = f"platforms/{name}/README.txt"
    readme = _show(git_dir, rev, readme_path) or ""
    mbit = MBIT_FLASH.search(readme)
    part = FLASH_PART.search(readme)
    facts["sflash_mbit"] = None if mbit is None else int(mbit.group(1) or mbit.group(2))
    facts["sflash_part_number"] = None if part is None else part.group(1)
    if mbit or part:
        sources["sflash"] = readme_path
    mcu_dir = f"WICED/platform/MCU/{family}"
    ld_path = f"{mcu_dir}/GCC/{variant}/memory_with_bootloader.ld"
    regions = memory_regions(_show(git_dir, rev, ld_path) or "")
    facts["memory"] = regions
    sources["memory"] = ld_path
    flash_names = ("BTLDR_VECTORS", "SHARED_API", "BTLDR_CODE", "DCT1_FLASH", "DCT2_FLASH", "APP_CODE")
    if all(n in regions for n in flash_names):
        base = regions["BTLDR_VECTORS"][0]
        boot_end = regions["BTLDR_CODE"][0] + regions["BTLDR_CODE"][1]
        facts["flash_base"] = base
        facts["flash_size"] = regions["APP_CODE"][0] + regions["APP_CODE"][1] - base
        facts["bootloader"] = [base, boot_end - base]  # BTLDR_VECTORS + SHARED_API + BTLDR_CODE
        facts["dct1"], facts["dct2"], facts["app"] = regions["DCT1_FLASH"], regions["DCT2_FLASH"], regions["APP_CODE"]
        facts["sram"] = regions["SRAM"]
    family_mk = _show(git_dir, rev, f"{mcu_dir}/{family}.mk") or ""
    waf_path = f"{mcu_dir}/WAF/waf_platform.c"
    facts["app_erase_sectors"] = app_erase_sectors(_show(git_dir, rev, waf_path) or "",
                                                   variant_defines(family_mk).get(variant))
    sources["app_erase_sectors"] = waf_path
    common_path = "WICED/platform/MCU/wiced_apps_common.c"
    facts["sflash_sector_size"] = _int(_c_define(_show(git_dir, rev, common_path) or "", "SFLASH_SECTOR_SIZE"))
    sources["sflash_sector_size"] = common_path
    facts["multi_app_lut"] = facts["apps_lut_header_loc"] is not None and facts["apps_start_sector"] is not None
    facts["sources"] = sources
    return facts


def tree_facts(git_dir: Path, rev: str) -> dict[str, Any]:
    platforms: dict[str, Any] = {}
    for name in _git(git_dir, "ls-tree", "--name-only", f"{rev}:platforms").decode().split():
        mk_text = _show(git_dir, rev, f"platforms/{name}/{name}.mk")
        facts = None if mk_text is None else platform_facts(git_dir, rev, name, mk_text)
        if facts is not None:
            platforms[name] = facts
    return {"rev": rev, "commit": _git(git_dir, "rev-parse", rev).decode().strip(), "platforms": platforms}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common(parser)
    parser.add_argument("rev")
    parser.add_argument("--sdk", required=True, help="the SDK version of the tree (e.g. 3.7.0)")
    args = parser.parse_args(argv)
    emit({f"{label(args)}@{args.rev}": {"sdk": args.sdk, **tree_facts(args.git_dir, args.rev)}}, args.merge)
    return 0

if __name__ == "__main__":
    sys.exit(main())
