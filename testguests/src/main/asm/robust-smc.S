/* robust-smc: writes code at run time into a data buffer — including MOV to DR7 that arms an
 * execute breakpoint and MOV from DR7 — runs it, then patches its own text and runs that. MOV DR
 * must be intercepted wherever the code came from. Exits 0 when DR7 reads back what it wrote. */
#include "tdemu.inc"
    .section .text.entry, "ax"
    .globl _start
_start:
    call    tdemu_init
    /* buffer: mov %rax,%db7 ; mov %db7,%rbx ; ret */
    lea     buffer(%rip), %rdi
    movb    $0x0f, 0(%rdi)
    movb    $0x23, 1(%rdi)
    movb    $0xf8, 2(%rdi)
    movb    $0x0f, 3(%rdi)
    movb    $0x21, 4(%rdi)
    movb    $0xfb, 5(%rdi)
    movb    $0xc3, 6(%rdi)
    lea     never(%rip), %rax
    mov     %rax, %dr0
    mov     $0x401, %rax                /* L0, execute, at `never` (never executed) */
    call    *%rdi
    cmp     $0x401, %rbx
    jne     fail
    /* patch our own text: make `patched` return 0x77 instead of 0x11 */
    lea     patched(%rip), %rdi
    movb    $0x77, 1(%rdi)              /* mov $imm8... see below */
    call    patched
    cmp     $0x77, %eax
    jne     fail
    console_write ok, ok_len
    guest_exit 0
fail:
    console_write bad, bad_len
    guest_exit 1
patched:
    mov     $0x11, %al                  /* b0 11 */
    movzbl  %al, %eax
    ret
never:
    hlt

    TDEMU_RUNTIME

    .section .data
    .balign 64
buffer: .skip 64
    .section .rodata
ok:  .ascii "run-time code with MOV DR7 intercepted\n"
    .equ ok_len, . - ok
bad: .ascii "FAIL: DR7 readback or patched code wrong\n"
    .equ bad_len, . - bad
