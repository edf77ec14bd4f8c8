/* binding-countloop: RCX counts down from 2^40 while the quadword at 0x200000 counts up, one
 * instruction each; every translation block of the loop starts with the register-only DEC, so a
 * stop that lets part of a block run before rewinding RIP shows as counter + RCX != 2^40. The
 * stop tests check that no stop tears a block. */
    .section .text.entry, "ax"
    .globl _start
_start:
    movabs  $0x10000000000, %rcx
    mov     $0x200000, %rbx
    movq    $0, (%rbx)
1:  dec     %rcx
    incq    (%rbx)
    test    %rcx, %rcx
    jnz     1b
    hlt
