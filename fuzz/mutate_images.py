"""Seeded mutation fuzzing of whole images: the sample's mcu.bin, sflash.bin and DCT copy with patched spans
(mostly near the structures: DCT header, LUT, component starts), truncated or extended, inspected alone and
against the manifest. Usage: mutate_images.py WORK RUNS SEED  (WORK holds the sample build).
Prints `Done N runs`; a failing input is saved to fuzz/crashes/ and the script exits 1."""

from __future__ import annotations

import random
import sys
from pathlib import Path

from common import check_inspect, save_crash, within_caps

ANCHORS = (0x0, 0x8, 0x18, 0x68, 0x188, 0x1000, 0x2000, 0x4000, 0x4068, 0x5000, 0x6000, 0x8000, 0xC000, 0xC004)


def mutate(rng: random.Random, image: bytes) -> bytes:
    out = bytearray(image)
    for _ in range(rng.randint(1, 6)):
        near = rng.random() < 0.7
        offset = min(len(out) - 1, rng.choice(ANCHORS) + rng.randrange(0x200) if near else rng.randrange(len(out)))
        patch = rng.choice([bytes([rng.randrange(256)]) * rng.randint(1, 8),
                            rng.randbytes(rng.randint(1, 64)),
                            (0xFFFFFFFF).to_bytes(4, "little"), (0x7FFFFFFF).to_bytes(4, "little"),
                            (0).to_bytes(4, "little"), b"BRCM", b"\x7fELF"])
        out[offset:offset + len(patch)] = patch
    cut = rng.random()
    if cut < 0.1:
        del out[rng.randrange(len(out)):]
    elif cut < 0.2:
        out += bytes([rng.choice([0, 0xFF, rng.randrange(256)])]) * rng.randint(1, 8192)
    return bytes(out)


def main() -> int:
    work, runs, seed = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    rng = random.Random(seed)
    mcu = (work / "mcu.bin").read_bytes()
    images = {"mcu.bin": mcu, "sflash.bin": (work / "sflash.bin").read_bytes(), "dct.bin": mcu[0x4000:0x8000]}
    target = work / f"mutated-{seed}.bin"
    for i in range(runs):
        name = rng.choice(sorted(images))
        data = mutate(rng, images[name])
        target.write_bytes(data)
        manifest = work / "manifest.json" if name != "dct.bin" and rng.random() < 0.5 else None
        try:
            within_caps(lambda: check_inspect(target, manifest=manifest))
        except Exception:
            save_crash(f"image-{seed}-{i}-{name}", data, f"crash on run {i} (manifest: {manifest})")
            return 1
    print(f"Done {runs} runs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
