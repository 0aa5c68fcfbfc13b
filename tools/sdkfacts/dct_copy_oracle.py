"""Run a WICED SDK's own DCT copy choice (`wiced_dct_get_current_address`, as its bootloader reaches it) on DCT images
and print which copy it uses.

Usage: python tools/sdkfacts/dct_copy_oracle.py GIT_DIR REV CASES_DIR [--label NAME] [--merge TABLE.json]

CASES_DIR holds two-copy images (`NAME.dct1`, `NAME.dct2`, 16 KiB each) and `cases.json` ({NAME: generation});
`python tests/dct_copy_cases.py CASES_DIR` writes them. For REV the script reads, into a scratch folder outside the
repository, the revision's `platform_dct.h` and the headers it includes (as tools/sdkfacts/dct_layout.py does),
`wiced_dct_common.h`, `crc.c`/`crc.h`, and copies out of `WICED/platform/MCU/wiced_dct_internal_common.c` (and
3.7.0's `wiced_dct_update.c`) the functions the choice runs through; compiles them with arm-none-eabi-gcc as the
bootloader is (-DBOOTLOADER, the STM32F2 flags, DCT copies at 0x08004000 and 0x08008000, 16 KiB each) with stubs
only for flash erase/write and asserts; and runs that code in the unicorn emulator (Cortex-M3) once per case of the
revision's generation. A case where the code erases copy 1 (both copies invalid) is reported as null. No SDK text
leaves the scratch folder: only each case's SHA-256 and the copy number are printed.
The committed output (tools/sdkfacts/dct_copy_oracle.json) is what tests/test_dct_copy_oracle.py checks against.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from elftools.elf.elffile import ELFFile
from unicorn import UC_ARCH_ARM, UC_MODE_MCLASS, UC_MODE_THUMB, Uc
from unicorn.arm_const import UC_ARM_REG_LR, UC_ARM_REG_R0, UC_ARM_REG_SP

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dct_layout import GCC_FLAGS, _git, extract  # noqa: E402  (same folder)
from facts_table import add_common, emit, label  # noqa: E402

DCT1, DCT2, COPY = 0x08004000, 0x08008000, 0x4000
CODE, RAM = 0x08040000, 0x20000000
RETURN = 0x08001000  # a bkpt the called function returns to
# functions the choice runs through, per generation (callees first), from wiced_dct_internal_common.c; 3.7.0 also
# takes the minimal header/version checks from wiced_dct_update.c
FUNCTIONS = {
    "is_current_dct": ["wiced_dct_get_current_address"],
    "header_crc": ["wiced_dct_generate_crc_from_flash", "wiced_dct_check_crc_valid", "wiced_dct_get_current_address"],
    "version_crc": ["wiced_dct_generate_crc_from_flash", "wiced_dct_validate_and_determine_version",
                    "wiced_dct_get_current_address"],
}
UPDATE_FUNCTIONS = ["wiced_dct_minimal_check_dct_header", "wiced_dct_minimal_check_dct_version"]
GENERATION_RULE = {"3.1.2": "is_current_dct", "3.3.1": "is_current_dct", "3.4.0": "is_current_dct",
                   "3.5.2": "header_crc", "3.7.0": "version_crc"}

PRELUDE = f"""
#include <stdint.h>
#include <stddef.h>
#include "wiced_result.h"
#include "platform_dct.h"
#include "wiced_apps_common.h"
#include "wiced_dct_common.h"
#define PLATFORM_DCT_COPY1_START_ADDRESS ((uint32_t){DCT1:#x})
#define PLATFORM_DCT_COPY1_END_ADDRESS ((uint32_t){DCT1 + COPY:#x})
#define PLATFORM_DCT_COPY2_START_ADDRESS ((uint32_t){DCT2:#x})
#define PLATFORM_DCT_COPY2_END_ADDRESS ((uint32_t){DCT2 + COPY:#x})
#define PLATFORM_DCT_COPY1_SIZE ((uint32_t){COPY:#x})
#define PLATFORM_DCT_COPY1_START_SECTOR 1
#define PLATFORM_DCT_COPY1_END_SECTOR 2
#define PLATFORM_DCT_COPY2_START_SECTOR 2
#define PLATFORM_DCT_COPY2_END_SECTOR 3
#define wiced_assert(msg, cond)
volatile uint32_t oracle_erased;
void* memcpy(void* d, const void* s, size_t n) {{ char* a = d; const char* b = s; while (n--) *a++ = *b++; return d; }}
void* memset(void* d, int c, size_t n) {{ char* a = d; while (n--) *a++ = (char)c; return d; }}
int platform_erase_flash(uint16_t start_sector, uint16_t end_sector) {{ oracle_erased = 1; return 0; }}
int platform_write_flash_chunk(uint32_t address, const void* data, uint32_t size) {{ return 0; }}
wiced_result_t wiced_dct_erase_non_current_dct(uint32_t non_current_dct) {{ oracle_erased = 1; return WICED_SUCCESS; }}
"""
EPILOGUE = "void* oracle_main(void) { oracle_erased = 0; return wiced_dct_get_current_address(DCT_INTERNAL_SECTION); }\n"


def _paths(git_dir: Path, rev: str) -> list[str]:
    return _git(git_dir, "ls-tree", "-r", "--name-only", rev).decode().splitlines()


def _show(git_dir: Path, rev: str, suffix: str) -> str:
    path = next(p for p in _paths(git_dir, rev) if p.endswith(suffix))
    return _git(git_dir, "show", f"{rev}:{path}").decode("latin-1")


def _block(text: str, start: int) -> str:
    """From `start` to the brace that closes the first '{' after it."""
    depth, i = 0, text.index("{", start)
    while True:
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        i += 1
        if depth == 0:
            return text[start:i]


def _function(text: str, name: str) -> str:
    m = re.search(rf"^[ \t]*[A-Za-z_][\w \t\*]*\b{name}\s*\([^;{{]*\)\s*\{{", text, re.M)
    if m is None:
        raise SystemExit(f"{name}: not defined in this revision")
    return _block(text, m.start())


def _file_head(text: str) -> str:
    """The file's own macros and types before its first definition (#define / conditionals, typedef blocks; no
    #include)."""
    head = text[:text.index("DCT_section_offsets")]
    keep = [line for line in head.splitlines() if re.match(r"\s*#\s*(define|ifn?def|if|else|elif|endif)\b", line)]
    types = [_block(head, m.start()) + re.match(r"[^;]*;", head[head.index("}", m.start()) + 1:]).group(0)
             for m in re.finditer(r"^typedef\s+(enum|struct)\b", head, re.M)]
    return "\n".join(keep) + "\n" + "\n".join(types) + "\n"


def build(git_dir: Path, rev: str, rule: str, work: Path) -> Path:
    extract(git_dir, rev, work)
    (work / "wwd_assert.h").write_text("")
    (work / "wiced_dct_common.h").write_text(_show(git_dir, rev, "WICED/platform/MCU/wiced_dct_common.h"))
    source = _show(git_dir, rev, "WICED/platform/MCU/wiced_dct_internal_common.c")
    parts = [PRELUDE, _file_head(source)]
    if rule != "is_current_dct":
        (work / "crc.h").write_text(_show(git_dir, rev, "libraries/utilities/crc/crc.h"))
        if not (work / "platform_toolchain.h").exists():  # crc.h's include; nothing the CRC needs
            (work / "platform_toolchain.h").write_text("")
        parts.append('#include "crc.h"\n')
        parts.append(re.sub(r'#include\s*"[^"]*crc.h"', "", _show(git_dir, rev, "libraries/utilities/crc/crc.c")))
    m = re.search(r"^static const uint32_t DCT_section_offsets\[\]", source, re.M)
    assert m is not None
    parts.append(_block(source, m.start()) + ";\n")
    if rule == "version_crc":
        update = _show(git_dir, rev, "WICED/platform/MCU/wiced_dct_update.c")
        parts.extend(_function(update, name) + "\n" for name in UPDATE_FUNCTIONS)
    parts.extend(_function(source, name) + "\n" for name in FUNCTIONS[rule])
    parts.append(EPILOGUE)
    (work / "oracle.c").write_text("".join(parts))
    (work / "oracle.ld").write_text(f"SECTIONS {{ . = {CODE:#x}; .text : {{ *(.text*) *(.rodata*) }} "
                                    f". = {RAM:#x}; .data : {{ *(.data*) }} .bss : {{ *(.bss*) *(COMMON) }} }}\n")
    elf = work / "oracle.elf"
    # WICED/Wiced.mk: -DBOOTLOADER_MAGIC_NUMBER=0x4D435242; apps/waf/bootloader/bootloader.mk: -DBOOTLOADER;
    # tools/makefiles/wiced_config.mk: -DSFLASH_APPS_HEADER_LOC=$(APPS_LUT_HEADER_LOC) (0 on the STM32 boards)
    subprocess.run(["arm-none-eabi-gcc", *GCC_FLAGS, "-DSTM32F2XX", "-DBOOTLOADER",
                    "-DBOOTLOADER_MAGIC_NUMBER=0x4D435242", "-DSFLASH_APPS_HEADER_LOC=0", "-ffreestanding",
                    "-nostdlib", "-I", str(work), "-T", str(work / "oracle.ld"), "-o", str(elf), str(work / "oracle.c"),
                    "-lgcc"], check=True)
    return elf


class Emulated:
    """The compiled choice on an emulated Cortex-M3: flash with the two copies, the code, RAM."""

    def __init__(self, elf: Path) -> None:
        self.uc = Uc(UC_ARCH_ARM, UC_MODE_THUMB | UC_MODE_MCLASS)
        self.uc.mem_map(0x08000000, 0x100000)
        self.uc.mem_map(RAM, 0x20000)
        self.uc.mem_write(RETURN, b"\x00\xbe" * 4)  # bkpt
        with elf.open("rb") as f:
            image = ELFFile(f)
            for seg in image.iter_segments():
                if seg["p_type"] == "PT_LOAD" and seg["p_memsz"]:
                    self.uc.mem_write(seg["p_paddr"], seg.data().ljust(seg["p_memsz"], b"\0"))
            symbols = {s.name: s["st_value"] for s in image.get_section_by_name(".symtab").iter_symbols()}
        self.entry, self.erased = symbols["oracle_main"], symbols["oracle_erased"]

    def choose(self, copy1: bytes, copy2: bytes) -> int | None:
        self.uc.mem_write(DCT1, copy1)
        self.uc.mem_write(DCT2, copy2)
        self.uc.reg_write(UC_ARM_REG_SP, RAM + 0x20000)
        self.uc.reg_write(UC_ARM_REG_LR, RETURN | 1)
        self.uc.emu_start(self.entry | 1, RETURN, count=50_000_000)
        address = self.uc.reg_read(UC_ARM_REG_R0)
        if int.from_bytes(self.uc.mem_read(self.erased, 4), "little"):
            return None  # both invalid: the SDK erased copy 1 and wrote a bare header
        return 1 if DCT1 <= address < DCT1 + COPY else 2 if DCT2 <= address < DCT2 + COPY else -1


def run(git_dir: Path, rev: str, cases_dir: Path, generation: str) -> dict[str, Any]:
    cases = {name: gen for name, gen in json.loads((cases_dir / "cases.json").read_text()).items()
             if gen == generation}
    with tempfile.TemporaryDirectory(prefix="sdkfacts-") as tmp:
        emu = Emulated(build(git_dir, rev, GENERATION_RULE[generation], Path(tmp)))
        out = {}
        for name in sorted(cases):
            c1, c2 = (cases_dir / f"{name}.dct1").read_bytes(), (cases_dir / f"{name}.dct2").read_bytes()
            out[name] = {"sha256": hashlib.sha256(c1 + c2).hexdigest(), "copy": emu.choose(c1, c2)}
    return {"rev": rev, "commit": _git(git_dir, "rev-parse", rev).decode().strip(), "generation": generation,
            "cases": out}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common(parser)
    parser.add_argument("rev")
    parser.add_argument("cases_dir", type=Path)
    parser.add_argument("--generation", required=True, choices=sorted(GENERATION_RULE),
                        help="the DCT generation of REV (bundler.formats.dct.GENERATIONS)")
    args = parser.parse_args(argv)
    emit({f"{label(args)}@{args.rev}": run(args.git_dir, args.rev, args.cases_dir, args.generation)}, args.merge)
    return 0


if __name__ == "__main__":
    sys.exit(main())
