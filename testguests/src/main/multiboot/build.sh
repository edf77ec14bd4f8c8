#!/usr/bin/env bash
# Builds the Multiboot test kernels of this directory into OUT: mb-elf32.elf (ELF32),
# mb-elf64.elf (ELF64, higher-half virtual over low physical addresses), mb-aout.elf and
# mb-aout.bin (header address fields; ELF32 and flat binary) for the loader tests, mb-td-ghci, mb-td-smp,
# mb-apic-spin, mb-serial-echo (echoes COM1 until a NUL byte), mb-exit-pass (reports a pass like a
# kvm-unit-tests test), the kernels the PC tests run (pc32-*, pc64-*, and pc32-bootinfo's ELF64
# and a.out variants) and ELF32 copies of the boot and SMP benchmarks' (pc64-boot-*.flat, incl. pc64-boot-progress; pc64-boot-smp is pc64-boot-ipi built with no rounds). Fails loudly without the GNU toolchain.
set -euo pipefail
src=$1 out=$2
shopt -s nullglob
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
# name, gcc bitness flag, ld emulation[, linker script name (default: the kernel's own)]
build() {
    local name=$1 m=$2 emul=$3
    gcc "$m" -c -nostdlib -ffreestanding -Wa,--fatal-warnings -I "$src" -I "$src/../asm/include" -o "$obj/$name.o" "$src/$name.S"
    ld -m "$emul" -nostdlib -static -z noexecstack -z max-page-size=4096 --no-warn-rwx-segments \
       -T "$src/${4:-$name}.ld" -o "$out/$name.elf" "$obj/$name.o"
}
build mb-elf32 -m32 elf_i386
build mb-elf64 -m64 elf_x86_64
build mb-aout -m32 elf_i386
build mb-td-ghci -m64 elf_x86_64
build mb-td-smp -m64 elf_x86_64
build mb-apic-spin -m32 elf_i386
build mb-serial-echo -m32 elf_i386
build mb-exit-pass -m32 elf_i386
objcopy -O binary "$out/mb-aout.elf" "$out/mb-aout.bin"
# mb-td-smp writing a mailbox command that version 0 does not define (2) in place of Wakeup.
gcc -m64 -DWAKEUP_COMMAND=2 -c -nostdlib -ffreestanding -Wa,--fatal-warnings -I "$src" -o "$obj/mb-td-smp-bad-command.o" "$src/mb-td-smp.S"
ld -m elf_x86_64 -nostdlib -static -z noexecstack -z max-page-size=4096 --no-warn-rwx-segments \
   -T "$src/mb-td-smp.ld" -o "$out/mb-td-smp-bad-command.elf" "$obj/mb-td-smp-bad-command.o"
# The kernels the emulator's PC tests run: pc32-* stay in 32-bit protected mode (or leave it
# themselves), pc64-* switch to long mode with pc64.inc.
for s in "$src"/pc32-*.S; do
    build "$(basename "$s" .S)" -m32 elf_i386 pc32
done
for s in "$src"/pc64-*.S; do
    build "$(basename "$s" .S)" -m64 elf_x86_64 pc64
done
# The boot, SMP and hot-page watch benchmarks' kernels also as ELF32 files (what QEMU's Multiboot
# loader takes, as kvm-unit-tests' .flat files are made): the same code, linked below 4 GiB.
# pc64-boot-smp is pc64-boot-ipi without its ping-pong rounds: the application processors' start alone.
gcc -m64 -DROUNDS=0 -c -nostdlib -ffreestanding -Wa,--fatal-warnings -I "$src" -I "$src/../asm/include" \
    -o "$obj/pc64-boot-smp.o" "$src/pc64-boot-ipi.S"
ld -m elf_x86_64 -nostdlib -static -z noexecstack -z max-page-size=4096 --no-warn-rwx-segments \
   -T "$src/pc64.ld" -o "$out/pc64-boot-smp.elf" "$obj/pc64-boot-smp.o"
# pc64-preempt is pc64-boot-progress with a short share per CPU: the scheduler's preemption test.
gcc -m64 -DWORK=4000000 -c -nostdlib -ffreestanding -Wa,--fatal-warnings -I "$src" -I "$src/../asm/include" \
    -o "$obj/pc64-preempt.o" "$src/pc64-boot-progress.S"
ld -m elf_x86_64 -nostdlib -static -z noexecstack -z max-page-size=4096 --no-warn-rwx-segments \
   -T "$src/pc64.ld" -o "$out/pc64-preempt.elf" "$obj/pc64-preempt.o"
for k in pc64-boot-idle pc64-boot-sieve pc64-boot-ipi pc64-boot-smp pc64-boot-progress pc64-hot-watch; do
    objcopy -O elf32-i386 "$out/$k.elf" "$out/$k.flat"
done
# pc32-bootinfo again as an ELF64 file and as a flat binary with the a.out-kludge fields.
gcc -m64 -c -nostdlib -ffreestanding -Wa,--fatal-warnings -I "$src" -o "$obj/bootinfo64.o" "$src/pc32-bootinfo.S"
ld -m elf_x86_64 -nostdlib -static -z noexecstack -z max-page-size=4096 --no-warn-rwx-segments \
   -T "$src/pc32.ld" -o "$out/pc-bootinfo-elf64.elf" "$obj/bootinfo64.o"
gcc -m32 -DMB_AOUT -c -nostdlib -ffreestanding -Wa,--fatal-warnings -I "$src" -o "$obj/bootinfo-aout.o" "$src/pc32-bootinfo.S"
ld -m elf_i386 -nostdlib -static -z noexecstack -z max-page-size=4096 --no-warn-rwx-segments \
   -T "$src/pc32.ld" -o "$obj/bootinfo-aout.elf" "$obj/bootinfo-aout.o"
objcopy -O binary "$obj/bootinfo-aout.elf" "$out/pc-bootinfo-aout.bin"
