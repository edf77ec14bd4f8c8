/* halt: halts with interrupts disabled and never writes an exit status. */
    .section .text.entry, "ax"
    .globl _start
_start:
    cli
    hlt
    jmp     _start
