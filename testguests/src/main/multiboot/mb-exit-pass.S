/* A Multiboot kernel (ELF32 at 1 MiB, mb-exit-pass.ld) that reports like a kvm-unit-tests test
   that passed: it writes "PASS: mb-exit-pass" and "SUMMARY: 1 tests" on COM1 (polling LSR.THRE,
   one port exit per byte and poll) and writes 0 to isa-debug-exit, so the VM ends with exit
   status (0 << 1) | 1 = 1, kvm-unit-tests' "every check passed". */
#include "multiboot.inc"
#define FLAGS (MB_PAGE_ALIGN | MB_MEMORY_INFO)
#define COM1_THR 0x3F8
#define COM1_LSR 0x3FD
#define LSR_THRE 0x20
#define DEBUG_EXIT 0xF4

    MULTIBOOT_HEADER FLAGS
    MULTIBOOT_ENTRY32 stack_top
    mov $report, %esi
next:
    lodsb
    test %al, %al
    jz done
    mov %al, %bl
    mov $COM1_LSR, %dx
1:  inb %dx, %al
    test $LSR_THRE, %al
    jz 1b
    mov %bl, %al
    mov $COM1_THR, %dx
    outb %al, %dx
    jmp next
done:
    xor %eax, %eax
    outb %al, $DEBUG_EXIT
2:  hlt                                 /* not reached: the VM ends at the write */
    jmp 2b

    .section .rodata
report: .asciz "PASS: mb-exit-pass\nSUMMARY: 1 tests\n"

    .bss
    .balign 16
    .space 0x1000
stack_top:
