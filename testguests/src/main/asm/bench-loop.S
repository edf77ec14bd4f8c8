/* bench-loop: bench-debug's loop (call bench_func, add, xor), 40,000,000 times, then exits with
 * status 0: a fixed amount of guest work for the benchmarks that compare guest speed with and
 * without a debugger. No exits inside the loop. */
#include "tdemu.inc"
#define ITERATIONS 40000000
    .section .text.entry, "ax"
    .globl _start
_start:
    call    tdemu_init
    mov     $ITERATIONS, %r12d
    .globl bench_loop
bench_loop:
    call    bench_func
    add     $1, %rax
    xor     %rax, %rbx
    dec     %r12
    jnz     bench_loop
    guest_exit 0

    .globl bench_func
bench_func:
    nop
    ret

    TDEMU_RUNTIME
