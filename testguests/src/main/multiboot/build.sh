#!/usr/bin/env bash
# Builds the Multiboot test kernels of this directory into OUT: mb-elf32.elf (ELF32),
# mb-elf64.elf (ELF64, higher-half virtual over low physical addresses), mb-aout.elf and
# mb-aout.bin (header address fields; ELF32 and flat binary), mb-serial-echo.elf (echoes COM1
# until a NUL byte), mb-exit-pass.elf (reports a pass like a kvm-unit-tests test). Fails loudly without the GNU toolchain.
set -euo pipefail
src=$1 out=$2
for tool in gcc ld objcopy; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "tdemu testguests: '$tool' not found. The guests are built with the GNU toolchain:" >&2
        echo "    apt-get install gcc binutils      (or run ./tdemu setup as root)" >&2
        exit 1
    fi
done
mkdir -p "$out"
obj=$(mktemp -d)
trap 'rm -rf "$obj"' EXIT
# name, gcc bitness flag, ld emulation
build() {
    local name=$1 m=$2 emul=$3
    gcc "$m" -c -nostdlib -ffreestanding -Wa,--fatal-warnings -I "$src" -o "$obj/$name.o" "$src/$name.S"
    ld -m "$emul" -nostdlib -static -z noexecstack -z max-page-size=4096 --no-warn-rwx-segments \
       -T "$src/$name.ld" -o "$out/$name.elf" "$obj/$name.o"
}
build mb-elf32 -m32 elf_i386
build mb-elf64 -m64 elf_x86_64
build mb-aout -m32 elf_i386
build mb-td-ghci -m64 elf_x86_64
build mb-apic-spin -m32 elf_i386
build mb-serial-echo -m32 elf_i386
build mb-exit-pass -m32 elf_i386
objcopy -O binary "$out/mb-aout.elf" "$out/mb-aout.bin"
