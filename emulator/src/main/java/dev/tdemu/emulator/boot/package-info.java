/**
 * Booting a kernel the way a Multiboot v1 boot loader (GRUB legacy, QEMU's {@code -kernel}) does:
 * {@link dev.tdemu.emulator.boot.MultibootLoader} finds the Multiboot header, loads an ELF32,
 * ELF64 or a.out-kludge kernel into {@link dev.tdemu.emulator.machine.GuestMemory}, places boot
 * modules above it, writes the Multiboot information structure below 1 MiB and returns a
 * {@link dev.tdemu.emulator.boot.MultibootBoot}: what was loaded where, and the 32-bit
 * protected-mode state the kernel expects at its entry point. Everything it refuses is a
 * {@link dev.tdemu.emulator.boot.MultibootException} with a one-line message. See docs/boot.md.
 */
package dev.tdemu.emulator.boot;
