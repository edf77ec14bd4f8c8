/* robust-jit: a JIT's pattern, 1,000,000 times: write a fresh function `mov $i, %eax; ret` into
 * one of 4096 slots of a code buffer (the slots are reused, so old translations must go too),
 * call it and check it returned i. Exits 0 when every call ran the code just written. */
#include "tdemu.inc"
    .equ CALLS, 1000000
    .equ SLOTS, 4096
    .section .text.entry, "ax"
    .globl _start
_start:
    call    tdemu_init
    xor     %r12, %r12                  /* i */
1:  mov     %r12, %rax
    and     $(SLOTS - 1), %rax
    shl     $4, %rax
    lea     jitbuf(%rip), %rdi
    add     %rax, %rdi                  /* this call's slot */
    movb    $0xb8, 0(%rdi)              /* mov $imm32, %eax */
    mov     %r12d, 1(%rdi)
    movb    $0xc3, 5(%rdi)              /* ret */
    call    *%rdi
    cmp     %r12d, %eax
    jne     fail
    inc     %r12
    cmp     $CALLS, %r12
    jne     1b
    console_write ok, ok_len
    guest_exit 0
fail:
    console_write bad, bad_len
    guest_exit 1

    TDEMU_RUNTIME

    .section .data
    .balign 4096
jitbuf: .skip SLOTS * 16
    .section .rodata
ok:  .ascii "1000000 freshly written functions ran as written\n"
    .equ ok_len, . - ok
bad: .ascii "FAIL: a call ran code other than what was just written\n"
    .equ bad_len, . - bad
