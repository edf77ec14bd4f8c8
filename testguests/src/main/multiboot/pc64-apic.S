/* pc64-apic: the local APIC's registers on one CPU, through its xAPIC page (SDM vol. 3A,
 * "Advanced Programmable Interrupt Controller"), as the kernel finds them after the Multiboot
 * entry and as it programs them:
 *
 *   reset.*     ID 0, version 0x14 with 6 LVT entries and no EOI-broadcast suppression, SVR 0xFF
 *               (software-disabled), TPR/PPR 0, DFR flat, every LVT masked but the BSP's LINT0
 *               (ExtINT, as firmware leaves it), ISR/IRR/TMR empty
 *   id.*        the ID is writable in xAPIC mode (bits 31:24)
 *   tpr.*       TPR keeps 8 bits; PPR follows it while nothing is in service
 *   ldr/dfr.*   LDR keeps bits 31:24, DFR's model bits 31:28 (the rest read 1)
 *   svr.*       writable bits 9:0; while software-disabled an LVT write keeps its mask, and
 *               disabling masks every LVT entry, which stays masked once enabled again
 *   lvt.*       each LVT keeps its own fields
 *   esr.*       errors show only after a write to ESR: an illegal register read, a self-IPI with
 *               vector 3 ("send illegal vector")
 *   readonly.*  writes to the version, PPR, ISR, IRR and TMCCT change nothing; EOI with nothing in
 *               service does nothing
 *   timer.*     TDCR keeps bits 3, 1:0; TMICT reads back; TMCCT counts down from it; TMICT 0 stops
 *   disable.*   IA32_APIC_BASE.EN clear: CPUID.01H:EDX.APIC clear and the page reads all-ones;
 *               enabled again, the registers are at their power-up values
 */
#define CONF_PC
#include "multiboot.inc"
#include "pc.inc"
#include "conformance.inc"
#include "pc64.inc"

/* variable <- APIC register, CHECK it against \expected */
.macro APIC_IS name, reg, expected
    APIC_SAVE \reg, v0
    CHECK "\name", $(\expected), v0(%rip)
.endm

    .text
main64:
    /* ---- as the kernel finds it ---- */
    APIC_IS "reset.id-0", APIC_ID, 0
    APIC_IS "reset.version-0x14-max-lvt-5", APIC_LVR, 0x00050014
    APIC_IS "reset.svr-0xff-software-disabled", APIC_SPIV, 0xFF
    APIC_IS "reset.tpr-0", APIC_TASKPRI, 0
    APIC_IS "reset.ppr-0", APIC_PROCPRI, 0
    APIC_IS "reset.dfr-flat", APIC_DFR, 0xFFFFFFFF
    APIC_IS "reset.ldr-0", APIC_LDR, 0
    APIC_IS "reset.lvt-timer-masked", APIC_LVTT, APIC_LVT_MASKED
    APIC_IS "reset.lvt-thermal-masked", APIC_LVTTHMR, APIC_LVT_MASKED
    APIC_IS "reset.lvt-pmc-masked", APIC_LVTPC, APIC_LVT_MASKED
    APIC_IS "reset.lvt-lint0-extint-unmasked", APIC_LVT0, 0x700
    APIC_IS "reset.lvt-lint1-masked", APIC_LVT1, APIC_LVT_MASKED
    APIC_IS "reset.lvt-error-masked", APIC_LVTERR, APIC_LVT_MASKED
    APIC_IS "reset.tmict-0", APIC_TMICT, 0
    APIC_IS "reset.tdcr-0", APIC_TDCR, 0
    call    or_isr_irr_tmr
    CHECK "reset.isr-irr-tmr-empty", $0, v0(%rip)

    /* ---- ID, TPR/PPR, LDR, DFR ---- */
    APIC_WRITE APIC_ID, $0x05000000
    APIC_IS "id.writable", APIC_ID, 0x05000000
    APIC_WRITE APIC_ID, $0
    APIC_WRITE APIC_TASKPRI, $0x25
    APIC_IS "tpr.reads-back", APIC_TASKPRI, 0x25
    APIC_IS "tpr.ppr-follows-tpr", APIC_PROCPRI, 0x25
    APIC_WRITE APIC_TASKPRI, $0x1FF
    APIC_IS "tpr.keeps-8-bits", APIC_TASKPRI, 0xFF
    APIC_WRITE APIC_TASKPRI, $0
    APIC_IS "tpr.ppr-0-again", APIC_PROCPRI, 0
    APIC_WRITE APIC_LDR, $0x12345678
    APIC_IS "ldr.keeps-bits-31-24", APIC_LDR, 0x12000000
    APIC_WRITE APIC_DFR, $0x0FFFFFFF
    APIC_IS "dfr.cluster-model", APIC_DFR, 0x0FFFFFFF
    APIC_WRITE APIC_DFR, $0xF0000000
    APIC_IS "dfr.flat-model-low-bits-read-1", APIC_DFR, 0xFFFFFFFF
    APIC_WRITE APIC_LDR, $0

    /* ---- SVR and the LVT masks ---- */
    APIC_WRITE APIC_LVTT, $0x30
    APIC_IS "svr.disabled-lvt-write-keeps-the-mask", APIC_LVTT, APIC_LVT_MASKED | 0x30
    APIC_WRITE APIC_SPIV, $0xFFFFFFFF
    APIC_IS "svr.writable-bits-9-0", APIC_SPIV, 0x3FF
    APIC_WRITE APIC_SPIV, $(APIC_SPIV_APIC_ENABLED | 0xFF)
    APIC_IS "svr.enabled", APIC_SPIV, 0x1FF
    APIC_WRITE APIC_LVTT, $0x30
    APIC_IS "lvt.timer-unmasked-when-enabled", APIC_LVTT, 0x30
    APIC_WRITE APIC_LVTT, $(APIC_LVT_TIMER_PERIODIC | APIC_LVT_MASKED | 0x31)
    APIC_IS "lvt.timer-periodic-masked-vector", APIC_LVTT, APIC_LVT_TIMER_PERIODIC | APIC_LVT_MASKED | 0x31
    APIC_WRITE APIC_LVTERR, $0x32
    APIC_IS "lvt.error-vector", APIC_LVTERR, 0x32
    APIC_WRITE APIC_LVT1, $0x400                /* NMI */
    APIC_IS "lvt.lint1-nmi", APIC_LVT1, 0x400
    APIC_WRITE APIC_LVTPC, $0x33
    APIC_IS "lvt.pmc-vector", APIC_LVTPC, 0x33
    APIC_WRITE APIC_LVTT, $0x30
    APIC_WRITE APIC_SPIV, $0xFF
    APIC_IS "svr.disabling-masks-the-timer", APIC_LVTT, APIC_LVT_MASKED | 0x30
    APIC_IS "svr.disabling-masks-lint1", APIC_LVT1, APIC_LVT_MASKED | 0x400
    APIC_IS "svr.disabling-masks-error", APIC_LVTERR, APIC_LVT_MASKED | 0x32
    APIC_WRITE APIC_SPIV, $0x1FF
    APIC_IS "svr.masks-stay-once-enabled", APIC_LVTT, APIC_LVT_MASKED | 0x30
    APIC_WRITE APIC_LVTERR, $APIC_LVT_MASKED
    APIC_WRITE APIC_LVT1, $APIC_LVT_MASKED
    APIC_WRITE APIC_LVTPC, $APIC_LVT_MASKED

    /* ---- ESR ---- */
    APIC_WRITE APIC_ESR, $0
    APIC_IS "esr.clear", APIC_ESR, 0
    APIC_SAVE 0x10, v1                          /* a reserved offset */
    CHECK "esr.reserved-offset-reads-0", $0, v1(%rip)
    APIC_IS "esr.not-before-a-write", APIC_ESR, 0
    APIC_WRITE APIC_ESR, $0
    APIC_IS "esr.illegal-register-address", APIC_ESR, 0x80
    APIC_WRITE APIC_ICR, $(APIC_ICR_SELF | 3)
    APIC_WRITE APIC_ESR, $0
    APIC_SAVE APIC_ESR, v0
    CHECK_MASK "esr.send-illegal-vector", $0x20, v0(%rip), $0xA0
    call    or_isr_irr_tmr
    CHECK "esr.illegal-vector-not-delivered", $0, v0(%rip)
    APIC_WRITE APIC_ESR, $0
    APIC_IS "esr.clear-again", APIC_ESR, 0

    /* ---- read-only registers, EOI with nothing in service ---- */
    APIC_WRITE APIC_LVR, $0
    APIC_WRITE APIC_PROCPRI, $0x50
    APIC_WRITE APIC_ISR + 0x70, $0xFFFFFFFF
    APIC_WRITE APIC_IRR + 0x70, $0xFFFFFFFF
    APIC_WRITE APIC_EOI, $0
    APIC_IS "readonly.version", APIC_LVR, 0x00050014
    APIC_IS "readonly.ppr", APIC_PROCPRI, 0
    call    or_isr_irr_tmr
    CHECK "readonly.isr-irr-and-eoi", $0, v0(%rip)

    /* ---- timer registers (the timer masked) ---- */
    APIC_WRITE APIC_LVTT, $(APIC_LVT_MASKED | 0x30)
    APIC_WRITE APIC_TDCR, $0xFFFFFFFF
    APIC_IS "timer.tdcr-bits-3-1-0", APIC_TDCR, 0xB
    APIC_WRITE APIC_TMICT, $0x7FFFFFFF          /* about 2 s at divide-by-1 */
    APIC_IS "timer.tmict-reads-back", APIC_TMICT, 0x7FFFFFFF
    APIC_SAVE APIC_TMCCT, v1
    APIC_SAVE APIC_TMCCT, v2
    mov     v1(%rip), %rax
    cmp     $0x7FFFFFFF, %rax
    setbe   %bl
    cmp     v2(%rip), %rax
    seta    %cl
    and     %cl, %bl
    movzbl  %bl, %ebx
    CHECK "timer.tmcct-counts-down-from-tmict", $1, %rbx
    APIC_WRITE APIC_TMCCT, $5
    APIC_SAVE APIC_TMCCT, v1
    mov     v1(%rip), %rax
    cmp     $5, %rax
    seta    %bl
    movzbl  %bl, %ebx
    CHECK "readonly.tmcct", $1, %rbx
    APIC_WRITE APIC_TMICT, $0
    APIC_IS "timer.tmict-0-stops-it", APIC_TMCCT, 0

    /* ---- globally disabled through IA32_APIC_BASE ---- */
    APIC_WRITE APIC_TASKPRI, $0x40
    mov     $APIC_BASE_MSR, %ecx
    rdmsr
    and     $~0x800, %eax
    wrmsr
    mov     $1, %eax
    cpuid
    mov     %rdx, v0(%rip)
    CHECK_MASK "disable.cpuid-apic-bit-clear", $0, v0(%rip), $(1 << 9)
    APIC_IS "disable.page-reads-all-ones", APIC_LVR, 0xFFFFFFFF
    mov     $APIC_BASE_MSR, %ecx
    rdmsr
    or      $0x800, %eax
    wrmsr
    mov     $1, %eax
    cpuid
    mov     %rdx, v0(%rip)
    CHECK_MASK "disable.cpuid-apic-bit-back", $(1 << 9), v0(%rip), $(1 << 9)
    APIC_IS "disable.enabled-again-svr-power-up", APIC_SPIV, 0xFF
    APIC_IS "disable.enabled-again-tpr-power-up", APIC_TASKPRI, 0
    APIC_IS "disable.enabled-again-timer-masked", APIC_LVTT, APIC_LVT_MASKED
    APIC_IS "disable.enabled-again-version", APIC_LVR, 0x00050014

    CONF_FINISH "pc64-apic"

/* v0 <- the OR of every ISR, IRR and TMR word (clobbers %rax, %rcx, %rdx) */
or_isr_irr_tmr:
    mov     $APIC_DEFAULT, %edx
    xor     %eax, %eax
    xor     %ecx, %ecx
1:  or      APIC_ISR(%rdx, %rcx), %eax
    or      APIC_IRR(%rdx, %rcx), %eax
    or      APIC_TMR(%rdx, %rcx), %eax
    add     $0x10, %ecx
    cmp     $0x80, %ecx
    jne     1b
    mov     %rax, v0(%rip)
    ret

    .data
    .balign 8
v0: .quad 0
v1: .quad 0
v2: .quad 0

    .text
    CONF_RUNTIME
    PC64_RUNTIME
