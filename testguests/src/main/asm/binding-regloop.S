/* binding-regloop: RDI iterations (>= 1) of a register-only loop body, then hlt; re-entering
   after the hlt starts over. 5 instructions per iteration, 3 more per run (mov, hlt, jmp).
   Used to measure guest instructions per second. */
#include "tdemu.inc"
    .section .text.entry, "ax"
    .globl _start
_start:
    mov     %rdi, %rcx
1:  add     $1, %rax
    xor     %rax, %rbx
    add     %rbx, %rdx
    dec     %rcx
    jnz     1b
    hlt
    jmp     _start
