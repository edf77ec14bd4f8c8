/* pc64-x2apic: the x2APIC from inside a long-mode kernel on the BSP (SDM vol. 3A "Extended
 * XAPIC (x2APIC)"): the mode transitions of IA32_APIC_BASE with their #GP rules, the x2APIC
 * MSRs and what they refuse, and the TSC-deadline timer driven through them.
 *
 *   cpuid.*       CPUID.01H:ECX offers x2APIC (bit 21) and the TSC-deadline timer (bit 24)
 *   xapic.*       in xAPIC mode the x2APIC MSRs raise #GP, read or written
 *   state.*       "x2APIC State Transitions": xAPIC to disabled, disabled to x2APIC (#GP),
 *                 EXTD without EN (#GP), disabled to xAPIC, xAPIC to x2APIC, x2APIC to xAPIC
 *                 (#GP), a reserved bit (#GP), x2APIC to disabled, and xAPIC again; a refused
 *                 write leaves IA32_APIC_BASE as it was
 *   mmio.*        in x2APIC mode the xAPIC page is not decoded: reads see all ones and a write
 *                 reaches no register; in xAPIC mode again it answers
 *   msr.*         the x2APIC ID is the APIC ID; the LDR is derived (cluster << 16 | 1 << (ID & 15));
 *                 ID, version and LDR are read-only (#GP on write); EOI and SELF IPI are
 *                 write-only (#GP on read); ICR high and DFR do not exist (#GP); bits 63:32 of
 *                 a 32-bit register and a non-zero EOI write raise #GP
 *   ipi.*         the ICR is one 64-bit MSR (destination in bits 63:32) that reads back what was
 *                 written; a fixed IPI to the own x2APIC ID and the SELF IPI MSR (0x83F) reach
 *                 this CPU, seen in the ISR MSRs inside the handler; reserved ICR bits raise #GP
 *   tpr.*         the TPR MSR is CR8 << 4
 *   deadline.*    LVT timer mode 10b written through MSR 0x832: the interrupt comes at or after
 *                 the TSC value written to IA32_TSC_DEADLINE, which then reads 0
 */
#define CONF_PC
#include "multiboot.inc"
#include "pc.inc"
#include "conformance.inc"
#include "pc64.inc"

#define BASE_EN         0x800
#define BASE_EXTD       0x400
#define BASE_BSP        0x100
#define XAPIC_MODE      (APIC_DEFAULT | BASE_EN | BASE_BSP)
#define X2APIC_MODE     (APIC_DEFAULT | BASE_EN | BASE_EXTD | BASE_BSP)
#define DISABLED        (APIC_DEFAULT | BASE_BSP)

#define X2_ID           0x802
#define X2_VERSION      0x803
#define X2_TPR          0x808
#define X2_EOI          0x80B
#define X2_LDR          0x80D
#define X2_DFR          0x80E
#define X2_SVR          0x80F
#define X2_ISR          0x810
#define X2_ICR          0x830
#define X2_ICR_HIGH     0x831
#define X2_LVT_TIMER    0x832
#define X2_SELF_IPI     0x83F
#define MSR_TSC_DEADLINE 0x6E0

#define VEC_ICR         0x51
#define VEC_SELF        0x62
#define VEC_TIMER       0x73
#define DEADLINE_TICKS  50000           /* 50 us of TSC at 1 GHz */

/* \index reads \expected. */
.macro READS name, index, expected
    RD      \index
    mov     %rax, got(%rip)
    CHECK "\name", $(\expected), got(%rip)
.endm

/* Reading \index raises #GP(0). */
.macro GP_ON_RD name, index
    CONF_BEGIN
    ARM_RECOVER 1f
    mov     $(\index), %ecx
    rdmsr
1:  CHECK "\name", $VEC_GP, exc_vector(%rip)
.endm

/* Writing \value to \index raises #GP(0). */
.macro GP_ON_WR name, index, value
    CONF_BEGIN
    ARM_RECOVER 1f
    WR      \index, \value
1:  CHECK "\name", $VEC_GP, exc_vector(%rip)
.endm

/* Writing \value to \index is accepted (no exception). */
.macro OK_WR name, index, value
    CONF_BEGIN
    ARM_RECOVER 1f
    WR      \index, \value
    movq    $0, exc_recover(%rip)
1:  CHECK "\name", $-1, exc_vector(%rip)
.endm

/* got <- the xAPIC page's register \reg through MMIO */
.macro MMIO_SAVE reg
    APIC_SAVE \reg, got
.endm

    .text
main64:
    PC_GATE VEC_ICR, isr_icr
    PC_GATE VEC_SELF, isr_self
    PC_GATE VEC_TIMER, isr_timer

    /* ---- CPUID ---- */
    mov     $1, %eax
    cpuid
    mov     %ecx, %eax
    shr     $21, %eax
    and     $1, %eax
    mov     %rax, got(%rip)
    CHECK   "cpuid.x2apic-offered", $1, got(%rip)
    mov     $1, %eax
    cpuid
    mov     %ecx, %eax
    shr     $24, %eax
    and     $1, %eax
    mov     %rax, got(%rip)
    CHECK   "cpuid.tsc-deadline-offered", $1, got(%rip)

    /* ---- xAPIC mode ---- */
    READS   "xapic.apic-base-at-entry", APIC_BASE_MSR, XAPIC_MODE
    GP_ON_RD "xapic.x2apic-id-msr-read-gp", X2_ID
    GP_ON_WR "xapic.x2apic-tpr-msr-write-gp", X2_TPR, 0

    /* ---- the state transitions ---- */
    OK_WR   "state.xapic-to-disabled", APIC_BASE_MSR, DISABLED
    READS   "state.disabled", APIC_BASE_MSR, DISABLED
    GP_ON_WR "state.disabled-to-x2apic-gp", APIC_BASE_MSR, X2APIC_MODE
    GP_ON_WR "state.extd-without-en-gp", APIC_BASE_MSR, DISABLED | BASE_EXTD
    READS   "state.still-disabled", APIC_BASE_MSR, DISABLED
    GP_ON_RD "state.disabled-x2apic-msr-gp", X2_ID
    OK_WR   "state.disabled-to-xapic", APIC_BASE_MSR, XAPIC_MODE
    MMIO_SAVE APIC_LVR
    CHECK_MASK "mmio.xapic-page-answers", $0x14, got(%rip), $0xFF
    OK_WR   "state.xapic-to-x2apic", APIC_BASE_MSR, X2APIC_MODE
    READS   "state.x2apic", APIC_BASE_MSR, X2APIC_MODE
    GP_ON_WR "state.x2apic-to-xapic-gp", APIC_BASE_MSR, XAPIC_MODE
    GP_ON_WR "state.reserved-bit-9-gp", APIC_BASE_MSR, X2APIC_MODE | 0x200
    READS   "state.still-x2apic", APIC_BASE_MSR, X2APIC_MODE

    /* ---- the xAPIC page in x2APIC mode ---- */
    MMIO_SAVE APIC_LVR
    CHECK   "mmio.x2apic-mode-page-reads-all-ones", $0xFFFFFFFF, got(%rip)
    APIC_WRITE APIC_TASKPRI, $0x30
    READS   "mmio.x2apic-mode-write-reaches-no-register", X2_TPR, 0

    /* ---- the x2APIC MSRs ---- */
    mov     $1, %eax
    cpuid
    shr     $24, %ebx                   /* the initial APIC ID */
    mov     %rbx, apic_id(%rip)
    RD      X2_ID
    mov     %rax, got(%rip)
    CHECK   "msr.x2apic-id-is-the-apic-id", apic_id(%rip), got(%rip)
    mov     apic_id(%rip), %rcx
    mov     %rcx, %rax
    shr     $4, %rax
    shl     $16, %rax
    and     $15, %ecx
    mov     $1, %edx
    shl     %cl, %edx
    or      %rdx, %rax
    mov     %rax, want(%rip)
    RD      X2_LDR
    mov     %rax, got(%rip)
    CHECK   "msr.ldr-derived-from-the-id", want(%rip), got(%rip)
    READS   "msr.version", X2_VERSION, 0x50014
    GP_ON_WR "msr.id-read-only-gp", X2_ID, 5
    GP_ON_WR "msr.version-read-only-gp", X2_VERSION, 0x50014
    GP_ON_WR "msr.ldr-read-only-gp", X2_LDR, 2
    RD      X2_LDR
    mov     %rax, got(%rip)
    CHECK   "msr.ldr-unchanged", want(%rip), got(%rip)
    GP_ON_RD "msr.eoi-write-only-gp", X2_EOI
    GP_ON_RD "msr.self-ipi-write-only-gp", X2_SELF_IPI
    GP_ON_RD "msr.icr-high-absent-gp", X2_ICR_HIGH
    GP_ON_RD "msr.dfr-absent-gp", X2_DFR
    GP_ON_WR "msr.bits-63-32-gp", X2_SVR, 0x1000001FF
    GP_ON_WR "msr.eoi-non-zero-gp", X2_EOI, 1
    OK_WR   "msr.svr-enable", X2_SVR, 0x1FF
    READS   "msr.svr-reads-back", X2_SVR, 0x1FF

    /* ---- IPIs ---- */
    sti
    mov     apic_id(%rip), %rdx         /* destination: bits 63:32, %edx of WRMSR */
    mov     $(0x4000 | VEC_ICR), %eax   /* fixed, physical, asserted */
    mov     $X2_ICR, %ecx
    wrmsr
1:  cmpq    $0, icr_hits(%rip)
    je      1b
    CHECK   "ipi.icr-to-the-own-x2apic-id-arrives", $1, icr_hits(%rip)
    mov     apic_id(%rip), %rax
    shl     $32, %rax
    or      $(0x4000 | VEC_ICR), %rax
    mov     %rax, want(%rip)
    RD      X2_ICR
    mov     %rax, got(%rip)
    CHECK   "ipi.icr-reads-back-as-one-64-bit-register", want(%rip), got(%rip)
    CHECK   "ipi.in-service-during-the-handler", $(1 << (VEC_ICR & 31)), isr_seen(%rip)
    WR      X2_SELF_IPI, VEC_SELF
2:  cmpq    $0, self_hits(%rip)
    je      2b
    CHECK   "ipi.self-ipi-msr-arrives", $1, self_hits(%rip)
    CHECK   "ipi.self-ipi-in-service-during-the-handler", $(1 << (VEC_SELF & 31)), isr_seen(%rip)
    cli
    GP_ON_WR "ipi.icr-reserved-bit-13-gp", X2_ICR, 0x2000 | 0x4000 | VEC_ICR
    GP_ON_WR "ipi.self-ipi-bits-above-7-gp", X2_SELF_IPI, 0x100 | VEC_SELF
    CHECK   "ipi.refused-writes-sent-nothing", $1, icr_hits(%rip)

    /* ---- TPR ---- */
    WR      X2_TPR, 0x50
    mov     %cr8, %rax
    mov     %rax, got(%rip)
    CHECK   "tpr.cr8-is-the-tpr-class", $5, got(%rip)
    mov     $3, %eax
    mov     %rax, %cr8
    READS   "tpr.cr8-write-shows-in-the-msr", X2_TPR, 0x30
    xor     %eax, %eax
    mov     %rax, %cr8

    /* ---- TSC-deadline through the x2APIC LVT ---- */
    WR      X2_LVT_TIMER, 0x40000 | VEC_TIMER
    READS   "deadline.lvt-timer-mode-10b", X2_LVT_TIMER, 0x40000 | VEC_TIMER
    rdtsc
    shl     $32, %rdx
    or      %rdx, %rax
    add     $DEADLINE_TICKS, %rax
    mov     %rax, want(%rip)
    mov     %rax, %rdx
    shr     $32, %rdx
    mov     $MSR_TSC_DEADLINE, %ecx
    wrmsr
3:  cli
    cmpq    $0, timer_hits(%rip)
    jne     4f
    sti
    hlt
    jmp     3b
4:  CHECK   "deadline.one-interrupt", $1, timer_hits(%rip)
    mov     timer_tsc(%rip), %rax
    cmp     want(%rip), %rax
    setae   %al
    movzbl  %al, %eax
    mov     %rax, got(%rip)
    CHECK   "deadline.not-before-the-deadline", $1, got(%rip)
    READS   "deadline.msr-0-once-fired", MSR_TSC_DEADLINE, 0
    WR      X2_LVT_TIMER, APIC_LVT_MASKED | VEC_TIMER

    /* ---- back to xAPIC mode, through disabled ---- */
    OK_WR   "state.x2apic-to-disabled", APIC_BASE_MSR, DISABLED
    GP_ON_RD "state.disabled-again-x2apic-msr-gp", X2_SVR
    OK_WR   "state.disabled-to-xapic-again", APIC_BASE_MSR, XAPIC_MODE
    MMIO_SAVE APIC_LVR
    CHECK_MASK "mmio.xapic-page-answers-again", $0x14, got(%rip), $0xFF
    MMIO_SAVE APIC_ID
    mov     apic_id(%rip), %rax
    shl     $24, %rax
    mov     %rax, want(%rip)
    CHECK   "mmio.xapic-id-in-bits-31-24-again", want(%rip), got(%rip)

    CONF_FINISH "pc64-x2apic"

/* A fixed IPI through the ICR: counted, the ISR word of its vector recorded, EOI by MSR. */
isr_icr:
    push    %rax
    push    %rcx
    push    %rdx
    mov     $(X2_ISR + (VEC_ICR >> 5)), %ecx
    rdmsr
    mov     %rax, isr_seen(%rip)
    incq    icr_hits(%rip)
    xor     %eax, %eax
    xor     %edx, %edx
    mov     $X2_EOI, %ecx
    wrmsr
    pop     %rdx
    pop     %rcx
    pop     %rax
    iretq

isr_self:
    push    %rax
    push    %rcx
    push    %rdx
    mov     $(X2_ISR + (VEC_SELF >> 5)), %ecx
    rdmsr
    mov     %rax, isr_seen(%rip)
    incq    self_hits(%rip)
    xor     %eax, %eax
    xor     %edx, %edx
    mov     $X2_EOI, %ecx
    wrmsr
    pop     %rdx
    pop     %rcx
    pop     %rax
    iretq

isr_timer:
    push    %rax
    push    %rcx
    push    %rdx
    rdtsc
    shl     $32, %rdx
    or      %rdx, %rax
    mov     %rax, timer_tsc(%rip)
    incq    timer_hits(%rip)
    xor     %eax, %eax
    xor     %edx, %edx
    mov     $X2_EOI, %ecx
    wrmsr
    pop     %rdx
    pop     %rcx
    pop     %rax
    iretq

    CONF_RUNTIME
    PC64_RUNTIME

    .data
    .balign 8
got:        .quad 0
want:       .quad 0
apic_id:    .quad 0
icr_hits:   .quad 0
self_hits:  .quad 0
timer_hits: .quad 0
timer_tsc:  .quad 0
isr_seen:   .quad 0
