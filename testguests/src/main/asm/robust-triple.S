/* robust-triple: no IDT at all, then an invalid opcode: #UD cannot be delivered, nor #DF. */
#include "tdemu.inc"
    .section .text.entry, "ax"
    .globl _start
_start:
    call    tdemu_init
    ud2
    guest_exit 0

    TDEMU_RUNTIME
