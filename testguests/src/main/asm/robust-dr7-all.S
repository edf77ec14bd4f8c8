/* robust-dr7-all: enables every breakpoint slot at once (L0-L3, G0-G3, GE, LE) — execute slots
 * on instructions it runs and data slots on variables it writes — and counts the #DBs. The engine
 * underneath must never see any of it. Exits 0 when every breakpoint fired exactly once. */
#include "tdemu.inc"
#include "minidt.inc"
    .section .text.entry, "ax"
    .globl _start
_start:
    call    tdemu_init
    idt_set 1, db_handler
    idt_load
    lea     target0(%rip), %rax
    mov     %rax, %dr0
    lea     target1(%rip), %rax
    mov     %rax, %dr1
    lea     var2(%rip), %rax
    mov     %rax, %dr2
    lea     var3(%rip), %rax
    mov     %rax, %dr3
    /* slots 0,1 execute; 2 write 8 bytes; 3 read/write 4 bytes; all L and G bits, LE, GE */
    mov     $((0x1 << 24) | (0x2 << 26) | (0x3 << 28) | (0x3 << 30) | 0x3ff), %rax
    mov     %rax, %dr7
target0:
    nop
target1:
    nop
    movq    $1, var2(%rip)
    movl    var3(%rip), %eax
    xor     %eax, %eax
    mov     %rax, %dr7                  /* all off again */
    cmpq    $4, db_count(%rip)
    jne     fail
    cmpq    $0xf, db_slots(%rip)
    jne     fail
    console_write ok, ok_len
    guest_exit 0
fail:
    console_write bad, bad_len
    guest_exit 1

db_handler:
    push    %rax
    incq    db_count(%rip)
    mov     %dr6, %rax
    and     $0xf, %rax
    or      %rax, db_slots(%rip)
    mov     $0xffff0ff0, %rax
    mov     %rax, %dr6
    orq     $0x10000, 24(%rsp)          /* RF in the saved RFLAGS: run the instruction once */
    pop     %rax
    iretq

    TDEMU_RUNTIME

    .section .data
    .balign 8
var2: .quad 0
var3: .quad 0
db_count: .quad 0
db_slots: .quad 0
    .section .rodata
ok:  .ascii "all four breakpoints fired once\n"
    .equ ok_len, . - ok
bad: .ascii "FAIL: wrong breakpoint count or slots\n"
    .equ bad_len, . - bad
