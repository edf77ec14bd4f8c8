/* robust-smc-loop: patches one byte of an instruction in its own loop 1,000,000 times (the
 * immediate of the `mov $imm8, %al` right after the store), so the engine re-translates the loop
 * on every iteration; each iteration adds what the patched instruction loaded. Exits 0 when the
 * sum is what the patches put there: the engine kept its state across all its translations. */
#include "tdemu.inc"
    .equ PATCHES, 1000000
    .section .text.entry, "ax"
    .globl _start
_start:
    call    tdemu_init
    mov     $PATCHES, %r8
    xor     %r9, %r9                    /* sum of what `patch` loaded */
    xor     %r10, %r10                  /* sum of what the patches wrote */
    lea     patch(%rip), %rdi
1:  mov     %r8b, 1(%rdi)               /* the immediate of `patch` becomes the low byte of r8 */
    movzbl  %r8b, %ecx
    add     %rcx, %r10
patch:
    mov     $0x11, %al
    movzbl  %al, %eax
    add     %rax, %r9
    dec     %r8
    jnz     1b
    cmp     %r9, %r10
    jne     fail
    console_write ok, ok_len
    guest_exit 0
fail:
    console_write bad, bad_len
    guest_exit 1

    TDEMU_RUNTIME

    .section .rodata
ok:  .ascii "1000000 patches of running code, every one seen\n"
    .equ ok_len, . - ok
bad: .ascii "FAIL: a patched instruction ran stale code\n"
    .equ bad_len, . - bad
