/* binding-hltloop: every entry runs at most a jmp and a hlt, so each uc_emu_start is one
   enter/exit round trip. */
#include "tdemu.inc"
    .section .text.entry, "ax"
    .globl _start
_start:
    hlt
    jmp     _start
