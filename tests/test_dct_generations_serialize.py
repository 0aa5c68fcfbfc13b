"""`bundle serialize` for the DCT generations other than 3.5.2: the per-unit ranges are at the offsets compiled from
that SDK's headers (tests/dct_facts.py), a unit's images equal the ones built from a bundle.toml holding its serial
and MAC, and (3.7.0, crc = "computed") each unit's platform_dct_version_t.crc32 is the SDK CRC recomputed here with
zlib over the copy with write_incomplete, crc32 and initial_write taken as 0."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import struct
import zlib
from pathlib import Path

import pytest

from bundler.build import make_bundle
from bundler.config import load_project
from bundler.serialize import serialize
from dct_facts import AML, TABLE

SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "ota_demo"
FLASH_BASE, DCT1, COPY = 0x08000000, 0x08004000, 0x4000


def _sample(dest: Path, sdk: str, crc: str, serial: str | None = None, mac: str | None = None) -> Path:
    shutil.copytree(SAMPLE, dest)
    toml = dest / "bundle.toml"
    text = re.sub(r'(?m)^crc = "sdk".*$', f'crc = "{crc}"', toml.read_text())
    if serial is not None:
        text = re.sub(r'(?m)^serial_number = ".*"$', f'serial_number = "{serial}"', text)
    if mac is not None:
        text = re.sub(r'(?m)^mac_address = ".*"$', f'mac_address = "{mac}"', text)
    toml.write_text(f'sdk = "{sdk}"\n' + text)
    return toml


@pytest.mark.parametrize(("sdk", "crc"), [("3.3.1", "sdk"), ("3.1.2", "sdk"), ("3.7.0", "sdk"), ("3.7.0", "computed")])
def test_serialize_follows_the_generation(sdk: str, crc: str, tmp_path: Path) -> None:
    off = TABLE[AML + "v" + sdk]["offsetof"]
    out = tmp_path / "out"
    result = serialize(_sample(tmp_path / "s", sdk, crc), 3, "SN00000101", "02:0A:F7:00:01:FE", out, full=True)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["board"]["sdk"] == sdk
    mcu_ranges = {e["name"]: e for e in manifest["serialization"] if e["file"] == "mcu.bin"}
    serial_at = off["platform_dct_data_t.mfg_info.serial_number"]
    mac_at = off["platform_dct_data_t.wifi_config.mac_address"]
    expected = {"mfg_info.serial_number": (DCT1 + serial_at, 20), "wifi_config.mac_address": (DCT1 + mac_at, 6)}
    computed = crc == "computed"
    if computed:  # 3.7.0: the CRC is platform_dct_version_t's
        expected["dct_version.crc32"] = (DCT1 + off["platform_dct_data_t.dct_version.crc32"], 4)
    assert {n: (e["address"], e["size"]) for n, e in mcu_ranges.items()} == expected
    assert result.crc_mode == crc
    rows = list(csv.DictReader(io.StringIO((out / "units.csv").read_text())))
    for row in (rows[0], rows[-1]):
        mcu = (out / row["mcu_bin"]).read_bytes()
        dct = mcu[DCT1 - FLASH_BASE:DCT1 - FLASH_BASE + COPY]
        assert dct[serial_at:serial_at + 20] == row["serial"].encode().ljust(20, b"\0")
        assert dct[mac_at:mac_at + 6] == bytes.fromhex(row["mac"].replace(":", ""))
        if computed:
            at = off["platform_dct_data_t.dct_version.crc32"]
            area = bytearray(dct)
            for zero, n in ((off["platform_dct_header_t.write_incomplete"], 1), (at, 4),
                            (off["platform_dct_data_t.dct_version.initial_write"], 1)):
                area[zero:zero + n] = bytes(n)
            assert struct.unpack_from("<I", dct, at)[0] == zlib.crc32(bytes(area)) ^ 0xFFFFFFFF
        # the same unit built from its own bundle.toml
        indep = make_bundle(load_project(_sample(tmp_path / f"i{row['index']}", sdk, crc, row["serial"], row["mac"])))
        assert mcu == indep.mcu.tobytes() and (out / row["sflash_bin"]).read_bytes() == indep.sflash.tobytes()
