/* pc64-boot-idle: the boot benchmark's idle kernel (BootBenchmark): boots to long mode with
   pc64.inc, writes one line to COM1 and ends through isa-debug-exit (status 1), doing nothing else,
   so that its wall time is the emulator's start-up, boot and shut-down. */
#define CONF_PC
#include "multiboot.inc"
#include "pc.inc"
#include "conformance.inc"
#include "pc64.inc"

    .text
main64:
    CHECK "boot-idle.magic", $MB_BOOTLOADER_MAGIC, pc_mb_magic(%rip)
    CONF_FINISH "pc64-boot-idle"

    CONF_RUNTIME
    PC64_RUNTIME
