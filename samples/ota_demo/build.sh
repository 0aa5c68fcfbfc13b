#!/usr/bin/env bash
# Rebuilds every generated file of the ota_demo sample into build/ (plus the placeholder
# Wi-Fi firmware and filesystem.bin). Deterministic: same sources -> byte-identical outputs,
# whatever the checkout path (-ffile-prefix-map) and whenever it runs (no timestamps).
# Needs arm-none-eabi-gcc/binutils and python3 (stdlib only).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
cd "$HERE"
export LC_ALL=C

CROSS="${CROSS:-arm-none-eabi-}"
CC="${CROSS}gcc"
OBJCOPY="${CROSS}objcopy"
STRIP="${CROSS}strip"
PYTHON="${PYTHON:-python3}"

# Same machine flags as the WICED STM32F2xx build; the rest keeps the sample freestanding.
CFLAGS=(
    -mthumb -mcpu=cortex-m3 -mlittle-endian -fsigned-char
    -ffunction-sections -fdata-sections
    -Os -g -std=c11 -Wall -Wextra -Werror
    -ffreestanding -fno-common -fno-tree-loop-distribute-patterns
    -fno-unwind-tables -fno-asynchronous-unwind-tables -fno-exceptions
    "-ffile-prefix-map=$HERE=."
)
LDFLAGS=(
    -nostdlib -nostartfiles -Lsrc/ld
    -Wl,--gc-sections -Wl,--build-id=none -Wl,-z,max-page-size=4
    -Wl,--no-warn-rwx-segments
)
# Objcopy options of the WICED final-binary step.
BIN_REMOVE=(-R .eh_frame -R .init -R .fini -R .comment -R .ARM.attributes)

OBJ="$(mktemp -d)"
trap 'rm -rf "$OBJ"' EXIT
mkdir -p build

# link <name> <linker script> <sources...>: compiles and links build/<name>.elf
link() {
    local name="$1" script="$2"
    shift 2
    local objs=() src obj
    for src in "$@"; do
        obj="$OBJ/$name/${src//\//_}.o"
        mkdir -p "$OBJ/$name"
        "$CC" "${CFLAGS[@]}" -c "$src" -o "$obj"
        objs+=("$obj")
    done
    "$CC" "${CFLAGS[@]}" "${LDFLAGS[@]}" -T "$script" -Wl,-Map="$OBJ/$name.map" \
        "${objs[@]}" -lgcc -o "build/$name.elf"
}

COMMON=(src/common/crt0.c src/common/mini_libc.c)

link bootloader bootloader.ld src/bootloader/bootloader.c
link app app.ld "${COMMON[@]}" \
    src/app/main.c src/app/crc32.c src/app/event_log.c src/app/dct_view.c src/app/wifi_sm.c \
    src/app/sensor.c src/app/report.c
link ota_fr app.ld "${COMMON[@]}" \
    src/ota_fr/main.c src/ota_fr/upload_parser.c src/ota_fr/elf_check.c src/ota_fr/crc_bitwise.c

"$OBJCOPY" -O binary "${BIN_REMOVE[@]}" build/bootloader.elf build/bootloader.bin
"$OBJCOPY" -O binary "${BIN_REMOVE[@]}" build/app.elf build/app.bin
"$OBJCOPY" -O ihex   "${BIN_REMOVE[@]}" build/app.elf build/app.hex
"$STRIP" -o build/app.stripped.elf build/app.elf
"$STRIP" -o build/ota_fr.stripped.elf build/ota_fr.elf

"$PYTHON" tools/make_placeholder_fw.py firmware/43362A2-PLACEHOLDER.bin
"$PYTHON" tools/mk_wicedfs_reference.py filesystem.bin resources

(cd build && sha256sum bootloader.elf bootloader.bin app.elf app.stripped.elf app.bin app.hex \
    ota_fr.elf ota_fr.stripped.elf) 
sha256sum firmware/43362A2-PLACEHOLDER.bin filesystem.bin
