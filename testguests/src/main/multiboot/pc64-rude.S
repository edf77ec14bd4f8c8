/* pc64-rude: a kernel that writes where a PC has no RAM or only ROM, and pokes ports nobody
 * claims, at every width: none of it may stop the machine. It writes to the BIOS ROM area
 * (0xF0000, 0xFFFF0), the option-ROM area (0xC0000), above RAM (at 3 GiB) and the flash below
 * 4 GiB (0xFFFF0000), then to and from the unclaimed port ranges, and ends with "still running"
 * and isa-debug-exit 0.
 */
#define CONF_PC
#include "multiboot.inc"
#include "pc.inc"
#include "conformance.inc"
#include "pc64.inc"

    .text
main64:
    lea     rom_targets(%rip), %rsi
1:  mov     (%rsi), %rdi
    test    %rdi, %rdi
    jz      2f
    movb    $0x5A, (%rdi)
    movw    $0x5A5A, 2(%rdi)
    movl    $0x5A5A5A5A, 4(%rdi)
    movq    $-1, 8(%rdi)
    mov     (%rdi), %rax                /* and read it back, whatever it holds */
    add     $8, %rsi
    jmp     1b
2:  lea     port_ranges(%rip), %rsi
3:  movzwl  (%rsi), %edx                /* first port */
    movzwl  2(%rsi), %ecx               /* count */
    test    %ecx, %ecx
    jz      5f
4:  mov     $0xA5, %al
    outb    %al, %dx
    outw    %ax, %dx
    outl    %eax, %dx
    inb     %dx, %al
    inw     %dx, %ax
    inl     %dx, %eax
    inc     %edx
    dec     %ecx
    jnz     4b
    add     $4, %rsi
    jmp     3b
5:  PC_SAY  "still running"
    xor     %edi, %edi
    call    pc_exit

    .section .rodata
    .balign 8
rom_targets: .quad 0xF0000, 0xFFFF0, 0xC0000, 0xC0000000, 0xFFFF0000, 0
port_ranges:                            /* first, count: ports the PC leaves unclaimed */
    .word 0x100, 0x100
    .word 0x278, 8
    .word 0x2E8, 0x18
    .word 0x3B0, 0x30
    .word 0x3E8, 8
    .word 0xE9, 1
    .word 0x514, 8
    .word 0x1000, 0x100
    .word 0xFF00, 0xFF
    .word 0, 0

    .text
    CONF_RUNTIME
    PC64_RUNTIME
