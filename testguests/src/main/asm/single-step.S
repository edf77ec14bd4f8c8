/* single-step: single-steps across instructions that leave the guest (VMX: CPUID, VMCALL, OUT;
 * TD: TDCALL) and ordinary ones, ROUNDS times. Each instruction must trap exactly once with
 * DR6.BS and the RIP of the next instruction. Exits 0 when every trap matched. */
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
    lea     expected(%rip), %r14        /* the RIPs the traps must report, in order */
    lea     expected_end(%rip), %rax
    mov     %rax, expected_end_ptr(%rip)
    cmpb    $0, tdemu_in_td(%rip)
    jne     td_round
    lea     vmx_rips(%rip), %r14
    lea     vmx_end(%rip), %rax
    mov     %rax, expected_end_ptr(%rip)
    pushf
    orq     $0x100, (%rsp)
    popf                                /* TF: traps start after the next instruction */
    nop
v1: xor     %eax, %eax
v2: xor     %ecx, %ecx
v3: cpuid                               /* a CPUID exit */
v4: mov     $0x1ff, %eax
v5: vmcall                              /* a hypercall exit */
v6: mov     $'.', %al
v7: outb    %al, $TDEMU_CONSOLE_PORT    /* an I/O exit */
v8: pushf
v9: andq    $~0x100, (%rsp)
v10: popf
v11: jmp    check
td_round:
    pushf
    orq     $0x100, (%rsp)
    popf
    nop
t1: xor     %eax, %eax                  /* TDG.VP.VMCALL, vendor leaf 0x1ff: a TD exit */
t2: mov     $0x7464, %r10d
t3: mov     $0x1ff, %r11d
t4: mov     $0xfc00, %ecx
t5: .byte 0x66, 0x0f, 0x01, 0xcc
t6: pushf
t7: andq    $~0x100, (%rsp)
t8: popf
t9: jmp     check
check:
    cmp     %r14, expected_end_ptr(%rip)
    je      1f                          /* r14 walked the whole table (set by the handler) */
    jmp     bad
1:  dec     %r15
    jnz     round
    cmpq    $0, wrong(%rip)
    jne     bad
    console_write ok, ok_len
    guest_exit 0
bad:
    console_write fail, fail_len
    mov     wrong(%rip), %rax
    call    tdemu_puthex
    guest_exit 1

/* Each trap: DR6.BS set and RIP equal to the next entry of the table at R14. */
db_handler:
    push    %rax
    mov     %dr6, %rax
    test    $0x4000, %rax
    jz      2f
    mov     8(%rsp), %rax               /* the saved RIP */
    cmp     (%r14), %rax
    jne     2f
    add     $8, %r14
    jmp     3f
2:  incq    wrong(%rip)
3:  mov     $0xffff0ff0, %rax
    mov     %rax, %dr6
    pop     %rax
    iretq

    TDEMU_RUNTIME

    .section .data
    .balign 8
vmx_rips: .quad v1, v2, v3, v4, v5, v6, v7, v8, v9, v10, v11
vmx_end:
expected: .quad t1, t2, t3, t4, t5, t6, t7, t8, t9
expected_end:
expected_end_ptr: .quad 0
wrong:    .quad 0
    .section .rodata
ok:   .ascii "\nsingle-step: every instruction trapped once at the right RIP\n"
    .equ ok_len, . - ok
fail: .ascii "\nFAIL: single-step traps wrong: "
    .equ fail_len, . - fail
