/* debugger-target: what a debugger breaks on: ROUNDS calls of dbg_func, writes of dbg_var and
 * reads of dbg_rvar, each between exits. In a VMX guest it also uses its own debug registers (an
 * execute breakpoint on a function it never calls) and checks they read back: KVM keeps them
 * apart from the debugger's. A TD does not, since a TD's DRs are the ones the debugger sets
 * through the TDX module. Exits 0. */
#include "tdemu.inc"
.equ ROUNDS, 5
    .section .text.entry, "ax"
    .globl _start
_start:
    call    tdemu_init
    cmpb    $0, tdemu_in_td(%rip)
    jne     1f
    lea     never_called(%rip), %rax
    mov     %rax, %dr3
    mov     $0x40, %rax                 /* L3: execute */
    mov     %rax, %dr7
1:  mov     $ROUNDS, %r15
2:  call    dbg_func
    mov     %r15, dbg_var(%rip)
    mov     dbg_rvar(%rip), %rax
    mov     $0x1ff, %eax
    call    tdemu_hypercall
    dec     %r15
    jnz     2b
    cmpb    $0, tdemu_in_td(%rip)
    jne     3f
    lea     never_called(%rip), %rax
    mov     %dr3, %rbx
    cmp     %rax, %rbx
    jne     bad
    mov     %dr7, %rbx
    cmp     $0x440, %rbx
    jne     bad
3:  console_write ok, ok_len
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
ok:   .ascii "debugger-target: done\n"
    .equ ok_len, . - ok
fail: .ascii "FAIL: the guest's own debug registers changed under the debugger\n"
    .equ fail_len, . - fail
