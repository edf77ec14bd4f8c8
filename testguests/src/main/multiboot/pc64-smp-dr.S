/* pc64-smp-dr: debug registers belong to a CPU (SDM vol. 3B, "Debug Registers"), checked on 2 to 8
 * CPUs (fw_cfg's count) across interprocessor interrupts and VM exits; the guest of the check
 * scenario smp-dr (tdemu check). The bootstrap processor starts the application processors by
 * INIT and a start-up IPI (all-excluding-self, trampoline at 0x8000); then every CPU, the BSP
 * included, programs its OWN breakpoints:
 *
 *   DR0  an execute breakpoint on its own target (exec_targets + 16 x APIC ID)
 *   DR1  a write breakpoint, 8 bytes, on its own quad (data_targets + 64 x APIC ID)
 *   DR2, DR3  values of its own, not enabled (so a value that crossed between CPUs shows)
 *   DR7  L0/L1 on even APIC IDs, G0/G1 on odd ones
 *
 * and plays ROUNDS rounds, each: call its execute target (a #DB fault; the handler resumes with
 * RF), store to its data target (a #DB trap), CPUID, an IN from COM1's line status register, a
 * fixed IPI to the next CPU (APIC ID + 1, modulo the CPU count; sent once the previous one was
 * taken, as two pending IPIs of one vector merge), and a self-IPI it waits for
 * halted (STI;HLT), then reads DR0-DR3 and DR7 back. The #DB handler (an interrupt gate of its
 * own, no IST: every CPU takes #DB on its own stack) counts each hit on the CPU that took it, by
 * DR6 (B0 with RIP at that CPU's own execute target, B1 alone for the store) and clears DR6; any
 * other #DB is counted as wrong (and resumed with RF too, so that a fault the handler cannot
 * explain does not repeat for ever). The BSP then checks, for every CPU: ROUNDS execute and ROUNDS
 * data hits, no wrong #DB, every read-back as written, ROUNDS IPIs from its neighbour and ROUNDS
 * self-IPIs. A CPU whose DRs were lost, swapped with another CPU's or left disarmed by an exit
 * misses hits or reads back a wrong value. Ends through isa-debug-exit (status 1 when every check
 * passed, 3 otherwise).
 */
#define CONF_PC
#include "multiboot.inc"
#include "pc.inc"
#include "conformance.inc"
#include "pc64.inc"

#ifndef ROUNDS
#define ROUNDS          4
#endif
#define TRAMPOLINE      0x8000
#define SIPI_VECTOR     (TRAMPOLINE >> 12)
#define MAX_CPUS        8
#define AP_STACK_SIZE   4096
#define ICR_INIT        0x0500
#define ICR_STARTUP     0x0600
#define ICR_ASSERT      0x4000
#define ICR_SELF        0x40000
#define ICR_ALL_BUT     0xC0000
#define VEC_NEIGHBOUR   0x50
#define VEC_SELF        0x51

#define DR6_B0          0x1
#define DR6_B1          0x2
#define DR6_B2_B3       0xC
#define DR6_INIT        0xFFFF0FF0
/* DR7: R/W1 = 01 (data writes), LEN1 = 10 (8 bytes); R/W0 = LEN0 = 00 (instruction execution) */
#define DR7_RW1_WRITE   0x100000
#define DR7_LEN1_8      0x800000
#define DR7_LOCAL       (0x400 | DR7_LEN1_8 | DR7_RW1_WRITE | 0x5)   /* L0, L1 */
#define DR7_GLOBAL      (0x400 | DR7_LEN1_8 | DR7_RW1_WRITE | 0xA)   /* G0, G1 */
#define DR2_BASE        0x5A5A0000
#define DR3_BASE        0x3C3C0000

/* ICR high then low: an IPI to the APIC ID in \dest (a register, or $0 with a shorthand). */
.macro SEND_IPI dest, low
    push    %rax
    mov     \dest, %eax
    shl     $24, %eax
    APIC_WRITE APIC_ICR2, %eax
    pop     %rax
    APIC_WRITE APIC_ICR, \low
.endm

/* %rax <- DR\n; counts a mismatch with the quad at \expected(, %rbx, 8) on this CPU (%rbx = APIC ID). */
.macro DR_READ_BACK n, expected
    mov     %dr\n, %rax
    cmp     \expected(, %rbx, 8), %rax
    je      97f
    lock incq dr_bad(, %rbx, 8)
97:
.endm

    .text
main64:
    FW_CFG_CPU_COUNT ncpus
    REPORT  "smp-dr.cpus", ncpus(%rip)
    cmpq    $2, ncpus(%rip)
    jb      too_few
    cmpq    $MAX_CPUS, ncpus(%rip)
    ja      too_few
    PC_GATE 1, isr_db                   /* no IST: the CPUs' #DBs must not share one stack */
    PC_GATE VEC_NEIGHBOUR, isr_neighbour
    PC_GATE VEC_SELF, isr_self
    APIC_WRITE APIC_SPIV, $(APIC_SPIV_APIC_ENABLED | 0xFF)
    mov     $0xFF, %al                  /* both 8259s masked */
    outb    %al, $0x21
    outb    %al, $0xA1

    /* bring-up */
    AP_START_ALL trampoline, trampoline_end, TRAMPOLINE, ap_count, ncpus
    CHECK   "smp-dr.every-ap-up", %rbx, ap_count(%rip)

    xor     %ebx, %ebx
    call    dr_rounds
    /* every AP done, and every IPI taken (an AP's last IPI to its neighbour may still be on its way) */
    mov     ncpus(%rip), %rbx
    dec     %rbx
3:  cmp     done(%rip), %rbx
    je      4f
    pause
    jmp     3b
4:  mov     ncpus(%rip), %rax
    imul    $ROUNDS, %rax, %rbx
5:  xor     %eax, %eax
    xor     %ecx, %ecx
6:  add     neighbour_irqs(, %rcx, 8), %rax
    inc     %ecx
    cmp     $MAX_CPUS, %ecx
    jb      6b
    cmp     %rbx, %rax
    jae     7f
    pause
    jmp     5b

    /* the verdicts, CPU by CPU: a CPU whose six counts are all right is counted quietly (each
       line on COM1 costs two exits a byte, and the check matrix runs this kernel 18 times); a
       CPU with any count wrong gets its six checks printed, naming what went wrong */
7:  xor     %r12d, %r12d
    xor     %r13d, %r13d                /* CPUs with every count right */
8:  mov     exec_hits(, %r12, 8), %rax
    cmp     $ROUNDS, %rax
    jne     9f
    mov     data_hits(, %r12, 8), %rax
    cmp     $ROUNDS, %rax
    jne     9f
    mov     neighbour_irqs(, %r12, 8), %rax
    cmp     $ROUNDS, %rax
    jne     9f
    mov     self_irqs(, %r12, 8), %rax
    cmp     $ROUNDS, %rax
    jne     9f
    mov     db_wrong(, %r12, 8), %rax
    or      dr_bad(, %r12, 8), %rax
    jnz     9f
    inc     %r13
    jmp     10f
9:  REPORT  "smp-dr.cpu", %r12
    mov     exec_hits(, %r12, 8), %rax
    CHECK   "smp-dr.execute-breakpoint-hit-every-round", $ROUNDS, %rax
    mov     data_hits(, %r12, 8), %rax
    CHECK   "smp-dr.write-breakpoint-hit-every-round", $ROUNDS, %rax
    mov     db_wrong(, %r12, 8), %rax
    CHECK   "smp-dr.no-other-debug-exception", $0, %rax
    mov     dr_bad(, %r12, 8), %rax
    CHECK   "smp-dr.dr0-dr3-dr7-read-back-as-written", $0, %rax
    mov     neighbour_irqs(, %r12, 8), %rax
    CHECK   "smp-dr.ipis-from-the-neighbour", $ROUNDS, %rax
    mov     self_irqs(, %r12, 8), %rax
    CHECK   "smp-dr.self-ipis-woke-the-hlt", $ROUNDS, %rax
10: inc     %r12
    cmp     ncpus(%rip), %r12
    jb      8b
    CHECK   "smp-dr.every-cpu-kept-its-own-breakpoints", ncpus(%rip), %r13
    CONF_FINISH "pc64-smp-dr"

too_few:
    PC_SAY  "FAIL smp-dr.cpus: run this kernel with 2 to 8 vCPUs"
    incq    conf_fail(%rip)
    CONF_FINISH "pc64-smp-dr"

/* dr_rounds: the work of the CPU with APIC ID %rbx (kept in %rbx): arm its own breakpoints, play
   ROUNDS rounds, disarm. Clobbers every register but %rbx and %rsp. */
dr_rounds:
    cli
    /* the values this CPU writes, kept for its read-backs */
    mov     %rbx, %rax
    shl     $4, %rax
    lea     exec_targets(%rip), %r13
    add     %rax, %r13                  /* %r13: its execute target */
    mov     %r13, want_dr0(, %rbx, 8)
    mov     %rbx, %rax
    shl     $6, %rax
    lea     data_targets(%rip), %r14
    add     %rax, %r14                  /* %r14: its data target */
    mov     %r14, want_dr1(, %rbx, 8)
    mov     %rbx, %rax
    shl     $12, %rax
    lea     DR2_BASE + 0x10(%rax), %rcx
    mov     %rcx, want_dr2(, %rbx, 8)
    lea     DR3_BASE + 0x20(%rax), %rcx
    mov     %rcx, want_dr3(, %rbx, 8)
    mov     $DR7_LOCAL, %eax
    mov     $DR7_GLOBAL, %ecx
    test    $1, %bl
    cmovnz  %ecx, %eax
    mov     %rax, want_dr7(, %rbx, 8)
    /* arm */
    mov     $DR6_INIT, %eax
    mov     %rax, %dr6
    mov     want_dr0(, %rbx, 8), %rax
    mov     %rax, %dr0
    mov     want_dr1(, %rbx, 8), %rax
    mov     %rax, %dr1
    mov     want_dr2(, %rbx, 8), %rax
    mov     %rax, %dr2
    mov     want_dr3(, %rbx, 8), %rax
    mov     %rax, %dr3
    mov     want_dr7(, %rbx, 8), %rax
    mov     %rax, %dr7
    /* the neighbour: APIC ID + 1, modulo the CPU count */
    lea     1(%rbx), %r15
    cmp     ncpus(%rip), %r15
    jb      1f
    xor     %r15d, %r15d
1:  xor     %r12d, %r12d
2:  call    *%r13                       /* #DB fault on its execute target */
    mov     %r12, (%r14)                /* #DB trap after the store */
    push    %rbx
    xor     %eax, %eax
    cpuid                               /* exit: CPUID (which writes EBX) */
    pop     %rbx
    mov     $(COM1 + UART_LSR), %dx
    inb     %dx, %al                    /* exit: port I/O */
    /* one IPI outstanding at a time (a second one would merge with it in the IRR): wait, with
       interrupts on so that no two CPUs wait for each other, until the neighbour took the last */
    sti
5:  cmp     neighbour_irqs(, %r15, 8), %r12
    jbe     6f
    pause
    jmp     5b
6:  cli
    SEND_IPI %r15d, $(ICR_ASSERT | VEC_NEIGHBOUR)
    SEND_IPI $0, $(ICR_SELF | ICR_ASSERT | VEC_SELF)
3:  cli
    mov     self_irqs(, %rbx, 8), %rax
    cmp     %r12, %rax
    ja      4f                          /* this round's self-IPI came */
    sti
    hlt                                 /* exit: HLT; STI's shadow: no IPI slips in before it */
    jmp     3b
4:  DR_READ_BACK 0, want_dr0
    DR_READ_BACK 1, want_dr1
    DR_READ_BACK 2, want_dr2
    DR_READ_BACK 3, want_dr3
    DR_READ_BACK 7, want_dr7
    inc     %r12
    cmp     $ROUNDS, %r12
    jb      2b
    mov     $0x400, %eax                /* disarmed: the BSP's checks run without breakpoints */
    mov     %rax, %dr7
    sti
    ret

/* #DB: counts the hit on the CPU that took it, by DR6, then clears DR6. */
isr_db:
    push    %rax
    push    %rbx
    push    %rcx
    push    %rdx
    APIC_READ APIC_ID, %ebx
    shr     $24, %ebx
    mov     %dr6, %rax
    test    $DR6_B2_B3, %al
    jnz     8f
    test    $DR6_B0, %al
    jz      2f
    test    $DR6_B1, %al
    jnz     8f
    mov     %rbx, %rcx                  /* B0: RIP must be this CPU's own execute target */
    shl     $4, %rcx
    lea     exec_targets(%rip), %rdx
    add     %rcx, %rdx
    cmp     %rdx, 32(%rsp)
    jne     8f
    lock incq exec_hits(, %rbx, 8)
    orq     $RFLAGS_RF, 48(%rsp)        /* resume past the instruction breakpoint */
    jmp     9f
2:  test    $DR6_B1, %al
    jz      8f
    lock incq data_hits(, %rbx, 8)
    jmp     9f
8:  lock incq db_wrong(, %rbx, 8)
    orq     $RFLAGS_RF, 48(%rsp)        /* an unexplained fault must not repeat for ever (a CPU run
                                           with another's DRs sees a DR6 that is not its own) */
9:  mov     $DR6_INIT, %eax
    mov     %rax, %dr6
    pop     %rdx
    pop     %rcx
    pop     %rbx
    pop     %rax
    iretq

/* an IPI from the neighbour, counted on the CPU that took it */
isr_neighbour:
    push    %rax
    APIC_READ APIC_ID, %eax
    shr     $24, %eax
    lock incq neighbour_irqs(, %rax, 8)
    APIC_WRITE APIC_EOI, $0
    pop     %rax
    iretq

isr_self:
    push    %rax
    APIC_READ APIC_ID, %eax
    shr     $24, %eax
    lock incq self_irqs(, %rax, 8)
    APIC_WRITE APIC_EOI, $0
    pop     %rax
    iretq

/* one execute target per CPU, 16 bytes apart */
    .balign 16
exec_targets:
    .rept MAX_CPUS
    .balign 16
    nop
    ret
    .endr

/* ---- the application processors: real mode at 0x8000 (CS 0x0800), copied there by the BSP ---- */
    AP_TRAMPOLINE_TO_LONG_MODE trampoline, trampoline_end, ap_start64
    AP_OWN_STACK ap_stacks_top, AP_STACK_SIZE
    lock incq ap_count(%rip)
    call    dr_rounds
    lock incq done(%rip)
1:  hlt
    jmp     1b

    CONF_RUNTIME
    PC64_RUNTIME

    .data
    .balign 64
data_targets:   .space MAX_CPUS * 64
ncpus:          .quad 0
ap_count:       .quad 0
done:           .quad 0
want_dr0:       .space MAX_CPUS * 8
want_dr1:       .space MAX_CPUS * 8
want_dr2:       .space MAX_CPUS * 8
want_dr3:       .space MAX_CPUS * 8
want_dr7:       .space MAX_CPUS * 8
exec_hits:      .space MAX_CPUS * 8
data_hits:      .space MAX_CPUS * 8
db_wrong:       .space MAX_CPUS * 8
dr_bad:         .space MAX_CPUS * 8
neighbour_irqs: .space MAX_CPUS * 8
self_irqs:      .space MAX_CPUS * 8

    .bss
    .balign 4096
                .space MAX_CPUS * AP_STACK_SIZE
ap_stacks_top:
