"""Line kit trust (issue 22): forged files that keep their CRC-32, a kit that checks itself, signed kits, keys.

Oracles: zlib.crc32 (the forgery keeps it), hashlib.sha256, `sha256sum`, a fake `openocd` that records that it
was started, Ed25519 via `cryptography`, os.stat for file modes."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import stat
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from bundler.cli import app
from bundler.errors import OutputError, VerificationError
from bundler.linekit import make_kit
from emu.kitfixture import BOARD_SPI, write_build

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "samples" / "ota_demo"


def forge_crc(data: bytes, patch_at: int, patch: bytes, fix_at: int) -> bytes:
    """`data` with `patch` written at `patch_at` and the 4 bytes at `fix_at` chosen so that zlib.crc32 is unchanged.

    CRC-32 is affine over GF(2) for a fixed length: crc(m ^ d) = crc(m) ^ L(d). Solve L(d) = wanted for d confined
    to the 32 bits at `fix_at` (Gaussian elimination on the 32 columns L(e_i))."""
    target = zlib.crc32(data)
    out = bytearray(data)
    out[patch_at:patch_at + len(patch)] = patch
    base = zlib.crc32(out)
    columns = []
    for bit in range(32):
        probe = bytearray(out)
        probe[fix_at + bit // 8] ^= 1 << (bit % 8)
        columns.append(zlib.crc32(probe) ^ base)
    rows = [(columns[i], 1 << i) for i in range(32)]  # (L(e_i), which bits of d make it)
    want, chosen = target ^ base, 0
    basis: list[tuple[int, int]] = []
    for value, combo in rows:
        for bv, bc in basis:
            if value ^ bv < value:
                value, combo = value ^ bv, combo ^ bc
        if value:
            basis.append((value, combo))
            basis.sort(reverse=True)
    for bv, bc in basis:
        if want ^ bv < want:
            want, chosen = want ^ bv, chosen ^ bc
    assert want == 0, "the 32 bits at fix_at do not span CRC-32 space"
    for bit in range(32):
        if chosen >> bit & 1:
            out[fix_at + bit // 8] ^= 1 << (bit % 8)
    forged = bytes(out)
    assert zlib.crc32(forged) == target and forged != data
    return forged


@pytest.fixture(scope="module")
def signed_build(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The sample built and signed, and a key pair."""
    root = tmp_path_factory.mktemp("trust")
    runner = CliRunner()
    r = runner.invoke(app, ["keygen", "--out", str(root / "keys")])
    assert r.exit_code == 0, r.output
    shutil.copytree(SAMPLE, root / "product")
    r = runner.invoke(app, ["build", str(root / "product" / "bundle.toml"), "--out", str(root / "out"), "--sign",
                            str(root / "keys" / "bundle-signing.key")])
    assert r.exit_code == 0, r.output
    return {"out": root / "out", "key": root / "keys" / "bundle-signing.key",
            "pub": root / "keys" / "bundle-signing.pub"}


def _openocd(manifest: Path, out: Path, pubkey: Path | None) -> Result:
    args = ["openocd", str(manifest), "--adapter", "stlink", "--out", str(out)]
    return CliRunner().invoke(app, args + (["--pubkey", str(pubkey)] if pubkey else []))


def _copy_bundle(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst / "manifest.json"


# ---- 1. SHA-256 and size of every file the kit takes ----


@pytest.mark.parametrize("with_pubkey", [False, True])
def test_crc_preserving_forgery_of_an_image_is_refused(signed_build: dict[str, Path], tmp_path: Path,
                                                       with_pubkey: bool) -> None:
    manifest = _copy_bundle(signed_build["out"], tmp_path / "out")
    mcu = (tmp_path / "out" / "mcu.bin").read_bytes()
    forged = forge_crc(mcu, 0xC200, b"\x00\xbe\xba\xfe\xca\x00\x00\x00", 0xF0000)
    (tmp_path / "out" / "mcu.bin").write_bytes(forged)
    r = _openocd(manifest, tmp_path / "kit", signed_build["pub"] if with_pubkey else None)
    assert r.exit_code == 1, r.output
    assert "mcu.bin: SHA-256" in r.output and "not the file that was built" in r.output
    assert len(r.output.strip().splitlines()) == 1 and "Traceback" not in r.output
    assert not (tmp_path / "kit").exists()


def test_size_change_is_refused(tmp_path: Path) -> None:
    manifest = write_build(tmp_path / "build")
    with open(tmp_path / "build" / "sflash.bin", "ab") as fh:
        fh.write(b"\xff")
    with pytest.raises(VerificationError, match=r"sflash.bin: .*manifest.json artefacts\[2\].size says"):
        make_kit(manifest, "stlink", tmp_path / "kit", spi=BOARD_SPI)


def test_packaged_helper_must_match_its_pin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A helper ELF changed in the installed package (same CRC-32 or not) is refused, not shipped."""
    import bundler.linekit.make as make

    manifest = write_build(tmp_path / "build")
    pkg = tmp_path / "pkg"
    shutil.copytree(ROOT / "bundler" / "kit", pkg / "kit")
    elf = (pkg / "kit" / "sflash_helper.elf").read_bytes()
    (pkg / "kit" / "sflash_helper.elf").write_bytes(forge_crc(elf, 0x100, b"\x00\xbf", 0x120))

    class Files:
        def joinpath(self, name: str) -> Path:
            return pkg / name
    monkeypatch.setattr(make.resources, "files", lambda _package: Files())
    with pytest.raises(VerificationError, match="sflash_helper.elf: SHA-256 .* sflash_helper.elf.sha256 says"):
        make_kit(manifest, "stlink", tmp_path / "kit", spi=BOARD_SPI)
    assert not (tmp_path / "kit").exists()


@pytest.fixture(scope="module")
def serialized(tmp_path_factory: pytest.TempPathFactory, signed_build: dict[str, Path]) -> Path:
    root = tmp_path_factory.mktemp("trustser")
    shutil.copytree(SAMPLE, root / "product")
    r = CliRunner().invoke(app, ["serialize", str(root / "product" / "bundle.toml"), "--count", "3",
                                 "--serial-start", "SN00001001", "--mac-start", "02:0A:F7:00:10:00",
                                 "--out", str(root / "run"), "--state", str(root / "issued.json"),
                                 "--sign", str(signed_build["key"])])
    assert r.exit_code == 0, r.output
    return root / "run"


def test_serialize_records_units_csv_and_run_in_the_signed_manifest(serialized: Path) -> None:
    doc = json.loads((serialized / "manifest.json").read_text())
    raw = (serialized / "units.csv").read_bytes()
    assert doc["units_csv"] == {"file": "units.csv", "size": len(raw), "sha256": hashlib.sha256(raw).hexdigest(),
                                "state_run": 1}
    state = json.loads((serialized.parent / "issued.json").read_text())
    assert state["runs"][-1]["id"] == 1


def _rewrite_unit_mac(text: str) -> str:
    """units.csv with unit 2's MAC changed and every column that depends on it (range bytes, CRC-32s, sums)
    made consistent again: only a hash over the file can tell."""
    rows = list(csv.reader(io.StringIO(text)))
    header, row = rows[0], rows[2]
    old_mac, new_mac = row[header.index("mac")], "02:0A:F7:00:66:66"
    row[header.index("mac")] = new_mac
    for i, name in enumerate(header):
        if name.endswith(":wifi_config.mac_address"):
            row[i] = new_mac.replace(":", "").lower()
    assert old_mac != new_mac
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


@pytest.mark.parametrize("with_pubkey", [False, True])
def test_rewritten_units_csv_is_refused(serialized: Path, signed_build: dict[str, Path], tmp_path: Path,
                                        with_pubkey: bool) -> None:
    manifest = _copy_bundle(serialized, tmp_path / "run")
    csv_path = tmp_path / "run" / "units.csv"
    csv_path.write_text(_rewrite_unit_mac(csv_path.read_text()))
    r = _openocd(manifest, tmp_path / "kit", signed_build["pub"] if with_pubkey else None)
    assert r.exit_code == 1, r.output
    assert "units.csv: SHA-256" in r.output and "units_csv.sha256 says" in r.output
    assert not (tmp_path / "kit").exists()
    # the manifest edited to match is then caught by the signature
    doc = json.loads(manifest.read_text())
    raw = csv_path.read_bytes()
    doc["units_csv"].update(size=len(raw), sha256=hashlib.sha256(raw).hexdigest())
    manifest.write_text(json.dumps(doc, indent=2))
    r = CliRunner().invoke(app, ["openocd", str(manifest), "--adapter", "stlink", "--out", str(tmp_path / "kit"),
                                 "--pubkey", str(signed_build["pub"])])
    assert r.exit_code == 1 and "signature does not verify" in r.output and not (tmp_path / "kit").exists()


# ---- 3. the kit checks itself before OpenOCD starts ----


def _fake_openocd(tmp_path: Path) -> tuple[dict[str, str], Path]:
    marker = tmp_path / "openocd-started"
    fake = tmp_path / "fake-openocd"
    fake.write_text(f"#!/bin/sh\necho started >> '{marker}'\necho PASS\n")
    fake.chmod(0o755)
    return {**os.environ, "OPENOCD": str(fake)}, marker


def _program(kit: Path, env: dict[str, str], *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["sh", str(kit / "program.sh"), *args], cwd=cwd or kit.parent, env=env,
                          capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def serial_kit(serialized: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    kit = tmp_path_factory.mktemp("serkit") / "kit"
    make_kit(serialized / "manifest.json", "stlink", kit)
    return kit


def test_kit_sha256_lists_every_file(serial_kit: Path) -> None:
    r = subprocess.run(["sha256sum", "--strict", "-c", "kit.sha256"], cwd=serial_kit, capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    listed = {line.split("  ", 1)[1] for line in (serial_kit / "kit.sha256").read_text().splitlines()}
    assert listed == {p.name for p in serial_kit.iterdir()} - {"kit.sha256", ".bundle-owned.json"}  # + publish.RECORD


@pytest.mark.parametrize("name", ["mcu.unit-blank.bin", "sflash.bin", "sflash_helper.elf", "kit_config.tcl",
                                  "sflash_kit.tcl", "units.csv", "added.tcl"])
def test_a_kit_file_edited_after_generation_stops_program_sh(serial_kit: Path, tmp_path: Path, name: str) -> None:
    kit = tmp_path / "kit"
    shutil.copytree(serial_kit, kit)
    path = kit / name
    if name == "units.csv":
        path.write_text(_rewrite_unit_mac(path.read_text()))
    elif name.endswith(".tcl") and path.exists():
        path.write_text(path.read_text() + "\nexec touch pwned\n")
    elif path.exists():
        data = path.read_bytes()
        path.write_bytes(forge_crc(data, len(data) // 4, b"\x01\x02", len(data) // 2))  # same size, CRC-32
    else:
        path.write_text("set kit_erase_chip 0\n")
    env, marker = _fake_openocd(tmp_path)
    r = _program(kit, env, "SN00001002")
    assert (r.returncode, r.stdout) == (2, f"FAIL: kit file {name} was modified; nothing programmed\n"), r.stderr
    assert not marker.exists() and not (kit / "logs").exists()


def test_unmodified_kit_starts_openocd(serial_kit: Path, tmp_path: Path) -> None:
    kit = tmp_path / "kit"
    shutil.copytree(serial_kit, kit)
    env, marker = _fake_openocd(tmp_path)
    r = _program(kit, env, "SN00001002")
    assert r.returncode == 0 and marker.read_text() == "started\n", r.stdout + r.stderr
    # a second run: its log in logs/ is not a kit file (the check skips logs/)
    r = _program(kit, env, "SN00001003")
    assert r.returncode == 0, r.stdout


def test_shasum_is_used_where_sha256sum_is_missing(serial_kit: Path, tmp_path: Path) -> None:
    """macOS-like PATH: only `shasum` (here a shim calling sha256sum with shasum's arguments checked)."""
    kit = tmp_path / "kit"
    shutil.copytree(serial_kit, kit)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("sh", "awk", "sed", "grep", "head", "tr", "date", "mkdir", "tee", "dirname", "cat"):
        os.symlink(shutil.which(tool), bin_dir / tool)
    real = shutil.which("sha256sum")
    (bin_dir / "shasum").write_text(f'#!/bin/sh\n[ "$1 $2" = "-a 256" ] || exit 9\nshift 2\nexec {real} "$@"\n')
    (bin_dir / "shasum").chmod(0o755)
    env, marker = _fake_openocd(tmp_path)
    env["PATH"] = str(bin_dir)
    assert _program(kit, env, "SN00001001").returncode == 0 and marker.exists()
    (kit / "sflash.bin").write_bytes(b"x")
    r = _program(kit, env, "SN00001002")
    assert (r.returncode, r.stdout) == (2, "FAIL: kit file sflash.bin was modified; nothing programmed\n")


# ---- signed kits, verified offline ----


def test_signed_kit_verifies_offline_and_catches_edits(signed_build: dict[str, Path], tmp_path: Path) -> None:
    runner = CliRunner()
    kit = tmp_path / "kit"
    r = runner.invoke(app, ["openocd", str(signed_build["out"] / "manifest.json"), "--adapter", "stlink",
                            "--out", str(kit), "--pubkey", str(signed_build["pub"]), "--sign", str(signed_build["key"])])
    assert r.exit_code == 0, r.output
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    load_pem_public_key(signed_build["pub"].read_bytes()).verify((kit / "kit.sha256.sig").read_bytes(),
                                                                 (kit / "kit.sha256").read_bytes())
    r = runner.invoke(app, ["inspect", str(kit), "--pubkey", str(signed_build["pub"])])
    assert r.exit_code == 0 and "signature OK" in r.output and "mcu.bin: SHA-256 OK" in r.output, r.output
    # an image swapped and kit.sha256 recomputed to match: program.sh would accept it, the signature does not
    forged = tmp_path / "forged"
    shutil.copytree(kit, forged)
    (forged / "mcu.bin").write_bytes(forge_crc((kit / "mcu.bin").read_bytes(), 0xC200, b"\x00" * 8, 0xF0000))
    sums = "".join(f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.name}\n" for p in sorted(forged.iterdir())
                   if not p.name.startswith("kit.sha256"))
    (forged / "kit.sha256").write_text(sums)
    r = runner.invoke(app, ["inspect", str(forged)])                   # without the key: consistent
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["inspect", str(forged), "--pubkey", str(signed_build["pub"])])
    assert r.exit_code == 1 and "signature does not verify" in r.output and "kit's file list" in r.output
    # a file edited without touching kit.sha256
    (kit / "kit_config.tcl").write_text((kit / "kit_config.tcl").read_text() + "#\n")
    r = runner.invoke(app, ["inspect", str(kit), "--pubkey", str(signed_build["pub"])])
    assert r.exit_code == 1 and "kit_config.tcl: SHA-256" in r.output and "kit file was modified" in r.output
    # another key
    r = runner.invoke(app, ["keygen", "--out", str(tmp_path / "other")])
    r = runner.invoke(app, ["inspect", str(forged), "--pubkey", str(tmp_path / "other" / "bundle-signing.pub")])
    assert r.exit_code == 1


def test_unsigned_kit_with_pubkey_is_refused(tmp_path: Path, signed_build: dict[str, Path]) -> None:
    manifest = write_build(tmp_path / "build")
    make_kit(manifest, "stlink", tmp_path / "kit", spi=BOARD_SPI)
    r = CliRunner().invoke(app, ["inspect", str(tmp_path / "kit"), "--pubkey", str(signed_build["pub"])])
    assert r.exit_code == 1 and "no signature kit.sha256.sig" in r.output


# ---- 5. keys ----


def test_keygen_private_key_is_0600_from_its_first_byte(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every os.open of the key's temporary file passes mode 0600 with O_CREAT | O_EXCL, and the file already has
    mode 0600 when its first byte is written, under a permissive umask."""
    import bundler.signing as signing

    opened: list[tuple[str, int, int]] = []
    modes_at_write: list[tuple[str, int]] = []
    real_open, real_fdopen = os.open, os.fdopen

    def spy_open(path: str | os.PathLike[str], flags: int, mode: int = 0o777, **kw: object) -> int:
        opened.append((str(path), flags, mode))
        return real_open(path, flags, mode, **kw)  # type: ignore[arg-type]

    def spy_fdopen(fd: int, *args: object, **kw: object) -> object:
        fh = real_fdopen(fd, *args, **kw)  # type: ignore[call-overload]
        write = fh.write

        def checked_write(data: bytes) -> int:
            modes_at_write.append((os.readlink(f"/proc/self/fd/{fd}"), stat.S_IMODE(os.fstat(fd).st_mode)))
            return write(data)
        fh.write = checked_write
        return fh

    monkeypatch.setattr(signing.os, "open", spy_open)  # the os module itself: atomic_write (the .pub) too
    monkeypatch.setattr(signing.os, "fdopen", spy_fdopen)
    old = os.umask(0)
    try:
        private, public = signing.keygen(tmp_path / "keys")
    finally:
        os.umask(old)
    key_opens = [o for o in opened if ".key" in Path(o[0]).name]
    assert key_opens and all(mode == 0o600 and flags & os.O_CREAT and flags & os.O_EXCL
                             for _, flags, mode in key_opens)
    key_writes = [mode for path, mode in modes_at_write if ".key" in Path(path).name]
    assert key_writes and set(key_writes) == {0o600}
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "keys").stat().st_mode) == 0o700
    assert b"PRIVATE KEY" in private.read_bytes() and b"PUBLIC KEY" in public.read_bytes()
    assert [p.name for p in (tmp_path / "keys").iterdir() if p.name.startswith(".")] == []


def test_keygen_force_and_refusals(tmp_path: Path) -> None:
    runner = CliRunner()
    keys = tmp_path / "keys"
    assert runner.invoke(app, ["keygen", "--out", str(keys)]).exit_code == 0
    first = (keys / "bundle-signing.key").read_bytes()
    r = runner.invoke(app, ["keygen", "--out", str(keys)])
    assert r.exit_code == 2 and "refusing to overwrite a key (--force replaces it)" in r.output
    assert (keys / "bundle-signing.key").read_bytes() == first
    r = runner.invoke(app, ["keygen", "--out", str(keys), "--force"])
    assert r.exit_code == 0 and (keys / "bundle-signing.key").read_bytes() != first
    assert stat.S_IMODE((keys / "bundle-signing.key").stat().st_mode) == 0o600
    manifest = write_build(tmp_path / "build")
    make_kit(manifest, "stlink", tmp_path / "kit", spi=BOARD_SPI)
    for folder in (tmp_path / "build", tmp_path / "kit", tmp_path / "kit" / "logs"):
        before = sorted(p.name for p in folder.parent.rglob("*"))
        r = runner.invoke(app, ["keygen", "--out", str(folder)])
        assert r.exit_code == 2 and "bundle or line-kit folder" in r.output, r.output
        assert sorted(p.name for p in folder.parent.rglob("*")) == before


# ---- 6. kit publishing ----


def test_regeneration_carries_logs_as_they_are(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import bundler.publish as publish

    manifest = write_build(tmp_path / "build")
    kit = tmp_path / "kit"
    make_kit(manifest, "stlink", kit, spi=BOARD_SPI)
    (kit / "logs" / "sub").mkdir(parents=True)
    (kit / "logs" / "sub" / "a.log").write_text("PASS\n")
    (kit / "logs" / "top.log").write_text("FAIL\n")
    secret = tmp_path / "secret"
    secret.write_text("not for the kit")
    secret.chmod(0o600)
    os.symlink(secret, kit / "logs" / "link.log")
    swaps: list[int] = []
    real_rename = os.rename

    def spy_rename(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        if Path(dst) == kit and ".staging-" in Path(src).name:
            swaps.append(stat.S_IMODE((Path(src) / "program.sh").stat().st_mode))
        real_rename(src, dst)
    monkeypatch.setattr(publish.os, "rename", spy_rename)
    make_kit(manifest, "jlink", kit, spi=BOARD_SPI)
    assert swaps == [0o755]                                         # executable before it is published
    assert (kit / "logs" / "sub" / "a.log").read_text() == "PASS\n"
    assert (kit / "logs" / "top.log").read_text() == "FAIL\n"
    assert (kit / "logs" / "link.log").is_symlink() and os.readlink(kit / "logs" / "link.log") == str(secret)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".kit")] == []
    assert "interface/jlink.cfg" in (kit / "program.sh").read_text()


def test_leftover_of_a_killed_swap_is_restored_then_replaced(tmp_path: Path) -> None:
    manifest = write_build(tmp_path / "build")
    kit = tmp_path / "kit"
    make_kit(manifest, "stlink", kit, spi=BOARD_SPI)
    (kit / "logs").mkdir()
    (kit / "logs" / "old.log").write_text("PASS\n")
    (tmp_path / ".kit.old-0000000a").mkdir()
    os.rename(kit, tmp_path / ".kit.old-0000000a" / "previous")          # killed between the two renames
    (tmp_path / ".kit.old-0000000b").mkdir()                               # killed after its swap
    make_kit(manifest, "stlink", kit, spi=BOARD_SPI)
    assert (kit / "logs" / "old.log").read_text() == "PASS\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".kit")] == []


def test_out_dot_is_refused_before_anything_changes(tmp_path: Path) -> None:
    manifest = write_build(tmp_path / "build")
    kit = tmp_path / "kit"
    make_kit(manifest, "stlink", kit, spi=BOARD_SPI)
    before = {p.name: p.read_bytes() for p in kit.iterdir()}
    r = subprocess.run([sys.executable, "-c", "from bundler.cli import main; main()", "openocd", str(manifest), "--adapter", "stlink",
                        "--out", "."], cwd=kit, capture_output=True, text=True)
    assert r.returncode == 2 and r.stdout == "" and "current folder" in r.stderr and len(r.stderr.splitlines()) == 1
    assert {p.name: p.read_bytes() for p in kit.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
