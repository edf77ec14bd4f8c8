/* bench-memloop: RDI iterations (>= 1) of a loop body with four memory accesses, then hlt;
   re-entering starts over. 7 instructions per iteration. Measures the cost of the engine's
   slow memory path, which any memory hook (a data breakpoint) forces. */
    .section .text.entry, "ax"
    .globl _start
_start:
    mov     %rdi, %rcx
    lea     buffer(%rip), %rbx
1:  mov     %rax, (%rbx)
    add     (%rbx), %rdx
    mov     8(%rbx), %rsi
    mov     %rsi, 16(%rbx)
    inc     %rax
    dec     %rcx
    jnz     1b
    hlt
    jmp     _start
    .section .data
    .balign 64
buffer: .skip 64
