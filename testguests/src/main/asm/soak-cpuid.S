/* soak-cpuid: 10,000,000 CPUID exits, then exits with status 0. The soak benchmark
   (SoakBenchmark) runs it through `tdemu run`, with and without --trace, and watches the
   process's resident memory: every exit goes through the whole KVM model and, traced, through
   the trace writer, so anything an exit leaves behind shows up as growth. */
#include "tdemu.inc"
.equ EXITS, 10000000
    .section .text.entry, "ax"
    .globl _start
_start:
    call    tdemu_init
    mov     $EXITS, %r15d
1:  xor     %eax, %eax
    xor     %ecx, %ecx
    cpuid
    dec     %r15d
    jnz     1b
    guest_exit 0

    TDEMU_RUNTIME
