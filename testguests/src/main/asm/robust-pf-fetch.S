/* robust-pf-fetch: code unmaps the page it runs from, then fetches the next instruction. The
 * SDM says #PF with CR2 = that instruction's address and an error code of a not-present
 * supervisor read (I/D stays 0: EFER.NXE and CR4.SMEP are off), RIP in the frame on it. Done
 * twice: once by clearing the page-directory entry and reloading CR3, once with INVLPG. */
#include "tdemu.inc"
#include "minidt.inc"
    .equ STUB, 0x400000                 /* the third 2 MiB page: PD entry 2 */
    .section .text.entry, "ax"
    .globl _start
_start:
    call    tdemu_init
    idt_set 14, pf_handler
    idt_set 6, ud_handler
    idt_load
    /* the page directory entry that maps STUB: CR3 -> PML4[0] -> PDPT[0] -> PD[2] */
    mov     %cr3, %rax
    and     $~0xfff, %rax
    mov     (%rax), %rax
    and     $~0xfff, %rax
    mov     (%rax), %rax
    and     $~0xfff, %rax
    lea     16(%rax), %rbx              /* rbx = &PD[2] for the stubs and the handler */
    mov     (%rbx), %rax
    mov     %rax, saved_pde(%rip)
    /* copy both stubs to STUB */
    lea     stubs(%rip), %rsi
    mov     $STUB, %rdi
    mov     $stubs_len, %ecx
    rep movsb
    mov     $STUB, %rax
    jmp     *%rax                       /* phase 1: CR3 reload */

pf_handler:
    /* frame: error code, RIP, CS, RFLAGS, RSP, SS */
    mov     %cr2, %rax
    cmp     8(%rsp), %rax               /* CR2 = the RIP of the faulting fetch */
    jne     bad_pf
    cmpq    $0, (%rsp)                  /* not present, read, supervisor */
    jne     bad_pf
    incb    phase(%rip)
    mov     saved_pde(%rip), %rax       /* map the stubs again */
    mov     %rax, (%rbx)
    mov     %cr3, %rax
    mov     %rax, %cr3
    cmpb    $2, phase(%rip)
    je      done
    movq    $STUB + (stub2 - stubs), 8(%rsp)   /* phase 2: INVLPG */
    add     $8, %rsp                    /* drop the error code */
    iretq
done:
    console_write ok, ok_len
    guest_exit 0
bad_pf:
    console_write badpf, badpf_len
    guest_exit 2
ud_handler:
    console_write ud, ud_len
    guest_exit 1

stubs:
    movq    $0, (%rbx)                  /* unmap the page we run from */
    mov     %cr3, %rax
    mov     %rax, %cr3
    nop                                 /* its fetch faults */
    hlt
stub2:
    movq    $0, (%rbx)
    invlpg  STUB
    nop
    hlt
    .equ stubs_len, . - stubs

    TDEMU_RUNTIME

    .section .data
saved_pde: .quad 0
phase:     .byte 0
    .section .rodata
ok:    .ascii "#PF at the unmapped fetch, twice (CR3 reload and INVLPG)\n"
    .equ ok_len, . - ok
badpf: .ascii "FAIL: #PF with the wrong CR2 or error code\n"
    .equ badpf_len, . - badpf
ud:    .ascii "FAIL: #UD instead of #PF\n"
    .equ ud_len, . - ud
