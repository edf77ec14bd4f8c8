/* debuggee: a guest for debuggers. It uses its own debug registers (an execute breakpoint on a
 * function it never calls) and checks they read back, then, ROUNDS times, calls dbg_func, writes
 * dbg_var and reads dbg_rvar — the targets a debugger sets its breakpoints and watchpoints on.
 * Exits 0 when its own registers survived. */
#include "tdemu.inc"
.equ ROUNDS, 5
    .section .text.entry, "ax"
    .globl _start
_start:
    call    tdemu_init
    lea     never_called(%rip), %rax
    mov     %rax, %dr3
    mov     $0x40, %rax                 /* L3: execute */
    mov     %rax, %dr7
    mov     $ROUNDS, %r15
    .globl dbg_loop
dbg_loop:
    call    dbg_func
    mov     %r15, dbg_var(%rip)
    mov     dbg_rvar(%rip), %rax
    dec     %r15
    jnz     dbg_loop
    lea     never_called(%rip), %rax
    mov     %dr3, %rbx
    cmp     %rax, %rbx
    jne     bad
    mov     %dr7, %rbx
    cmp     $0x440, %rbx                /* bit 10 reads as 1 */
    jne     bad
    console_write ok, ok_len
    guest_exit 0
bad:
    console_write fail, fail_len
    guest_exit 1

    .globl dbg_func
dbg_func:
    nop
    ret
never_called:
    ret

    TDEMU_RUNTIME

    .section .data
    .balign 8
    .globl dbg_var, dbg_rvar
dbg_var:  .quad 0
dbg_rvar: .quad 0x1234
    .section .rodata
ok:   .ascii "debuggee: done\n"
    .equ ok_len, . - ok
fail: .ascii "FAIL: the guest's own debug registers changed under the debugger\n"
    .equ fail_len, . - fail
