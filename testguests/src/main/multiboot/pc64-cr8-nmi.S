/* pc64-cr8-nmi: CR8 as the local APIC's TPR, and NMIs to one CPU, from inside a long-mode kernel.
 *
 *   cr8.*        MOV to CR8 writes TPR[7:4] (TPR[3:0] cleared), MOV from CR8 reads TPR[7:4]; a
 *                value with bits 63:4 set raises #GP(0) and changes nothing; CR8 holds back the
 *                interrupts whose class is not above it, lowering it lets them in; with the APIC
 *                globally disabled (IA32_APIC_BASE.EN = 0) CR8 still reads back what was
 *                written, as on KVM, while the APIC page reads all-ones; re-enabled, the
 *                TPR holds what CR8 wrote
 *   nmi.*        an NMI sent to the CPU's own APIC ID (ICR delivery mode NMI) is taken through
 *                vector 2 whatever RFLAGS.IF says; an NMI sent from inside the NMI handler waits
 *                until the handler's IRET and is taken right after it; further NMIs sent while
 *                one waits are lost (at most one waits while NMIs are blocked)
 */
#define CONF_PC
#include "multiboot.inc"
#include "pc.inc"
#include "conformance.inc"
#include "pc64.inc"

#define VEC_LOW     0x45
#define VEC_HIGH    0x65
#define APIC_DM_NMI 0x400
#define APIC_BASE_EN 0x800

/* An NMI to APIC ID 0 (this CPU), physical destination. Preserves every register. */
.macro SEND_NMI
    APIC_WRITE APIC_ICR2, $0
    APIC_WRITE APIC_ICR, $APIC_DM_NMI
.endm

/* An instruction that exits to the VMM: an IPI's delivery is asynchronous, but the NMI it latched
   is taken at the latest when the guest is next entered. Clobbers %rax, %rbx, %rcx, %rdx. */
.macro SYNC
    xor     %eax, %eax
    cpuid
.endm

    .text
main64:
    PC_GATE VEC_LOW, isr_low
    PC_GATE VEC_HIGH, isr_high
    PC_GATE 2, isr_nmi
    APIC_WRITE APIC_SPIV, $(APIC_SPIV_APIC_ENABLED | 0xFF)

    /* ---- CR8 <-> TPR ---- */
    mov     $5, %eax
    mov     %rax, %cr8
    APIC_SAVE APIC_TASKPRI, v0
    CHECK "cr8.write-sets-tpr-7-4", $0x50, v0(%rip)
    APIC_WRITE APIC_TASKPRI, $0x73
    mov     %cr8, %rax
    mov     %rax, v0(%rip)
    CHECK "cr8.reads-tpr-7-4", $7, v0(%rip)
    mov     $0xF, %eax
    mov     %rax, %cr8
    APIC_SAVE APIC_TASKPRI, v0
    CHECK "cr8.write-clears-tpr-3-0", $0xF0, v0(%rip)
    CONF_BEGIN
    ARM_RECOVER 1f
    mov     $0x10, %eax
    mov     %rax, %cr8
1:  CHECK "cr8.bit-4-gp", $VEC_GP, exc_vector(%rip)
    CHECK "cr8.bit-4-gp-error-code-0", $0, exc_error(%rip)
    CONF_BEGIN
    ARM_RECOVER 1f
    movabs  $0x8000000000000001, %rax
    mov     %rax, %cr8
1:  CHECK "cr8.bit-63-gp", $VEC_GP, exc_vector(%rip)
    mov     %cr8, %rax
    mov     %rax, v0(%rip)
    CHECK "cr8.unchanged-by-refused-writes", $0xF, v0(%rip)

    /* CR8 as a priority: 0x45 (class 4) and 0x65 (class 6) pending, CR8 = 5 lets only 0x65 in. */
    movq    $0, log_n(%rip)
    mov     $5, %eax
    mov     %rax, %cr8
    APIC_WRITE APIC_ICR, $(APIC_ICR_SELF | VEC_LOW)
    APIC_WRITE APIC_ICR, $(APIC_ICR_SELF | VEC_HIGH)
    sti
    nop
    cli
    CHECK "cr8.only-the-class-above-taken", $1, log_n(%rip)
    CHECK "cr8.that-is-0x65", $VEC_HIGH, log(%rip)
    xor     %eax, %eax
    mov     %rax, %cr8
    sti
    nop
    cli
    CHECK "cr8.lowered-to-0-lets-0x45-in", $2, log_n(%rip)
    CHECK "cr8.0x45", $VEC_LOW, log+8(%rip)

    /* CR8 with the APIC globally disabled. */
    mov     $APIC_BASE_MSR, %ecx
    rdmsr
    and     $~APIC_BASE_EN, %eax
    wrmsr
    mov     $9, %eax
    mov     %rax, %cr8
    mov     %cr8, %rax
    mov     %rax, v0(%rip)
    CHECK "cr8.apic-disabled-reads-back", $9, v0(%rip)
    APIC_SAVE APIC_TASKPRI, v0
    CHECK "cr8.apic-disabled-page-reads-all-ones", $0xFFFFFFFF, v0(%rip)
    mov     $APIC_BASE_MSR, %ecx
    rdmsr
    or      $APIC_BASE_EN, %eax
    wrmsr
    APIC_WRITE APIC_SPIV, $(APIC_SPIV_APIC_ENABLED | 0xFF)
    APIC_SAVE APIC_TASKPRI, v0
    CHECK "cr8.written-while-disabled-is-the-tpr-after-re-enable", $0x90, v0(%rip)
    xor     %eax, %eax
    mov     %rax, %cr8

    /* ---- NMI ---- */
    movq    $0, nmis(%rip)
    SEND_NMI
    SYNC
    CHECK "nmi.taken-with-if-clear", $1, nmis(%rip)
    CHECK "nmi.not-nested", $0, nested(%rip)
    /* The handler sends three more at its first entry: one waits for its IRET, the others are lost. */
    movq    $0, nmis(%rip)
    movq    $3, resend(%rip)
    SEND_NMI
    SYNC
    CHECK "nmi.the-one-sent-in-the-handler-taken-after-its-iret", $2, nmis(%rip)
    CHECK "nmi.never-nested", $0, nested(%rip)
    CHECK "nmi.second-entered-after-the-first-returned", $1, seen_done(%rip)

    CONF_FINISH "pc64-cr8-nmi"

isr_low:
    push    %rax
    push    %rcx
    mov     log_n(%rip), %rcx
    lea     log(%rip), %rax
    movq    $VEC_LOW, (%rax, %rcx, 8)
    incq    log_n(%rip)
    APIC_WRITE APIC_EOI, $0
    pop     %rcx
    pop     %rax
    iretq

isr_high:
    push    %rax
    push    %rcx
    mov     log_n(%rip), %rcx
    lea     log(%rip), %rax
    movq    $VEC_HIGH, (%rax, %rcx, 8)
    incq    log_n(%rip)
    APIC_WRITE APIC_EOI, $0
    pop     %rcx
    pop     %rax
    iretq

/* Counts NMIs; notes one that arrives while another's handler runs (nesting) and, for the second,
   whether the first had returned. The first of a series sends \resend more. */
isr_nmi:
    push    %rax
    cmpq    $0, in_nmi(%rip)
    je      1f
    incq    nested(%rip)
1:  movq    $1, in_nmi(%rip)
    incq    nmis(%rip)
    cmpq    $2, nmis(%rip)
    jne     2f
    mov     first_done(%rip), %rax
    mov     %rax, seen_done(%rip)
2:  movq    $0, first_done(%rip)
    mov     resend(%rip), %rax
    movq    $0, resend(%rip)
3:  test    %rax, %rax
    jz      4f
    SEND_NMI
    dec     %rax
    jmp     3b
4:  movq    $0, in_nmi(%rip)
    movq    $1, first_done(%rip)
    pop     %rax
    iretq

    .data
    .balign 8
v0:         .quad 0
log_n:      .quad 0
log:        .space 8 * 8
nmis:       .quad 0
nested:     .quad 0
in_nmi:     .quad 0
resend:     .quad 0
first_done: .quad 0
seen_done:  .quad 0

    .text
    CONF_RUNTIME
    PC64_RUNTIME
