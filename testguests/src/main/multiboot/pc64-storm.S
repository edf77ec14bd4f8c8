/* pc64-storm: an APIC timer interrupt storm, the worst a kernel can do to an emulator: periodic,
 * divide-by-1, initial count 1 (a period of 1 ns), an interrupt handler that only EOIs, and a main
 * loop that halts with interrupts enabled (every IRET meets the next interrupt: the loop never
 * gets another instruction in). It prints "storm on" as it enables interrupts, then a line of
 * 8 KiB of dots (so that a console that is not a terminal, which tdemu buffers in 8 KiB, shows
 * the first line at once), and never ends by itself: tdemu must stay responsive to --timeout and
 * to SIGINT.
 */
#define CONF_PC
#include "multiboot.inc"
#include "pc.inc"
#include "conformance.inc"
#include "pc64.inc"

#define VEC_TIMER 0x40

    .text
main64:
    PC_GATE VEC_TIMER, storm_isr
    APIC_WRITE APIC_SPIV, $(APIC_SPIV_APIC_ENABLED | 0xFF)
    APIC_WRITE APIC_TDCR, $0xB
    APIC_WRITE APIC_LVTT, $(APIC_LVT_TIMER_PERIODIC | VEC_TIMER)
    APIC_WRITE APIC_TMICT, $1
    PC_SAY  "storm on"
    mov     $(COM1 + UART_TX), %dx
    mov     $'.', %al
    mov     $8192, %ecx
1:  outb    %al, %dx
    dec     %ecx
    jnz     1b
    mov     $'\n', %al
    outb    %al, %dx
    sti
2:  hlt
    jmp     2b

storm_isr:
    incq    storms(%rip)
    APIC_WRITE APIC_EOI, $0
    iretq

    .data
    .balign 8
storms: .quad 0

    .text
    CONF_RUNTIME
    PC64_RUNTIME
