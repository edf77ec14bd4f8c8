/* pc64-boot-progress: the SMP benchmark's progress kernel (SmpBenchmark), on 1 to 8 CPUs (fw_cfg's
 * count). Every CPU runs the same WORK iterations of a register-only xorshift loop: on one CPU the
 * bootstrap processor alone; on several, each application processor starts its share as soon as
 * it reaches long mode, and the BSP its own once every AP is up, with interrupts enabled (an IF=0
 * stretch with an IPI pending would be an interrupt window, checked at every block). An AP that
 * has finished stores its result, counts itself done and wakes the BSP with a fixed IPI; the BSP waits halted
 * (STI;HLT) for all of them, then checks that every CPU computed the same value. The run time
 * minus pc64-boot-smp's (the same bring-up without work) is the time N CPUs take for N shares:
 * per-vCPU progress with N vCPUs / with one = t(1 share on 1 CPU) / t(N shares on N CPUs).
 * Ends through isa-debug-exit (status 1 when all checks passed).
 */
#define CONF_PC
#include "multiboot.inc"
#include "pc.inc"
#include "conformance.inc"
#include "pc64.inc"

#ifndef WORK
#define WORK            500000000
#endif
#define TRAMPOLINE      0x8000
#define MAX_CPUS        8
#define AP_STACK_SIZE   4096
#define ICR_ASSERT      0x4000
#define VEC_DONE        0x52

/* %rax <- WORK rounds of xorshift64 from a fixed seed; clobbers %rcx, %rdx. */
.macro XORSHIFT_WORK
    mov     $0x9E3779B97F4A7C15, %rax
    mov     $WORK, %rcx
77: mov     %rax, %rdx
    shl     $13, %rdx
    xor     %rdx, %rax
    mov     %rax, %rdx
    shr     $7, %rdx
    xor     %rdx, %rax
    mov     %rax, %rdx
    shl     $17, %rdx
    xor     %rdx, %rax
    dec     %rcx
    jnz     77b
.endm

    .text
main64:
    FW_CFG_CPU_COUNT ncpus
    cmpq    $1, ncpus(%rip)
    jb      too_many
    cmpq    $MAX_CPUS, ncpus(%rip)
    ja      too_many
    PC_GATE VEC_DONE, isr_done
    APIC_WRITE APIC_SPIV, $(APIC_SPIV_APIC_ENABLED | 0xFF)
    mov     $0xFF, %al                  /* both 8259s masked: QEMU's firmware left the PIT's IRQ 0 on vector 8 */
    outb    %al, $0x21
    outb    %al, $0xA1

    cmpq    $1, ncpus(%rip)
    je      1f
    AP_START_ALL trampoline, trampoline_end, TRAMPOLINE, ap_count, ncpus
1:  sti                                 /* the APs' IPIs come during the BSP's share: taken as they come */
    XORSHIFT_WORK
    mov     %rax, bsp_result(%rip)

    /* wait, halted, for every AP's share */
    mov     ncpus(%rip), %rbx
    dec     %rbx
2:  cli
    cmp     aps_done(%rip), %rbx
    je      3f
    sti
    hlt                                 /* STI's shadow: no IPI slips in before the HLT */
    jmp     2b
3:  sti
    CHECK   "boot-progress.every-ap-done", %rbx, aps_done(%rip)
    CHECK   "boot-progress.aps-agree", $0, ap_mismatches(%rip)
    cmpq    $1, ncpus(%rip)
    je      6f
    mov     bsp_result(%rip), %rcx
    CHECK   "boot-progress.bsp-agrees", %rcx, ap_result(%rip)
6:
    CONF_FINISH "pc64-boot-progress"

too_many:
    PC_SAY  "FAIL boot-progress.cpus: run this kernel with 1 to 8 vCPUs"
    incq    conf_fail(%rip)
    CONF_FINISH "pc64-boot-progress"

/* On the BSP: one AP finished (the count is the AP's own). */
isr_done:
    APIC_WRITE APIC_EOI, $0
    iretq

/* ---- the application processors: real mode at 0x8000 (CS 0x0800), copied there by the BSP ---- */
    AP_TRAMPOLINE_TO_LONG_MODE trampoline, trampoline_end, ap_start64
    AP_OWN_STACK ap_stacks_top, AP_STACK_SIZE
    lock incq ap_count(%rip)
    XORSHIFT_WORK
    mov     %rax, %rsi
    xor     %eax, %eax
    lock cmpxchg %rsi, ap_result(%rip)  /* the first AP to finish stores its value (0 before) */
    jz      4f
    cmp     %rax, %rsi                  /* a later one compares with it */
    je      4f
    lock incq ap_mismatches(%rip)
4:  lock incq aps_done(%rip)
    APIC_WRITE APIC_ICR2, $0
    APIC_WRITE APIC_ICR, $(ICR_ASSERT | VEC_DONE)
    cli
5:  hlt
    jmp     5b

    CONF_RUNTIME
    PC64_RUNTIME

    .data
    .balign 8
ncpus:          .quad 0
ap_count:       .quad 0
aps_done:       .quad 0
ap_mismatches:  .quad 0
ap_result:      .quad 0
bsp_result:     .quad 0

    .bss
    .balign 4096
                .space MAX_CPUS * AP_STACK_SIZE
ap_stacks_top:
