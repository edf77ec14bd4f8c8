/* binding-loop: spins forever; the binding tests stop it from another thread. */
#include "tdemu.inc"
    .section .text.entry, "ax"
    .globl _start
_start:
1:  jmp     1b
