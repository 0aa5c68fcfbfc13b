"""Compile a WICED SDK's own DCT headers with arm-none-eabi-gcc and print sizeof/offsetof of every DCT structure.

Usage: python tools/sdkfacts/dct_layout.py GIT_DIR REV [REV ...] [--label NAME] [-D DEFINE] [--merge TABLE.json]
(prints JSON on stdout, or adds it to TABLE.json; tools/sdkfacts/README.md lists the runs that made the table)

GIT_DIR is a mirror of an SDK tree (e.g. the search tool's fetch of github:amlweems/wiced-history, tags
v3.1.0 .. v3.7.0). For each REV the script reads `platform_dct.h` and `wiced_apps_common.h` and the headers they
include (resolved by file name within that revision) into a scratch folder outside the repository, compiles one
translation unit that includes them with the SDK's STM32 flags (-mthumb -mcpu=cortex-m3 -mlittle-endian
-fsigned-char, AAPCS small enums; ../shared/docs/wiced-formats.md section 0) and -g, then reads sizes and member
offsets from the object's DWARF (pyelftools). No SDK text leaves the scratch folder: only numbers are printed.
The committed output (tools/sdkfacts/dct_layout.json) is what tests/test_dct_generations.py checks against.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from elftools.elf.elffile import ELFFile
from facts_table import add_common, emit, label

ROOTS = ("platform_dct.h", "wiced_result.h", "wiced_apps_common.h")  # wiced_result_t is used by the last
# Types reported: every struct typedef of these headers (and the wwd types the DCT embeds)
TYPE_NAME = re.compile(r"^(platform_dct_\w+|wiced_config_\w+|wiced_ap_info_t|wiced_ssid_t|image_location_t|"
                       r"fixed_location_t|load_details_t|boot_detail_t|app_header_t|bootloader_dct_data_t)$")
# Headers a DCT header pulls in that only matter for other targets: given an empty stand-in
STUB_OK = re.compile(r"^(platform_config|platform_isr|platform_mcu_peripheral|wiced_defaults|"
                     r"platform_toolchain)\.h$")
INCLUDE = re.compile(rb'^\s*#\s*include\s*"([^"]+)"', re.M)  # <...> headers come from the toolchain
GCC_FLAGS = ["-mthumb", "-mcpu=cortex-m3", "-mlittle-endian", "-fsigned-char", "-g", "-O0",
             "-fno-eliminate-unused-debug-types", "-w"]
DEFINES = ["-DSTM32F2XX", "-DWICED_VERSION=\"x\"", "-DBUS=\"SDIO\""]


def _git(git_dir: Path, *args: str) -> bytes:
    return subprocess.run(["git", "--git-dir", str(git_dir), *args], check=True, capture_output=True).stdout


def _headers(git_dir: Path, rev: str) -> dict[str, list[str]]:
    """Base name -> repository paths of every .h of the revision (shortest path first)."""
    names: dict[str, list[str]] = {}
    for path in _git(git_dir, "ls-tree", "-r", "--name-only", rev).decode().splitlines():
        if path.endswith(".h") and not path.startswith("tools/"):  # full trees carry a toolchain copy
            names.setdefault(path.rsplit("/", 1)[-1], []).append(path)
    for paths in names.values():
        paths.sort(key=lambda p: (0 if "/include/" in p or p.startswith("include/") else 1, len(p)))
    return names


def extract(git_dir: Path, rev: str, into: Path) -> tuple[list[str], list[str]]:
    """Copy the root headers and everything they include into `into` (flat); return (sources, stubbed)."""
    names = _headers(git_dir, rev)
    todo = [n for n in ROOTS if n in names]
    seen: set[str] = set()
    sources: list[str] = []
    stubbed: list[str] = []
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        target = into / name
        if name not in names or STUB_OK.match(name):
            if name in names or STUB_OK.match(name) or not name.endswith(".h"):
                target.write_bytes(b"")
                stubbed.append(name)
            continue  # a system header (stdint.h, ...) comes from the toolchain
        text = _git(git_dir, "show", f"{rev}:{names[name][0]}")
        sources.append(names[name][0])
        target.write_bytes(text)
        todo.extend(inc.decode().rsplit("/", 1)[-1] for inc in INCLUDE.findall(text))
        # a relative include such as "../../utilities/crc/crc.h" is flattened to its base name
        target.write_bytes(INCLUDE.sub(lambda m: b'#include "' + m.group(1).rsplit(b"/", 1)[-1] + b'"', text))
    return sorted(sources), sorted(stubbed)


def _attr(die: Any, name: str) -> Any:
    return die.attributes[name].value if name in die.attributes else None


def _strip(die: Any) -> Any:
    """Follow typedef/const/volatile to the underlying type."""
    while die.tag in ("DW_TAG_typedef", "DW_TAG_const_type", "DW_TAG_volatile_type"):
        die = die.get_DIE_from_attribute("DW_AT_type")
    return die


def _size(die: Any) -> int:
    die = _strip(die)
    if die.tag == "DW_TAG_array_type":
        count = 1
        for sub in die.iter_children():
            if sub.tag == "DW_TAG_subrange_type":
                count *= (_attr(sub, "DW_AT_upper_bound") or 0) + 1
        return count * _size(die.get_DIE_from_attribute("DW_AT_type"))
    return int(_attr(die, "DW_AT_byte_size"))


def _members(die: Any, prefix: str, base: int, out: dict[str, int]) -> None:
    die = _strip(die)
    if die.tag not in ("DW_TAG_structure_type", "DW_TAG_union_type"):
        return
    for sub in die.iter_children():
        if sub.tag != "DW_TAG_member" or _attr(sub, "DW_AT_name") is None:
            continue
        name = f"{prefix}.{sub.attributes['DW_AT_name'].value.decode()}"
        offset = base + int(_attr(sub, "DW_AT_data_member_location") or 0)
        out[name] = offset
        _members(sub.get_DIE_from_attribute("DW_AT_type"), name, offset, out)


def layout(obj: Path) -> dict[str, dict[str, int]]:
    """sizeof and (flattened, nested) offsetof of every reported typedef in the object's DWARF."""
    sizes: dict[str, int] = {}
    offsets: dict[str, int] = {}
    with obj.open("rb") as f:
        dwarf = ELFFile(f).get_dwarf_info()
        for cu in dwarf.iter_CUs():
            for die in cu.iter_DIEs():
                if die.tag != "DW_TAG_typedef" or _attr(die, "DW_AT_name") is None:
                    continue
                name = die.attributes["DW_AT_name"].value.decode()
                if not TYPE_NAME.match(name) or "DW_AT_type" not in die.attributes:
                    continue
                target = _strip(die)
                if target.tag != "DW_TAG_structure_type":
                    continue
                sizes[name] = _size(target)
                _members(target, name, 0, offsets)
    return {"sizeof": dict(sorted(sizes.items())), "offsetof": dict(sorted(offsets.items()))}


def compile_rev(git_dir: Path, rev: str, defines: list[str]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="sdkfacts-") as tmp:
        work = Path(tmp)
        sources, stubbed = extract(git_dir, rev, work)
        roots = [n for n in ROOTS if (work / n).exists() and (work / n).stat().st_size]
        (work / "probe.c").write_text("".join(f'#include "{n}"\n' for n in roots))
        subprocess.run(["arm-none-eabi-gcc", *GCC_FLAGS, *DEFINES, *defines, "-I", str(work), "-c",
                        str(work / "probe.c"), "-o", str(work / "probe.o")], check=True)
        result: dict[str, Any] = {"rev": rev, "commit": _git(git_dir, "rev-parse", rev).decode().strip(),
                                  "headers": sources, "stubbed": stubbed, "defines": defines}
        result.update(layout(work / "probe.o"))
        return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common(parser)
    parser.add_argument("revs", nargs="+")
    parser.add_argument("-D", dest="defines", action="append", default=[], help="extra define (e.g. "
                        "WICED_DCT_INCLUDE_BT_CONFIG)")
    args = parser.parse_args(argv)
    suffix = "".join(f"+{d}" for d in args.defines)
    emit({f"{label(args)}@{rev}{suffix}": compile_rev(args.git_dir, rev, [f"-D{d}" for d in args.defines])
          for rev in args.revs}, args.merge)
    return 0

if __name__ == "__main__":
    sys.exit(main())
