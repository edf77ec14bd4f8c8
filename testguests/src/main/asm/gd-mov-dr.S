/* gd-mov-dr: general detect and MOV DR across exits. Every round it writes its DR0-DR3, exits,
 * checks they read back (in a VMX guest the first MOV DR exits and KVM switches lazily, later
 * ones run on the hardware until the next exit), then sets DR7.GD: the next MOV DR must fault
 * with DR6.BD, RIP on the MOV, and GD cleared on delivery. Exits 0 when every round behaved. */
#include "tdemu.inc"
#include "minidt.inc"
.equ ROUNDS, 10
    .section .text.entry, "ax"
    .globl _start
_start:
    call    tdemu_init
    idt_set 1, db_handler
    idt_load
    mov     $ROUNDS, %r15
round:
    mov     %r15, %rax
    shl     $12, %rax
    mov     %rax, %dr0
    add     $8, %rax
    mov     %rax, %dr1
    mov     $0x1ff, %eax
    call    tdemu_hypercall             /* an exit between the write and the read */
    mov     %r15, %rax
    shl     $12, %rax
    mov     %dr0, %rbx
    cmp     %rax, %rbx
    jne     bad_value
    add     $8, %rax
    mov     %dr1, %rbx
    cmp     %rax, %rbx
    jne     bad_value
    mov     $0x2400, %rax               /* GD */
    mov     %rax, %dr7
    .globl gd_mov
gd_mov:
    mov     %dr0, %rax                  /* faults with BD; runs after the handler returns */
    mov     %dr7, %rax
    test    $0x2000, %rax
    jnz     bad_gd                      /* GD must be clear after the #DB */
    dec     %r15
    jnz     round
    cmpq    $ROUNDS, bd_count(%rip)
    jne     bad_count
    cmpq    $0, wrong(%rip)
    jne     bad_count
    console_write ok, ok_len
    guest_exit 0
bad_value:
    console_write m_value, m_value_len
    guest_exit 1
bad_gd:
    console_write m_gd, m_gd_len
    guest_exit 1
bad_count:
    console_write m_count, m_count_len
    mov     bd_count(%rip), %rax
    call    tdemu_puthex
    mov     wrong(%rip), %rax
    call    tdemu_puthex
    guest_exit 1

db_handler:
    push    %rax
    push    %rbx
    lea     gd_mov(%rip), %rax
    cmp     %rax, 16(%rsp)              /* a fault: RIP is the MOV itself */
    jne     1f
    mov     %dr6, %rbx                  /* GD is clear now, so this does not fault again */
    test    $0x2000, %rbx
    jz      1f
    incq    bd_count(%rip)
    jmp     2f
1:  incq    wrong(%rip)
2:  mov     $0xffff0ff0, %rax
    mov     %rax, %dr6
    pop     %rbx
    pop     %rax
    iretq

    TDEMU_RUNTIME

    .section .data
    .balign 8
bd_count: .quad 0
wrong:    .quad 0
    .section .rodata
ok:      .ascii "gd-mov-dr: every MOV DR and GD behaved\n"
    .equ ok_len, . - ok
m_value: .ascii "FAIL: a debug register did not read back\n"
    .equ m_value_len, . - m_value
m_gd:    .ascii "FAIL: DR7.GD was not cleared by the #DB\n"
    .equ m_gd_len, . - m_gd
m_count: .ascii "FAIL: BD #DB count, unexpected #DBs: "
    .equ m_count_len, . - m_count
