/* robust-loop: never exits; only --timeout ends it. */
    .section .text.entry, "ax"
    .globl _start
_start:
    jmp     _start
