/* pc64-boot-ipi: the SMP benchmark's kernel (SmpBenchmark), on 2 to 8 CPUs (fw_cfg's count). The
 * bootstrap processor starts every application processor (INIT, then a start-up IPI to the
 * trampoline at 0x8000, all-excluding-self) and waits until each has reached long mode; then it
 * plays ROUNDS rounds of IPI ping-pong with APIC ID 1: a fixed IPI to the AP, whose handler
 * answers with a fixed IPI to the BSP, which waits for it halted (STI;HLT). Built twice: with
 * ROUNDS 20000 (pc64-boot-ipi) and with ROUNDS 0 (pc64-boot-smp: the bring-up alone), so that
 * the difference of their run times is the ping-pong and the difference to pc64-boot-idle the
 * application processors' start. Ends through isa-debug-exit (status 1 when all checks passed).
 */
#define CONF_PC
#include "multiboot.inc"
#include "pc.inc"
#include "conformance.inc"
#include "pc64.inc"

#ifndef ROUNDS
#define ROUNDS          20000
#endif
#define TRAMPOLINE      0x8000
#define SIPI_VECTOR     (TRAMPOLINE >> 12)
#define MAX_CPUS        8
#define AP_STACK_SIZE   4096
#define ICR_INIT        0x0500
#define ICR_STARTUP     0x0600
#define ICR_ASSERT      0x4000
#define ICR_ALL_BUT     0xC0000
#define VEC_PING        0x50
#define VEC_PONG        0x51

/* ICR high then low: an IPI to APIC ID \dest (0 with a shorthand). */
.macro SEND_IPI dest, low
    APIC_WRITE APIC_ICR2, $((\dest) << 24)
    APIC_WRITE APIC_ICR, \low
.endm

    .text
main64:
    FW_CFG_CPU_COUNT ncpus
    cmpq    $2, ncpus(%rip)
    jb      too_few
    cmpq    $MAX_CPUS, ncpus(%rip)
    ja      too_few
    PC_GATE VEC_PING, isr_ping
    PC_GATE VEC_PONG, isr_pong
    APIC_WRITE APIC_SPIV, $(APIC_SPIV_APIC_ENABLED | 0xFF)
    mov     $0xFF, %al                  /* both 8259s masked: QEMU's firmware left the PIT's IRQ 0 on vector 8 */
    outb    %al, $0x21
    outb    %al, $0xA1

    /* bring-up */
    AP_START_ALL trampoline, trampoline_end, TRAMPOLINE, ap_count, ncpus
    CHECK   "boot-ipi.every-ap-up", %rbx, ap_count(%rip)

    /* ping-pong with APIC ID 1 */
    xor     %r12, %r12
3:  cmp     $ROUNDS, %r12
    jae     5f
    SEND_IPI 1, $(ICR_ASSERT | VEC_PING)
4:  cli
    cmp     pongs(%rip), %r12
    jb      6f                          /* the answer to this round came */
    sti
    hlt                                 /* STI's shadow: no answer slips in before the HLT */
    jmp     4b
6:  sti
    inc     %r12
    jmp     3b
5:  CHECK   "boot-ipi.pings-answered", $ROUNDS, pings(%rip)
    CHECK   "boot-ipi.pongs-taken", $ROUNDS, pongs(%rip)
    CONF_FINISH "pc64-boot-ipi"

too_few:
    PC_SAY  "FAIL boot-ipi.cpus: run this kernel with 2 to 8 vCPUs"
    incq    conf_fail(%rip)
    CONF_FINISH "pc64-boot-ipi"

/* On the AP: answer the BSP. */
isr_ping:
    lock incq pings(%rip)
    SEND_IPI 0, $(ICR_ASSERT | VEC_PONG)
    APIC_WRITE APIC_EOI, $0
    iretq

/* On the BSP: count the answer. */
isr_pong:
    lock incq pongs(%rip)
    APIC_WRITE APIC_EOI, $0
    iretq

/* ---- the application processors: real mode at 0x8000 (CS 0x0800), copied there by the BSP ---- */
    AP_TRAMPOLINE_TO_LONG_MODE trampoline, trampoline_end, ap_start64
    AP_OWN_STACK ap_stacks_top, AP_STACK_SIZE
    lock incq ap_count(%rip)
    sti
1:  hlt
    jmp     1b

    CONF_RUNTIME
    PC64_RUNTIME

    .data
    .balign 8
ncpus:          .quad 0
ap_count:       .quad 0
pings:          .quad 0
pongs:          .quad 0

    .bss
    .balign 4096
                .space MAX_CPUS * AP_STACK_SIZE
ap_stacks_top:
