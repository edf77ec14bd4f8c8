/* pc64-debug: the debug rules kvm-unit-tests' x86/debug checks that the conformance guests did
 * not, written for tdemu as a PC kernel (the APIC timer is a PC's), checked from inside with
 * conformance.inc (SDM vol. 3, "Debug Exception (#DB)", "Masking Exceptions and Interrupts When
 * Switching Stacks", STI):
 *
 *   step.after-sti.*        single-step: the #DB after STI is not held back by STI's shadow
 *   step.after-mov-ss.*     MOV SS holds back the step trap of the instruction after it
 *   movss-icebp.*           MOV SS, then ICEBP twice: two ICEBP #DBs without BS (the held step
 *                           trap goes with the first), then the step traps resume
 *   movss-gd.*              MOV SS, then MOV to DR6 with DR7.GD: the general-detect fault is not
 *                           held back by the shadow; the re-run MOV completes and the steps go on
 *   movss-wp-int1.*         MOV SS reading a watched word, then INT $1: the #DB handler runs twice,
 *                           the watchpoint's #DB first, at the INT 1 handler's first instruction
 *   movss-wp-int3.*         the same with INT3: #DB (at the #BP handler's first instruction), #BP
 *   movss-wp-icebp.*        the same with a prefixed ICEBP: one #DB reporting the watchpoint
 *   movss-code-bp.*         a code breakpoint on the instruction after MOV SS raises no #DB
 *                           (Intel: MOV SS blocking inhibits instruction breakpoints); the
 *                           same breakpoint without MOV SS before it raises one
 *   bs-sticky.*             a DR6.BS set by software survives a code breakpoint's #DB and a data
 *                           breakpoint's, B0-B3 say only what matched
 *   sti-hlt.*               STI;HLT single-stepped with the APIC timer armed (vector 0xEE):
 *                           exactly the #DBs at the HLT, after it and after each instruction on
 *                           (the #DB owed for the HLT ends the halt, as in KVM), and the timer's
 *                           interrupt exactly once
 *   buslock.*               a split-lock CMPXCHG raises nothing; DEBUGCTL.BLD is not offered (#GP)
 *   iret-rf.*               RF popped by IRETQ lasts one instruction (SDM 17.3.1.1): a code
 *                           breakpoint on the first instruction is suppressed, one on the second
 *                           fires, and PUSHF's image never has RF (a PUSHF right after the IRET,
 *                           and one later in the same block)
 *
 * The #DB gate has no IST here: a #DB delivered at the first instruction of a #DB or #BP handler
 * (the held watchpoint trap) must not reuse the stack the first frame is on.
 */
#define CONF_PC
#include "multiboot.inc"
#include "pc.inc"
#include "conformance.inc"
#include "pc64.inc"

#define VEC_APIC_TIMER 0xEE
#define IA32_DEBUGCTL 0x1D9

/* TF on through POPF; %rax keeps RFLAGS with TF set (the sequence ends by popping it cleared). */
.macro TF_ON_RAX
    pushfq
    pop     %rax
    or      $RFLAGS_TF, %rax
    push    %rax
    popfq
.endm

/* IRETQ to \target with RF set in the popped RFLAGS (SS, RSP, CS as they are); clobbers RAX, RBX. */
.macro IRET_RF target
    mov     %rsp, %rbx
    mov     %ss, %eax
    push    %rax
    push    %rbx
    pushfq
    orq     $RFLAGS_RF, (%rsp)
    mov     %cs, %eax
    push    %rax
    lea     \target(%rip), %rax
    push    %rax
    iretq
.endm

/* One logged #DB: entry \i at \label (a trap's RIP after its instruction) with DR6 \dr6. */
.macro DB_AT name, i, label, dr6
    CHECK_ADDR "\name\().db\i\().rip", \label, LOG_RIP(\i)
    CHECK "\name\().db\i\().dr6", $(\dr6), LOG_DR6(\i)
.endm

    .text
main64:
    andb    $~7, (pc_idt + 16 * VEC_DB + 4)(%rip)     /* #DB without IST */
    PC_GATE VEC_APIC_TIMER, timer_isr

    /* ---- single-step after STI ---- */
    CONF_BEGIN
    cli
    TF_ON_RAX
    sti
1:  and     $~RFLAGS_TF, %rax
2:  push    %rax
3:  popfq
4:  cli
    CHECK "step.after-sti.db-count", $4, exc_count(%rip)
    DB_AT   "step.after-sti", 0, 1b, DR6_INIT | DR6_BS
    DB_AT   "step.after-sti", 1, 2b, DR6_INIT | DR6_BS
    DB_AT   "step.after-sti", 2, 3b, DR6_INIT | DR6_BS
    DB_AT   "step.after-sti", 3, 4b, DR6_INIT | DR6_BS

    /* ---- single-step after MOV SS ---- */
    CONF_BEGIN
    mov     %ss, %bx
    TF_ON_RAX
    mov     %bx, %ss                            /* the step trap of the MOV SS waits ... */
    and     $~RFLAGS_TF, %rax                   /* ... until this one completed */
1:  push    %rax
2:  popfq
3:  CHECK "step.after-mov-ss.db-count", $3, exc_count(%rip)
    DB_AT   "step.after-mov-ss", 0, 1b, DR6_INIT | DR6_BS
    DB_AT   "step.after-mov-ss", 1, 2b, DR6_INIT | DR6_BS
    DB_AT   "step.after-mov-ss", 2, 3b, DR6_INIT | DR6_BS

    /* ---- MOV SS, then ICEBP ---- */
    CONF_BEGIN
    mov     %ss, %bx
    TF_ON_RAX
    mov     %bx, %ss
    .byte   0xf1
1:  .byte   0xf1
2:  and     $~RFLAGS_TF, %rax
3:  push    %rax
4:  popfq
5:  CHECK "movss-icebp.db-count", $5, exc_count(%rip)
    DB_AT   "movss-icebp", 0, 1b, DR6_INIT
    DB_AT   "movss-icebp", 1, 2b, DR6_INIT
    DB_AT   "movss-icebp", 2, 3b, DR6_INIT | DR6_BS
    DB_AT   "movss-icebp", 3, 4b, DR6_INIT | DR6_BS
    DB_AT   "movss-icebp", 4, 5b, DR6_INIT | DR6_BS

    /* ---- MOV SS, then MOV DR with DR7.GD ---- */
    CONF_BEGIN
    SET_DR7 (DR7_FIXED | DR7_GD)
    xor     %ecx, %ecx
    mov     %ss, %bx
    TF_ON_RAX
    mov     %bx, %ss
1:  mov     %rcx, %dr6
2:  and     $~RFLAGS_TF, %rax
3:  push    %rax
4:  popfq
5:  CHECK "movss-gd.db-count", $5, exc_count(%rip)
    DB_AT   "movss-gd", 0, 1b, DR6_INIT | DR6_BD
    DB_AT   "movss-gd", 1, 2b, DR6_INIT | DR6_BS
    DB_AT   "movss-gd", 2, 3b, DR6_INIT | DR6_BS
    DB_AT   "movss-gd", 3, 4b, DR6_INIT | DR6_BS
    DB_AT   "movss-gd", 4, 5b, DR6_INIT | DR6_BS

    /* ---- MOV SS reading a watched word, then INT $1 / INT3 / ICEBP ---- */
    mov     %ss, %ax
    mov     %ax, ss_value(%rip)
    CONF_BEGIN
    SET_DRN_ADDR 1, ss_value
    SET_DR7 DR7_SLOT(1, DR7_G(1), RW_RW, LEN_4)
    mov     ss_value(%rip), %ss
    int     $1
1:  CHECK "movss-wp-int1.handler-runs-twice", $2, exc_count(%rip)
    CHECK "movss-wp-int1.first-the-watchpoint-db", $VEC_DB, LOG_VECTOR(0)
    CHECK_ADDR "movss-wp-int1.first-at-the-int1-handlers-first-instruction", conf_stub_1, LOG_RIP(0)
    CHECK_MASK "movss-wp-int1.first-reports-b1", $2, LOG_DR6(0), $0xF
    CHECK "movss-wp-int1.then-int1", $VEC_DB, LOG_VECTOR(1)
    CHECK_ADDR "movss-wp-int1.int1-returns-after-int1", 1b, LOG_RIP(1)

    CONF_BEGIN
    SET_DRN_ADDR 1, ss_value
    SET_DR7 DR7_SLOT(1, DR7_G(1), RW_RW, LEN_4)
    mov     ss_value(%rip), %ss
    int3
1:  CHECK "movss-wp-int3.two-exceptions", $2, exc_count(%rip)
    CHECK "movss-wp-int3.first-the-watchpoint-db", $VEC_DB, LOG_VECTOR(0)
    CHECK_ADDR "movss-wp-int3.db-at-the-bp-handlers-first-instruction", conf_stub_3, LOG_RIP(0)
    CHECK_MASK "movss-wp-int3.db-reports-b1", $2, LOG_DR6(0), $0xF
    CHECK "movss-wp-int3.then-bp", $VEC_BP, LOG_VECTOR(1)
    CHECK_ADDR "movss-wp-int3.bp-returns-after-int3", 1b, LOG_RIP(1)

    CONF_BEGIN
    SET_DRN_ADDR 1, ss_value
    SET_DR7 DR7_SLOT(1, DR7_G(1), RW_RW, LEN_4)
    mov     ss_value(%rip), %ss
    .byte   0x2e, 0x2e, 0xf1                    /* ICEBP with two prefixes */
1:  CHECK "movss-wp-icebp.one-db", $1, exc_count(%rip)
    CHECK_ADDR "movss-wp-icebp.after-the-prefixed-icebp", 1b, LOG_RIP(0)
    CHECK "movss-wp-icebp.reports-b1", $(DR6_INIT | 2), LOG_DR6(0)

    /* ---- code breakpoint on the instruction after MOV SS ---- */
    CONF_BEGIN
    movq    $RFLAGS_RF, exc_or_flags(%rip)     /* resume the faulting instruction */
    SET_DRN_ADDR 2, 1f
    SET_DR7 DR7_SLOT(2, DR7_G(2), RW_X, LEN_1)
    mov     %ss, %ax
    mov     %ax, %ss
1:  nop
    CHECK "movss-code-bp.suppressed", $0, exc_count(%rip)
    CONF_BEGIN
    movq    $RFLAGS_RF, exc_or_flags(%rip)
    SET_DRN_ADDR 2, 1f
    SET_DR7 DR7_SLOT(2, DR7_G(2), RW_X, LEN_1)
    mov     %ss, %ax
    nop
1:  nop
    CHECK "movss-code-bp.without-mov-ss-fires", $1, exc_count(%rip)
    SET_DR7 DR7_FIXED

    /* ---- DR6.BS set by software ---- */
    CONF_BEGIN
    movq    $RFLAGS_RF, exc_or_flags(%rip)     /* resume the faulting instruction */
    SET_DRN_ADDR 2, 1f
    SET_DR7 DR7_SLOT(2, DR7_G(2), RW_X, LEN_1)
    SET_DR6 (DR6_INIT | DR6_BS | 2)            /* BS and a stale B1 */
1:  nop
    CHECK "bs-sticky.code-bp.db-count", $1, exc_count(%rip)
    DB_AT   "bs-sticky.code-bp", 0, 1b, DR6_INIT | DR6_BS | 4

    CONF_BEGIN
    SET_DRN_ADDR 1, watched
    SET_DR7 DR7_SLOT(1, DR7_L(1), RW_W, LEN_4)
    SET_DR6 (DR6_INIT | DR6_BS)
    movl    $42, watched(%rip)
1:  CHECK "bs-sticky.watchpoint.db-count", $1, exc_count(%rip)
    DB_AT   "bs-sticky.watchpoint", 0, 1b, DR6_INIT | DR6_BS | 2
    CONF_NEXT
    movl    $43, watched(%rip)
1:  CHECK "bs-sticky.watchpoint-without-bs.db-count", $1, exc_count(%rip)
    DB_AT   "bs-sticky.watchpoint-without-bs", 0, 1b, DR6_INIT | 2

    /* ---- STI;HLT, single-stepped, woken by the APIC timer ---- */
    APIC_WRITE APIC_SPIV, $(APIC_SPIV_APIC_ENABLED | 0xFF)
    CONF_BEGIN
    movq    $0, timer_count(%rip)
    cli
    APIC_WRITE APIC_LVTT, $VEC_APIC_TIMER
    APIC_WRITE APIC_TDCR, $0xB
    APIC_WRITE APIC_TMICT, $1000000
    TF_ON_RAX
    sti
1:  hlt
2:  and     $~RFLAGS_TF, %rax
3:  push    %rax
4:  popfq
5:  cli
    CHECK "sti-hlt.db-count", $5, exc_count(%rip)
    DB_AT   "sti-hlt", 0, 1b, DR6_INIT | DR6_BS
    DB_AT   "sti-hlt", 1, 2b, DR6_INIT | DR6_BS
    DB_AT   "sti-hlt", 2, 3b, DR6_INIT | DR6_BS
    DB_AT   "sti-hlt", 3, 4b, DR6_INIT | DR6_BS
    DB_AT   "sti-hlt", 4, 5b, DR6_INIT | DR6_BS
    /* The owed #DB ends the halt (as in KVM): the timer comes during the steps or after them. */
6:  cli
    cmpq    $1, timer_count(%rip)
    jae     7f
    sti
    hlt
    jmp     6b
7:  CHECK "sti-hlt.timer-interrupt-once", $1, timer_count(%rip)

    /* ---- bus lock ---- */
    CONF_BEGIN
    lea     split(%rip), %rdi
    add     $60, %rdi                           /* 8 bytes across a 64-byte line */
    movq    $0, (%rdi)
    xor     %eax, %eax
    movabs  $0xdeadbeefdeadbeef, %rbx
    lock cmpxchg %rbx, (%rdi)
    mov     (%rdi), %rax
    mov     %rax, got(%rip)
    CHECK "buslock.split-lock-raises-nothing", $0, exc_count(%rip)
    movabs  $0xdeadbeefdeadbeef, %rax
    CHECK "buslock.split-lock-cmpxchg-done", %rax, got(%rip)
    mov     $7, %eax
    xor     %ecx, %ecx
    cpuid
    mov     %rcx, got(%rip)
    CHECK_MASK "buslock.cpuid-no-bus-lock-detect", $0, got(%rip), $(1 << 24)
    CONF_BEGIN
    ARM_RECOVER 1f
    mov     $IA32_DEBUGCTL, %ecx
    mov     $4, %eax                            /* BLD */
    xor     %edx, %edx
    wrmsr
1:  CHECK "buslock.debugctl-bld-gp", $VEC_GP, exc_vector(%rip)

    /* ---- RF popped by IRET lasts one instruction ---- */
    CONF_BEGIN
    IRET_RF 1f
1:  pushfq                                      /* runs with RF set; the image has none */
    pop     %rax
    mov     %rax, got(%rip)
    CHECK_MASK "iret-rf.pushf-right-after-iret", $0, got(%rip), $RFLAGS_RF
    CONF_BEGIN
    IRET_RF 1f
1:  nop
    pushfq                                      /* same block, RF cleared after the NOP */
    pop     %rax
    mov     %rax, got(%rip)
    CHECK_MASK "iret-rf.pushf-after-one-instruction", $0, got(%rip), $RFLAGS_RF
    CONF_BEGIN
    movq    $RFLAGS_RF, exc_or_flags(%rip)     /* resume the faulting instruction */
    SET_DRN_ADDR 2, 1f
    SET_DR7 DR7_SLOT(2, DR7_G(2), RW_X, LEN_1)
    IRET_RF 1f
1:  nop                                         /* RF suppresses the breakpoint here ... */
    SET_DR7 DR7_FIXED
    CHECK "iret-rf.first-instruction-breakpoint-suppressed", $0, exc_count(%rip)
    CONF_BEGIN
    movq    $RFLAGS_RF, exc_or_flags(%rip)
    SET_DRN_ADDR 2, 2f
    SET_DR7 DR7_SLOT(2, DR7_G(2), RW_X, LEN_1)
    IRET_RF 1f
1:  nop
2:  nop                                         /* ... and only there */
    SET_DR7 DR7_FIXED
    CHECK "iret-rf.second-instruction-breakpoint-fires", $1, exc_count(%rip)

    CONF_FINISH "pc64-debug"

timer_isr:
    incq    timer_count(%rip)
    APIC_WRITE APIC_EOI, $0
    iretq

    .data
    .balign 64
split:          .space 128
    .balign 8
ss_value:       .quad 0
watched:        .quad 0
timer_count:    .quad 0
got:            .quad 0

    .text
    CONF_RUNTIME
    PC64_RUNTIME
