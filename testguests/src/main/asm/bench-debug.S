/* bench-debug: the debugger benchmarks' guest. It calls bench_func forever (a breakpoint there
 * is hit once per loop) and never exits; the benchmarks kill it. */
#include "tdemu.inc"
    .section .text.entry, "ax"
    .globl _start
_start:
    call    tdemu_init
    .globl bench_loop
bench_loop:
    call    bench_func
    add     $1, %rax
    xor     %rax, %rbx
    jmp     bench_loop

    .globl bench_func
bench_func:
    nop
    ret

    TDEMU_RUNTIME
