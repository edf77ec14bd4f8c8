/* pc64-smoke: the long-mode runtime itself: the kernel reaches main64 in 64-bit mode with the
   Multiboot magic it was entered with, prints through COM1 and ends through isa-debug-exit. */
#define CONF_PC
#include "multiboot.inc"
#include "pc.inc"
#include "conformance.inc"
#include "pc64.inc"

    .text
main64:
    CHECK "smoke.magic", $MB_BOOTLOADER_MAGIC, pc_mb_magic(%rip)
    CONF_FINISH "pc64-smoke"

    CONF_RUNTIME
    PC64_RUNTIME
