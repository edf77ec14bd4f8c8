/* nonstop: for gdb's non-stop mode. Every vCPU loops for ever calling its own function, tick0 on
 * vCPU 0 and tick1 on the others, each counting its calls (count0, count1): a debugger holds one
 * vCPU at a breakpoint and watches the other's count go on. Only --timeout ends it. */
    .section .text.entry, "ax"
    .globl _start
_start:
    test    %rdi, %rdi                  /* vCPU index */
    jnz     2f
1:  call    tick0
    jmp     1b
2:  call    tick1
    jmp     2b

    .globl tick0
tick0:
    lock incq count0(%rip)
    ret

    .globl tick1
tick1:
    lock incq count1(%rip)
    ret

    .section .data
    .balign 8
    .globl count0, count1
count0: .quad 0
count1: .quad 0
