/* pc64-ioapic: interrupts routed through the I/O APIC at 0xFEC00000 (82093AA datasheet; SDM vol.
 * 3A "Local APIC" for the TMR and EOI), from inside a long-mode kernel on the BSP. Level sources
 * are pc-testdev's interrupt lines (a byte written to port 0x2000 + GSI sets GSI's level; GSIs 16
 * and up reach the I/O APIC alone); the edge source is the PIT's IRQ 0, on pin 2. The kernel
 * waits on its handlers' counts, never on time.
 *
 *   level.*    a level-triggered entry: the message sets the entry's remote IRR and the vector's
 *              TMR bit; the local APIC's EOI of a line still asserted sends it again, once the
 *              handler lowers the line the EOI clears remote IRR and nothing follows
 *   eoireg.*   the EOI register (version 0x20) clears remote IRR by vector: a line still
 *              asserted is sent again at once and waits in IRR behind the one in service
 *   masked.*   a level line asserted under a masked entry sends nothing and leaves remote IRR
 *              clear; unmasking it sends it
 *   pit.*      the PIT's channel 0 (mode 0) reaches pin 2 as an edge: one interrupt, TMR clear,
 *              remote IRR never set
 */
#define CONF_PC
#include "multiboot.inc"
#include "pc.inc"
#include "conformance.inc"
#include "pc64.inc"

#define IOAPIC_BASE     0xFEC00000
#define IOREGSEL        0x00
#define IOWIN           0x10
#define IOAPIC_EOI      0x40
#define IOREDTBL        0x10
#define RTE_REMOTE_IRR  0x4000
#define RTE_LEVEL       0x8000
#define RTE_MASKED      0x10000
#define TESTDEV_IRQ     0x2000

#define PIN_LEVEL       16
#define PIN_EOIREG      17
#define PIN_MASKED      18
#define PIN_PIT         2

/* The vectors share one 32-bit word of IRR, ISR and TMR: bit (vector & 31) of word 3. */
#define VEC_LEVEL       0x60
#define VEC_EOIREG      0x61
#define VEC_MASKED      0x62
#define VEC_PIT         0x63
#define WORD3           0x30

/* I/O APIC register \index <- \value (32 bits, $imm or a register). Preserves every register. */
.macro IOAPIC_WRITE index, value
    push    %r11
    mov     $IOAPIC_BASE, %r11d
    movl    $(\index), IOREGSEL(%r11)
    movl    \value, IOWIN(%r11)
    pop     %r11
.endm

/* \dst32 <- I/O APIC register \index */
.macro IOAPIC_READ index, dst32
    push    %r11
    mov     $IOAPIC_BASE, %r11d
    movl    $(\index), IOREGSEL(%r11)
    mov     IOWIN(%r11), \dst32
    pop     %r11
.endm

/* IOREDTBL[\pin] <- destination APIC 0, low half \low (high half first, as Linux writes it) */
.macro ROUTE pin, low
    IOAPIC_WRITE (IOREDTBL + 2 * (\pin) + 1), $0
    IOAPIC_WRITE (IOREDTBL + 2 * (\pin)), $(\low)
.endm

/* variable <- the remote IRR bit (0 or 1) of IOREDTBL[\pin]. Preserves every register. */
.macro SAVE_RIRR pin, variable
    push    %rax
    IOAPIC_READ (IOREDTBL + 2 * (\pin)), %eax
    shr     $14, %eax
    and     $1, %eax
    mov     %rax, \variable(%rip)
    pop     %rax
.endm

/* pc-testdev's line for GSI \gsi <- \level (0 or 1). Preserves every register. */
.macro LINE gsi, level
    push    %rax
    push    %rdx
    mov     $(TESTDEV_IRQ + (\gsi)), %dx
    mov     $(\level), %al
    outb    %al, %dx
    pop     %rdx
    pop     %rax
.endm

/* variable <- bit (\vector & 31) of the local APIC's 256-bit register at \reg (IRR, ISR, TMR) */
.macro SAVE_VBIT reg, vector, variable
    push    %rax
    APIC_READ (\reg + WORD3), %eax
    shr     $((\vector) & 31), %eax
    and     $1, %eax
    mov     %rax, \variable(%rip)
    pop     %rax
.endm

/* Lets pending interrupts in: STI, one instruction in its shadow, CLI. */
.macro TAKE_INTERRUPTS
    sti
    nop
    cli
.endm

    .text
main64:
    PC_GATE VEC_LEVEL, isr_level
    PC_GATE VEC_EOIREG, isr_eoireg
    PC_GATE VEC_MASKED, isr_masked
    PC_GATE VEC_PIT, isr_pit
    APIC_WRITE APIC_SPIV, $(APIC_SPIV_APIC_ENABLED | 0xFF)
    cli

    /* ---- a level line through the local APIC's EOI broadcast ---- */
    ROUTE   PIN_LEVEL, RTE_LEVEL | VEC_LEVEL
    SAVE_RIRR PIN_LEVEL, v0
    CHECK   "level.remote-irr-clear-while-the-line-is-low", $0, v0(%rip)
    LINE    PIN_LEVEL, 1
    SAVE_RIRR PIN_LEVEL, v0
    CHECK   "level.remote-irr-set-by-the-message", $1, v0(%rip)
    SAVE_VBIT APIC_IRR, VEC_LEVEL, v0
    CHECK   "level.vector-waits-in-irr", $1, v0(%rip)
    SAVE_VBIT APIC_TMR, VEC_LEVEL, v0
    CHECK   "level.tmr-set-for-a-level-message", $1, v0(%rip)
    TAKE_INTERRUPTS
    CHECK   "level.eoi-of-an-asserted-line-sends-it-again", $2, level_hits(%rip)
    CHECK   "level.remote-irr-set-in-the-handler", $1, level_rirr(%rip)
    SAVE_RIRR PIN_LEVEL, v0
    CHECK   "level.eoi-after-lowering-clears-remote-irr", $0, v0(%rip)
    SAVE_VBIT APIC_IRR, VEC_LEVEL, v0
    CHECK   "level.nothing-follows-once-lowered", $0, v0(%rip)

    /* ---- the I/O APIC's EOI register ---- */
    ROUTE   PIN_EOIREG, RTE_LEVEL | VEC_EOIREG
    LINE    PIN_EOIREG, 1
    TAKE_INTERRUPTS
    CHECK   "eoireg.remote-irr-set-again-by-the-resend", $1, eoireg_rirr(%rip)
    CHECK   "eoireg.resent-vector-waits-in-irr", $1, eoireg_irr(%rip)
    CHECK   "eoireg.resent-one-taken-after-the-first", $2, eoireg_hits(%rip)
    SAVE_RIRR PIN_EOIREG, v0
    CHECK   "eoireg.remote-irr-clear-at-the-end", $0, v0(%rip)

    /* ---- a masked level line ---- */
    ROUTE   PIN_MASKED, RTE_MASKED | RTE_LEVEL | VEC_MASKED
    LINE    PIN_MASKED, 1
    SAVE_RIRR PIN_MASKED, v0
    CHECK   "masked.no-remote-irr", $0, v0(%rip)
    SAVE_VBIT APIC_IRR, VEC_MASKED, v0
    CHECK   "masked.nothing-sent", $0, v0(%rip)
    TAKE_INTERRUPTS
    CHECK   "masked.nothing-taken", $0, masked_hits(%rip)
    ROUTE   PIN_MASKED, RTE_LEVEL | VEC_MASKED
    SAVE_RIRR PIN_MASKED, v0
    CHECK   "masked.unmasking-an-asserted-line-sends-it", $1, v0(%rip)
    TAKE_INTERRUPTS
    CHECK   "masked.taken-once-unmasked", $1, masked_hits(%rip)

    /* ---- the PIT on pin 2, edge-triggered ---- */
    ROUTE   PIN_PIT, VEC_PIT
    mov     $0x30, %al                  /* channel 0, lobyte/hibyte, mode 0 (interrupt on terminal count) */
    outb    %al, $0x43
    mov     $(1193 & 0xFF), %al         /* about 1 ms */
    outb    %al, $0x40
    mov     $(1193 >> 8), %al
    outb    %al, $0x40
1:  cmpq    $0, pit_hits(%rip)
    jne     2f
    sti
    hlt
    cli
    jmp     1b
2:  CHECK   "pit.one-interrupt-on-pin-2", $1, pit_hits(%rip)
    CHECK   "pit.tmr-clear-for-an-edge", $0, pit_tmr(%rip)
    CHECK   "pit.remote-irr-never-set", $0, pit_rirr(%rip)
    SAVE_RIRR PIN_PIT, v0
    CHECK   "pit.remote-irr-clear-after", $0, v0(%rip)

    ROUTE   PIN_PIT, RTE_MASKED | VEC_PIT
    CONF_FINISH "pc64-ioapic"

/* The level line: the first EOI leaves it asserted (sent again), the second lowers it first. */
isr_level:
    incq    level_hits(%rip)
    SAVE_RIRR PIN_LEVEL, level_rirr
    cmpq    $2, level_hits(%rip)
    jb      1f
    LINE    PIN_LEVEL, 0
1:  APIC_WRITE APIC_EOI, $0
    iretq

/* The first time: the I/O APIC's EOI register with the line still asserted, then the line is
   lowered and the local APIC EOIs (its broadcast clears the resent message's remote IRR). */
isr_eoireg:
    incq    eoireg_hits(%rip)
    cmpq    $1, eoireg_hits(%rip)
    jne     1f
    push    %r11
    mov     $IOAPIC_BASE, %r11d
    movl    $VEC_EOIREG, IOAPIC_EOI(%r11)
    pop     %r11
    SAVE_RIRR PIN_EOIREG, eoireg_rirr
    SAVE_VBIT APIC_IRR, VEC_EOIREG, eoireg_irr
    LINE    PIN_EOIREG, 0
1:  APIC_WRITE APIC_EOI, $0
    iretq

isr_masked:
    incq    masked_hits(%rip)
    LINE    PIN_MASKED, 0
    APIC_WRITE APIC_EOI, $0
    iretq

isr_pit:
    incq    pit_hits(%rip)
    SAVE_VBIT APIC_TMR, VEC_PIT, pit_tmr
    SAVE_RIRR PIN_PIT, pit_rirr
    APIC_WRITE APIC_EOI, $0
    iretq

    CONF_RUNTIME
    PC64_RUNTIME

    .data
    .balign 8
v0:             .quad 0
level_hits:     .quad 0
level_rirr:     .quad 0
eoireg_hits:    .quad 0
eoireg_rirr:    .quad 0
eoireg_irr:     .quad 0
masked_hits:    .quad 0
pit_hits:       .quad 0
pit_tmr:        .quad 0
pit_rirr:       .quad 0
