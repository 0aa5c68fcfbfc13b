"""Traceability (issue 19): bundle.toml `version` / `revision` reach manifest.json (`product`, schema-valid), the job
sheet's first line and the signer's fingerprint; unknown top-level keys are refused with the allowed list; the
`--equipment` choice is checked; the manifest's SHA-256 on the sheet is that of the published file."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bundler.build import build_bundle
from bundler.cli import app
from bundler.config import load_project
from bundler.errors import ConfigError, InputError
from bundler.jobsheet import EQUIPMENT, build_jobsheet, parse_equipment
from bundler.manifest import validate


def _set_top(config: Path, lines: str) -> None:
    """Insert top-level lines right after `name = ...` (before any table)."""
    text = config.read_text()
    text = re.sub(r'^version = .*\n', "", text, flags=re.M)
    config.write_text(re.sub(r'^(name = .*\n)', lambda m: m.group(1) + lines, text, count=1, flags=re.M))


def test_version_and_revision_round_trip(sample_copy: Path, tmp_path: Path) -> None:
    _set_top(sample_copy, 'version = "1.4.2"\nrevision = "g1a2b3c4-dirty"\n')
    out = tmp_path / "out"
    build_bundle(sample_copy, out)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["product"] == {"version": "1.4.2", "revision": "g1a2b3c4-dirty"}
    validate(manifest)
    md = (out / "JOBSHEET.md").read_text()
    first = md.splitlines()[0]
    assert first == "# Programming job sheet - ota_demo version 1.4.2 (revision g1a2b3c4-dirty)"
    assert "| Version | 1.4.2 |" in md and "| Revision | g1a2b3c4-dirty |" in md
    page = (out / "jobsheet.html").read_text()
    assert "<h1>Programming job sheet - ota_demo version 1.4.2 (revision g1a2b3c4-dirty)</h1>" in page
    # the SHA-256 printed is that of the manifest file as published (hashlib over the bytes on disk)
    digest = hashlib.sha256((out / "manifest.json").read_bytes()).hexdigest()
    assert f"| Manifest SHA-256 | {digest} (manifest.json) |" in md and digest in page


def test_version_in_inspect_output(sample_copy: Path, tmp_path: Path) -> None:
    """`bundle inspect --manifest`: the text report's manifest line and the JSON (schema-checked) carry the version."""
    import jsonschema

    _set_top(sample_copy, 'version = "2.0.1"\nrevision = "r77"\n')
    out = tmp_path / "out"
    build_bundle(sample_copy, out)
    runner = CliRunner()
    text = runner.invoke(app, ["inspect", str(out / "mcu.bin"), "--manifest", str(out / "manifest.json")])
    assert text.exit_code == 0, text.output
    assert f"manifest: {out / 'manifest.json'} (ota_demo version 2.0.1 (revision r77), sha256 " in text.output
    as_json = runner.invoke(app, ["inspect", str(out / "sflash.bin"), "--manifest", str(out / "manifest.json"),
                                  "--json"])
    doc = json.loads(as_json.stdout)
    assert doc["manifest"]["product"] == {"version": "2.0.1", "revision": "r77"}
    schema = json.loads((Path(__file__).resolve().parent.parent / "bundler" / "schemas" /
                         "inspect.schema.json").read_text())
    jsonschema.validate(doc, schema)


def test_no_version_says_not_recorded(sample_copy: Path, tmp_path: Path) -> None:
    _set_top(sample_copy, "")
    out = tmp_path / "out"
    build_bundle(sample_copy, out)
    manifest = json.loads((out / "manifest.json").read_text())
    assert "product" not in manifest
    md = (out / "JOBSHEET.md").read_text()
    assert md.splitlines()[0] == "# Programming job sheet - ota_demo (version not recorded)"
    assert "| Version | not recorded (bundle.toml sets no version) |" in md


@pytest.mark.parametrize("value", ['"1.4\\"2"', '"$(reboot)"', '"a{b}"', '" 1.0"', '"1.0\\n"', '""', '"x' + "9" * 64 + '"',
                                   "3"])
def test_unsafe_or_bad_version_is_refused(sample_copy: Path, value: str) -> None:
    _set_top(sample_copy, f"version = {value}\n")
    with pytest.raises(ConfigError, match=r"version") as exc:
        load_project(sample_copy)
    assert "\n" not in str(exc.value)


def test_schema_refuses_a_product_text_the_config_refuses(sample_build) -> None:
    out, _ = sample_build
    manifest = json.loads((out / "manifest.json").read_text())
    validate({**manifest, "product": {"version": "1.0.0 rc1"}})
    for bad in ("1.0;reboot", "", "x\ny", "{1}"):
        with pytest.raises(InputError, match="product/version"):
            validate({**manifest, "product": {"version": bad}})
    with pytest.raises(InputError, match="product"):
        validate({**manifest, "product": {"release": "1"}})


def test_unknown_top_level_key_lists_the_allowed_keys(sample_copy: Path) -> None:
    _set_top(sample_copy, 'relase = "1.0"\n')
    with pytest.raises(ConfigError) as exc:
        load_project(sample_copy)
    message = str(exc.value)
    assert "top level: unknown key 'relase' (did you mean 'revision'?)" in message or \
        "top level: unknown key 'relase'" in message
    allowed = message.split("allowed keys: ")[1].split(", ")
    assert sorted(allowed) == sorted(["name", "version", "revision", "board", "chip", "mcu", "sflash", "dct", "output", "sdk"])
    result = CliRunner().invoke(app, ["build", str(sample_copy), "--out", str(sample_copy.parent / "o")])
    assert result.exit_code == 2 and "allowed keys: " in result.output and "Traceback" not in result.output
    assert not (sample_copy.parent / "o").exists()


def test_unknown_sflash_key_lists_every_component(sample_copy: Path) -> None:
    text = sample_copy.read_text().replace("[sflash]\n", "[sflash]\napp3 = \"x.elf\"\n", 1)
    sample_copy.write_text(text)
    with pytest.raises(ConfigError, match=r"\[sflash\] unknown key 'app3' .*allowed keys: fr_app, dct_image, ota_app, "
                                          r"filesystem, wifi_firmware, app0, app1, app2"):
        load_project(sample_copy)


def test_signed_build_names_the_key_fingerprint(sample_copy: Path, tmp_path: Path) -> None:
    from bundler.signing import keygen

    key, pub = keygen(tmp_path)
    out = tmp_path / "out"
    build_bundle(sample_copy, out, sign_key=key)
    # oracle: openssl's DER form of the public key, hashed by sha256sum
    der = subprocess.run(["openssl", "pkey", "-pubin", "-in", str(pub), "-outform", "DER"], check=True,
                         capture_output=True).stdout
    fingerprint = hashlib.sha256(der).hexdigest()
    md = (out / "JOBSHEET.md").read_text()
    assert f"signing key fingerprint {fingerprint}" in md
    assert fingerprint in (out / "jobsheet.html").read_text()
    # the sheet still names the manifest's final bytes (the signature is over those bytes too)
    assert hashlib.sha256((out / "manifest.json").read_bytes()).hexdigest() in md
    unsigned = tmp_path / "unsigned"
    build_bundle(sample_copy, unsigned)
    assert "| Manifest signature | not signed |" in (unsigned / "JOBSHEET.md").read_text()


def test_equipment_values_are_checked(sample_copy: Path, tmp_path: Path) -> None:
    assert parse_equipment(["elnec", "mcu=st-link-utility"]) == ("elnec", "mcu=st-link-utility")
    with pytest.raises(ConfigError, match=r"equipment 'jflash': expected FAMILY .* one of " + ", ".join(EQUIPMENT)):
        parse_equipment(["jflash"])
    with pytest.raises(ConfigError, match=r"st-link-utility does not program the sflash chip \(for it: crc32, elnec, "
                                          r"dataman\)"):
        parse_equipment(["sflash=st-link-utility"])
    with pytest.raises(ConfigError, match="equipment 'usb=elnec'"):
        parse_equipment(["usb=elnec"])
    result = CliRunner().invoke(app, ["build", str(sample_copy), "--out", str(tmp_path / "o"), "--equipment", "nope"])
    assert result.exit_code == 2 and "equipment 'nope'" in result.output and not (tmp_path / "o").exists()
    # bundle.toml [output] equipment is the default; --equipment overrides it
    sample_copy.write_text(sample_copy.read_text().replace("[output]\n", '[output]\nequipment = "dataman"\n', 1)
                           if "[output]" in sample_copy.read_text()
                           else sample_copy.read_text() + '\n[output]\nequipment = "dataman"\n')
    assert load_project(sample_copy).equipment == ("dataman",)


def test_family_per_chip_and_fallback(sample_build) -> None:
    out, bundle = sample_build
    manifest = json.loads((out / "manifest.json").read_text())
    files = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    board = bundle.project.board

    def chosen(*equipment: str) -> dict[str, tuple[str, str]]:
        sheet = build_jobsheet(manifest, files, board, equipment=equipment)
        return {c.kind: (c.expected.family, c.expected.row.label) for c in sheet.chips}

    assert chosen() == {"sflash": ("crc32", "CRC-32 (zlib), whole device range"),
                        "mcu": ("crc32", "CRC-32 (zlib), whole device range")}
    assert chosen("st-link-utility") == {"sflash": ("crc32", "CRC-32 (zlib), whole device range"),
                                         "mcu": ("st-link-utility", "Sum32, whole device range")}
    assert chosen("elnec", "mcu=crc32") == {"sflash": ("elnec", "Sum32, whole device range"),
                                            "mcu": ("crc32", "CRC-32 (zlib), whole device range")}
    md = build_jobsheet(manifest, files, board, equipment=["st-link-utility"])
    sflash = md.chips[0]
    assert sflash.kind == "sflash" and "st-link-utility does not program this chip" in sflash.expected.why


def test_serialized_sheet_points_at_the_units_csv_column(tmp_path: Path, sample_copy: Path) -> None:
    import csv
    import zlib

    from bundler.serialize import serialize

    out = tmp_path / "run"
    serialize(sample_copy, 2, "SN00000010", "02:0A:F7:00:00:10", out)
    md = (out / "JOBSHEET.md").read_text()
    header = (out / "units.csv").read_text().splitlines()[0].split(",")
    for column in ("sflash_crc32", "mcu_crc32"):
        assert f"units.csv, column {column}" in md and column in header
    assert hashlib.sha256((out / "manifest.json").read_bytes()).hexdigest() in md
    # `bundle serialize --equipment`: the sum column instead; the large number is the base image's (zlib oracle)
    elnec = tmp_path / "elnec"
    result = CliRunner().invoke(app, ["serialize", str(sample_copy), "--count", "2", "--serial-start", "SN00000010",
                                      "--mac-start", "02:0A:F7:00:00:10", "--out", str(elnec), "--equipment", "elnec",
                                      "--equipment", "mcu=crc32"])
    assert result.exit_code == 0, result.output
    md = (elnec / "JOBSHEET.md").read_text()
    assert "units.csv, column sflash_sum32" in md and "units.csv, column mcu_crc32" in md
    numbers = re.findall(r"^### Expected checksum: \*\*`(0x[0-9a-f]{8})`\*\*$", md, re.M)
    sflash, mcu = (elnec / "sflash.bin").read_bytes(), (elnec / "mcu.bin").read_bytes()
    assert numbers == [f"0x{sum(sflash) & 0xFFFFFFFF:08x}", f"0x{zlib.crc32(mcu):08x}"]
    rows = list(csv.DictReader((elnec / "units.csv").open()))
    assert len({r["sflash_sum32"] for r in rows}) == 2  # each unit's number differs: hence the column


def test_version_in_the_line_kit_log(tmp_path: Path) -> None:
    """program.sh (real OpenOCD, dummy adapter, fake target) writes the product version into the log's first line
    and OpenOCD's own 'kit:' line."""
    import os
    import sys

    from emu.kitfixture import write_build

    from bundler.linekit import make_kit

    manifest_path = write_build(tmp_path / "build")
    doc = json.loads(manifest_path.read_text())
    doc["product"] = {"version": "1.4.2", "revision": "g1a2b3c4"}
    manifest_path.write_text(json.dumps(doc, indent=2))
    kit = make_kit(manifest_path, "stlink", tmp_path / "kit")[0].parent
    fake = Path(__file__).resolve().parent / "emu" / "jim_fake_target.tcl"
    wrapper = tmp_path / "openocd-wrapper"  # loads the fake target before kit_main
    wrapper.write_text(f"#!{sys.executable}\nimport subprocess, sys\nargs = sys.argv[1:]\n"
                       f"args[args.index('kit_main') - 1:args.index('kit_main') - 1] = ['-f', {str(fake)!r}]\n"
                       "sys.exit(subprocess.call(['openocd', *args]))\n")
    wrapper.chmod(0o755)
    (tmp_path / "dummy.cfg").write_text("adapter driver dummy\ntransport select jtag\n")
    env = {**os.environ, "OPENOCD": str(wrapper), "OPENOCD_INTERFACE": str(tmp_path / "dummy.cfg")}
    r = subprocess.run(["sh", str(kit / "program.sh"), "SN0042"], cwd=tmp_path, env=env, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    log = (kit / r.stdout.splitlines()[-1][len("log: "):]).read_text().splitlines()
    label = "ota_demo version 1.4.2 (revision g1a2b3c4)"
    assert log[0].startswith(f"kit: {label} (")  # program.sh's header
    assert f"kit: {label}" in log[1:]  # sflash_kit.tcl's first line, from kit_config.tcl
    assert "PASS" in log
    assert label in (kit / "program.bat").read_text()


@pytest.mark.parametrize("text, message", [
    ('[sflash]\npart_numbers = { MX25L8006E = "W25Q80DVSNIG" }\n',
     r"\[sflash.part_numbers\] MX25L8006E: expected an orderable part number of MX25L8006E"),
    ('[mcu]\nalso_supported = ["STM32F205RGT6", 3]\n', r"\[mcu\] also_supported: expected a list of part names"),
    ('[mcu]\npart_number = 215\n', r"\[mcu\] part_number: expected str"),
])
def test_bad_part_names_in_a_board_layout(tmp_path: Path, text: str, message: str) -> None:
    from bundler.layout import load_board

    board = tmp_path / "b.toml"
    board.write_text('extends = "bcm943362wcd4"\n' + text)
    with pytest.raises(ConfigError, match=message):
        load_board(board)


def test_variant_board_names_its_own_fitted_part() -> None:
    """The SST variant inherits the part table: its fitted part is the SST one, the Macronix one is the alternative."""
    from bundler.jobsheet.model import _sflash_parts
    from bundler.layout import load_board, load_chip

    board = load_board("bcm943362wcd4-sst")
    chip = load_chip(board.sflash.chip)
    part, detail, others = _sflash_parts(board, {"name": chip.name, "jedec_id": f"0x{chip.jedec_id:08x}"})
    assert (part, detail) == ("SST25VF080B-80-4I-S2AF", "SST25VF080B, JEDEC ID 0xBF258E")
    assert others == ["MX25L8006EM2I-12G (MX25L8006E, JEDEC ID 0xC22014)"]
