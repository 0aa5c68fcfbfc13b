"""inspect without a manifest on an SFLASH image of a chip other than the board's default: the chip from --chip,
from --chip-size (JEDEC ID unknown) or, when neither is given, from the image's size when it is a whole chip's."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bundler.layout import chip_names, load_chip

BUNDLE = Path(sys.executable).parent / "bundle"
MIB16 = 16 << 20


def run(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BUNDLE), *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=300)


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample for a 128 Mbit part chips.toml does not list, with a 1.5 MiB file in its filesystem: the
    filesystem and the components after it lie past the first MiB (the board's default chip)."""
    assert all(load_chip(n).size != MIB16 for n in chip_names())  # else size detection would simply find it
    root = tmp_path_factory.mktemp("big")
    shutil.copytree(Path(__file__).resolve().parent.parent / "samples" / "ota_demo", root / "product")
    (root / "product" / "resources" / "big.bin").write_bytes(random.Random(13).randbytes(3 << 19))
    config = root / "product" / "bundle.toml"
    text = config.read_text()
    assert 'chip = "MX25L8006E"' in text
    config.write_text(text.replace('chip = "MX25L8006E"',
                                   'chip = { name = "W25Q128JV", jedec_id = 0xEF4018, size = 0x1000000 }', 1))
    res = run("build", config, "--out", root / "out", cwd=root)
    assert res.returncode == 0, res.stderr
    lut = json.loads((root / "out" / "manifest.json").read_text())["lut"]
    assert max((e["start_sector"] + e["sector_count"]) * 4096 for e in lut) > 1 << 20
    assert (root / "out" / "sflash.bin").stat().st_size == MIB16
    return root / "out"


def _inspect(out: Path, *options: str) -> tuple[int, dict]:
    res = run("inspect", out / "sflash.bin", "--json", *options, cwd=out)
    return res.returncode, json.loads(res.stdout)


def test_chip_from_the_image_size(big: Path) -> None:
    code, report = _inspect(big)
    file, = report["files"]
    assert code == 0, [f["message"] for f in file["findings"] if f["severity"] != "note"]
    assert file["chip"] == {"name": "unknown 16 MiB chip (from the file size)", "jedec_id": "0x00000000",
                            "size": MIB16, "sector_size": 4096}


def test_chip_size_option(big: Path) -> None:
    for text in ("16M", "0x1000000", "16777216", "16384k"):
        code, report = _inspect(big, "--chip-size", text)
        assert code == 0 and report["files"][0]["chip"]["name"] == "unknown 16 MiB chip (--chip-size)"
    # a smaller chip: the LUT entries past its end are reported (what the size detection avoids)
    code, report = _inspect(big, "--chip-size", "1M")
    codes = {f["code"] for f in report["files"][0]["findings"] if f["severity"] == "fail"}
    assert code == 1 and "lut_past_chip" in codes


def test_chip_by_name_still_wins(big: Path) -> None:
    code, report = _inspect(big, "--chip", "MX25L25635F")  # 32 MiB: the image is shorter than the chip
    assert report["files"][0]["chip"]["name"] == "MX25L25635F" and code == 1


@pytest.mark.parametrize("size", [3 << 20, 1 << 19])
def test_short_dump_keeps_the_board_chip(big: Path, tmp_path: Path, size: int) -> None:
    """A size that is no chip's, or smaller than the board's part (a short read-back): the board's part."""
    (tmp_path / "part.bin").write_bytes((big / "sflash.bin").read_bytes()[:size])
    res = run("inspect", tmp_path / "part.bin", "--kind", "sflash", "--json", cwd=tmp_path)
    assert json.loads(res.stdout)["files"][0]["chip"]["name"] == "MX25L8006E"


@pytest.mark.parametrize("options, message", [
    (["--chip", "MX25L8006E", "--chip-size", "1M"], "error: --chip names a known part, --chip-size an unknown one: "
                                                    "give only one"),
    (["--chip-size", "1000"], "error: --chip-size 1000 bytes (0x3E8): expected a positive multiple of the board's "
                              "4096 bytes (0x1000) serial-flash sector"),
    (["--chip-size", "16Q"], "error: bundle inspect: Invalid value for '--chip-size': '16Q' is not a size "
                             "(e.g. 65536, 0x10000, 64k, 1M) (see 'bundle inspect -h')"),
])
def test_bad_chip_options_are_one_line(big: Path, options: list[str], message: str) -> None:
    res = run("inspect", big / "sflash.bin", *options, cwd=big)
    assert (res.returncode, res.stdout, res.stderr) == (2, "", message + "\n")
