"""A small `bundle build`-style output folder (manifest.json + mcu.bin + sflash.bin) for the kit tests."""

from __future__ import annotations

import csv
import hashlib
import json
import random
import zlib
from pathlib import Path

# BCM943362WCD4 serial-flash wiring (platforms/BCM943362WCD4/platform.c + platform.h, SDK 3.3.1 and 3.7.0):
# SPI1, SCK PA5, MISO PA6, MOSI PA7, chip select PA4 (WICED_GPIO_5), 5 MHz, SPI mode 3.
BOARD_SPI = {
    "spi_base": 0x40013000, "rcc_enable_register": 0x40023844, "rcc_enable_bit": 12,
    "gpio_port_base": 0x40020000, "gpio_port_stride": 0x400, "gpio_af": 5,
    "sck": "PA5", "miso": "PA6", "mosi": "PA7", "cs": "PA4", "prescaler": 1, "mode": 3,
}


def sflash_image(size: int, seed: int = 2) -> bytes:
    rnd = random.Random(seed)
    out = bytearray(b"\xff" * size)
    out[0:0x1000] = rnd.randbytes(0x110) + b"\xff" * (0x1000 - 0x110)   # LUT-like first sector
    out[0x1000:0x1000 + 30000] = rnd.randbytes(30000)                  # an app
    out[0x14000:0x14000 + 5000] = rnd.randbytes(5000)                  # another component
    return bytes(out)


def mcu_image(size: int, seed: int = 3) -> bytes:
    rnd = random.Random(seed)
    out = bytearray(b"\xff" * size)
    out[0:0x3000] = rnd.randbytes(0x3000)
    out[0xC000:0xC000 + 0x2345] = rnd.randbytes(0x2345)
    return bytes(out)


def _sums(data: bytes) -> dict:
    return {"crc32": f"0x{zlib.crc32(data):08x}", "sum32": f"0x{sum(data) & 0xFFFFFFFF:08x}",
            "sha256": hashlib.sha256(data).hexdigest()}


def _entry(name: str, kind: str, fmt: str, base: int, data: bytes, content: bytes | None = None) -> dict:
    """An artefact entry as the manifest schema has it; `content` is a .hex file's text (its own checksums)."""
    entry = {"file": name, "kind": kind, "format": fmt, "base_address": base, "size": len(data), "fill": 255,
             **_sums(data if content is None else content), "regions": []}
    if fmt == "hex":
        entry.update(hex_skip_fill=False, image=_sums(data))
    return entry


def write_build(folder: Path, *, mcu_size: int = 0x10000, sflash_size: int = 0x18000, chip_size: int = 0x100000,
                jedec_id: int = 0xC22014, chip_name: str = "MX25L8006E", layout: str = "bcm943362wcd4") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    mcu, sflash = mcu_image(mcu_size), sflash_image(sflash_size)
    (folder / "mcu.bin").write_bytes(mcu)
    (folder / "mcu.hex").write_text(":00000001FF\n")  # not used by the kit
    (folder / "sflash.bin").write_bytes(sflash)
    doc = {  # valid against bundler/schemas/manifest.schema.json (the kit loads it with manifest.load)
        "manifest_version": 1, "tool": {"name": "bundle", "version": "0.1.0"}, "name": "ota_demo",
        "board": {"name": "BCM943362WCD4", "layout": layout, "sdk": "3.5.2", "mcu_part": "STM32F205",
                  "flash_base": 0x08000000, "flash_size": mcu_size},
        "chip": {"name": chip_name, "jedec_id": f"0x{jedec_id:08x}", "size": chip_size, "sector_size": 4096},
        "dct": {"address": 0x08004000, "used_size": 7600, "crc_mode": "sdk", "crc32_field": "0x00000000"},
        "lut": [],
        "artefacts": [_entry("mcu.bin", "mcu", "bin", 0x08000000, mcu),
                      _entry("mcu.hex", "mcu", "hex", 0x08000000, mcu, b":00000001FF\n"),
                      _entry("sflash.bin", "sflash", "bin", 0, sflash)],
    }
    path = folder / "manifest.json"
    path.write_text(json.dumps(doc, indent=2))
    return path


def plain_and_serialized_kits(root: Path, name: str | None = None) -> dict[str, Path]:
    """Two line kits under `root`: "plain" (write_build's images; product `name` if given) and "serial" (the sample
    serialized, 2 units SN00001001.. from 02:0A:F7:00:10:00; its run folder is root / "run")."""
    import shutil

    from typer.testing import CliRunner

    from bundler.cli import app
    from bundler.linekit import make_kit

    manifest = write_build(root / "build")
    if name is not None:
        doc = json.loads(manifest.read_text())
        doc["name"] = name
        manifest.write_text(json.dumps(doc))
    make_kit(manifest, "stlink", root / "plain", spi=BOARD_SPI)
    shutil.copytree(Path(__file__).resolve().parents[2] / "samples" / "ota_demo", root / "product")
    r = CliRunner().invoke(app, ["serialize", str(root / "product" / "bundle.toml"), "--count", "2",
                                 "--serial-start", "SN00001001", "--mac-start", "02:0A:F7:00:10:00",
                                 "--out", str(root / "run")])
    assert r.exit_code == 0, r.output
    make_kit(root / "run" / "manifest.json", "stlink", root / "serial")
    return {"plain": root / "plain", "serial": root / "serial"}


def unit_images(run: Path, index: int) -> tuple[bytes, bytes]:
    """The chips of unit `index` (1-based) of a `bundle serialize` run: its base images with the unit's bytes from
    units.csv at the manifest's ranges (as the kit programs them)."""
    row = list(csv.DictReader(open(run / "units.csv")))[index - 1]
    doc = json.loads((run / "manifest.json").read_text())
    images = {name: bytearray((run / name).read_bytes()) for name in ("mcu.bin", "sflash.bin")}
    for r in doc["serialization"]:
        column = next(c for c in row if c.startswith(f"{r['file']}@") and c.endswith(f":{r['name']}")
                      and int(c.split("@")[1].split(":")[0], 16) == r["address"])
        images[r["file"]][r["offset"]:r["offset"] + r["size"]] = bytes.fromhex(row[column])
    return bytes(images["mcu.bin"]), bytes(images["sflash.bin"])


def serialized_kit(root: Path, count: int) -> Path:
    """root / "kit": the line kit of the sample serialized into `count` units SN00001001.. from 02:0A:F7:00:10:00
    (its run folder is root / "run")."""
    import shutil

    from typer.testing import CliRunner

    from bundler.cli import app
    from bundler.linekit import make_kit

    shutil.copytree(Path(__file__).resolve().parents[2] / "samples" / "ota_demo", root / "product")
    r = CliRunner().invoke(app, ["serialize", str(root / "product" / "bundle.toml"), "--count", str(count),
                                 "--serial-start", "SN00001001", "--mac-start", "02:0A:F7:00:10:00",
                                 "--out", str(root / "run")])
    assert r.exit_code == 0, r.output
    make_kit(root / "run" / "manifest.json", "stlink", root / "kit")
    return root / "kit"
