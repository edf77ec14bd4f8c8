/* pc64-smp: multiprocessor start-up and interprocessor interrupts through the xAPIC (SDM vol. 3A,
 * "Multiple-Processor (MP) Initialization" and "Issuing Interprocessor Interrupts"), on a machine
 * of 2 to 8 CPUs (fw_cfg's CPU count). Only the bootstrap processor prints; the application
 * processors report through shared memory.
 *
 *   boot.*     the BSP is the only CPU running at entry; INIT then a start-up IPI (vector 0x08:
 *              the trampoline copied to 0x8000), both to all-excluding-self, start every AP in
 *              real mode at 0x8000: each goes to long mode by itself, counts itself once and
 *              reports its APIC ID (IDs 1..N-1, each once); CS was 0x0800 at the trampoline's
 *              first instruction, EDX the processor signature (CPUID.01H:EAX)
 *   fixed.*    a fixed IPI with a physical destination reaches that CPU only, each AP in turn;
 *              the delivery status bit reads idle once the ICR write is done
 *   self.*     the self shorthand reaches the sender only
 *   all.*      all-including-self reaches every CPU, all-excluding-self every CPU but the sender
 *   logical.*  flat model: the LDR bit of each AP; cluster model: cluster 1 and a member bitmap
 *   absent.*   a physical destination no APIC has reaches nobody (checked after a later IPI to
 *              every CPU, which the bus delivers in order)
 *   sipi.*     a second start-up IPI to running APs is ignored: they never re-enter the
 *              trampoline and still answer IPIs
 *   init.*     INIT to a running AP puts it back to wait-for-SIPI; a start-up IPI then starts it
 *              at the trampoline again, and it answers IPIs as before
 *   cli-hlt.*  an AP halted with interrupts off (CLI; HLT in an interrupt handler that never
 *              returns) still takes an NMI, and INIT then a start-up IPI restart it at the
 *              trampoline (SDM "HLT": NMI and INIT resume a halted processor whatever IF says);
 *              an AP INIT-reset inside its NMI handler (NMIs blocked) takes NMIs again
 *   x2apic.*   every CPU goes to x2APIC mode (the APs in a handler): each AP's LDR is derived from
 *              its x2APIC ID; IPIs written to the ICR MSR reach each AP by its 32-bit physical
 *              destination, a cluster and member bitmap (cluster 0, members 1 and 2), and the
 *              x2APIC broadcast 0xFFFFFFFF every CPU, the sender included
 */
#define CONF_PC
#include "multiboot.inc"
#include "pc.inc"
#include "conformance.inc"
#include "pc64.inc"

#define TRAMPOLINE      0x8000
#define SIPI_VECTOR     (TRAMPOLINE >> 12)
#define MAX_CPUS        8
#define AP_STACK_SIZE   4096

#define ICR_FIXED       0x0000
#define ICR_NMI         0x0400
#define ICR_INIT        0x0500
#define ICR_STARTUP     0x0600
#define ICR_LOGICAL     0x0800
#define ICR_ASSERT      0x4000
#define ICR_SELF        0x40000
#define ICR_ALL         0x80000
#define ICR_ALL_BUT     0xC0000

#define VEC_FIXED       0x40
#define VEC_SELF        0x41
#define VEC_ALL         0x42
#define VEC_ALL_BUT     0x43
#define VEC_FLAT        0x44
#define VEC_CLUSTER     0x45
#define VEC_ABSENT      0x46
#define VEC_TO_CLUSTER  0x47
#define VEC_PING        0x48
#define VECTORS         9
#define VEC_PARK        0x49            /* not counted: the AP stays in the handler */
#define VEC_TO_X2APIC   0x4A
#define VEC_X2_PHYS     0x4B
#define VEC_X2_LOGICAL  0x4C
#define VEC_X2_BCAST    0x4D
#define MSR_APIC_BASE   0x1B
#define X2_ID           0x802
#define X2_EOI          0x80B
#define X2_LDR          0x80D
#define X2_ICR          0x830

/* ICR MSR <- \dest in bits 63:32 (a register or $imm), \low in bits 31:0. Clobbers %rax, %rcx, %rdx. */
.macro X2_SEND dest, low
    mov     \dest, %edx
    mov     \low, %eax
    mov     $X2_ICR, %ecx
    wrmsr
.endm

/* %rax <- the sum over every CPU of the quad table \table */
.macro X2_SUM table
    xor     %eax, %eax
    xor     %ecx, %ecx
91: add     \table(, %rcx, 8), %rax
    inc     %ecx
    cmp     $MAX_CPUS, %ecx
    jb      91b
.endm

/* Spins until the sum of \table reaches \count (a register other than %rax/%rcx, or $imm). */
.macro X2_WAIT table, count
92: X2_SUM  \table
    cmp     \count, %rax
    jae     93f
    pause
    jmp     92b
93:
.endm

/* ICR high then low: an IPI to \dest (an APIC ID, a logical destination, or 0 with a shorthand). */
.macro SEND_IPI dest, low
    push    %rax
    mov     \dest, %eax
    shl     $24, %eax
    APIC_WRITE APIC_ICR2, %eax
    pop     %rax
    APIC_WRITE APIC_ICR, \low
.endm

/* %rax <- how many times vector \vec was taken, on all CPUs together. */
.macro SUM vec
    mov     $((\vec) - VEC_FIXED), %edi
    call    sum_hits
.endm

/* %rax <- how many times vector \vec was taken on the CPU with APIC ID \id (a register or $imm). */
.macro HITS vec, id
    mov     \id, %rax
    mov     hits + ((\vec) - VEC_FIXED) * MAX_CPUS * 8(, %rax, 8), %rax
.endm

/* Spins until vector \vec was taken \count times on all CPUs (a register or $imm). */
.macro WAIT_SUM vec, count
    push    %rbx
    mov     \count, %rbx
1:  SUM     \vec
    cmp     %rbx, %rax
    jae     2f
    pause
    jmp     1b
2:  pop     %rbx
.endm

/* A handler counting its vector on the CPU it runs on, then EOI. */
.macro COUNT_ISR vec
isr_\vec:
    push    %rax
    APIC_READ APIC_ID, %eax
    shr     $24, %eax
    lock incq hits + ((\vec) - VEC_FIXED) * MAX_CPUS * 8(, %rax, 8)
    APIC_WRITE APIC_EOI, $0
    pop     %rax
    iretq
.endm

    .text
main64:
    /* the CPU count, from fw_cfg (FW_CFG_NB_CPUS, 16 bits little-endian) */
    FW_CFG_CPU_COUNT ncpus
    REPORT  "smp.cpus", ncpus(%rip)
    cmpq    $2, ncpus(%rip)
    jb      too_few
    cmpq    $MAX_CPUS, ncpus(%rip)
    ja      too_few

    PC_GATE VEC_FIXED, isr_0x40
    PC_GATE VEC_SELF, isr_0x41
    PC_GATE VEC_ALL, isr_0x42
    PC_GATE VEC_ALL_BUT, isr_0x43
    PC_GATE VEC_FLAT, isr_0x44
    PC_GATE VEC_CLUSTER, isr_0x45
    PC_GATE VEC_ABSENT, isr_0x46
    PC_GATE VEC_TO_CLUSTER, isr_to_cluster
    PC_GATE VEC_PING, isr_0x48
    PC_GATE VEC_PARK, isr_park
    PC_GATE VEC_TO_X2APIC, isr_to_x2apic
    PC_GATE VEC_X2_PHYS, isr_x2_phys
    PC_GATE VEC_X2_LOGICAL, isr_x2_logical
    PC_GATE VEC_X2_BCAST, isr_x2_bcast
    PC_GATE 2, isr_nmi

    /* the BSP's APIC: enabled, flat logical ID bit 0 */
    APIC_WRITE APIC_SPIV, $(APIC_SPIV_APIC_ENABLED | 0xFF)
    APIC_WRITE APIC_LDR, $0x01000000

    /* ---- boot ---- */
    CHECK   "boot.no-ap-runs-before-sipi", $0, ap_count(%rip)
    AP_START_ALL trampoline, trampoline_end, TRAMPOLINE, ap_count, ncpus
    sti
    CHECK   "boot.every-ap-counted-once", %rbx, ap_count(%rip)
    CHECK   "boot.every-ap-entered-the-trampoline-once", %rbx, tramp_entries(%rip)
    mov     ncpus(%rip), %rcx
    mov     $1, %rax
    shl     %cl, %rax
    sub     $2, %rax
    CHECK   "boot.ap-apic-ids-1-to-n-1", %rax, ap_ids(%rip)
    CHECK   "boot.ap-cs-at-the-sipi-page", $(TRAMPOLINE >> 4), tramp_cs(%rip)
    mov     $1, %eax
    cpuid
    CHECK   "boot.ap-edx-processor-signature", %rax, tramp_edx(%rip)

    /* ---- fixed IPIs, physical destination, each AP in turn ---- */
    mov     $1, %r12
3:  SEND_IPI %r12d, $(ICR_ASSERT | ICR_FIXED | VEC_FIXED)
    APIC_READ APIC_ICR, %eax
    and     $APIC_ICR_BUSY, %eax
    or      %rax, icr_busy(%rip)
    WAIT_SUM VEC_FIXED, %r12            /* APs 1..%r12 took theirs */
    inc     %r12
    cmp     ncpus(%rip), %r12
    jb      3b
    CHECK   "fixed.delivery-status-idle-after-the-write", $0, icr_busy(%rip)
    mov     $1, %r12
4:  HITS    VEC_FIXED, %r12
    mov     %rax, %r13
    CHECK   "fixed.each-ap-took-its-own-once", $1, %r13
    inc     %r12
    cmp     ncpus(%rip), %r12
    jb      4b
    HITS    VEC_FIXED, $0
    CHECK   "fixed.bsp-took-none", $0, %rax

    /* ---- shorthands ---- */
    SEND_IPI $0, $(ICR_SELF | ICR_ASSERT | VEC_SELF)
    WAIT_SUM VEC_SELF, $1
    HITS    VEC_SELF, $0
    CHECK   "self.reaches-the-sender", $1, %rax
    SEND_IPI $0, $(ICR_ALL | ICR_ASSERT | VEC_ALL)
    WAIT_SUM VEC_ALL, ncpus(%rip)
    HITS    VEC_ALL, $0
    CHECK   "all.including-self-reaches-the-bsp", $1, %rax
    SUM     VEC_ALL
    CHECK   "all.including-self-reaches-every-cpu", ncpus(%rip), %rax
    mov     ncpus(%rip), %rbx
    dec     %rbx
    SEND_IPI $0, $(ICR_ALL_BUT | ICR_ASSERT | VEC_ALL_BUT)
    WAIT_SUM VEC_ALL_BUT, %rbx
    HITS    VEC_ALL_BUT, $0
    CHECK   "all.excluding-self-skips-the-bsp", $0, %rax

    /* ---- logical destinations ---- */
    mov     ncpus(%rip), %rcx
    mov     $1, %eax
    shl     %cl, %eax
    sub     $2, %eax                    /* the APs' flat logical IDs: bits 1..N-1 */
    mov     %eax, %r12d
    SEND_IPI %r12d, $(ICR_LOGICAL | ICR_ASSERT | VEC_FLAT)
    WAIT_SUM VEC_FLAT, %rbx
    HITS    VEC_FLAT, $0
    CHECK   "logical.flat-bitmap-reaches-the-aps-only", $0, %rax
    /* every AP to the cluster model: cluster 1, member bit = APIC ID bit (IDs 1..3 in cluster 1) */
    SEND_IPI $0, $(ICR_ALL_BUT | ICR_ASSERT | VEC_TO_CLUSTER)
    WAIT_SUM VEC_TO_CLUSTER, %rbx
    /* cluster 1, members 1 and 2: APIC IDs 1 and 2 (when present) */
    mov     $2, %r13                    /* the APs the message reaches: 1, or 2 with 3+ CPUs */
    cmpq    $3, ncpus(%rip)
    jae     5f
    mov     $1, %r13
5:  SEND_IPI $0x16, $(ICR_LOGICAL | ICR_ASSERT | VEC_CLUSTER)
    WAIT_SUM VEC_CLUSTER, %r13
    HITS    VEC_CLUSTER, $1
    CHECK   "logical.cluster-member-1", $1, %rax
    HITS    VEC_CLUSTER, $0
    CHECK   "logical.cluster-not-the-bsp", $0, %rax

    /* ---- an absent APIC ID ---- */
    SEND_IPI $0x3E, $(ICR_ASSERT | ICR_FIXED | VEC_ABSENT)
    SEND_IPI $0, $(ICR_ALL | ICR_ASSERT | VEC_PING)
    WAIT_SUM VEC_PING, ncpus(%rip)
    SUM     VEC_ABSENT
    CHECK   "absent.apic-id-reaches-nobody", $0, %rax
    APIC_WRITE APIC_ESR, $0
    APIC_SAVE APIC_ESR, v0
    CHECK   "absent.no-send-error", $0, v0(%rip)

    /* ---- a start-up IPI to running APs ---- */
    SEND_IPI $0, $(ICR_ALL_BUT | ICR_ASSERT | ICR_STARTUP | SIPI_VECTOR)
    mov     ncpus(%rip), %rax
    add     %rax, %rax                  /* 2N pings once this one is in */
    SEND_IPI $0, $(ICR_ALL | ICR_ASSERT | VEC_PING)
    WAIT_SUM VEC_PING, %rax
    CHECK   "sipi.running-aps-ignore-it", %rbx, tramp_entries(%rip)
    CHECK   "sipi.no-ap-counted-twice", %rbx, ap_count(%rip)

    /* ---- INIT and a start-up IPI to the running AP 1 ---- */
    SEND_IPI $1, $(ICR_ASSERT | ICR_INIT)
    SEND_IPI $1, $(ICR_ASSERT | ICR_STARTUP | SIPI_VECTOR)
    lea     1(%rbx), %rax
6:  cmp     ap_count(%rip), %rax
    je      7f
    pause
    jmp     6b
7:  lea     1(%rbx), %rax
    CHECK   "init.ap-1-re-entered-the-trampoline", %rax, tramp_entries(%rip)
    HITS    VEC_FIXED, $1
    mov     %rax, %r12
    SEND_IPI $1, $(ICR_ASSERT | ICR_FIXED | VEC_FIXED)
    lea     1(%r12), %rax
8:  HITS    VEC_FIXED, $1
    cmp     %r12, %rax
    je      8b
    CHECK   "init.ap-1-answers-ipis-again", $2, %rax

    /* ---- AP 1 halted with interrupts off: an NMI, then INIT and a start-up IPI ---- */
    SEND_IPI $1, $(ICR_ASSERT | ICR_FIXED | VEC_PARK)
9:  cmpq    $0, parked(%rip)
    jne     10f
    pause
    jmp     9b
10: SEND_IPI $1, $(ICR_ASSERT | ICR_NMI)
11: cmpq    $0, nmi_hits + 8(%rip)
    jne     12f
    pause
    jmp     11b
12: CHECK   "cli-hlt.an-nmi-reaches-the-halted-ap", $1, nmi_hits + 8(%rip)
    SEND_IPI $1, $(ICR_ASSERT | ICR_INIT)
    SEND_IPI $1, $(ICR_ASSERT | ICR_STARTUP | SIPI_VECTOR)
    lea     2(%rbx), %rax
13: cmp     ap_count(%rip), %rax
    je      14f
    pause
    jmp     13b
14: lea     2(%rbx), %rax
    CHECK   "cli-hlt.init-and-sipi-restart-the-ap-at-the-trampoline", %rax, tramp_entries(%rip)
    HITS    VEC_FIXED, $1
    mov     %rax, %r12
    SEND_IPI $1, $(ICR_ASSERT | ICR_FIXED | VEC_FIXED)
    lea     1(%r12), %rax
15: HITS    VEC_FIXED, $1
    cmp     %r12, %rax
    je      15b
    CHECK   "cli-hlt.the-restarted-ap-answers-ipis", $3, %rax

    /* ---- INIT inside the NMI handler (NMIs blocked): the restarted AP takes NMIs again ---- */
    movq    $1, nmi_park(%rip)
    SEND_IPI $1, $(ICR_ASSERT | ICR_NMI)
24: cmpq    $0, nmi_parked(%rip)
    jne     25f
    pause
    jmp     24b
25: movq    $0, nmi_park(%rip)
    SEND_IPI $1, $(ICR_ASSERT | ICR_INIT)
    SEND_IPI $1, $(ICR_ASSERT | ICR_STARTUP | SIPI_VECTOR)
    lea     3(%rbx), %rax
26: cmp     ap_count(%rip), %rax
    je      27f
    pause
    jmp     26b
27: mov     nmi_hits + 8(%rip), %r12
    SEND_IPI $1, $(ICR_ASSERT | ICR_NMI)
28: cmp     nmi_hits + 8(%rip), %r12
    jne     29f
    pause
    jmp     28b
29: lea     1(%r12), %rax
    mov     %rax, %r13
    CHECK   "init.unblocks-nmis-of-an-ap-reset-in-its-nmi-handler", %r13, nmi_hits + 8(%rip)

    /* ---- x2APIC: the APs switch in a handler, then the BSP ---- */
    SEND_IPI $0, $(ICR_ALL_BUT | ICR_ASSERT | VEC_TO_X2APIC)
    X2_WAIT x2_switched, %rbx
    X2_SUM  x2_switched
    mov     %rax, %r12
    CHECK   "x2apic.every-ap-switched-once", %rbx, %r12
    mov     $MSR_APIC_BASE, %ecx
    rdmsr
    or      $0x400, %eax                /* EXTD, with EN already set */
    wrmsr
    /* each AP's LDR: cluster 0 (IDs below 16), member bit 1 << ID */
    xor     %r13d, %r13d
    mov     $1, %r12
16: mov     %r12, %rcx
    mov     $1, %eax
    shl     %cl, %rax
    cmp     x2_ldr(, %r12, 8), %rax
    jne     17f
    inc     %r13
17: inc     %r12
    cmp     ncpus(%rip), %r12
    jb      16b
    CHECK   "x2apic.each-ap-ldr-derived-from-its-id", %rbx, %r13
    /* a fixed IPI by 32-bit physical destination to each AP in turn */
    mov     $1, %r12
18: X2_SEND %r12d, $(ICR_ASSERT | VEC_X2_PHYS)
    X2_WAIT x2_phys, %r12
    inc     %r12
    cmp     ncpus(%rip), %r12
    jb      18b
    xor     %r13d, %r13d
    mov     $1, %r12
19: cmpq    $1, x2_phys(, %r12, 8)
    jne     20f
    inc     %r13
20: inc     %r12
    cmp     ncpus(%rip), %r12
    jb      19b
    CHECK   "x2apic.physical-destination-reaches-each-ap-once", %rbx, %r13
    CHECK   "x2apic.physical-destination-not-the-bsp", $0, x2_phys(%rip)
    /* logical: cluster 0, members 1 and 2 */
    mov     $2, %r13
    cmpq    $3, ncpus(%rip)
    jae     21f
    mov     $1, %r13
21: X2_SEND $0x6, $(ICR_LOGICAL | ICR_ASSERT | VEC_X2_LOGICAL)
    X2_WAIT x2_logical, %r13
    CHECK   "x2apic.logical-member-1", $1, x2_logical + 8(%rip)
    CHECK   "x2apic.logical-not-the-bsp", $0, x2_logical(%rip)
    /* the x2APIC broadcast */
    X2_SEND $0xFFFFFFFF, $(ICR_ASSERT | VEC_X2_BCAST)
    mov     ncpus(%rip), %r13
    X2_WAIT x2_bcast, %r13
    X2_SUM  x2_bcast
    mov     %rax, %r12
    CHECK   "x2apic.broadcast-reaches-every-cpu", ncpus(%rip), %r12
    CHECK   "x2apic.broadcast-reaches-the-sender", $1, x2_bcast(%rip)

    CONF_FINISH "pc64-smp"

too_few:
    PC_SAY  "FAIL smp.cpus: run this kernel with 2 to 8 vCPUs"
    incq    conf_fail(%rip)
    CONF_FINISH "pc64-smp"

/* %rax <- the sum over every CPU of hits[%rdi] */
sum_hits:
    imul    $(MAX_CPUS * 8), %rdi, %rdi
    lea     hits(%rip), %rsi
    add     %rdi, %rsi
    xor     %eax, %eax
    xor     %ecx, %ecx
1:  add     (%rsi, %rcx, 8), %rax
    inc     %ecx
    cmp     $MAX_CPUS, %ecx
    jb      1b
    ret

    COUNT_ISR 0x40
    COUNT_ISR 0x41
    COUNT_ISR 0x42
    COUNT_ISR 0x43
    COUNT_ISR 0x44
    COUNT_ISR 0x45
    COUNT_ISR 0x46
    COUNT_ISR 0x48

/* VEC_PARK: this AP says so and halts with interrupts off for good; no EOI, no IRET. */
isr_park:
    lock incq parked(%rip)
    cli
1:  hlt
    jmp     1b

/* VEC_TO_X2APIC: this AP enters x2APIC mode, records its LDR, and EOIs through the MSR. */
isr_to_x2apic:
    push    %rax
    push    %rcx
    push    %rdx
    push    %rsi
    mov     $MSR_APIC_BASE, %ecx
    rdmsr
    or      $0x400, %eax
    wrmsr
    mov     $X2_ID, %ecx
    rdmsr
    mov     %eax, %esi
    mov     $X2_LDR, %ecx
    rdmsr
    mov     %rax, x2_ldr(, %rsi, 8)
    lock incq x2_switched(, %rsi, 8)
    xor     %eax, %eax
    xor     %edx, %edx
    mov     $X2_EOI, %ecx
    wrmsr
    pop     %rsi
    pop     %rdx
    pop     %rcx
    pop     %rax
    iretq

/* An x2APIC-mode handler counting its vector per CPU (x2APIC ID) in \table, EOI through the MSR. */
.macro X2_COUNT_ISR name, table
\name:
    push    %rax
    push    %rcx
    push    %rdx
    mov     $X2_ID, %ecx
    rdmsr
    lock incq \table(, %rax, 8)
    xor     %eax, %eax
    xor     %edx, %edx
    mov     $X2_EOI, %ecx
    wrmsr
    pop     %rdx
    pop     %rcx
    pop     %rax
    iretq
.endm
    X2_COUNT_ISR isr_x2_phys, x2_phys
    X2_COUNT_ISR isr_x2_logical, x2_logical
    X2_COUNT_ISR isr_x2_bcast, x2_bcast

/* NMI: counted per CPU (APIC ID); while nmi_park is set the CPU stays in the handler, NMIs
   blocked, halted with interrupts off. */
isr_nmi:
    push    %rax
    APIC_READ APIC_ID, %eax
    shr     $24, %eax
    lock incq nmi_hits(, %rax, 8)
    cmpq    $0, nmi_park(%rip)
    jne     1f
    pop     %rax
    iretq
1:  lock incq nmi_parked(%rip)
2:  hlt
    jmp     2b

/* VEC_TO_CLUSTER: this AP goes to the cluster model: cluster (APIC ID >> 2) + 1, member bit
   APIC ID & 3 (APIC IDs 1-3 in cluster 1, 4-7 in cluster 2). */
isr_to_cluster:
    push    %rax
    push    %rcx
    push    %rdx
    APIC_WRITE APIC_DFR, $0x0FFFFFFF
    APIC_READ APIC_ID, %eax
    shr     $24, %eax
    mov     %eax, %edx
    shr     $2, %edx
    inc     %edx
    shl     $4, %edx                    /* the cluster in bits 7:4 */
    mov     %eax, %ecx
    and     $3, %ecx
    mov     $1, %eax
    shl     %cl, %eax
    or      %edx, %eax
    shl     $24, %eax
    APIC_WRITE APIC_LDR, %eax
    APIC_READ APIC_ID, %eax
    shr     $24, %eax
    lock incq hits + (VEC_TO_CLUSTER - VEC_FIXED) * MAX_CPUS * 8(, %rax, 8)
    APIC_WRITE APIC_EOI, $0
    pop     %rdx
    pop     %rcx
    pop     %rax
    iretq

/* ---- the application processors ---- */

/* Real mode at 0x8000 (CS 0x0800, IP 0), copied there by the BSP: to 32-bit protected mode on
   the kernel's GDT. Addresses inside are offsets from CS's base. */
    .code16
trampoline:
    mov     %cs, %ax
    mov     %ax, %ds
    mov     %ax, %cs:(tramp_cs_slot - trampoline)
    mov     %edx, %cs:(tramp_edx_slot - trampoline)
    AP_TRAMPOLINE_TO_PROTECTED trampoline, tramp_gdtr, ap_start32
    AP_TRAMPOLINE_GDTR tramp_gdtr
tramp_cs_slot:  .word 0
tramp_edx_slot: .long 0
trampoline_end:

    .code32
ap_start32:
    AP_FLAT_DATA_SEGMENTS
    lock incl tramp_entries
    movzwl  TRAMPOLINE + (tramp_cs_slot - trampoline), %eax
    mov     %eax, tramp_cs
    mov     TRAMPOLINE + (tramp_edx_slot - trampoline), %eax
    mov     %eax, tramp_edx
    AP_TO_LONG_MODE ap_start64

    .code64
ap_start64:
    AP_FLAT_DATA_SEGMENTS
    AP_OWN_STACK ap_stacks_top, AP_STACK_SIZE
    APIC_WRITE APIC_DFR, $0xFFFFFFFF
    mov     $1, %eax
    mov     %ebx, %ecx
    shl     %cl, %eax
    shl     $24, %eax
    APIC_WRITE APIC_LDR, %eax             /* flat: bit <APIC ID> */
    lock btsq %rbx, ap_ids(%rip)
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
ap_ids:         .quad 0
tramp_entries:  .quad 0
tramp_cs:       .quad 0
tramp_edx:      .quad 0
icr_busy:       .quad 0
v0:             .quad 0
parked:         .quad 0
nmi_park:       .quad 0
nmi_parked:     .quad 0
nmi_hits:       .space MAX_CPUS * 8
x2_switched:    .space MAX_CPUS * 8
x2_ldr:         .space MAX_CPUS * 8
x2_phys:        .space MAX_CPUS * 8
x2_logical:     .space MAX_CPUS * 8
x2_bcast:       .space MAX_CPUS * 8
hits:           .space VECTORS * MAX_CPUS * 8

    .bss
    .balign 4096
                .space MAX_CPUS * AP_STACK_SIZE
ap_stacks_top:
