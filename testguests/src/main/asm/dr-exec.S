/* dr-exec: execute (instruction) breakpoints, checked from inside the guest (SDM Vol. 3,
 * "Debug Registers": instruction-breakpoint exception condition, RF, DR6).
 *
 *   exec.drN.{local,global}.*   each slot, each enable: a fault #DB before the instruction
 *                               (frame RIP = breakpoint address, the instruction has not run),
 *                               DR6 = B<n> only, RF clear in the pushed RFLAGS
 *   exec.rf.*                   RF set in the frame by the handler suppresses the breakpoint for
 *                               one instruction, which then runs once; the next execution hits again
 *   exec.disabled-*             a disabled slot matching the same fetch is reported in DR6 when an
 *                               enabled one fires; disabled slots alone raise nothing
 *   exec.dr6.*                  each #DB replaces B0-B3 (a stale B bit is gone), BS stays set
 *   exec.len-nonzero.*          LEN != 00 on an execute slot matches only the exact address
 *   exec.after-exit.*           a breakpoint armed before a VM/TD exit still fires after it
 *
 * Build flag CONF_MUTANT_EXEC_DR6: expects B1 instead of B0 for slot 0 (a deliberately wrong
 * expectation, so the suite can prove this check fails when the rule is not met).
 */
#include "tdemu.inc"
#include "conformance.inc"

/* One slot, one enable kind: hit the breakpoint and recover without running the instruction. */
.macro EXEC_SLOT slot, en, tag
    CONF_BEGIN
    movq    $0, exec_counter(%rip)
    SET_DRN_ADDR \slot, exec_target
    SET_DR7 DR7_SLOT(\slot, \en, RW_X, LEN_1)
    ARM_RECOVER 1f
    call    exec_target
1:  DR_OFF
    SAVE_DR 6, dr6_after
    xor     %eax, %eax
    mov     %rax, %dr\slot
    CHECK "exec.dr\slot\().\tag\().vector", $VEC_DB, exc_vector(%rip)
    CHECK_ADDR "exec.dr\slot\().\tag\().fault-rip-is-breakpoint-address", exec_target, exc_rip(%rip)
    CHECK "exec.dr\slot\().\tag\().instruction-not-executed", $0, exec_counter(%rip)
#ifdef CONF_MUTANT_EXEC_DR6
    .if \slot == 0
    CHECK "exec.dr\slot\().\tag\().dr6-reports-slot", $(DR6_INIT | 2), exc_dr6(%rip)
    .else
    CHECK "exec.dr\slot\().\tag\().dr6-reports-slot", $(DR6_INIT | (1 << \slot)), exc_dr6(%rip)
    .endif
#else
    CHECK "exec.dr\slot\().\tag\().dr6-reports-slot", $(DR6_INIT | (1 << \slot)), exc_dr6(%rip)
#endif
    CHECK "exec.dr\slot\().\tag\().dr6-unchanged-after-handler", exc_dr6(%rip), dr6_after(%rip)
    CHECK_MASK "exec.dr\slot\().\tag\().frame-rf-clear", $0, exc_rflags(%rip), $RFLAGS_RF
.endm

    .section .text.entry, "ax"
    .globl _start
_start:
    call    tdemu_init
    call    conf_idt_init

    EXEC_SLOT 0, DR7_L(0), local
    EXEC_SLOT 1, DR7_L(1), local
    EXEC_SLOT 2, DR7_L(2), local
    EXEC_SLOT 3, DR7_L(3), local
    EXEC_SLOT 0, DR7_G(0), global
    EXEC_SLOT 1, DR7_G(1), global
    EXEC_SLOT 2, DR7_G(2), global
    EXEC_SLOT 3, DR7_G(3), global

    /* RF: the handler sets RF in the saved RFLAGS and returns to the breakpoint address. */
    CONF_BEGIN
    movq    $0, exec_counter(%rip)
    SET_DRN_ADDR 0, exec_target
    SET_DR7 DR7_SLOT(0, DR7_L(0), RW_X, LEN_1)
    movq    $RFLAGS_RF, exc_or_flags(%rip)
    call    exec_target
    mov     exc_count(%rip), %rax
    mov     %rax, count_first(%rip)
    mov     exec_counter(%rip), %rax
    mov     %rax, counter_first(%rip)
    call    exec_target
    DR_OFF
    CHECK "exec.rf.one-db-per-hit", $1, count_first(%rip)
    CHECK "exec.rf.instruction-runs-once-after-resume", $1, counter_first(%rip)
    CHECK "exec.rf.breakpoint-fires-again-on-next-execution", $2, exc_count(%rip)
    CHECK "exec.rf.both-executions-completed", $2, exec_counter(%rip)
    CHECK_ADDR "exec.rf.second-hit-rip", exec_target, LOG_RIP(1)

    /* A disabled slot whose condition the same fetch meets gets its B bit. */
    CONF_BEGIN
    SET_DRN_ADDR 0, exec_target
    SET_DRN_ADDR 1, exec_target
    SET_DRN_ADDR 2, exec_other
    SET_DR7 DR7_SLOT(0, DR7_L(0), RW_X, LEN_1)
    ARM_RECOVER 1f
    call    exec_target
1:  DR_OFF
    CHECK "exec.disabled-matching-slot-reported-with-enabled-hit", $(DR6_INIT | 3), exc_dr6(%rip)

    /* Only disabled slots match: no #DB at all. */
    CONF_BEGIN
    movq    $0, exec_counter(%rip)
    SET_DR7 DR7_SLOT(1, 0, RW_X, LEN_1)
    call    exec_target
    DR_OFF
    CHECK "exec.disabled-slots-alone-raise-nothing", $0, exc_count(%rip)
    CHECK "exec.disabled-slots-alone-instruction-runs", $1, exec_counter(%rip)
    SAVE_DR 6, dr6_after
    CHECK "exec.disabled-slots-alone-dr6-untouched", $DR6_INIT, dr6_after(%rip)

    /* B0-B3 replaced per #DB: a stale B2 disappears. */
    CONF_BEGIN
    SET_DR6 (DR6_INIT | 4)
    SET_DRN_ADDR 0, exec_target
    SET_DR7 DR7_SLOT(0, DR7_L(0), RW_X, LEN_1)
    ARM_RECOVER 1f
    call    exec_target
1:  DR_OFF
    CHECK "exec.dr6.stale-b-bit-replaced", $(DR6_INIT | 1), exc_dr6(%rip)

    /* BS (and the stale B2 with it) planted before: BS stays, B bits are the new ones. */
    CONF_BEGIN
    SET_DR6 (DR6_INIT | DR6_BS | 4)
    SET_DRN_ADDR 0, exec_target
    SET_DR7 DR7_SLOT(0, DR7_L(0), RW_X, LEN_1)
    ARM_RECOVER 1f
    call    exec_target
1:  DR_OFF
    CHECK "exec.dr6.bs-sticky", $(DR6_INIT | DR6_BS | 1), exc_dr6(%rip)

    /* Two hits in a row without clearing DR6: the second reports its own slot only. */
    CONF_BEGIN
    SET_DRN_ADDR 0, exec_target
    SET_DRN_ADDR 3, exec_other
    SET_DR7 (DR7_SLOT(0, DR7_L(0), RW_X, LEN_1) | DR7_SLOT(3, DR7_G(3), RW_X, LEN_1))
    ARM_RECOVER 1f
    call    exec_target
1:  ARM_RECOVER 2f
    call    exec_other
2:  DR_OFF
    CHECK "exec.dr6.second-hit-first-slot", $(DR6_INIT | 1), LOG_DR6(0)
    CHECK "exec.dr6.second-hit-reports-only-its-slot", $(DR6_INIT | 8), LOG_DR6(1)

    /* LEN != 00 on an execute slot: only the exact address matches (tdemu's model decision 4). */
    CONF_BEGIN
    movq    $0, exec_counter(%rip)
    SET_DRN_ADDR 0, exec_target
    SET_DR7 DR7_SLOT(0, DR7_L(0), RW_X, LEN_4)
    ARM_RECOVER 1f
    call    exec_target
1:  DR_OFF
    CHECK "exec.len-nonzero.exact-address-fires", $(DR6_INIT | 1), exc_dr6(%rip)
    CONF_BEGIN
    movq    $0, exec_counter(%rip)
    lea     exec_target(%rip), %rax
    inc     %rax
    mov     %rax, %dr0
    SET_DR7 DR7_SLOT(0, DR7_L(0), RW_X, LEN_4)
    call    exec_target
    DR_OFF
    CHECK "exec.len-nonzero.no-range-match", $0, exc_count(%rip)

    /* Armed, then an exit to the VMM (a hypercall), then hit: the breakpoint survived the exit. */
    CONF_BEGIN
    movq    $0, exec_counter(%rip)
    SET_DRN_ADDR 2, exec_target
    SET_DR7 DR7_SLOT(2, DR7_G(2), RW_X, LEN_1)
    mov     $TDEMU_HC_HOST_WORKLOAD, %eax
    call    tdemu_hypercall
    ARM_RECOVER 1f
    call    exec_target
1:  SAVE_DR 7, dr7_after
    SAVE_DR 2, dr2_after
    DR_OFF
    CHECK "exec.after-exit.fires", $(DR6_INIT | 4), exc_dr6(%rip)
    CHECK "exec.after-exit.dr7-reads-back", $DR7_SLOT(2, DR7_G(2), RW_X, LEN_1), dr7_after(%rip)
    CHECK_ADDR "exec.after-exit.dr2-reads-back", exec_target, dr2_after(%rip)

    CONF_FINISH dr-exec

    .balign 16
exec_target:
    incq    exec_counter(%rip)
    ret
    .balign 16
exec_other:
    nop
    ret

    TDEMU_RUNTIME
    CONF_RUNTIME

    .section .data
    .balign 8
exec_counter:   .quad 0
dr6_after:      .quad 0
dr7_after:      .quad 0
dr2_after:      .quad 0
count_first:    .quad 0
counter_first:  .quad 0
