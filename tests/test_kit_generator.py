"""bundle openocd: kit contents, helper patching, adapters, refusals. Oracles: the manifest's own checksums, a
hand-packed config block (tests/emu/host.py), Debian openocd's scripts folder, readelf."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bundler.cli import app
from bundler.errors import ConfigError, InputError, OutputError, VerificationError
from bundler.layout import load_board
from bundler.linekit import ADAPTERS, make_kit, spi_settings
from emu.host import config_for
from emu.kitfixture import BOARD_SPI, write_build
from emu.stm32 import Wiring

OPENOCD_SCRIPTS = Path("/usr/share/openocd/scripts")
KIT_FILES = {"kit.sha256", "mcu.bin", "sflash.bin", "sflash_helper.elf", "kit_config.tcl", "sflash_kit.tcl", "program.sh",
             "program.bat", "gang.sh", "gang.bat", "README.md", "manifest.json"}


def _section(elf: Path, name: str) -> bytes:
    """Section bytes via objcopy (independent of pyelftools)."""
    out = elf.with_suffix(".sect")
    subprocess.run(["arm-none-eabi-objcopy", "-O", "binary", f"--only-section={name}", str(elf), str(out)], check=True)
    return out.read_bytes()


def test_board_layout_has_confirmed_wiring() -> None:
    board = load_board("bcm943362wcd4")
    s = spi_settings(board.spi, board.path)
    assert (s["spi_base"], s["sck"], s["miso"], s["mosi"], s["cs"], s["gpio_af"], s["mode"]) == \
        (0x40013000, "PA5", "PA6", "PA7", "PA4", 5, 3)
    assert {k: s[k] for k in BOARD_SPI} == BOARD_SPI


@pytest.mark.parametrize("adapter", sorted(ADAPTERS))
def test_kit_for_each_adapter(tmp_path: Path, adapter: str) -> None:
    manifest = write_build(tmp_path / "build")
    before = {p.name: p.read_bytes() for p in (tmp_path / "build").iterdir()}
    files = make_kit(manifest, adapter, tmp_path / "kit")          # SPI settings from the board layout
    kit = tmp_path / "kit"
    # plus one file per run of MCU sectors with data (write_build: sectors 0 and 3), what `flash write_image` writes
    parts = {p.name for p in files} - KIT_FILES
    assert KIT_FILES <= {p.name for p in files} and parts == {"mcu.part-000000.bin", "mcu.part-00c000.bin"}
    mcu = (kit / "mcu.bin").read_bytes()
    for name in parts:
        part, at = (kit / name).read_bytes(), int(name[len("mcu.part-"):-len(".bin")], 16)
        assert mcu[at:at + len(part)] == part and f"{{write {at} {len(part)} {name}}}" in \
            (kit / "kit_config.tcl").read_text()
    assert {p.name: p.read_bytes() for p in (tmp_path / "build").iterdir()} == before   # originals untouched
    doc = json.loads(manifest.read_text())
    for art in doc["artefacts"]:
        if art["format"] == "bin":
            assert hashlib.sha256((kit / art["file"]).read_bytes()).hexdigest() == art["sha256"]
    assert not (kit / "mcu.hex").exists()
    interface = ADAPTERS[adapter]
    assert (OPENOCD_SCRIPTS / interface).is_file()  # Debian openocd (installed by .ci/run) ships it
    sh = (kit / "program.sh").read_text()
    assert "-f @TARGET@" not in sh and interface in sh and "target/stm32f2x.cfg" in sh
    assert (kit / "program.sh").stat().st_mode & 0o111
    bat = (kit / "program.bat").read_bytes()
    assert b"\r\n" in bat and interface.encode() in bat and b"@" + b"INTERFACE@" not in bat


def test_helper_config_is_patched_from_layout_and_manifest(tmp_path: Path) -> None:
    manifest = write_build(tmp_path / "build")
    make_kit(manifest, "stlink", tmp_path / "kit")
    expect = config_for(Wiring(), jedec_id=0xC22014, chip_size=0x100000)   # PA5/PA6/PA7, CS PA4, SPI1
    assert _section(tmp_path / "kit" / "sflash_helper.elf", ".helper_config") == expect
    pkg = Path(__file__).resolve().parents[1] / "bundler" / "kit" / "sflash_helper.elf"
    kit_elf, orig = (tmp_path / "kit" / "sflash_helper.elf").read_bytes(), pkg.read_bytes()
    assert len(kit_elf) == len(orig) and sum(a != b for a, b in zip(kit_elf, orig)) <= 0x60
    words = " ".join(f"0x{int.from_bytes(expect[i:i + 4], 'little'):08x}" for i in range(0, 0x60, 4))
    assert f"set kit_helper_config {{{words}}}" in (tmp_path / "kit" / "kit_config.tcl").read_text()


def test_refusals(tmp_path: Path) -> None:
    manifest = write_build(tmp_path / "build")
    with pytest.raises(OutputError):
        make_kit(manifest, "stlink", tmp_path / "build")                # would overwrite the inputs
    with pytest.raises(InputError, match="--adapter"):
        make_kit(manifest, "usbblaster", tmp_path / "kit")
    with pytest.raises(ConfigError, match="cs"):
        make_kit(manifest, "stlink", tmp_path / "kit", spi={**BOARD_SPI, "cs": "PZ4"})
    with pytest.raises(ConfigError, match="unknown key"):
        make_kit(manifest, "stlink", tmp_path / "kit", spi={**BOARD_SPI, "speed": 5})
    data = bytearray((tmp_path / "build" / "sflash.bin").read_bytes())
    data[100] ^= 1
    (tmp_path / "build" / "sflash.bin").write_bytes(bytes(data))
    with pytest.raises(VerificationError, match="sflash.bin: SHA-256"):
        make_kit(manifest, "stlink", tmp_path / "kit")
    assert not (tmp_path / "kit").exists()                              # nothing half-written


@pytest.mark.parametrize("edit, where", [
    (lambda d: d["chip"].update(jedec_id=0xC22014), "chip/jedec_id"),        # a number where "0x00c22014" belongs
    (lambda d: d["artefacts"][2].pop("crc32"), "artefacts/2"),
    (lambda d: d["artefacts"][0].update(kind="flash"), "artefacts/0/kind"),
    (lambda d: d.update(serialization=[{"name": "x", "file": "mcu.bin", "address": 1, "offset": -1, "size": 1}]),
     "serialization/0/offset"),
])
def test_a_manifest_not_following_the_schema_is_refused(tmp_path: Path, edit, where: str) -> None:
    """The kit reads the manifest as inspect does (manifest.load: JSON Schema): a hand-edited or damaged one is
    refused with one line naming the field, and no kit is written."""
    manifest = write_build(tmp_path / "build")
    doc = json.loads(manifest.read_text())
    edit(doc)
    manifest.write_text(json.dumps(doc))
    result = CliRunner().invoke(app, ["openocd", str(manifest), "--adapter", "stlink", "--out", str(tmp_path / "kit")])
    assert result.exit_code == 2 and f"not a valid manifest at {where}" in result.output
    assert len(result.output.strip().splitlines()) == 1 and not (tmp_path / "kit").exists()


def test_sdk_helper_is_copied_unpatched(tmp_path: Path) -> None:
    manifest = write_build(tmp_path / "build")
    pkg = Path(__file__).resolve().parents[1] / "bundler" / "kit" / "sflash_helper.elf"
    sdk_like = bytearray(pkg.read_bytes())
    at = sdk_like.find((0x43484653).to_bytes(4, "little"))
    sdk_like[at:at + 4] = b"\0\0\0\0"                                   # no config block magic: treated as SDK's
    (tmp_path / "sdk.elf").write_bytes(bytes(sdk_like))
    make_kit(manifest, "jlink", tmp_path / "kit", tmp_path / "sdk.elf", spi=BOARD_SPI)
    assert (tmp_path / "kit" / "sflash_helper.elf").read_bytes() == bytes(sdk_like)


def test_cli_openocd(tmp_path: Path) -> None:
    manifest = write_build(tmp_path / "build")
    r = CliRunner().invoke(app, ["openocd", str(manifest), "--adapter", "olimex-arm-usb-ocd-h",
                                 "--out", str(tmp_path / "kit")])
    assert r.exit_code == 0, r.output
    assert "program.sh" in r.output
    sh = (tmp_path / "kit" / "program.sh").read_text()
    assert "unit=${1:-}" in sh and "if [ 0 = 1 ]; then" in sh         # not serialized: the unit id is optional
    r = CliRunner().invoke(app, ["openocd", str(tmp_path / "missing.json"), "--adapter", "stlink",
                                 "--out", str(tmp_path / "kit2")])
    assert r.exit_code == 2 and "missing.json: file not found" in r.output and "Traceback" not in r.output


def test_kit_refuses_a_manifest_whose_signature_does_not_verify(tmp_path: Path) -> None:
    from bundler.signing import keygen, sign

    key, pub = keygen(tmp_path / "keys")
    manifest = write_build(tmp_path / "build")
    sig = manifest.with_name("manifest.json.sig")
    sig.write_bytes(sign(manifest.read_bytes(), key))
    run = CliRunner().invoke(app, ["openocd", str(manifest), "-a", "stlink", "--out", str(tmp_path / "kit"),
                                   "--pubkey", str(pub)])
    assert run.exit_code == 0, run.output
    assert (tmp_path / "kit" / "manifest.json.sig").read_bytes() == sig.read_bytes()  # carried with the kit
    doc = json.loads(manifest.read_text())
    doc["name"] = "someone else's product"
    manifest.write_text(json.dumps(doc))
    run = CliRunner().invoke(app, ["openocd", str(manifest), "-a", "stlink", "--out", str(tmp_path / "kit2"),
                                   "--pubkey", str(pub)])
    assert run.exit_code == 1 and "signature does not verify" in run.output and not (tmp_path / "kit2").exists()
    sig.unlink()
    run = CliRunner().invoke(app, ["openocd", str(manifest), "-a", "stlink", "--out", str(tmp_path / "kit3"),
                                   "--pubkey", str(pub)])
    assert run.exit_code == 1 and "no signature manifest.json.sig" in run.output
