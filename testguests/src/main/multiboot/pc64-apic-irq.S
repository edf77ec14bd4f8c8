/* pc64-apic-irq: interrupt delivery from the local APIC of one CPU through the kernel's IDT.
 *
 *   ipi.*        a self-IPI through the ICR waits in IRR while IF is clear and is taken right
 *                after STI's shadow; in the handler its ISR bit is set, PPR is its class; EOI
 *                clears ISR
 *   order.*      pending vectors are taken highest first, one at a time (each handler EOIs)
 *   tpr.*        TPR holds back vectors whose class is not above its own; lowering it lets them
 *                in
 *   nested.*     a higher class preempts a handler that set IF; same class waits for its EOI,
 *                which clears the highest ISR bit
 *   sti.*        STI's shadow: a pending interrupt comes after the instruction after STI
 *   hlt.*        STI;HLT woken by the APIC timer, the frame's RIP after the HLT; STI;HLT with an
 *                interrupt already pending does not halt
 *   shadow.*     under a periodic timer, no interrupt is ever taken right after a MOV SS or an STI
 *                (sampled: the timer interrupts a loop of both until 200 interrupts landed in it)
 */
#define CONF_PC
#include "multiboot.inc"
#include "pc.inc"
#include "conformance.inc"
#include "pc64.inc"

#define VEC_TIMER 0x40

/* A handler that logs its vector, EOIs and returns. */
.macro LOGGING_ISR vec
isr_\vec:
    push    %rax
    push    %rcx
    mov     log_n(%rip), %rcx
    lea     log(%rip), %rax
    movq    $\vec, (%rax, %rcx, 8)
    incq    log_n(%rip)
    APIC_WRITE APIC_EOI, $0
    pop     %rcx
    pop     %rax
    iretq
.endm

.macro SELF_IPI vec
    APIC_WRITE APIC_ICR, $(APIC_ICR_SELF | \vec)
.endm

/* variable <- IRR/ISR bit of \vec (0 or 1) */
.macro SAVE_BIT base, vec, variable
    push    %rax
    APIC_READ (\base + 0x10 * (\vec / 32)), %eax
    shr     $(\vec % 32), %eax
    and     $1, %eax
    mov     %rax, \variable(%rip)
    pop     %rax
.endm

/* Logs \value (a marker in the vector log). */
.macro LOG value
    push    %rax
    push    %rcx
    mov     log_n(%rip), %rcx
    lea     log(%rip), %rax
    movq    $\value, (%rax, %rcx, 8)
    incq    log_n(%rip)
    pop     %rcx
    pop     %rax
.endm

.macro CLEAR_LOG
    movq    $0, log_n(%rip)
.endm

    .text
main64:
    PC_GATE 0x50, isr_0x50
    PC_GATE 0x51, isr_0x51
    PC_GATE 0x52, isr_0x52
    PC_GATE 0x53, isr_0x53
    PC_GATE 0x55, isr_0x55
    PC_GATE 0x61, isr_0x61
    PC_GATE 0x62, isr_0x62
    PC_GATE 0x65, isr_0x65
    PC_GATE 0x71, isr_0x71
    PC_GATE 0x72, isr_0x72
    PC_GATE 0x75, isr_0x75
    PC_GATE 0x80, isr_rip
    PC_GATE VEC_TIMER, isr_timer
    APIC_WRITE APIC_SPIV, $(APIC_SPIV_APIC_ENABLED | 0xFF)

    /* ---- a self-IPI ---- */
    CLEAR_LOG
    SELF_IPI 0x50
    SAVE_BIT APIC_IRR, 0x50, v0
    CHECK "ipi.waits-in-irr-with-if-clear", $1, v0(%rip)
    CHECK "ipi.not-taken-with-if-clear", $0, log_n(%rip)
    sti
    nop
    cli
    CHECK "ipi.taken-after-sti", $1, log_n(%rip)
    CHECK "ipi.isr-bit-set-in-the-handler", $1, isr50_isr(%rip)
    CHECK "ipi.irr-bit-clear-in-the-handler", $0, isr50_irr(%rip)
    CHECK "ipi.ppr-is-its-class-in-the-handler", $0x50, isr50_ppr(%rip)
    SAVE_BIT APIC_ISR, 0x50, v0
    CHECK "ipi.eoi-clears-isr", $0, v0(%rip)

    /* ---- highest first ---- */
    CLEAR_LOG
    SELF_IPI 0x51
    SELF_IPI 0x71
    SELF_IPI 0x61
    SELF_IPI 0x62
    sti
    nop
    cli
    CHECK "order.four-taken", $4, log_n(%rip)
    CHECK "order.first-0x71", $0x71, log(%rip)
    CHECK "order.then-0x62", $0x62, log+8(%rip)
    CHECK "order.then-0x61", $0x61, log+16(%rip)
    CHECK "order.last-0x51", $0x51, log+24(%rip)

    /* ---- TPR ---- */
    CLEAR_LOG
    APIC_WRITE APIC_TASKPRI, $0x60
    SELF_IPI 0x55
    SELF_IPI 0x65
    SELF_IPI 0x75
    sti
    nop
    cli
    CHECK "tpr.only-the-class-above-taken", $1, log_n(%rip)
    CHECK "tpr.that-is-0x75", $0x75, log(%rip)
    APIC_WRITE APIC_TASKPRI, $0x50
    sti
    nop
    cli
    CHECK "tpr.lowered-to-0x50-lets-0x65-in", $2, log_n(%rip)
    CHECK "tpr.0x65", $0x65, log+8(%rip)
    APIC_WRITE APIC_TASKPRI, $0
    sti
    nop
    cli
    CHECK "tpr.cleared-lets-0x55-in", $3, log_n(%rip)
    CHECK "tpr.0x55", $0x55, log+16(%rip)

    /* ---- nesting and EOI order ---- */
    CLEAR_LOG
    SELF_IPI 0x52
    sti
    nop
    cli
    CHECK "nested.four-entries", $4, log_n(%rip)
    CHECK "nested.0x52-first", $0x52, log(%rip)
    CHECK "nested.0x72-preempts-it", $0x72, log+8(%rip)
    CHECK "nested.0x53-after-the-eoi-of-0x52", $0x53, log+16(%rip)
    CHECK "nested.0x52-handler-ends-last", $0xE2, log+24(%rip)
    CHECK "nested.isr-in-0x72-has-0x52", $1, nest_isr52(%rip)
    CHECK "nested.isr-in-0x72-has-0x72", $1, nest_isr72(%rip)
    CHECK "nested.ppr-in-0x72", $0x70, nest_ppr(%rip)
    CHECK "nested.after-its-eoi-ppr-is-the-class-of-0x52", $0x50, after72_ppr(%rip)
    CHECK "nested.0x53-waits-in-irr-behind-0x52", $1, irr53(%rip)
    CHECK "nested.0x53-not-taken-before-the-eoi", $2, before_eoi_n(%rip)

    /* ---- STI's shadow ---- */
    SELF_IPI 0x80
    sti
    inc     %rcx
sti_after:
    cli
    CHECK_ADDR "sti.interrupt-after-the-next-instruction", sti_after, frame_rip(%rip)

    /* ---- STI;HLT ---- */
    movq    $0, ticks(%rip)
    APIC_WRITE APIC_TDCR, $0xB
    APIC_WRITE APIC_LVTT, $VEC_TIMER
    APIC_WRITE APIC_TMICT, $100000
    sti
    hlt
hlt_after:
    cli
    CHECK "hlt.woken-by-the-timer", $1, ticks(%rip)
    CHECK_ADDR "hlt.frame-rip-after-hlt", hlt_after, timer_rip(%rip)
    SELF_IPI 0x80
    sti
    hlt
hlt_after2:
    cli
    CHECK_ADDR "hlt.pending-interrupt-does-not-halt", hlt_after2, frame_rip(%rip)

    /* ---- no interrupt in a MOV SS or STI shadow, sampled under a periodic timer ---- */
    movq    $0, ticks(%rip)
    movq    $0, in_loop(%rip)
    movq    $0, in_shadow(%rip)
    APIC_WRITE APIC_LVTT, $(APIC_LVT_TIMER_PERIODIC | VEC_TIMER)
    APIC_WRITE APIC_TMICT, $200000           /* 200 us */
    mov     %ss, %eax
    sti
    nop                                 /* so that the first MOV SS is not in STI's shadow */
shadow_loop:
    .rept 32
    mov     %eax, %ss
    inc     %rcx
    cli
    sti
    inc     %rdx
    .endr
shadow_loop_end:
    cmpq    $200, in_loop(%rip)
    jb      shadow_loop
    cli
    APIC_WRITE APIC_TMICT, $0
    CHECK "shadow.none-after-mov-ss-or-sti", $0, in_shadow(%rip)
    REPORT  "shadow.interrupts", ticks(%rip)

    CONF_FINISH "pc64-apic-irq"

    LOGGING_ISR 0x51
    LOGGING_ISR 0x53
    LOGGING_ISR 0x55
    LOGGING_ISR 0x61
    LOGGING_ISR 0x62
    LOGGING_ISR 0x65
    LOGGING_ISR 0x71
    LOGGING_ISR 0x75

isr_0x50:
    LOG     0x50
    SAVE_BIT APIC_ISR, 0x50, isr50_isr
    SAVE_BIT APIC_IRR, 0x50, isr50_irr
    APIC_SAVE APIC_PROCPRI, isr50_ppr
    APIC_WRITE APIC_EOI, $0
    iretq

/* 0x52: lets 0x72 preempt it, then sends 0x53, which must wait for this EOI. A self-IPI arrives
   some time after the ICR write (as on hardware): the handler waits for each one it expects. */
isr_0x52:
    push    %rax
    push    %rcx
    LOG     0x52
    sti
    SELF_IPI 0x72
1:  cmpq    $2, log_n(%rip)
    jb      1b
    APIC_SAVE APIC_PROCPRI, after72_ppr
    SELF_IPI 0x53
    SAVE_BIT APIC_IRR, 0x53, irr53
    mov     $1000, %ecx                 /* 0x53 must not come now, however long it is given */
2:  pause
    loop    2b
    mov     log_n(%rip), %rax
    mov     %rax, before_eoi_n(%rip)
    APIC_WRITE APIC_EOI, $0
3:  cmpq    $3, log_n(%rip)
    jb      3b
    cli
    LOG     0xE2
    pop     %rcx
    pop     %rax
    iretq

isr_0x72:
    LOG     0x72
    SAVE_BIT APIC_ISR, 0x52, nest_isr52
    SAVE_BIT APIC_ISR, 0x72, nest_isr72
    APIC_SAVE APIC_PROCPRI, nest_ppr
    APIC_WRITE APIC_EOI, $0
    iretq

/* 0x80: where it interrupted */
isr_rip:
    push    %rax
    mov     8(%rsp), %rax
    mov     %rax, frame_rip(%rip)
    pop     %rax
    APIC_WRITE APIC_EOI, $0
    iretq

/* the timer: counts, records where it interrupted, and whether that was in the shadow loop right
   after MOV SS (8E D0) or STI (FB) */
isr_timer:
    push    %rax
    push    %rbx
    incq    ticks(%rip)
    mov     16(%rsp), %rax
    mov     %rax, timer_rip(%rip)
    lea     shadow_loop(%rip), %rbx
    cmp     %rbx, %rax
    jb      1f
    lea     shadow_loop_end(%rip), %rbx
    cmp     %rbx, %rax
    ja      1f
    incq    in_loop(%rip)
    cmpw    $0xD08E, -2(%rax)
    je      2f
    cmpb    $0xFB, -1(%rax)
    jne     1f
2:  incq    in_shadow(%rip)
1:  APIC_WRITE APIC_EOI, $0
    pop     %rbx
    pop     %rax
    iretq

    .data
    .balign 8
v0:         .quad 0
log_n:      .quad 0
log:        .space 16 * 8
isr50_isr:  .quad -1
isr50_irr:  .quad -1
isr50_ppr:  .quad -1
nest_isr52: .quad -1
nest_isr72: .quad -1
nest_ppr:   .quad -1
after72_ppr: .quad -1
irr53:      .quad -1
before_eoi_n: .quad -1
frame_rip:  .quad 0
ticks:      .quad 0
timer_rip:  .quad 0
in_loop:    .quad 0
in_shadow:  .quad 0

    .text
    CONF_RUNTIME
    PC64_RUNTIME
