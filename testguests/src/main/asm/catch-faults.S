/* catch-faults: a #PF (a read of an unmapped address) and a #UD (UD2), each handled by the
 * guest's own IDT handler, which resumes after the faulting instruction. Exits 0 when both
 * handlers ran once, with the #PF's error code 0 (not present, read, supervisor) and CR2 the
 * unmapped address; 1 otherwise. For debugger tests of stopping at guest exceptions. */
#include "tdemu.inc"
#include "minidt.inc"
    .equ UNMAPPED, 0x7f0000000000
    .section .text.entry, "ax"
    .globl _start
_start:
    call    tdemu_init
    idt_set 14, pf_handler
    idt_set 6, ud_handler
    idt_load
    xor     %r12d, %r12d
    movabs  $UNMAPPED, %rax
    .globl catch_pf_at
catch_pf_at:
    mov     (%rax), %rbx                /* #PF */
after_pf:
    .globl catch_ud_at
catch_ud_at:
    ud2                                 /* #UD */
    cmp     $0x11, %r12
    jne     fail
    guest_exit 0
fail:
    guest_exit 1

pf_handler:
    mov     %cr2, %rbx
    movabs  $UNMAPPED, %rcx
    cmp     %rcx, %rbx
    jne     1f
    cmpq    $0, (%rsp)
    jne     1f
    inc     %r12                        /* a correct #PF counts 1 */
1:  lea     after_pf(%rip), %rbx
    mov     %rbx, 8(%rsp)
    add     $8, %rsp                    /* drop the error code */
    iretq

ud_handler:
    add     $0x10, %r12                 /* a #UD counts 0x10 */
    addq    $2, (%rsp)
    iretq

    TDEMU_RUNTIME
