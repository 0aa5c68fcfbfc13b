#!/bin/sh
# Rebuild the serial-flash helper and install it as bundler/kit/sflash_helper.elf, with its SHA-256 pinned in
# bundler/kit/sflash_helper.elf.sha256 (`bundle openocd` refuses a packaged helper that differs from the pin).
# Deterministic for a given toolchain: no debug info, no build-id, fixed paths, sorted inputs.
#   firmware/sflash_helper/build.sh          build and install
#   firmware/sflash_helper/build.sh --check  build to a temp file and fail if it differs from the committed ELF
# Built and committed with: arm-none-eabi-gcc 12.2.1 20221205 (Debian 15:12.2.rel1-1).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out="$root/bundler/kit/sflash_helper.elf"
CC=${CC:-arm-none-eabi-gcc}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$here"
"$CC" -mcpu=cortex-m3 -mthumb -Os -std=c11 -Wall -Wextra -Werror \
    -ffreestanding -fno-builtin -fno-common -ffunction-sections -fdata-sections \
    -ffile-prefix-map="$here"=. -fno-ident \
    -nostdlib -nostartfiles -T link.ld -Wl,--gc-sections -Wl,--build-id=none -Wl,-n \
    -o "$tmp/sflash_helper.elf" startup.c sflash_helper.c -lgcc

if [ "${1:-}" = "--check" ]; then
    if cmp -s "$tmp/sflash_helper.elf" "$out" &&
        (cd "$(dirname "$out")" && sha256sum -c --quiet sflash_helper.elf.sha256); then
        echo "sflash_helper.elf: up to date"; exit 0
    fi
    echo "sflash_helper.elf: differs from a fresh build (run firmware/sflash_helper/build.sh)" >&2
    exit 1
fi
cp "$tmp/sflash_helper.elf" "$out"
(cd "$(dirname "$out")" && sha256sum sflash_helper.elf >sflash_helper.elf.sha256)
arm-none-eabi-size "$out" 2>/dev/null || true
cat "$out.sha256"
