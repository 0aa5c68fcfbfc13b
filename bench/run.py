#!/usr/bin/env python3
"""Performance bench for `bundle` (issue 6): full-size inputs, `bundle build` / `bundle inspect` / `bundle --help`
side by side with srec_cat, esptool merge-bin, bincopy and a plain-Python floor, then a scaling run.

Run from the repository root with the project's venv:   .venv/bin/python bench/run.py   (see bench/README.md)

Every timed run is a fresh subprocess; its peak RSS is that process's ru_maxrss (os.wait4). A case made of several
processes (srec_cat and esptool need one per output file) reports the sum of their times and the largest RSS.
Inputs are generated deterministically (fixed seed) into bench/_work/ before anything is timed; what the peers are
fed (binaries of the ELFs, the DCT and LUT bytes taken from our own outputs) is prepared untimed as well.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / "_work"
SEED = 20261126
MIB = 1 << 20
KIB = 1 << 10
FLASH_BASE, FLASH_SIZE = 0x08000000, 0x100000   # layouts/boards/bcm943362wcd4.toml [mcu]
BOOT_AT, DCT1_AT, APP_AT = 0x08000000, 0x08004000, 0x0800C000
SECTOR = 4096
CROSS = os.environ.get("CROSS", "arm-none-eabi-")
PY = sys.executable
# Child processes run with a bytecode cache, as an installed tool does (this environment may set
# PYTHONDONTWRITEBYTECODE=1, which makes every run compile bundler/ from source: ~50 ms). The cache goes under
# bench/_work/ (PYTHONPYCACHEPREFIX), not into the source tree. Set in main() once --work is known.
ENV = dict(os.environ)


def bundle_cmd() -> list[str]:
    """The installed console script (what users run), or `python -m bundler.cli`."""
    script = Path(PY).parent / "bundle"
    return [str(script)] if script.exists() else [PY, "-m", "bundler.cli"]


# ---------------------------------------------------------------------------------------------------------------
# Input generation (untimed, deterministic)
# ---------------------------------------------------------------------------------------------------------------

LINKER = """\
MEMORY {{ FLASH (rx) : ORIGIN = 0x{origin:08X}, LENGTH = 0x{length:X}
         SRAM (rwx) : ORIGIN = 0x20000000, LENGTH = 0x20000 }}
ENTRY(Reset_Handler)
PHDRS {{ text PT_LOAD; data PT_LOAD; }}
SECTIONS {{
  .text : {{ KEEP(*(.vectors)) *(.text*) *(.rodata*) . = ALIGN(4); }} > FLASH :text
  .data : {{ *(.data*) . = ALIGN(4); }} > SRAM AT > FLASH :data
  .bss (NOLOAD) : {{ *(.bss*) }} > SRAM :data
}}
"""

ASM = """\
    .syntax unified
    .thumb
    .section .vectors, "a"
    .word 0x20020000
    .word Reset_Handler
    .rept 96
    .word Default_Handler
    .endr
    .text
    .thumb_func
    .global Reset_Handler
Reset_Handler:
    b Reset_Handler
    .thumb_func
Default_Handler:
    b Default_Handler
    .section .rodata.blob, "a"
    .incbin "{text}"
    .data
    .incbin "{data}"
    .bss
    .space 0x{bss:X}
"""


def code_like(rng: random.Random, size: int) -> bytes:
    """Bytes with some structure (Thumb-ish halfwords, literal pools, strings, zero runs), not pure noise."""
    out = bytearray()
    while len(out) < size:
        kind = rng.random()
        n = rng.randrange(64, 2048)
        if kind < 0.6:
            out += rng.randbytes(n)
        elif kind < 0.8:
            words = [rng.choice((0x4770, 0xB580, 0xBD80, 0x2000, 0x6818, 0xF000)) for _ in range(n // 2)]
            out += b"".join(w.to_bytes(2, "little") for w in words)
        elif kind < 0.95:
            out += (b"wiced_%08x error in module %d\0" % (rng.getrandbits(32), rng.randrange(100))) * (n // 40 + 1)
        else:
            out += bytes(n)
    return bytes(out[:size])


def elf(work: Path, name: str, origin: int, length: int, text: bytes, data: bytes, bss: int) -> Path:
    """Link a Cortex-M ELF with arm-none-eabi-gcc: vector table + text at `origin`, .data in SRAM loaded from
    flash right after the text (two PT_LOAD segments, as a WICED app), .bss; with a symbol table (unstripped)."""
    tmp = work / f"_{name}"
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "text.bin").write_bytes(text)
    (tmp / "data.bin").write_bytes(data)
    (tmp / "link.ld").write_text(LINKER.format(origin=origin, length=length))
    (tmp / "start.S").write_text(ASM.format(text=tmp / "text.bin", data=tmp / "data.bin", bss=bss))
    out = work / f"{name}.elf"
    run_checked([f"{CROSS}gcc", "-mthumb", "-mcpu=cortex-m3", "-nostdlib", "-nostartfiles", "-T", str(tmp / "link.ld"),
                 "-Wl,--build-id=none", "-Wl,-z,max-page-size=4", "-Wl,--no-warn-rwx-segments",
                 str(tmp / "start.S"), "-o", str(out)])
    shutil.rmtree(tmp)
    return out


def run_checked(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, capture_output=True, text=True, env=ENV, **kw)
    if proc.returncode:
        raise SystemExit(f"bench: command failed ({proc.returncode}): {' '.join(map(str, cmd))}\n{proc.stderr[-2000:]}")
    return proc


WORDS = ("sensor temperature humidity device wiced status config network update firmware release page table "
         "value reading node gateway alarm threshold calibration").split()


def make_fs_folder(rng: random.Random, folder: Path, total: int) -> None:
    """A web-UI-like tree: html/css/js text, json, and binary "images" up to `total` bytes."""
    if folder.exists():
        shutil.rmtree(folder)
    used, i = 0, 0
    dirs = ["", "images", "images/icons", "styles", "scripts", "docs", "data/logs"]
    while used < total:
        sub = folder / dirs[i % len(dirs)]
        sub.mkdir(parents=True, exist_ok=True)
        if dirs[i % len(dirs)].startswith("images"):
            size = min(rng.randrange(8 * KIB, 300 * KIB), total - used)
            (sub / f"img_{i:04d}.jpg").write_bytes(rng.randbytes(size))
        else:
            size = min(rng.randrange(512, 48 * KIB), total - used)
            text = " ".join(rng.choice(WORDS) for _ in range(size // 6 + 1)).encode()[:size]
            ext = ("html", "css", "js", "txt", "json")[i % 5]
            (sub / f"file_{i:04d}.{ext}").write_bytes(text)
        used += size + 64
        i += 1


def fs_size_for(chip: int) -> int:
    """Filesystem content grows with the chip: 3.75 MiB on 16 MiB, 256 KiB on 2 MiB, 7.75 MiB on 32 MiB."""
    return chip // 4 - 256 * KIB


BUNDLE_TOML = """\
# generated by bench/run.py (seed {seed}); inputs in ../inputs
name = "bench_{mib}m"
board = "bcm943362wcd4"
chip = {{ name = "BENCH{mib}M", jedec_id = 0x{jedec:06X}, size = 0x{size:X} }}

[mcu]
bootloader = "../inputs/bootloader.elf"
app = "../inputs/app.elf"

[sflash]
fr_app = "../inputs/app.stripped.elf"
dct_image = "generated"
ota_app = "../inputs/ota.stripped.elf"
filesystem = "filesystem.bin"
wifi_firmware = "../inputs/43362A2.bin"

[dct]
crc = "computed"

[dct.mfg_info]
manufacturer = "Bench Devices Ltd"
product_name = "Bench Sensor"
serial_number = "SN00001234"

[dct.wifi_config]
device_configured = true
country_code = "US"
mac_address = "02:0A:F7:00:12:34"

[[dct.wifi_config.stored_ap_list]]
SSID = "BenchNet"
security = "WPA2_AES"
security_key = "bench-passphrase"
channel = 11
"""


def generate_common(work: Path, seed: int) -> Path:
    """Bootloader (16 KiB), app (~900 KiB, 2 PT_LOAD), OTA app, Wi-Fi firmware (220 KiB): the same for every chip."""
    inputs = work / "inputs"
    inputs.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    # bootloader: 0x188 vectors + code + text + 0x200 .data: just under 16 KiB (its whole region)
    elf(inputs, "bootloader", BOOT_AT, 0x4000, code_like(rng, 0x4000 - 0x188 - 0x10 - 0x200), rng.randbytes(0x200), 0x800)
    elf(inputs, "app", APP_AT, 0xF4000, code_like(rng, 880 * KIB), code_like(rng, 20 * KIB), 0x8000)
    elf(inputs, "ota", APP_AT, 0xF4000, code_like(rng, 360 * KIB), code_like(rng, 8 * KIB), 0x4000)
    for name in ("app", "ota"):  # the SDK stores *.stripped.elf in serial flash
        run_checked([f"{CROSS}objcopy", "--strip-all", str(inputs / f"{name}.elf"), str(inputs / f"{name}.stripped.elf")])
    (inputs / "43362A2.bin").write_bytes(code_like(rng, 220 * KIB))
    # what srec_cat / esptool / bincopy / the floor are fed for the MCU: objcopy'd binaries of the ELFs
    for name in ("bootloader", "app"):
        run_checked([f"{CROSS}objcopy", "-O", "binary", "--gap-fill", "0xFF", str(inputs / f"{name}.elf"),
                     str(inputs / f"{name}.bin")])
    return inputs


def generate_chip(work: Path, chip_mib: int, seed: int) -> Path:
    """A folder for one chip size: filesystem image sized to the chip and bundle.toml."""
    from bundler.wicedfs import build_image

    folder = work / f"chip{chip_mib}m"
    folder.mkdir(parents=True, exist_ok=True)
    size = chip_mib * MIB
    make_fs_folder(random.Random(seed + chip_mib), folder / "fs", fs_size_for(size))
    (folder / "filesystem.bin").write_bytes(build_image(folder / "fs"))
    shutil.rmtree(folder / "fs")
    jedec = 0xC22000 | (size.bit_length() - 1)
    (folder / "bundle.toml").write_text(BUNDLE_TOML.format(seed=seed, mib=chip_mib, jedec=jedec, size=size))
    return folder


# ---------------------------------------------------------------------------------------------------------------
# The job every tool does, as a plan (parts -> addresses), prepared from our reference build (untimed)
# ---------------------------------------------------------------------------------------------------------------

def prepare_plan(folder: Path, inputs: Path) -> dict:
    """Build once with `bundle build` into ref/, then list the parts each image is made of: the ELFs' binaries
    (objcopy) and the DCT / LUT / generated DCT-image bytes cut from our own outputs (so peers only assemble)."""
    ref = folder / "ref"
    shutil.rmtree(ref, ignore_errors=True)
    run_checked([*bundle_cmd(), "build", str(folder / "bundle.toml"), "--out", str(ref)])
    manifest = json.loads((ref / "manifest.json").read_text())
    arts = {a["file"]: a for a in manifest["artefacts"]}
    blobs = folder / "parts"
    blobs.mkdir(exist_ok=True)

    mcu_bin = (ref / "mcu.bin").read_bytes()
    regions = {r["name"]: r for r in arts["mcu.bin"]["regions"]}
    dct = regions["dct1"]
    (blobs / "dct1.bin").write_bytes(mcu_bin[dct["offset"]:dct["offset"] + dct["size"]])
    mcu_parts = [[BOOT_AT, str(inputs / "bootloader.bin")], [FLASH_BASE + dct["offset"], str(blobs / "dct1.bin")],
                 [APP_AT, str(inputs / "app.bin")]]
    for addr, path in mcu_parts:  # objcopy's binary must sit exactly where the bundler placed the segments
        data = Path(path).read_bytes()
        assert mcu_bin[addr - FLASH_BASE:addr - FLASH_BASE + len(data)] == data, path

    sflash_bin = (ref / "sflash.bin").read_bytes()
    files = {"fr_app": inputs / "app.stripped.elf", "ota_app": inputs / "ota.stripped.elf",
             "filesystem": folder / "filesystem.bin", "wifi_firmware": inputs / "43362A2.bin"}
    sflash_parts = []
    for r in arts["sflash.bin"]["regions"]:
        path = files.get(r["name"])
        if path is None:  # lut, dct_image: bytes the bundler made
            path = blobs / f"{r['name']}.bin"
            path.write_bytes(sflash_bin[r["offset"]:r["offset"] + r["size"]])
        assert sflash_bin[r["offset"]:r["offset"] + r["size"]] == path.read_bytes(), r["name"]
        sflash_parts.append([r["offset"], str(path)])
    plan = {"mcu": {"base": FLASH_BASE, "size": FLASH_SIZE, "fill": 0xFF, "parts": mcu_parts},
            "sflash": {"base": 0, "size": len(sflash_bin), "fill": 0xFF, "parts": sflash_parts},
            "ref": str(ref), "config": str(folder / "bundle.toml"),
            "artefact_bytes": sum(f.stat().st_size for f in ref.iterdir() if f.is_file()),
            "artefact_files": sorted(f.name for f in ref.iterdir() if f.is_file())}
    (folder / "plan.json").write_text(json.dumps(plan, indent=1))
    return plan


# ---------------------------------------------------------------------------------------------------------------
# Workers: run as `python bench/run.py --worker NAME plan.json out/` in a fresh process (their RSS is their own)
# ---------------------------------------------------------------------------------------------------------------

def hex_records(data: bytes | bytearray, base: int) -> bytes:
    """Plain-Python Intel HEX (16-byte records, type 04 per 64 KiB, as intelhex writes): the floor's writer."""
    out, view, upper = [], memoryview(data), -1
    digits = bytes(data).hex().upper()
    for off in range(0, len(view), 16):
        addr = base + off
        if addr >> 16 != upper:
            upper = addr >> 16
            out.append(":02000004%04X%02X\n" % (upper, -(6 + (upper >> 8) + (upper & 0xFF)) & 0xFF))
        chunk = view[off:off + 16]
        low = addr & 0xFFFF
        total = len(chunk) + (low >> 8) + (low & 0xFF) + sum(chunk)
        out.append(f":{len(chunk):02X}{low:04X}00{digits[2 * off:2 * off + 2 * len(chunk)]}{-total & 0xFF:02X}\n")
    out.append(":00000001FF\n")
    return "".join(out).encode()


def worker_floor(plan: dict, out: Path) -> None:
    """The limit: bytearray prefilled, slices, zlib.crc32 + hashlib.sha256 per artefact and region, plain writes."""
    sums = {}
    for key, name in (("mcu", "mcu.bin"), ("sflash", "sflash.bin")):
        spec = plan[key]
        image = bytearray(b"\xff") * spec["size"]
        regions = []
        for addr, path in spec["parts"]:
            with open(path, "rb") as fh:
                data = fh.read()
            off = addr - spec["base"]
            image[off:off + len(data)] = data
            regions.append((off, len(data)))
        view = memoryview(image)
        sums[name] = [zlib.crc32(image), hashlib.sha256(image).hexdigest(),
                      [(o, n, zlib.crc32(view[o:o + n]), hashlib.sha256(view[o:o + n]).hexdigest()) for o, n in regions]]
        (out / name).write_bytes(image)
        if key == "mcu":
            text = hex_records(image, spec["base"])
            sums["mcu.hex"] = [zlib.crc32(text), hashlib.sha256(text).hexdigest()]
            (out / "mcu.hex").write_bytes(text)
    (out / "manifest.json").write_text(json.dumps(sums, indent=2))


def worker_bincopy(plan: dict, out: Path) -> None:
    """bincopy's Python API: add the parts, fill the gaps and pad to the image bounds (as_binary does not pad past
    the last part), then binary + Intel HEX out."""
    import bincopy

    for key, name in (("mcu", "mcu.bin"), ("sflash", "sflash.bin")):
        spec = plan[key]
        bf = bincopy.BinFile()
        for addr, path in spec["parts"]:
            with open(path, "rb") as fh:
                bf.add_binary(fh.read(), address=addr)
        bf.fill(b"\xff")
        start, end, stop = bf.minimum_address, bf.maximum_address, spec["base"] + spec["size"]
        if start > spec["base"]:
            bf.add_binary(b"\xff" * (start - spec["base"]), address=spec["base"])
        if end < stop:
            bf.add_binary(b"\xff" * (stop - end), address=end)
        image = bf.as_binary()
        zlib.crc32(image), hashlib.sha256(image).hexdigest()
        (out / name).write_bytes(image)
        if key == "mcu":  # the full image (fill included) as HEX, as our mcu.hex
            text = bf.as_ihex(number_of_data_bytes=16, address_length_bits=32).encode()
            zlib.crc32(text), hashlib.sha256(text).hexdigest()
            (out / "mcu.hex").write_bytes(text)


def worker_inspect_floor(plan: dict, out: Path) -> None:
    """The floor for `inspect --manifest`: read both artefacts and the manifest, hash each file and region."""
    ref = Path(plan["ref"])
    manifest = json.loads((ref / "manifest.json").read_text())
    for art in manifest["artefacts"]:
        if art["format"] != "bin":
            continue
        data = (ref / art["file"]).read_bytes()
        view = memoryview(data)
        ok = hashlib.sha256(data).hexdigest() == art["sha256"] and f"0x{zlib.crc32(data):08x}" == art["crc32"]
        for r in art["regions"]:
            part = view[r["offset"]:r["offset"] + r["size"]]
            ok &= hashlib.sha256(part).hexdigest() == r["sha256"] and f"0x{zlib.crc32(part):08x}" == r["crc32"]
        if not ok:
            raise SystemExit(f"{art['file']}: does not match the manifest")


def worker_csv_floor(plan: dict, out: Path) -> None:
    """The floor for `serialize` (issue 17): csv.writer writing `count` rows of the cells of the first row of our
    units.csv (the index cell counted up) into out/units.csv; its own time (the loop and the writes, without the
    interpreter's start) goes to out/floor.json."""
    with open(plan["csv"], newline="") as fh:
        reader = csv.reader(fh)
        header, row = next(reader), next(reader)
    start = time.perf_counter()
    with open(out / "units.csv", "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        for i in range(1, plan["count"] + 1):
            row[0] = i
            w.writerow(row)
    (out / "floor.json").write_text(json.dumps({"seconds": time.perf_counter() - start}))


WORKERS = {"floor": worker_floor, "bincopy": worker_bincopy, "inspect_floor": worker_inspect_floor,
           "csv_floor": worker_csv_floor}


def worker_cmd(name: str, folder: Path, out: Path) -> list[str]:
    return [PY, str(Path(__file__).resolve()), "--worker", name, str(folder / "plan.json"), str(out)]


# ---------------------------------------------------------------------------------------------------------------
# Peer command lines
# ---------------------------------------------------------------------------------------------------------------

def srec_inputs(spec: dict) -> list[str]:
    args = ["("]
    for addr, path in spec["parts"]:
        args += [path, "-binary", "-offset", hex(addr)]
    return args + [")", "-fill", "0xFF", hex(spec["base"]), hex(spec["base"] + spec["size"])]


def srec_cmds(plan: dict, out: Path) -> list[list[str]]:
    mcu, sflash = plan["mcu"], plan["sflash"]
    return [
        ["srec_cat", *srec_inputs(mcu), "-offset", hex(-mcu["base"]), "-o", str(out / "mcu.bin"), "-binary"],
        ["srec_cat", *srec_inputs(mcu), "-o", str(out / "mcu.hex"), "-intel", "-output_block_size", "16"],
        ["srec_cat", *srec_inputs(sflash), "-o", str(out / "sflash.bin"), "-binary"],
    ]


PAD_SIZES = {1: "1MB", 2: "2MB", 4: "4MB", 8: "8MB", 16: "16MB", 32: "32MB", 64: "64MB"}


def esptool_cmds(plan: dict, out: Path) -> list[list[str]] | None:
    """esptool merge-bin pads only up to --pad-to-size measured from offset 0 (with --target-offset 0x08000000 it
    would not pad at all), so the MCU parts are given relative to the flash base; its HEX holds the parts only."""
    mcu, sflash = plan["mcu"], plan["sflash"]
    pads = [PAD_SIZES.get(mcu["size"] // MIB), PAD_SIZES.get(sflash["size"] // MIB)]
    if None in pads:
        return None
    base = [PY, "-m", "esptool", "--chip", "esp32", "merge-bin"]
    rel = [str(x) for addr, path in mcu["parts"] for x in (hex(addr - mcu["base"]), path)]
    absolute = [str(x) for addr, path in mcu["parts"] for x in (hex(addr), path)]
    flash = [str(x) for addr, path in sflash["parts"] for x in (hex(addr), path)]
    return [
        [*base, "-o", str(out / "mcu.bin"), "--format", "raw", "--pad-to-size", pads[0], *rel],
        [*base, "-o", str(out / "mcu.hex"), "--format", "hex", *absolute],
        [*base, "-o", str(out / "sflash.bin"), "--format", "raw", "--pad-to-size", pads[1], *flash],
    ]


def inspect_available() -> bool:
    proc = subprocess.run([*bundle_cmd(), "inspect", "--help"], capture_output=True, text=True, env=ENV)
    return proc.returncode == 0 and "--manifest" in proc.stdout


# ---------------------------------------------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------------------------------------------

@dataclass
class Result:
    case: str
    times: list[float] = field(default_factory=list)
    rss_kib: list[int] = field(default_factory=list)
    note: str = ""
    available: bool = True

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def best(self) -> float:
        return min(self.times)

    @property
    def rss_mib(self) -> float:
        return statistics.median(self.rss_kib) / 1024


TIME = shutil.which("time", path="/usr/bin:/bin")


def run_once(cmds: list[list[str]], cwd: Path) -> tuple[float, int]:
    """Wall time of running `cmds` one after another, and the largest peak RSS (KiB) among them.

    Peak RSS is read by GNU time (`-f %M`): a process forked straight from this (large) bench process would count
    the bench's own pages in its ru_maxrss (Linux records the pre-exec high-water mark), GNU time's child does not."""
    peak, start = 0, time.perf_counter()
    for cmd in cmds:
        with tempfile.NamedTemporaryFile("r") as rss, tempfile.TemporaryFile() as err:
            full = [TIME, "-f", "%M", "-o", rss.name, *cmd] if TIME else cmd
            proc = subprocess.Popen(full, cwd=cwd, stdout=subprocess.DEVNULL, stderr=err, env=ENV)
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
            if proc.returncode:
                err.seek(0)
                raise SystemExit(f"bench: {' '.join(cmd)} failed ({proc.returncode}):\n{err.read().decode()[-2000:]}")
            peak = max(peak, int(rss.read().split()[-1]) if TIME else usage.ru_maxrss)
    return time.perf_counter() - start, peak


@dataclass
class Case:
    result: Result
    make_cmds: Callable[[Path | None], list[list[str]]]
    cwd: Path
    out: Path | None


def case(name: str, make_cmds, cwd: Path, out: Path | None, note: str = "") -> Case:
    return Case(Result(name, note=note), make_cmds, cwd, out)


def run_all(cases: list[Case], reps: int) -> list[Result]:
    """Round robin: repetition 1 of every case, then repetition 2, ... so that a burst of load from other processes
    on the machine hits every case alike. `out` is emptied (untimed) before each run; repetition 0 is an untimed
    warm-up (page cache, bytecode cache)."""
    for rep in range(reps + 1):
        for c in cases:
            if c.out is not None:
                shutil.rmtree(c.out, ignore_errors=True)
                c.out.mkdir(parents=True)
            t, rss = run_once(c.make_cmds(c.out), c.cwd)
            if rep:
                c.result.times.append(t)
                c.result.rss_kib.append(rss)
    return [c.result for c in cases]


def check_same(ours: Path, theirs: Path, who: str, files=("mcu.bin", "sflash.bin")) -> None:
    for f in files:
        a, b = (ours / f).read_bytes(), (theirs / f).read_bytes()
        if a != b:
            diff = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
            raise SystemExit(f"bench: {who} {f} differs from ours at offset 0x{diff:X} (sizes {len(a)} / {len(b)})")


def hex_image(path: Path, base: int, size: int) -> bytes:
    """Decode an Intel HEX file into the image it loads (0xFF where it holds nothing), with bincopy."""
    import bincopy

    bf = bincopy.BinFile(str(path))
    return bf.as_binary(minimum_address=base, maximum_address=base + size, padding=b"\xff")


def hex_covers(path: Path) -> int:
    import bincopy

    return sum(len(seg.data) for seg in bincopy.BinFile(str(path)).segments)


# ---------------------------------------------------------------------------------------------------------------
# Bench proper
# ---------------------------------------------------------------------------------------------------------------

def bench_chip(folder: Path, plan: dict, reps: int, with_peers: bool = True) -> list[Result]:
    ref = Path(plan["ref"])
    cfg = plan["config"]
    runs = folder / "runs"
    mcu = plan["mcu"]
    cases = [case("bundle build", lambda o: [[*bundle_cmd(), "build", cfg, "--out", str(o)]], folder, runs / "ours",
                  "mcu.bin+mcu.hex+sflash.bin+manifest, from the ELFs")]
    cases.append(case("floor (plain Python)", lambda o: [worker_cmd("floor", folder, o)], folder, runs / "floor",
                      "bytearray+slices+crc32+sha256+hex, writes"))
    esptool_ok = esptool_cmds(plan, runs) is not None
    if with_peers:
        cases.append(case("srec_cat", lambda o: srec_cmds(plan, o), folder, runs / "srec_cat",
                          "3 runs: mcu.bin, mcu.hex, sflash.bin; no manifest"))
        if esptool_ok:
            cases.append(case("esptool merge-bin", lambda o: esptool_cmds(plan, o), folder, runs / "esptool",
                              "3 runs; its hex holds the parts only (no fill)"))
        cases.append(case("bincopy (Python API)", lambda o: [worker_cmd("bincopy", folder, o)], folder,
                          runs / "bincopy", "bin+hex, fill gaps; crc32+sha256"))
    results = run_all(cases, reps)

    # every output checked against the reference build (after the timed runs: the last run's files)
    check_same(ref, runs / "ours", "bundle build (repeat)", plan["artefact_files"])
    check_same(ref, runs / "floor", "floor", ("mcu.bin", "mcu.hex", "sflash.bin"))
    if not with_peers:
        return results
    check_same(ref, runs / "srec_cat", "srec_cat")
    if hex_image(runs / "srec_cat" / "mcu.hex", mcu["base"], mcu["size"]) != (ref / "mcu.bin").read_bytes():
        raise SystemExit("bench: srec_cat's mcu.hex does not load our mcu.bin")
    if esptool_ok:
        check_same(ref, runs / "esptool", "esptool")
        parts_bytes = sum(Path(p).stat().st_size for _, p in mcu["parts"])
        if hex_covers(runs / "esptool" / "mcu.hex") != parts_bytes:
            raise SystemExit("bench: esptool's mcu.hex does not hold exactly the MCU parts")
    else:
        results.insert(-1, Result("esptool merge-bin", note="chip size not a --pad-to-size choice", available=False))
    check_same(ref, runs / "bincopy", "bincopy")
    if hex_image(runs / "bincopy" / "mcu.hex", mcu["base"], mcu["size"]) != (ref / "mcu.bin").read_bytes():
        raise SystemExit("bench: bincopy's mcu.hex does not load our mcu.bin")
    return results


def bench_inspect(folder: Path, plan: dict, reps: int) -> list[Result]:
    ref = Path(plan["ref"])
    cases = []
    if inspect_available():
        cmd = [*bundle_cmd(), "inspect", str(ref / "mcu.bin"), str(ref / "sflash.bin"), "--manifest",
               str(ref / "manifest.json")]
        cases.append(case("bundle inspect --manifest", lambda o: [cmd], folder, None,
                          "mcu.bin + sflash.bin vs manifest"))
    cases.append(case("inspect floor", lambda o: [worker_cmd("inspect_floor", folder, Path("-"))], folder, None,
                      "read both + sha256/crc32 of files and regions"))
    results = run_all(cases, reps)
    if not cases[0].result.case.startswith("bundle inspect"):
        results.insert(0, Result("bundle inspect --manifest", note="not available (no `bundle inspect --manifest` yet)",
                                 available=False))
    return results


def bench_batch(folder: Path, plan: dict, ns: list[int], reps: int) -> list[tuple[int, Result]]:
    """Issue 15: `bundle inspect FOLDER --manifest --quiet` of N dumps of this chip + N MCU images (hard links of
    the reference artefacts, so the disk holds one copy): peak RSS should not grow with N."""
    ref = Path(plan["ref"])
    rows = []
    for n in ns:
        batch = folder / f"batch-{n}"
        shutil.rmtree(batch, ignore_errors=True)  # ref/ was just rebuilt: link its files afresh
        batch.mkdir()
        for i in range(n):
            for name in ("mcu.bin", "sflash.bin"):
                link = batch / f"unit{i:04}.{name}"
                try:
                    os.link(ref / name, link)
                except OSError:
                    shutil.copy(ref / name, link)
        cmd = [*bundle_cmd(), "inspect", str(batch), "--manifest", str(ref / "manifest.json"), "--quiet"]
        rows.append((n, run_all([case(f"inspect batch N={n}", lambda o, c=cmd: [c], folder, None)],
                                reps if n < 100 else 1)[0]))
    return rows


def bench_hex_readback(folder: Path, plan: dict, reps: int) -> list[Result]:
    """Issue 15: the SFLASH read-back saved as Intel HEX against the same bytes as .bin, each vs the manifest."""
    sys.path.insert(0, str(ROOT))
    from bundler.writers import intel_hex

    ref = Path(plan["ref"])
    rb_hex, rb_bin = folder / "readback.hex", folder / "readback.bin"
    rb_hex.write_bytes(intel_hex((ref / "sflash.bin").read_bytes(), 0))
    shutil.copy(ref / "sflash.bin", rb_bin)
    cases = [case(f"inspect {p.name} --manifest", lambda o, p=p: [[*bundle_cmd(), "inspect", str(p), "--manifest",
                                                                   str(ref / "manifest.json")]], folder, None)
             for p in (rb_bin, rb_hex)]
    return run_all(cases, reps)


def report_batch(rows: list[tuple[int, Result]], hexrows: list[Result], plan: dict) -> list[tuple[str, bool, str]]:
    pair = sum(Path(plan["ref"], name).stat().st_size for name in ("mcu.bin", "sflash.bin"))
    print("\ninspect batch (issue 15): N SFLASH dumps + N MCU images, one `inspect FOLDER --manifest --quiet` run")
    print(f"{'N':>5} {'GiB':>7} {'median s':>9} {'s/GiB':>7} {'RSS MiB':>8} {'RSS/N=1':>8}")
    base = rows[0][1].rss_mib
    for n, r in rows:
        gib = n * pair / (1 << 30)
        print(f"{n:>5} {gib:7.2f} {r.median:9.3f} {r.median / gib:7.2f} {r.rss_mib:8.1f} {r.rss_mib / base:8.2f}")
    b, h = hexrows
    print(f"\nread-back as .hex vs .bin: {h.median:.3f} s / {b.median:.3f} s = {h.median / b.median:.2f}x time, "
          f"{h.rss_mib:.1f} / {b.rss_mib:.1f} MiB = {h.rss_mib / b.rss_mib:.2f}x RSS")
    top = rows[-1][1]
    return [(f"inspect batch N={rows[-1][0]} RSS <= 1.5x N={rows[0][0]}", top.rss_mib <= 1.5 * base,
             f"{top.rss_mib:.1f} MiB vs {base:.1f} MiB ({top.rss_mib / base:.2f}x)"),
            ("inspect .hex <= 3x .bin time", h.median <= 3 * b.median, f"{h.median / b.median:.2f}x"),
            ("inspect .hex <= 2x .bin RSS", h.rss_mib <= 2 * b.rss_mib, f"{h.rss_mib / b.rss_mib:.2f}x")]


def bench_startup(reps: int) -> list[Result]:
    return run_all([case("bundle --help", lambda o: [[*bundle_cmd(), "--help"]], ROOT, None),
                    case("python -c 'import typer'", lambda o: [[PY, "-c", "import typer"]], ROOT, None)], reps)


def fmt_row(r: Result, ratio: str = "") -> str:
    if not r.available:
        return f"{r.case:<28} {'-':>8} {'-':>8} {'-':>9} {'-':>14}  {r.note}"
    return f"{r.case:<28} {r.best:8.3f} {r.median:8.3f} {r.rss_mib:9.1f} {ratio:>14}  {r.note}"


def print_table(title: str, rows: list[Result], ours: Result | None) -> None:
    print(f"\n{title}")
    print(f"{'case':<28} {'min s':>8} {'median s':>8} {'RSS MiB':>9} {'ours/this t|m':>14}  note")
    print("-" * 110)
    for r in rows:
        ratio = ""
        if ours is not None and r is not ours and r.available and ours.available:
            ratio = f"{ours.median / r.median:.2f}|{ours.rss_mib / r.rss_mib:.2f}"
        print(fmt_row(r, ratio))


def check_targets(build: list[Result], inspect: list[Result], startup: list[Result], plan: dict) -> list[tuple[str, bool | None, str]]:
    by = {r.case: r for r in build + inspect + startup}
    ours = by["bundle build"]
    out = []
    for peer in ("srec_cat", "esptool merge-bin"):
        r = by.get(peer)
        if r and r.available:
            out.append((f"build faster than {peer}", ours.median < r.median, f"{ours.median:.3f} s vs {r.median:.3f} s"))
    floor = by["floor (plain Python)"]
    out.append(("build <= 2x floor", ours.median <= 2 * floor.median,
                f"{ours.median / floor.median:.2f}x ({ours.median:.3f} s vs {floor.median:.3f} s)"))
    limit = 2 * plan["artefact_bytes"] / MIB
    out.append(("build peak RSS <= 2x artefacts", ours.rss_mib <= limit,
                f"{ours.rss_mib:.1f} MiB vs 2 x {plan['artefact_bytes'] / MIB:.1f} MiB = {limit:.1f} MiB"))
    ins, ifloor = by["bundle inspect --manifest"], by["inspect floor"]
    if ins.available:
        out.append(("inspect --manifest <= 2x floor", ins.median <= 2 * ifloor.median,
                    f"{ins.median / ifloor.median:.2f}x ({ins.median:.3f} s vs {ifloor.median:.3f} s)"))
    else:
        out.append(("inspect --manifest <= 2x floor", None, "n/a: `bundle inspect --manifest` not available"))
    h, t = by["bundle --help"], by["python -c 'import typer'"]
    out.append(("--help <= import typer + 50 ms", h.median <= t.median + 0.050,
                f"{h.median * 1000:.0f} ms vs {t.median * 1000:.0f} + 50 ms"))
    return out


def scaling(work: Path, inputs: Path, sizes: list[int], reps: int, seed: int) -> None:
    print(f"\nscaling: bundle build and the floor, SFLASH chip 2..{sizes[-1]} MiB (filesystem = chip/4 - 256 KiB), "
          f"{reps} reps; time = min over the repetitions (least disturbed by other load), RSS = median")
    print(f"{'chip MiB':>8} {'artefacts MiB':>13} {'build s':>8} {'s/MiB':>7} {'RSS MiB':>8} {'RSS/art':>7} "
          f"{'floor s':>8} {'floor RSS':>9} {'build/floor':>11}")
    rows = []
    for mib in sizes:
        folder = generate_chip(work, mib, seed)
        plan = prepare_plan(folder, inputs)
        ours, floor = bench_chip(folder, plan, reps, with_peers=False)
        art = plan["artefact_bytes"] / MIB
        rows.append((art, ours.best, ours.rss_mib))
        print(f"{mib:>8} {art:13.1f} {ours.best:8.3f} {ours.best / art:7.4f} {ours.rss_mib:8.1f} "
              f"{ours.rss_mib / art:7.2f} {floor.best:8.3f} {floor.rss_mib:9.1f} {ours.best / floor.best:11.2f}")
    for label, idx in (("time", 1), ("RSS", 2)):
        xs, ys = [r[0] for r in rows], [r[idx] for r in rows]
        slope, icpt, r2 = linfit(xs, ys)
        resid = max(abs(y - (icpt + slope * x)) / y for x, y in zip(xs, ys))
        unit = "s" if idx == 1 else "MiB"
        # linear (affine) = a straight line explains every point to within 10 %, and the largest chip does not cost
        # more per added MiB than twice the fitted slope (no super-linear growth). R^2 is shown but not used: when
        # the fixed cost dominates (start-up), the slope is small and R^2 measures noise.
        last = (ys[-1] - ys[-2]) / (xs[-1] - xs[-2]) if len(xs) > 1 else 0.0
        ok = resid <= 0.10 and last <= 2 * max(slope, 0.0) + 0.1 * ys[-1] / xs[-1]
        print(f"{label}: {icpt:.3f} {unit} + {slope:.4f} {unit} per artefact MiB (last step {last:.4f}); "
              f"R^2 = {r2:.3f}, largest residual {resid:.1%} -> {'linear' if ok else 'NOT linear'}")


def linfit(xs: list[float], ys: list[float]) -> tuple[float, float, float]:
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx if sxx else 0.0
    icpt = my - slope * mx
    ss_tot = sum((y - my) ** 2 for y in ys)
    ss_res = sum((y - icpt - slope * x) ** 2 for x, y in zip(xs, ys))
    return slope, icpt, 1 - ss_res / ss_tot if ss_tot else 1.0


def profile(folder: Path, plan: dict) -> None:
    """Where `bundle build` spends its time (cProfile, -X importtime) and memory (tracemalloc), in subprocesses."""
    out = folder / "runs" / "profile"
    shutil.rmtree(out, ignore_errors=True)
    code = ("import cProfile, pstats, sys; from bundler.cli import main; sys.argv = ['bundle', 'build', %r, '--out', %r];"
            "p = cProfile.Profile(); p.enable()\ntry: main()\nexcept SystemExit: pass\n"
            "p.disable(); pstats.Stats(p).sort_stats('tottime').print_stats(18)") % (plan["config"], str(out))
    text = subprocess.run([PY, "-c", code], capture_output=True, text=True, cwd=folder, env=ENV).stdout
    lines = [ln for ln in text.splitlines() if ln.strip()]
    start = next(i for i, ln in enumerate(lines) if "ncalls" in ln)
    print("\nprofile: cProfile of `bundle build`, top functions by own time")
    print("\n".join(lines[start - 3:start + 19]))
    shutil.rmtree(out, ignore_errors=True)
    err = subprocess.run([PY, "-X", "importtime", "-c", "import sys; from bundler.cli import main; "
                          f"sys.argv=['bundle','build',{plan['config']!r},'--out',{str(out)!r}]; main()"],
                         capture_output=True, text=True, cwd=folder, env=ENV).stderr
    top = []
    for ln in err.splitlines():
        if ln.startswith("import time:") and "|" in ln and "self" not in ln:
            _, cum, name = ln[len("import time:"):].split("|")
            if name.startswith(" ") and not name.startswith("  "):  # top-level imports only
                top.append((int(cum), name.strip()))
    top.sort(reverse=True)
    print(f"\nprofile: top-level imports during `bundle build` (cumulative ms; total {sum(c for c, _ in top) / 1000:.0f} ms)")
    print("  " + ", ".join(f"{n} {c / 1000:.0f}" for c, n in top[:12]))
    shutil.rmtree(out, ignore_errors=True)
    code = ("import tracemalloc, sys; tracemalloc.start(8); from bundler.build import build_bundle\n"
            f"b = build_bundle({plan['config']!r}, {str(out)!r})\n"
            "cur, peak = tracemalloc.get_traced_memory(); print(f'traced peak {peak / 2**20:.1f} MiB, held at end "
            "{cur / 2**20:.1f} MiB')\n"
            "for s in tracemalloc.take_snapshot().statistics('lineno')[:8]: print('  ', s)")
    print("\nprofile: tracemalloc of build_bundle (memory still held at the end, by line)")
    print(subprocess.run([PY, "-c", code], capture_output=True, text=True, cwd=folder, env=ENV).stdout.rstrip())


# ---------------------------------------------------------------------------------------------------------------
# serialize at factory scale (issue 17)
# ---------------------------------------------------------------------------------------------------------------

SERIAL_START, MAC_START = "SN00000001", "02:0A:F7:00:00:01"


def serialize_products(folder: Path) -> dict[str, Path]:
    """The bench product with each DCT CRC mode: bundle.toml is crc = "computed"; a copy beside it with "sdk"."""
    computed = folder / "bundle.toml"
    sdk = folder / "bundle-sdk.toml"
    sdk.write_text(computed.read_text().replace('crc = "computed"', 'crc = "sdk"'))
    return {"sdk": sdk, "computed": computed}


def bench_serialize(folder: Path, counts: list[int], reps: int) -> list[tuple[str, int, str, Result, Result, float]]:
    """Per mode and count: `bundle serialize` (CSV only), `bundle build` of the same product, and the csv.writer floor
    writing as many rows of the same cells; round robin over the repetitions. Also, at the smallest count, the
    computed mode with its default per-unit HEX files (what a run of per-unit files costs, no target)."""
    products = serialize_products(folder)
    runs = folder / "runs" / "serialize"
    cases: list[tuple[str, int, str, Case, Case, Case]] = []
    plan_csv = {}
    for mode, toml in products.items():
        for count in counts:
            for files in ("none", "hex") if mode == "computed" and count == counts[0] else ("none",):
                tag = f"{mode}-{count}-{files}"
                out = runs / tag
                ser = case(f"serialize {tag}", lambda o, t=toml, n=count, f=files: [[
                    *bundle_cmd(), "serialize", str(t), "-n", str(n), "--serial-start", SERIAL_START, "--mac-start",
                    MAC_START, "--unit-files", f, "--out", str(o / "run")]], folder, out)
                build = case(f"build {mode}", lambda o, t=toml: [[*bundle_cmd(), "build", str(t), "--out",
                                                                  str(o / "build")]], folder, runs / f"{tag}-build")
                plan = runs / f"{tag}-floor.json"
                plan_csv[tag] = plan
                floor = case(f"csv.writer {count}", lambda o, p=plan: [[PY, str(Path(__file__).resolve()), "--worker",
                                                                       "csv_floor", str(p), str(o)]],
                             folder, runs / f"{tag}-floor")
                cases.append((mode, count, files, ser, build, floor))
    # the floor's rows are ours: run each serialize once (untimed) for its first row
    shutil.rmtree(runs, ignore_errors=True)
    for mode, count, files, ser, _, _ in cases:
        ser.out.mkdir(parents=True)
        run_checked(ser.make_cmds(ser.out)[0])
        lines = sum(1 for _ in open(ser.out / "run" / "units.csv"))
        if lines != count + 1:
            raise SystemExit(f"bench: serialize {mode} {count}: units.csv has {lines} lines, expected {count + 1}")
        tag = f"{mode}-{count}-{files}"
        keep = runs / f"{tag}-first.csv"  # the template row, outside the folder the timed runs empty
        with open(ser.out / "run" / "units.csv") as fh:
            keep.write_text(fh.readline() + fh.readline())
        plan_csv[tag].write_text(json.dumps({"csv": str(keep), "count": count}))
    flat = [c for _, _, _, *three in cases for c in three]
    for rep in range(reps):
        for c in flat:
            shutil.rmtree(c.out, ignore_errors=True)
            c.out.mkdir(parents=True)
            t, rss = run_once(c.make_cmds(c.out), c.cwd)
            c.result.times.append(t)
            c.result.rss_kib.append(rss)
            if c.result.case.startswith("csv.writer"):  # the floor's own time, without its interpreter start
                c.result.times[-1] = json.loads((c.out / "floor.json").read_text())["seconds"]
    return [(mode, count, files, ser.result, build.result, floor.result.median)
            for mode, count, files, ser, build, floor in cases]


def print_serialize(rows: list[tuple[str, int, str, Result, Result, float]], reps: int) -> list[tuple[str, bool, str]]:
    print(f"\nserialize, {reps} reps (medians): per-unit part = serialize - build of the same product; floor = "
          "csv.writer writing as many rows of the same cells (its own time)")
    print(f"{'mode':<9} {'units':>8} {'files':>5} {'serialize s':>11} {'build s':>8} {'per-unit s':>10} "
          f"{'us/unit':>8} {'RSS MiB':>8} {'floor s':>8} {'ratio':>6}")
    print("-" * 96)
    targets = []
    for mode, count, files, ser, build, floor in rows:
        part = ser.median - build.median
        ratio = part / floor
        print(f"{mode:<9} {count:>8} {files:>5} {ser.median:11.3f} {build.median:8.3f} {part:10.3f} "
              f"{part / count * 1e6:8.2f} {ser.rss_mib:8.1f} {floor:8.3f} {ratio:6.2f}")
    for mode, limit in (("sdk", 3.0), ("computed", 4.0)):
        mine = [r for r in rows if r[0] == mode and r[2] == "none"]
        mode_, count, _, ser, build, floor = max(mine, key=lambda r: r[1])
        ratio = (ser.median - build.median) / floor
        targets.append((f"serialize {mode} {count}: <= {limit:.0f}x floor", ratio <= limit,
                        f"{ratio:.2f}x ({ser.median - build.median:.2f} s vs {floor:.2f} s)"))
        rss = [r[3].rss_mib for r in mine]
        targets.append((f"serialize {mode}: RSS flat in the count", max(rss) <= 100 and max(rss) <= 1.25 * min(rss),
                        " / ".join(f"{r[1]}: {r[3].rss_mib:.1f} MiB" for r in mine)))
    return targets


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="smoke run: 2 MiB chip, 1 repetition, scaling 2 and 4 MiB")
    ap.add_argument("--reps", type=int, help="repetitions per case (default 7; 1 with --quick)")
    ap.add_argument("--chip-mib", type=int, help="SFLASH chip size of the main run (default 16; 2 with --quick)")
    ap.add_argument("--scaling", default=None, help="chip sizes in MiB for the scaling run, e.g. 2,4,8,16,32; 'none'")
    ap.add_argument("--profile", action="store_true", help="also profile `bundle build` (cProfile, importtime, tracemalloc)")
    ap.add_argument("--serialize", default=None, help="unit counts for the serialize case, e.g. 10000,100000,1000000 "
                                                      "(the default; 10000 with --quick); 'none'")
    ap.add_argument("--serialize-reps", type=int, help="repetitions of the serialize case (default 3; 1 with --quick)")
    ap.add_argument("--serialize-only", action="store_true", help="run the serialize case only")
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--work", type=Path, default=WORK, help="where inputs and outputs go (default bench/_work)")
    ap.add_argument("--worker", nargs=2, metavar=("NAME", "PLAN"), help=argparse.SUPPRESS)
    ap.add_argument("worker_out", nargs="?", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        name, plan = args.worker
        WORKERS[name](json.loads(Path(plan).read_text()), Path(args.worker_out))
        return
    sys.path.insert(0, str(ROOT))
    reps = args.reps or (1 if args.quick else 7)
    chip_mib = args.chip_mib or (2 if args.quick else 16)
    sizes = [2, 4] if args.quick else [2, 4, 8, 16, 32]
    if args.scaling:
        sizes = [] if args.scaling == "none" else [int(x) for x in args.scaling.split(",")]
    work = args.work.resolve()
    ENV.pop("PYTHONDONTWRITEBYTECODE", None)
    ENV["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
    missing = [t for t in ("srec_cat", f"{CROSS}gcc", f"{CROSS}objcopy") if shutil.which(t) is None]
    if TIME is None:
        print("bench: GNU time (/usr/bin/time, Debian package `time`) not found: RSS figures include this process's")
    if missing:
        raise SystemExit(f"bench: missing tools: {', '.join(missing)} (see bench/README.md)")

    t0 = time.perf_counter()
    inputs = generate_common(work, args.seed)
    folder = generate_chip(work, chip_mib, args.seed)
    plan = prepare_plan(folder, inputs)
    sizes_txt = ", ".join(f"{Path(p).name} {Path(p).stat().st_size / KIB:.0f} KiB" for _, p in plan["sflash"]["parts"])
    print(f"bench: seed {args.seed}, {reps} reps, python {sys.version.split()[0]}, {os.cpu_count()} CPUs; "
          f"inputs made in {time.perf_counter() - t0:.1f} s; bytecode cache {ENV['PYTHONPYCACHEPREFIX']}; "
          f"1 untimed warm-up per case")
    print(f"MCU 1 MiB: bootloader.bin 16 KiB, dct1 {Path(plan['mcu']['parts'][1][1]).stat().st_size} B, "
          f"app.bin {Path(plan['mcu']['parts'][2][1]).stat().st_size / KIB:.0f} KiB (app.elf 2 PT_LOAD)")
    print(f"SFLASH {chip_mib} MiB: {sizes_txt}")
    print(f"artefacts: {plan['artefact_bytes'] / MIB:.1f} MiB ({', '.join(plan['artefact_files'])})")

    counts = [10_000] if args.quick else [10_000, 100_000, 1_000_000]
    if args.serialize:
        counts = [] if args.serialize == "none" else [int(x) for x in args.serialize.split(",")]
    if counts:
        ser_reps = args.serialize_reps or (1 if args.quick else 3)
        for name, ok, detail in print_serialize(bench_serialize(folder, counts, ser_reps), ser_reps):
            print(f"  {'PASS' if ok else 'FAIL'}  {name:<40} {detail}")
    if args.serialize_only:
        return

    build = bench_chip(folder, plan, reps)
    print_table(f"build, {chip_mib} MiB SFLASH (all outputs byte-checked against ours)", build, build[0])
    inspect = bench_inspect(folder, plan, reps)
    print_table("inspect", inspect, inspect[0] if inspect[0].available else None)
    startup = bench_startup(reps)
    print_table("startup", startup, startup[0])
    batch = bench_batch(folder, plan, [1, 4] if args.quick else [1, 10, 100, 200], reps)
    batch_targets = report_batch(batch, bench_hex_readback(folder, plan, reps), plan)
    print("\ntargets:")
    for name, ok, detail in check_targets(build, inspect, startup, plan) + batch_targets:
        print(f"  {'PASS' if ok else ('    ' if ok is None else 'FAIL')}  {name:<34} {detail}")
    if sizes:
        scaling(work, inputs, sizes, reps, args.seed)
    if args.profile:
        profile(folder, plan)


if __name__ == "__main__":
    main()
