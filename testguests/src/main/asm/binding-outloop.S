/* binding-outloop: RDI (>= 1) OUT instructions to port 0x80, then hlt; measures the cost of one
   upcall (the OUT hook) per guest instruction. */
#include "tdemu.inc"
    .section .text.entry, "ax"
    .globl _start
_start:
    mov     %rdi, %rcx
1:  outb    %al, $0x80
    dec     %rcx
    jnz     1b
    hlt
    jmp     _start
