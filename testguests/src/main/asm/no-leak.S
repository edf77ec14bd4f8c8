/* no-leak: a TD puts its own values in DR0-DR3 and DR7 and exits many times. After every exit
 * it asks for the host's view of the debug registers (TDEMU_HC_READ_HOST_DRS) — none of its
 * values may be there — and reads its own — none of the host's may be there. Exits 0 when
 * nothing leaked either way, 1 otherwise. */
#include "tdemu.inc"
.equ ROUNDS, 20
.equ MARK, 0x7d7d000000
    .section .text.entry, "ax"
    .globl _start
_start:
    call    tdemu_init
    mov     $MARK, %rax
    mov     %rax, %dr0
    add     $0x1000, %rax
    mov     %rax, %dr1
    add     $0x1000, %rax
    mov     %rax, %dr2
    add     $0x1000, %rax
    mov     %rax, %dr3
    mov     $0xff, %rax                 /* L0-L3, G0-G3: execute breakpoints nothing executes */
    mov     %rax, %dr7
    mov     $ROUNDS, %r15
round:
    mov     $TDEMU_HC_READ_HOST_DRS, %eax
    lea     host_view(%rip), %rdi
    call    tdemu_hypercall
    lea     host_view(%rip), %rsi
    mov     $MARK, %rax
    mov     $4, %ecx
1:  cmp     %rax, (%rsi)                /* a TD value in the host's DR0..DR3 */
    je      leak_out
    add     $0x1000, %rax
    add     $8, %rsi
    dec     %ecx
    jnz     1b
    mov     host_view + 40(%rip), %rax  /* the host's DR7 */
    test    $0xff, %rax
    jnz     leak_out                    /* (no host breakpoints in this scenario) */
    mov     $MARK, %rax
    mov     %dr0, %rbx
    cmp     %rax, %rbx
    jne     leak_in
    mov     %dr7, %rbx
    cmp     $0x4ff, %rbx
    jne     leak_in
    dec     %r15
    jnz     round
    console_write ok, ok_len
    guest_exit 0
leak_out:
    console_write m_out, m_out_len
    guest_exit 1
leak_in:
    console_write m_in, m_in_len
    guest_exit 1

    TDEMU_RUNTIME

    .section .data
    .balign 8
host_view: .skip 48
    .section .rodata
ok:    .ascii "no-leak: nothing crossed between the TD and the host\n"
    .equ ok_len, . - ok
m_out: .ascii "FAIL: a TD debug register value is visible to the host after a TD exit\n"
    .equ m_out_len, . - m_out
m_in:  .ascii "FAIL: the TD's debug registers changed across an exit\n"
    .equ m_in_len, . - m_in
