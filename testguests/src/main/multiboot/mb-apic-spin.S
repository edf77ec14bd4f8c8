/* The local APIC timer interrupts a guest that spins without a single VM exit: protected mode,
   paging off, an IDT whose vector 0x40 handler sets a flag and writes EOI, the APIC enabled
   through SVR, LVT timer one-shot on vector 0x40 with divide-by-1 and an initial count of
   100000, then STI and a loop that only reads memory until the flag is set. The kernel reports
   over COM1 and ends through isa-debug-exit with 0x10 (exit status 33). */
#include "multiboot.inc"
#define FLAGS MB_MEMORY_INFO
#define APIC 0xFEE00000
#define VECTOR 0x40

    MULTIBOOT_HEADER FLAGS
    MULTIBOOT_ENTRY32 stack_top
    /* IDT entry 0x40: a 32-bit interrupt gate to timer_isr in the loader's flat code segment. */
    mov $timer_isr, %eax
    mov $idt + VECTOR * 8, %edi
    mov %ax, (%edi)
    mov %cs, %bx
    mov %bx, 2(%edi)
    movw $0x8E00, 4(%edi)
    shr $16, %eax
    mov %ax, 6(%edi)
    lidt idt_descriptor

    lea spinning, %esi
    call print
    orl $0x100, APIC + 0xF0             /* SVR: APIC software enabled */
    movl $0xB, APIC + 0x3E0             /* TDCR: divide by 1 */
    movl $VECTOR, APIC + 0x320          /* LVT timer: one-shot, unmasked */
    movl $100000, APIC + 0x380          /* TMICT: starts the count */
    sti
1:  cmpb $0, fired                      /* no exit in here: only the kick can end the run */
    je 1b
    cli
    lea taken, %esi
    call print
    mov $0x10, %eax
    out %eax, $0xF4
    hlt

timer_isr:
    movb $1, fired
    movl $0, APIC + 0xB0                /* EOI */
    iret

/* The NUL-terminated string at ESI to COM1. */
print:
    mov $0x3F8, %dx
1:  lodsb
    test %al, %al
    jz 2f
    out %al, %dx
    jmp 1b
2:  ret

    .data
spinning: .asciz "apic-spin: spinning with IF=1\n"
taken:    .asciz "apic-spin: timer interrupt taken\n"
fired:    .byte 0
    .balign 8
idt_descriptor:
    .word 256 * 8 - 1
    .long idt

    .bss
    .balign 8
idt: .space 256 * 8
    .space 0x1000
stack_top:
