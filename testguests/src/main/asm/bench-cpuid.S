/* bench-cpuid: 200000 CPUID exits, then exits with status 0. Measures a VM exit's full round
   trip through the KVM model (entry and exit DR sequences, exit handling, CPUID emulation). */
#include "tdemu.inc"
.equ EXITS, 200000
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
