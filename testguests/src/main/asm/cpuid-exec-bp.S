/* cpuid-exec-bp: CPUID exits while the guest's own execute breakpoint is armed. KVM loads the
 * guest's debug registers at every entry and the host's at every exit, so the physical registers
 * change at each exit and entry, and the breakpoint must still fire once per round, between the
 * exits, with DR6.B0. Exits 0 when it fired every round, else prints the count and exits 1. */
#include "tdemu.inc"
#include "minidt.inc"
.equ ROUNDS, 50
    .section .text.entry, "ax"
    .globl _start
_start:
    call    tdemu_init
    idt_set 1, db_handler
    idt_load
    lea     bp_func(%rip), %rax
    mov     %rax, %dr0
    mov     $0x401, %rax                /* L0: execute at bp_func */
    mov     %rax, %dr7
    mov     $ROUNDS, %r15
round:
    xor     %eax, %eax
    xor     %ecx, %ecx
    push    %rbx
    cpuid                               /* a VM exit */
    pop     %rbx
    call    bp_func                     /* execute breakpoint: B0 */
    dec     %r15
    jnz     round
    cmpq    $ROUNDS, exec_hits(%rip)
    jne     bad_count
    console_write ok, ok_len
    guest_exit 0
bad_count:
    console_write m_count, m_count_len
    mov     exec_hits(%rip), %rax
    call    tdemu_puthex
    guest_exit 1

bp_func:
    ret

db_handler:
    push    %rax
    mov     %dr6, %rax
    and     $0x400f, %rax               /* B0-B3 and BS */
    cmp     $0x1, %rax
    jne     1f
    incq    exec_hits(%rip)
1:  orq     $0x10000, 24(%rsp)          /* RF: the breakpointed instruction runs once */
    mov     $0xffff0ff0, %rax           /* the handler clears DR6, as an OS does */
    mov     %rax, %dr6
    pop     %rax
    iretq

    TDEMU_RUNTIME

    .section .data
    .balign 8
exec_hits:  .quad 0
    .section .rodata
ok:      .ascii "cpuid-exec-bp: the execute breakpoint fired every round\n"
    .equ ok_len, . - ok
m_count: .ascii "FAIL: the execute breakpoint did not fire every round: "
    .equ m_count_len, . - m_count
