"""Self-contained bundles: the manifest embeds the resolved board and chip layouts with their SHA-256, so that a
bundle built from a board file that lives nowhere else is inspected, decoded and made into a line kit from any
folder; an embedded layout edited after the build is refused naming the field; an installed layout of the same
name that disagrees is reported."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from bundler.errors import InputError
from bundler.layout import LAYOUTS_DIR, from_manifest, load_board, load_chip
from bundler.manifest import dumps, load as load_manifest, validate

BUNDLE = Path(sys.executable).parent / "bundle"


def run(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BUNDLE), *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=300)


def canonical_sha256(data: dict) -> str:
    """The schema's definition, written out here: SHA-256 of the JSON with sorted keys and no spaces."""
    return hashlib.sha256(json.dumps(data, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


@pytest.fixture(scope="module")
def custom(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample built with `board = "../boards/myboard.toml"` (the shipped board renamed, one more SRAM KiB),
    then the board file moved away: returns the product folder (out/ inside)."""
    root = tmp_path_factory.mktemp("custom")
    shutil.copytree(Path(__file__).resolve().parent.parent / "samples" / "ota_demo", root / "product")
    (root / "boards").mkdir()
    text = (LAYOUTS_DIR / "boards" / "bcm943362wcd4.toml").read_text()
    assert 'name = "BCM943362WCD4"' in text and "sram_size = 0x20000" in text
    (root / "boards" / "myboard.toml").write_text(
        text.replace('name = "BCM943362WCD4"', 'name = "My board"').replace("sram_size = 0x20000", "sram_size = 0x20400"))
    config = root / "product" / "bundle.toml"
    lines = config.read_text().splitlines(keepends=True)
    assert sum(line.startswith("board = ") for line in lines) == 1
    config.write_text("".join('board = "../boards/myboard.toml"\n' if line.startswith("board = ") else line
                              for line in lines))
    res = run("build", config, "--out", root / "product" / "out", cwd=root)
    assert res.returncode == 0, res.stderr
    (root / "boards").rename(root / "moved-away")
    return root / "product"


def test_manifest_embeds_the_resolved_layouts(sample_build) -> None:
    out, _ = sample_build
    doc = json.loads((out / "manifest.json").read_text())
    board_toml = tomllib.loads((LAYOUTS_DIR / "boards" / "bcm943362wcd4.toml").read_text())
    chip_toml = next(c for c in tomllib.loads((LAYOUTS_DIR / "chips.toml").read_text())["chip"]
                     if c["name"] == "MX25L8006E")
    emb = doc["layouts"]
    assert emb["board"] == {"id": "bcm943362wcd4", "source": "installed", "sha256": canonical_sha256(board_toml),
                            "data": board_toml}
    assert emb["chip"] == {"name": "MX25L8006E", "source": "installed", "sha256": canonical_sha256(chip_toml),
                           "data": chip_toml}
    # a variant (extends) is embedded resolved: the base's tables with its own merged over them
    variant = load_board("bcm943362wcd4-sst")
    assert "extends" not in variant.data and variant.data["mcu"] == board_toml["mcu"]
    assert variant.data["sflash"]["spi"]["page_size"] == 1 and variant.data["sflash"]["spi"]["sck"]


def test_custom_board_bundle_reads_back_without_its_board_file(custom: Path, tmp_path: Path) -> None:
    manifest = custom / "out" / "manifest.json"
    doc = json.loads(manifest.read_text())
    assert doc["board"]["layout"] == "myboard" and doc["layouts"]["board"]["source"] == "file"
    assert doc["layouts"]["board"]["data"]["mcu"]["sram_size"] == 0x20400
    res = run("inspect", custom / "out", "--manifest", manifest, "--json", cwd=tmp_path)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr
    report = json.loads(res.stdout)
    assert report["board"] == {"name": "My board", "layout": "myboard"}
    assert report["summary"]["ok"] == report["summary"]["files"] >= 3
    res = run("dct", "decode", custom / "out" / "sflash.bin", "--manifest", manifest, "--json", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["mfg_info"]["serial_number"] == "SN00000001"
    res = run("openocd", manifest, "--adapter", "stlink", "--out", tmp_path / "kit", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "kit" / "program.sh").is_file()
    # the kit's images are the bundle's, byte for byte
    for name in ("mcu.bin", "sflash.bin"):
        assert (tmp_path / "kit" / name).read_bytes() == (custom / "out" / name).read_bytes()


def _edited(manifest: Path, tmp_path: Path, edit) -> Path:
    doc = json.loads(manifest.read_text())
    edit(doc)
    validate(doc)  # still schema-valid: only the layout check can tell
    shutil.copytree(manifest.parent, tmp_path / "out")
    (tmp_path / "out" / "manifest.json").write_text(dumps(doc))
    return tmp_path / "out" / "manifest.json"


@pytest.mark.parametrize("edit, message", [
    # the shipped board: the field is named by comparing with the installed layout the build used
    (lambda d: d["layouts"]["board"]["data"]["mcu"].update(sram_size=0x10000),
     r"layouts\.board\.data\.mcu\.sram_size: edited after the build \(the data's SHA-256 is [0-9a-f]{64}, "
     r"layouts\.board\.sha256 says [0-9a-f]{64}\)"),
    (lambda d: d["layouts"]["board"]["data"]["sflash"]["spi"].update(cs="PA3"),
     r"layouts\.board\.data\.sflash\.spi\.cs: edited after the build"),
    (lambda d: d["layouts"]["board"]["data"]["mcu"]["regions"][3].update(name="application"),
     r"layouts\.board\.data: \[sflash\] app_region: no region named 'app'"),
    # facts the manifest states twice
    (lambda d: d["layouts"]["chip"]["data"].update(jedec_id=0xC22015),
     r"layouts\.chip\.data\.jedec_id: 12722197 contradicts chip\.jedec_id 12722196 \(the manifest was edited\)"),
    (lambda d: d["layouts"]["board"].update(id="bcm943362wcd4-sst"),
     r"layouts\.board\.id: 'bcm943362wcd4-sst' contradicts board\.layout 'bcm943362wcd4'"),
])
def test_edited_embedded_layout_is_refused_naming_the_field(sample_build, tmp_path: Path, edit, message: str) -> None:
    out, _ = sample_build
    manifest = _edited(out / "manifest.json", tmp_path, edit)
    doc, _ = load_manifest(manifest)
    with pytest.raises(Exception, match=message) as info:
        from_manifest(doc, manifest)
    assert isinstance(info.value, InputError) or type(info.value).__name__ == "ConfigError"
    assert str(info.value).startswith(f"{manifest}: ")
    for args in (["inspect", manifest.parent, "--manifest", manifest],
                 ["dct", "decode", manifest.parent / "mcu.bin", "--manifest", manifest],
                 ["openocd", manifest, "-a", "stlink", "-o", tmp_path / "kit"]):
        res = run(*args, cwd=tmp_path)
        assert res.returncode == 2, (args, res.stdout[-1000:], res.stderr)
        line, = res.stderr.splitlines()
        assert line.startswith(f"error: {manifest}: layouts.") and not (tmp_path / "kit").exists()


def test_edited_custom_board_is_refused(custom: Path, tmp_path: Path) -> None:
    """No installed copy to compare with: the edited data is named as a whole."""
    manifest = _edited(custom / "out" / "manifest.json", tmp_path,
                       lambda d: d["layouts"]["board"]["data"]["sflash"].update(apps_start_sector=2))
    res = run("inspect", manifest.parent, "--manifest", manifest, cwd=tmp_path)
    assert res.returncode == 2
    assert res.stderr.startswith(f"error: {manifest}: layouts.board.data: edited after the build (the data's SHA-256")


def test_an_installed_layout_that_differs_is_reported(sample_build, tmp_path: Path) -> None:
    """A bundle built by a tool whose bcm943362wcd4 differed (its SHA-256 consistent): read with the embedded
    layout, and the difference reported."""
    out, _ = sample_build

    def older(doc: dict) -> None:
        board = doc["layouts"]["board"]
        board["data"]["sflash"]["spi"]["prescaler"] = 2  # a setting only the line kit uses
        board["sha256"] = canonical_sha256(board["data"])

    manifest = _edited(out / "manifest.json", tmp_path, older)
    doc, _ = load_manifest(manifest)
    board, chip, notes = from_manifest(doc, manifest)
    assert board.spi["prescaler"] == 2 and chip == load_chip("MX25L8006E")
    assert notes == [f"{manifest}: layouts.board: the installed board layout 'bcm943362wcd4' differs from the one "
                     "this bundle was built with (at sflash.spi.prescaler); the manifest's is used"]
    res = run("openocd", manifest, "-a", "stlink", "-o", tmp_path / "kit", cwd=tmp_path)
    assert res.returncode == 0 and res.stderr == f"warning: {notes[0]}\n"
    res = run("dct", "decode", manifest.parent / "mcu.bin", "-m", manifest, "--json", cwd=tmp_path)
    assert res.returncode == 0 and res.stderr == f"warning: {notes[0]}\n"
    res = run("inspect", manifest.parent, "-m", manifest, "--json", cwd=tmp_path)
    assert res.returncode == 0 and res.stderr == f"warning: {notes[0]}\n"
    assert json.loads(res.stdout)["manifest"]["layout_notes"] == notes


def test_a_manifest_without_layouts_uses_the_installed_ones(sample_build, tmp_path: Path) -> None:
    out, _ = sample_build
    manifest = _edited(out / "manifest.json", tmp_path, lambda d: d.pop("layouts"))
    doc, _ = load_manifest(manifest)
    board, chip, notes = from_manifest(doc, manifest)
    assert (board, chip, notes) == (load_board("bcm943362wcd4"), load_chip("MX25L8006E"), [])
