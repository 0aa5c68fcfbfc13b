"""Seeded generator of the hostile input classes of issue 15, each checked under a per-input cap.

Usage: hostile.py WORK RUNS SEED  (WORK holds the sample build). Classes: deep and wide WicedFS images, Intel HEX
with huge spans / many tiny out-of-order records / lines that defeat the uniform-run path, JSON and TOML nested
deep, public keys cryptography cannot load, manifest fields full of control characters. Every input must give a
clean result or a clean one-line error, rendered output must hold no control character, and each input must stay
within common.CAP_SECONDS of CPU and the process within common.CAP_MIB peak RSS: a breach fails the campaign like a crash.
Prints `Done N runs`; a failing input is saved to fuzz/crashes/ and the script exits 1."""

from __future__ import annotations

import base64
import io
import json
import random
import sys
from pathlib import Path
from typing import Callable

from common import check_inspect, save_crash, within_caps

from bundler.errors import BundleError
from bundler.report import Renderer
from bundler.writers import intel_hex

def _one_line(exc: BundleError) -> None:
    assert "\n" not in str(exc), repr(exc)


def chain_fs(depth: int, name: bytes) -> bytes:
    """A 32-bit WicedFS image of `depth` directories nested in each other, each named `name`."""
    field = len(name) + 1
    out = bytearray(b"BRCM" + (1).to_bytes(4, "little") + (12).to_bytes(4, "little"))
    for level in range(depth + 1):
        last = level == depth
        out += (16).to_bytes(4, "little") + (0 if last else 1).to_bytes(4, "little")
        out += (12 + field).to_bytes(4, "little") + field.to_bytes(4, "little")
        if not last:
            out += bytes(4) + (12 + field).to_bytes(4, "little") + bytes(4) + name + b"\0"
    return bytes(out)


def wide_fs(rng: random.Random, entries: int, claimed: int | None) -> bytes:
    """A root directory of `entries` one-byte files (names 0..n as text), num_files possibly lying."""
    width = len(str(entries)) + 1
    table = 12 + width
    out = bytearray(b"BRCM" + (1).to_bytes(4, "little") + (12).to_bytes(4, "little"))
    out += (16).to_bytes(4, "little") + (claimed if claimed is not None else entries).to_bytes(4, "little")
    out += table.to_bytes(4, "little") + width.to_bytes(4, "little")
    first_content = table * entries
    for i in range(entries):
        offset = first_content - i * table + i  # from this entry to its byte
        out += (1).to_bytes(4, "little") + offset.to_bytes(4, "little") + (1).to_bytes(4, "little")
        out += str(i).encode().ljust(width, b"\0")
    out += bytes(rng.randrange(256) for _ in range(min(entries, 4096))) + bytes(max(0, entries - 4096))
    return bytes(out)


def _rec(address: int, rtype: int, payload: bytes) -> bytes:
    total = len(payload) + (address >> 8) + (address & 0xFF) + rtype + sum(payload)
    return b":%02X%04X%02X%s%02X\n" % (len(payload), address, rtype, payload.hex().upper().encode(), -total & 0xFF)


def hex_case(rng: random.Random) -> bytes:
    kind = rng.choice(["span", "tiny", "irregular", "long_line", "big"])
    if kind == "span":  # a record at 0 and one at the top of the address space
        return _rec(0, 0, b"\0" * 16) + _rec(0, 4, b"\xff\xff") + _rec(0xFFF0, 0, b"\1" * 16) + _rec(0, 1, b"")
    if kind == "tiny":  # one-byte records in random order: one address range each
        addresses = rng.sample(range(0x10000), rng.randint(1000, 60000))
        return b"".join(_rec(a, 0, bytes([rng.randrange(256)])) for a in addresses) + _rec(0, 1, b"")
    if kind == "irregular":  # alternating lengths: no uniform run for the fast path
        out, a = [], 0
        for i in range(rng.randint(10000, 200000)):
            n = 1 + i % 2
            out.append(_rec(a & 0xFFFF, 0, bytes(n)))
            if (a & 0xFFFF) + n > 0xFFFF:
                out.append(_rec(0, 4, ((a + n) >> 16).to_bytes(2, "big")))
            a += n
        return b"".join(out)
    if kind == "long_line":
        return b":" + b"0" * rng.randint(1 << 20, 3 << 20) + b"\n"
    data = rng.randbytes(64) * rng.randint(1 << 14, 1 << 18)  # 1-16 MiB of records, maybe past the largest image
    return intel_hex(data, rng.choice([0, 0x08000000, 0xFC000000]))


def nested(rng: random.Random, depth: int, toml: bool) -> str:
    if toml:
        opener, closer = rng.choice([("[", "]"), ("{a=", "}")])
        return "name = 'x'\ndeep = " + opener * depth + "1" + closer * depth + "\n"
    opener, closer = rng.choice([("[", "]"), ('{"a":', "}")])
    return opener * depth + ("1" + closer * depth if rng.random() < 0.5 else "")


def odd_key(rng: random.Random) -> bytes:
    kind = rng.choice(["curve", "garbage", "huge", "empty"])
    if kind == "curve":  # brainpoolP256r1's OID (1.3.36.3.3.2.8.1.1.7) made one cryptography does not support
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec

        der = ec.generate_private_key(ec.BrainpoolP256R1()).public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        oid = bytes.fromhex("2b2403030208010107")
        der = der.replace(oid, oid[:-1] + bytes([rng.choice([1, 3, 5, 9, 11, 13])]))
        return b"-----BEGIN PUBLIC KEY-----\n" + base64.encodebytes(der) + b"-----END PUBLIC KEY-----\n"
    if kind == "garbage":
        return b"-----BEGIN PUBLIC KEY-----\n" + base64.b64encode(rng.randbytes(rng.randint(0, 400))) + b"\n-----END PUBLIC KEY-----\n"
    if kind == "huge":
        return b"-----BEGIN PUBLIC KEY-----\n" + b"A" * (1 << 20) + b"\n-----END PUBLIC KEY-----\n"
    return b""


CONTROLS = "".join(map(chr, [*range(0x20), *range(0x7F, 0xA0), 0x202E, 0x2066, 0x200F]))


def _spoof(rng: random.Random) -> str:
    return "".join(rng.choice(CONTROLS + "ab[];1") for _ in range(rng.randint(1, 40)))


def main() -> int:
    work, runs, seed = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    rng = random.Random(seed)
    manifest = json.loads((work / "manifest.json").read_text())
    target = work / f"hostile-{seed}"
    target.mkdir(exist_ok=True)

    def case_fs() -> tuple[str, Callable[[], None]]:
        if rng.random() < 0.5:
            data = chain_fs(rng.choice([1, 63, 64, 65, 500, 20000, 60000]), rng.choice([b"d", b"n" * 255]))
        else:
            data = wide_fs(rng, rng.choice([1, 1000, 50000]), rng.choice([None, 0xFFFFFFFF, 3]))
        path = target / "fs.bin"
        path.write_bytes(data)
        return "fs.bin", lambda: check_inspect(path, kind=rng.choice([None, "filesystem"]))

    def case_hex() -> tuple[str, Callable[[], None]]:
        path = target / "dump.hex"
        path.write_bytes(hex_case(rng))
        return "dump.hex", lambda: check_inspect(path, manifest=work / "manifest.json" if rng.random() < 0.3 else None)

    def case_nesting() -> tuple[str, Callable[[], None]]:
        toml = rng.random() < 0.5
        depth = rng.choice([10, 63, 65, 999, 5000, 100000])
        if toml:
            path = target / "bundle.toml"
            path.write_text(nested(rng, depth, True))

            def run() -> None:
                from bundler.config import load_project
                try:
                    load_project(path)
                except BundleError as exc:
                    _one_line(exc)
            return "bundle.toml", run
        path = target / "manifest.json"
        path.write_text(nested(rng, depth, False))
        return "manifest.json", lambda: check_inspect(work / "mcu.bin", manifest=path)

    def case_key() -> tuple[str, Callable[[], None]]:
        path = target / "key.pub"
        path.write_bytes(odd_key(rng))

        def run() -> None:
            from bundler.signing import verify
            try:
                verify(work / "manifest.json", path)
            except BundleError as exc:
                _one_line(exc)
        return "key.pub", run

    def case_escapes() -> tuple[str, Callable[[], None]]:
        doc = json.loads(json.dumps(manifest))
        doc["name"] = _spoof(rng)
        for art in doc["artefacts"]:
            for region in art["regions"]:
                if rng.random() < 0.3:
                    region["name"] = _spoof(rng)
        path = target / "manifest.json"
        path.write_text(json.dumps(doc))
        odd = target / ("img" + _spoof(rng).replace("/", "").replace("\0", "") + ".bin")
        odd.write_bytes((work / "mcu.bin").read_bytes())

        def run() -> None:
            from bundler.inspect import inspect_paths
            out = io.StringIO()
            renderer = Renderer(file=out, terminal=rng.random() < 0.5, quiet=rng.random() < 0.3)
            try:
                report = inspect_paths([odd, work / "sflash.bin"], manifest=path, listener=renderer)
            except BundleError as exc:
                _one_line(exc)
                return
            finally:
                odd.unlink()
            renderer.end(report)
            text = out.getvalue()
            bad = sorted({hex(ord(c)) for c in text if c in CONTROLS and c != "\n"})
            assert not bad, f"control characters reached the output: {bad}"
        return "manifest.json", run

    cases = [case_fs, case_hex, case_nesting, case_key, case_escapes]
    for i in range(runs):
        name, run = rng.choice(cases)()
        try:
            within_caps(run)
        except Exception:
            src = target / name
            save_crash(f"hostile-{seed}-{i}-{name}", src.read_bytes() if src.exists() else b"", f"failure on run {i}")
            return 1
    print(f"Done {runs} runs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
