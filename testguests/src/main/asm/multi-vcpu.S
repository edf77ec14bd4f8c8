/* multi-vcpu: every vCPU arms an execute breakpoint on its own function and a DR1 value of its
 * own, hits the breakpoint, exits to the host a few times, and checks that its DR0/DR1 still
 * hold its own values: debug registers belong to a physical CPU, and each vCPU has its own.
 * vCPU 0 waits for the others and exits 0 when every vCPU saw exactly its own breakpoint. */
#include "tdemu.inc"
#include "minidt.inc"
.equ MAX_VCPUS, 16
    .section .text.entry, "ax"
    .globl _start
_start:
    mov     %rdi, %r12                  /* vCPU index */
    test    %r12, %r12
    jnz     1f
    call    tdemu_init                  /* vCPU 0 sets up what everyone shares */
    idt_set 1, db_handler
    movb    $1, setup_done(%rip)
1:  cmpb    $0, setup_done(%rip)
    je      1b
    idt_load
    movzbl  tdemu_in_td(%rip), %eax     /* other vCPUs learn the mode from vCPU 0 */
    lea     funcs(%rip), %rax
    lea     (%rax,%r12,8), %rax         /* my function: funcs + 8 * index */
    mov     %rax, %dr0
    mov     %r12, %rbx
    shl     $12, %rbx
    add     $0x5000, %rbx               /* my DR1 value: 0x5000 + index * 0x1000 */
    mov     %rbx, %dr1
    mov     $0x1, %rcx                  /* L0, execute */
    mov     %rcx, %dr7
    call    *%rax                       /* -> #DB once */
    mov     $4, %r13
2:  mov     $0x1ff, %eax
    call    tdemu_hypercall             /* exits on my physical CPU */
    dec     %r13
    jnz     2b
    lea     funcs(%rip), %rax
    lea     (%rax,%r12,8), %rax
    mov     %dr0, %rcx
    cmp     %rax, %rcx
    jne     mismatch
    mov     %dr1, %rcx
    cmp     %rbx, %rcx
    jne     mismatch
    jmp     finished
mismatch:
    lock incq mismatches(%rip)
finished:
    xor     %eax, %eax
    mov     %rax, %dr7
    lock incq finished_count(%rip)
    test    %r12, %r12
    jz      wait_all
    call    tdemu_halt                  /* other vCPUs stop here */
wait_all:
    mov     $1, %eax
    cmpb    $0, tdemu_in_td(%rip)
    jne     4f
    xor     %ecx, %ecx
    cpuid
    shr     $16, %ebx
    and     $0xff, %ebx                 /* CPUID.1:EBX[23:16] = vCPU count */
    jmp     5f
4:  mov     $1, %eax                    /* TDG.VP.INFO: R8 low half = number of vCPUs */
    .byte 0x66, 0x0f, 0x01, 0xcc
    mov     %r8d, %ebx
5:  cmp     %rbx, finished_count(%rip)
    jne     5b
    cmpq    $0, mismatches(%rip)
    jne     fail
    cmp     %rbx, hits(%rip)
    jne     fail
    console_write ok, ok_len
    guest_exit 0
fail:
    console_write bad, bad_len
    mov     hits(%rip), %rax
    call    tdemu_puthex
    mov     mismatches(%rip), %rax
    call    tdemu_puthex
    guest_exit 1

db_handler:
    push    %rax
    lock incq hits(%rip)
    mov     $0xffff0ff0, %rax
    mov     %rax, %dr6
    orq     $0x10000, 24(%rsp)          /* RF */
    pop     %rax
    iretq

    .balign 8
funcs:
    .rept MAX_VCPUS
    ret
    .skip 7, 0x90
    .endr

    TDEMU_RUNTIME

    .section .data
    .balign 8
setup_done: .quad 0
hits: .quad 0
mismatches: .quad 0
finished_count: .quad 0
    .section .rodata
ok:  .ascii "multi-vcpu: each vCPU kept its own debug registers\n"
    .equ ok_len, . - ok
bad: .ascii "FAIL: hits, mismatches: "
    .equ bad_len, . - bad
