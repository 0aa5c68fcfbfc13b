"""Reliability and security of `bundle build` (issue 7): outputs under faults, a real kill -9, odd inputs,
secrets that must never leak, and the Ed25519-signed manifest."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bundler.build import build_bundle
from bundler.cli import app
from bundler.errors import InputError, OutputError, VerificationError
from bundler.formats.elf import PT_LOAD, build_elf
from bundler.publish import RECORD
from conftest import SAMPLE

PASSPHRASE = "sample-passphrase-do-not-ship"


def key_lines() -> list[str]:
    """Body lines of the sample's private key: none may appear in any output."""
    return [line for line in (SAMPLE / "certs" / "device_key.pem").read_text().splitlines() if "-----" not in line]


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def consistent(folder: Path) -> bool:
    """Every file the manifest lists is present with its checksum, and nothing else but manifest(.sig)."""
    if not (folder / "manifest.json").is_file():
        return False
    doc = json.loads((folder / "manifest.json").read_text())
    names = {a["file"] for a in doc["artefacts"]} | {"manifest.json"}
    present = {p.name for p in folder.iterdir()} - {"manifest.json.sig", RECORD}
    extras = present - names
    return not (names - present) and all(n.endswith((".md", ".html", ".svg")) for n in extras) and all(
        hashlib.sha256((folder / a["file"]).read_bytes()).hexdigest() == a["sha256"] for a in doc["artefacts"])


# --- faults -------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("fault", ["fsync", "rename", "mkdir"])
def test_fault_while_publishing_keeps_previous_outputs(sample_copy: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch, fault: str) -> None:
    out = tmp_path / "out"
    build_bundle(sample_copy, out)
    before = snapshot(out)
    sample_copy.write_text(sample_copy.read_text().replace('crc = "sdk"', 'crc = "computed"'))
    import bundler.publish as publish

    calls = {"n": 0}

    def fail(real, code):
        def wrapper(*args, **kwargs):
            calls["n"] += 1
            if calls["n"] == 2 or fault == "mkdir":  # one fault, at the second call
                raise OSError(code, os.strerror(code))
            return real(*args, **kwargs)
        return wrapper

    if fault == "fsync":
        monkeypatch.setattr(publish.os, "fsync", fail(os.fsync, errno.ENOSPC))
    elif fault == "rename":
        monkeypatch.setattr(publish.os, "rename", fail(os.rename, errno.EIO))
    else:
        monkeypatch.setattr(publish.os, "mkdir", fail(os.mkdir, errno.EROFS))
    with pytest.raises(OutputError, match="cannot"):
        build_bundle(sample_copy, out)
    assert snapshot(out) == before
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".out.")]


# A build whose publishing steps announce themselves and then pause: each fsync of an output file and each rename
# prints a marker line and sleeps, so the parent can SIGKILL the build while it is inside any chosen step.
_STEPPED_BUILD = """
import os, sys, time
from bundler.build import build_bundle
real_fsync, real_rename = os.fsync, os.rename
def fsync(fd):
    print("fsync", flush=True); time.sleep(0.1); real_fsync(fd)
def rename(a, b):
    print("rename", flush=True); time.sleep(0.1); real_rename(a, b); print("renamed", flush=True); time.sleep(0.1)
os.fsync, os.rename = fsync, rename
build_bundle(sys.argv[1], sys.argv[2])
print("done", flush=True)
"""


def test_kill_9_leaves_previous_outputs_or_none(sample_copy: Path, tmp_path: Path) -> None:
    """Real SIGKILLs inside every step of publishing (while each output file is written, before, between and
    after the folder renames), alternating two different products: the folder is always absent or a complete,
    consistent bundle."""
    out = tmp_path / "out"
    texts = [sample_copy.read_text(), sample_copy.read_text().replace('crc = "sdk"', 'crc = "computed"')]

    def start(i: int) -> subprocess.Popen:
        sample_copy.write_text(texts[i % 2])
        return subprocess.Popen([sys.executable, "-c", _STEPPED_BUILD, str(sample_copy), str(out)],
                                stdout=subprocess.PIPE, text=True)

    assert start(0).communicate()[0].split()[-1] == "done"  # previous outputs to replace
    full = start(1)  # one whole run over them: the steps publishing goes through
    steps = full.communicate()[0].split()
    assert full.returncode == 0 and steps[-1] == "done" and steps.count("fsync") >= 3, steps
    steps = steps[:-1]
    for i, step in enumerate(steps):  # kill while the build pauses right after announcing step i
        if not out.exists():  # killed between the renames last time: previous outputs to replace again
            assert start(i + 1).communicate()[0].split()[-1] == "done"
        proc = start(i)
        assert proc.stdout is not None
        seen = [proc.stdout.readline().strip() for _ in range(i + 1)]
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert proc.returncode == -signal.SIGKILL and seen == steps[:i + 1], (i, seen)
        if out.exists():
            assert consistent(out), f"killed at step {i} ({step}): inconsistent outputs"


def test_input_changed_while_being_read(sample_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import bundler.inputs as inputs

    real_fstat, seen = os.fstat, {}

    def fstat(fd):
        result = real_fstat(fd)
        path = os.readlink(f"/proc/self/fd/{fd}")
        if path.endswith("app.elf"):
            seen[path] = seen.get(path, 0) + 1
            if seen[path] == 3:  # the file grows between the looks before and after reading (open_input's is 1st)
                return os.stat_result((*result[:6], result.st_size + 1, *result[7:]))
        return result

    monkeypatch.setattr(inputs.os, "fstat", fstat)
    with pytest.raises(InputError, match="app.elf: file changed while being read"):
        build_bundle(sample_copy, tmp_path / "out")
    assert not (tmp_path / "out").exists()


# --- odd inputs ---------------------------------------------------------------------------------------------------

def test_paths_with_spaces_and_non_ascii(tmp_path: Path) -> None:
    folder = tmp_path / "my product ü 製品"
    shutil.copytree(SAMPLE, folder)
    out = tmp_path / "out dir é"
    result = CliRunner().invoke(app, ["build", str(folder / "bundle.toml"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert consistent(out)


def test_elf_with_thousands_of_segments(sample_copy: Path, tmp_path: Path) -> None:
    segs = [(0x0800C000 + 32 * i, bytes([i & 0xFF]) * 16) for i in range(3000)]
    segs[0] = (0x0800C000, struct.pack("<IIII", 0x20020000, 0x0800C021, 0, 0))  # a vector table the device boots
    phdrs = [({"p_type": PT_LOAD, "p_vaddr": a, "p_paddr": a, "p_memsz": 16, "p_flags": 5, "p_align": 4}, d)
             for a, d in segs]
    (sample_copy.parent / "many.elf").write_bytes(build_elf(phdrs, entry=0x0800C001))
    sample_copy.write_text(sample_copy.read_text().replace('app = "build/app.elf"', 'app = "many.elf"'))
    bundle = build_bundle(sample_copy, tmp_path / "out")
    for address, data in segs[::97]:
        offset = address - 0x08000000
        assert bundle.mcu.tobytes()[offset:offset + 16] == data
        assert bundle.mcu.tobytes()[offset + 16:offset + 32] == b"\xff" * 16


def hex_record(address: int, rtype: int, data: bytes) -> str:
    body = bytes([len(data), address >> 8, address & 0xFF, rtype]) + data
    return ":" + (body + bytes([-sum(body) & 0xFF])).hex().upper()


def test_hex_out_of_order_crlf_with_segment_and_linear_records(tmp_path: Path) -> None:
    """Our HEX reading (intelhex) agrees with srec_cat's on a file mixing type-02 and type-04 records, records out
    of order, and CRLF line ends."""
    from bundler.inputs import load_input

    lines = [hex_record(0, 2, b"\x01\x00"), hex_record(0x0020, 0, b"B" * 16), hex_record(0x0010, 0, b"A" * 16),
             hex_record(0, 4, b"\x00\x00"), hex_record(0x3000, 0, b"C" * 8), hex_record(0, 1, b"")]
    path = tmp_path / "odd.hex"
    path.write_bytes("\r\n".join(lines).encode() + b"\r\n")
    ours = bytearray(b"\xff" * 0x1100)
    for seg in load_input(path).segments:
        ours[seg.address - 0x1000:seg.end - 0x1000] = seg.data
    ref = tmp_path / "ref.bin"
    subprocess.run(["srec_cat", str(path), "-intel", "-fill", "0xFF", "0x1000", "0x2100", "-offset", "-0x1000",
                    "-o", str(ref), "-binary"], check=True)
    ref_bytes = ref.read_bytes()
    assert bytes(ours[:0x100]) == ref_bytes[:0x100] and ours[0x10:0x30] == b"A" * 16 + b"B" * 16


def test_hex_crlf_input_builds_the_same_image(sample_copy: Path, tmp_path: Path) -> None:
    crlf = sample_copy.parent / "app_crlf.hex"
    crlf.write_bytes((sample_copy.parent / "build" / "app.hex").read_bytes().replace(b"\n", b"\r\n"))
    a = build_bundle(sample_copy, tmp_path / "a")
    sample_copy.write_text(sample_copy.read_text().replace('app = "build/app.elf"', 'app = "app_crlf.hex"'))
    b = build_bundle(sample_copy, tmp_path / "b")
    assert a.mcu.tobytes() == b.mcu.tobytes()


def test_hex_with_a_bad_checksum_is_refused(sample_copy: Path, tmp_path: Path) -> None:
    text = (sample_copy.parent / "build" / "app.hex").read_text().splitlines()
    text[3] = text[3][:-2] + ("00" if text[3][-2:] != "00" else "01")
    (sample_copy.parent / "bad.hex").write_text("\n".join(text) + "\n")
    sample_copy.write_text(sample_copy.read_text().replace('app = "build/app.elf"', 'app = "bad.hex"'))
    result = CliRunner().invoke(app, ["build", str(sample_copy), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert result.output.strip() == "error: bad.hex: invalid Intel HEX: line 4: checksum 0x00, expected 0xB2"


# --- secrets ------------------------------------------------------------------------------------------------------

def test_secrets_never_in_manifest_logs_or_errors(sample_copy: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "out"
    result = runner.invoke(app, ["build", str(sample_copy), "--out", str(out)])
    assert result.exit_code == 0
    texts = {"build output": result.output}
    texts |= {p.name: p.read_text(errors="replace") for p in out.iterdir() if p.suffix in (".json", ".md", ".html", ".svg")}
    decoded = runner.invoke(app, ["dct", "decode", str(out / "mcu.bin")])
    texts["dct decode"] = decoded.output
    bad = sample_copy.read_text().replace(PASSPHRASE, "Zq7#x")
    sample_copy.write_text(bad)
    failed = runner.invoke(app, ["build", str(sample_copy), "--out", str(tmp_path / "o2")])
    assert failed.exit_code == 2
    texts["error message"] = failed.output
    for name, text in texts.items():
        assert PASSPHRASE not in text, name
        assert "Zq7#x" not in text, name
        assert not any(line in text for line in key_lines()), name
    # the secret is really in the image (so the grep above could have found it)
    assert PASSPHRASE.encode() in (out / "mcu.bin").read_bytes()


# --- signed manifest ----------------------------------------------------------------------------------------------

def test_signed_manifest_verifies_and_edits_are_caught(sample_copy: Path, tmp_path: Path) -> None:
    from bundler.signing import verify

    runner = CliRunner()
    assert runner.invoke(app, ["keygen", "--out", str(tmp_path)]).exit_code == 0
    key, pub = tmp_path / "bundle-signing.key", tmp_path / "bundle-signing.pub"
    assert runner.invoke(app, ["keygen", "--out", str(tmp_path)]).exit_code == 2  # never overwrites a key
    out = tmp_path / "out"
    result = runner.invoke(app, ["build", str(sample_copy), "--out", str(out), "--sign", str(key)])
    assert result.exit_code == 0, result.output
    verify(out / "manifest.json", pub)
    secret = key.read_bytes().splitlines()[1]  # the signing key's base64 body
    for p in out.iterdir():
        assert secret not in p.read_bytes(), p.name
    edited = (out / "manifest.json").read_text().replace('"name": "ota_demo"', '"name": "ota_dem0"')
    (out / "manifest.json").write_text(edited)
    with pytest.raises(VerificationError, match="manifest was edited"):
        verify(out / "manifest.json", pub)
    other_dir = tmp_path / "other"
    runner.invoke(app, ["keygen", "--out", str(other_dir)])
    (out / "manifest.json").write_text(edited.replace("ota_dem0", "ota_demo"))
    verify(out / "manifest.json", pub)
    with pytest.raises(VerificationError, match="signed with another key"):
        verify(out / "manifest.json", other_dir / "bundle-signing.pub")
    with pytest.raises(InputError, match="not an unencrypted PEM public key"):
        verify(out / "manifest.json", key)


def test_inspect_pubkey_refuses_an_edited_manifest(sample_copy: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    runner.invoke(app, ["keygen", "--out", str(tmp_path)])
    out = tmp_path / "out"
    runner.invoke(app, ["build", str(sample_copy), "--out", str(out), "--sign", str(tmp_path / "bundle-signing.key")])
    args = ["inspect", str(out / "mcu.bin"), "--manifest", str(out / "manifest.json"),
            "--pubkey", str(tmp_path / "bundle-signing.pub")]
    assert runner.invoke(app, args).exit_code == 0
    text = (out / "manifest.json").read_text()
    (out / "manifest.json").write_text(text.replace('"fill": 255', '"fill": 0', 1))
    result = runner.invoke(app, args)
    assert result.exit_code == 1 and "manifest was edited" in result.output and "Traceback" not in result.output
    result = runner.invoke(app, args[:2] + args[4:])
    assert result.exit_code == 2 and "give --manifest too" in result.output


def test_inspect_map_draws_both_images(sample_build, tmp_path: Path) -> None:
    out, bundle = sample_build
    svg = tmp_path / "map.svg"
    result = CliRunner().invoke(app, ["inspect", str(out / "mcu.bin"), str(out / "sflash.bin"), "--map", str(svg)])
    assert result.exit_code == 0, result.output
    text = svg.read_text()
    assert text.startswith("<?xml") and "<svg" in text
    for name in ("bootloader", "dct1", "app", "fr_app", "dct_image", "wifi_firmware", "0x0800C000"):
        assert name in text, name
    assert oct(svg.stat().st_mode & 0o777) == "0o644"
