#!/usr/bin/env python3
"""Write the ota_demo PLACEHOLDER Wi-Fi firmware blob (NOT Broadcom firmware).

The blob only has to look like a 43362A2 firmware file to the bundler: a realistic size that
is not a multiple of the 4 KiB SFLASH sector, arbitrary-looking bytes. It is an ASCII banner
followed by a SHA-256 counter stream (block i = sha256(SEED || i as u32 LE)), so it is fully
deterministic and carries no third-party content. Stdlib only.

usage: make_placeholder_fw.py OUTPUT
"""
from __future__ import annotations

import hashlib
import os
import struct
import sys

BANNER = b"PLACEHOLDER WI-FI FIRMWARE - NOT BROADCOM - FOR BUNDLE SAMPLE ONLY\n"
SEED = b"ota_demo 43362A2 placeholder v1"
SIZE = 225_000  # ~220 KiB like a real 43362A2 image; 225000 % 4096 != 0 on purpose


def placeholder_firmware(size: int = SIZE) -> bytes:
    out = bytearray(BANNER)
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(SEED + struct.pack("<I", counter)).digest()
        counter += 1
    return bytes(out[:size])


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    data = placeholder_firmware()
    assert len(data) % 4096 != 0
    tmp = argv[1] + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, argv[1])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
