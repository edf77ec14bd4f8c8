/* binding-hooks: one scenario per 256-byte slot; the binding tests start scenario n at
   _start + 0x100 * n and each scenario ends in hlt (unless it faults on purpose).
   Data addresses are absolute guest-physical addresses inside the RAM the tests map
   (0x200000 scratch data, 0x300000 a page the tests re-protect); 0x40000000 and 0x50000000
   are never mapped. */
#include "tdemu.inc"
    .section .text.entry, "ax"
    .globl _start
_start:
/* 0x000: straight-line code, four one-byte nops */
    nop
    nop
    nop
    nop
    hlt

    .org 0x100
/* 0x100: port I/O. IN results land in BL and R12D */
    inb     $0x60, %al
    mov     %al, %bl
    mov     $0x5658, %dx
    inl     %dx, %eax
    mov     %eax, %r12d
    mov     $0xab, %al
    outb    %al, $0x80
    mov     $0xbeef, %ax
    mov     $0x3f8, %dx
    outw    %ax, %dx
    hlt

    .org 0x200
/* 0x200: cpuid leaf 0 */
    xor     %eax, %eax
    xor     %ecx, %ecx
    cpuid
    hlt

    .org 0x300
/* 0x300: syscall */
    syscall
    hlt

    .org 0x400
/* 0x400: int3 */
    int3
    hlt

    .org 0x500
/* 0x500: #DE; a test handler resumes at 0x540, which divides by zero again */
    xor     %ecx, %ecx
    xor     %edx, %edx
    mov     $1, %eax
    div     %ecx
    hlt
    .org 0x540
    div     %ecx
    hlt
    .org 0x580
    hlt

    .org 0x600
/* 0x600: memory: store 8 bytes at 0x200000, load 8 from 0x200008, store 1 byte at 0x200010 */
    mov     $0x200000, %ebx
    movabs  $0x1122334455667788, %rax
    mov     %rax, (%rbx)
    mov     8(%rbx), %rdx
    movb    $0x5a, 0x10(%rbx)
    hlt

    .org 0x700
/* 0x700: unmapped: load 8 bytes from 0x40000000, then store 4 bytes at 0x40001000 */
    mov     $0x40000000, %ebx
    mov     (%rbx), %rax
    movl    $0xcafe, 0x1000(%rbx)
    hlt

    .org 0x800
/* 0x800: store 8 bytes at 0x300000 (the test makes that page read-only) */
    mov     $0x300000, %ebx
    movq    $1, (%rbx)
    hlt

    .org 0x900
/* 0x900: instructions the engine does not implement: VMCALL (0f 01 c1), then UD2 (0f 0b) */
    vmcall
    ud2
    hlt

    .org 0xa00
/* 0xa00: fetch from unmapped 0x50000000 */
    mov     $0x50000000, %eax
    jmp     *%rax

    .org 0xb00
/* 0xb00: #GP(0x1234): selector 0x1234 lies beyond the empty LDT */
    mov     $0x1234, %ax
    mov     %ax, %ds
    hlt

    .org 0xc00
/* 0xc00: fetch from 0x300000 (the test makes that page non-executable) */
    mov     $0x300000, %eax
    jmp     *%rax
