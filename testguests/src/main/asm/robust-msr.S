/* robust-msr (VMX): RDMSR/WRMSR exits for MSRs the VMM knows (IA32_EFER, IA32_DEBUGCTL) and one
 * it does not. EFER reads as the long-mode value, writing it back is accepted, DEBUGCTL round
 * trips, and the unknown MSR gets #GP(0) with RIP on the RDMSR. (The engine's own MSRs are never
 * touched while a guest runs: reading them there crashes the engine.) Exits 0 when all held. */
#include "tdemu.inc"
#include "minidt.inc"
.equ IA32_EFER, 0xC0000080
.equ IA32_DEBUGCTL, 0x1D9
    .section .text.entry, "ax"
    .globl _start
_start:
    call    tdemu_init
    idt_set 13, gp_handler
    idt_load
    mov     $IA32_EFER, %ecx
    rdmsr
    and     $0xD01, %eax                /* SCE, LME, LMA, NXE */
    cmp     $0x500, %eax
    jne     bad
    mov     $IA32_EFER, %ecx
    rdmsr
    wrmsr                               /* the same value back */
    mov     $IA32_DEBUGCTL, %ecx
    mov     $1, %eax                    /* LBR */
    xor     %edx, %edx
    wrmsr
    xor     %eax, %eax
    rdmsr
    cmp     $1, %eax
    jne     bad
    xor     %eax, %eax
    wrmsr
    mov     $0x4b564dff, %ecx           /* an MSR nobody implements */
    .globl unknown_rdmsr
unknown_rdmsr:
    rdmsr
    cmpq    $1, gp_count(%rip)
    jne     bad
    console_write ok, ok_len
    guest_exit 0
bad:
    console_write m_bad, m_bad_len
    guest_exit 1

gp_handler:
    push    %rax
    lea     unknown_rdmsr(%rip), %rax
    cmp     %rax, 16(%rsp)              /* RIP in the frame (after the error code) */
    jne     1f
    cmpq    $0, 8(%rsp)                 /* error code 0 */
    jne     1f
    incq    gp_count(%rip)
1:  addq    $2, 16(%rsp)                /* skip the RDMSR */
    pop     %rax
    add     $8, %rsp                    /* the error code */
    iretq

    TDEMU_RUNTIME

    .section .data
    .balign 8
gp_count: .quad 0
    .section .rodata
ok:    .ascii "robust-msr: EFER, DEBUGCTL and an unknown MSR behaved\n"
    .equ ok_len, . - ok
m_bad: .ascii "FAIL: an MSR access misbehaved\n"
    .equ m_bad_len, . - m_bad
