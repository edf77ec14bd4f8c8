/* dr-step: single step (RFLAGS.TF), checked from inside the guest (SDM Vol. 3, "Single-Step
 * Exception Condition", RF rules for repeated string instructions).
 *
 *   step.popf-delay.*        TF set by POPF: no trap after the POPF, the first trap after the
 *                            instruction following it
 *   step.sequence.*          then every instruction traps (RIP = next instruction, DR6.BS, TF set
 *                            in the frame), PUSHF pushes TF=1, and a POPF that clears TF still
 *                            traps once (TF was set when it began), then stepping stops
 *   step.handler-clears-tf.* clearing TF in the frame stops stepping
 *   step.over-cpuid.*        CPUID leaf 0x21 (a VM exit in VMX, answered by the TDX module in a
 *                            TD): one trap with BS after it
 *   step.over-hypercall.*    VMCALL (VMX) or TDCALL TDG.VP.VMCALL (TD), which exit to the VMM
 *   step.over-tdcall-vp-info.* (TD) TDCALL TDG.VP.INFO, answered by the TDX module
 *   step.over-io-exit.*      (VMX) IN from an intercepted port, emulated by the VMM
 *   step.over-mov-dr.*       MOV DR right after an exit (VMX: MOV-DR exiting, then the lazy switch)
 *   step.with-data-hit.*     single step and a data breakpoint in one instruction: one #DB with
 *                            BS and B0
 *   step.then-exec-bp.*      a step trap after an instruction, then the execute breakpoint on the
 *                            next one: two #DBs (trap, then fault before the instruction)
 *   step.mov-ss.*            MOV SS blocks debug exceptions for one instruction: the step trap
 *                            comes after the instruction following it
 *   step.pushf-watched.*     PUSHF with TF=1 onto a watched slot pushes TF=1
 *   step.rep-stosb.*         each iteration of a repeated string instruction traps, RIP on the
 *                            instruction and RF=1 in the frame until the last iteration
 */
#include "tdemu.inc"
#include "conformance.inc"

/* TF on through POPF (takes effect after the next instruction). Clobbers nothing else. */
.macro TF_ON
    pushfq
    orq     $RFLAGS_TF, (%rsp)
    popfq
.endm

/* Checks for "one single-step trap right after the instruction before label 1". */
.macro ONE_STEP name
    CHECK "\name\().db-count", $1, exc_count(%rip)
    CHECK "\name\().vector", $VEC_DB, exc_vector(%rip)
    CHECK_ADDR "\name\().trap-rip-after-instruction", 1b, exc_rip(%rip)
    CHECK "\name\().dr6-bs", $(DR6_INIT | DR6_BS), exc_dr6(%rip)
.endm

    .section .text.entry, "ax"
    .globl _start
_start:
    call    tdemu_init
    call    conf_idt_init

    /* ---- POPF delay, stepping every instruction, POPF clearing TF ---- */
    CONF_BEGIN
    xor     %ebx, %ebx
    TF_ON
step_a: nop
step_b: mov     $1, %eax
step_c: add     $1, %eax
step_d: pushfq
step_e: mov     (%rsp), %rbx
step_f: andq    $~RFLAGS_TF, (%rsp)
step_g: popfq
step_h: nop
    nop
    mov     %rbx, flags_pushed(%rip)
    CHECK_ADDR "step.popf-delay.first-trap-after-instruction-following-popf", step_b, LOG_RIP(0)
    CHECK "step.popf-delay.first-trap-dr6-bs", $(DR6_INIT | DR6_BS), LOG_DR6(0)
    CHECK_MASK "step.popf-delay.first-trap-frame-tf-set", $RFLAGS_TF, LOG_RFLAGS(0), $RFLAGS_TF
    CHECK_ADDR "step.sequence.trap-2-rip", step_c, LOG_RIP(1)
    CHECK_ADDR "step.sequence.trap-3-rip", step_d, LOG_RIP(2)
    CHECK_ADDR "step.sequence.trap-4-rip", step_e, LOG_RIP(3)
    CHECK_ADDR "step.sequence.trap-5-rip", step_f, LOG_RIP(4)
    CHECK_ADDR "step.sequence.trap-6-rip", step_g, LOG_RIP(5)
    CHECK "step.sequence.trap-6-dr6-bs", $(DR6_INIT | DR6_BS), LOG_DR6(5)
    CHECK_ADDR "step.sequence.popf-clearing-tf-traps-after-it", step_h, LOG_RIP(6)
    CHECK "step.sequence.stops-after-tf-cleared", $7, exc_count(%rip)
    CHECK_MASK "step.sequence.pushf-pushes-tf", $RFLAGS_TF, flags_pushed(%rip), $RFLAGS_TF

    /* ---- the handler clears TF in the frame ---- */
    CONF_BEGIN
    movq    $RFLAGS_TF, exc_andnot_flags(%rip)
    TF_ON
    nop
1:  nop
    nop
    nop
    ONE_STEP step.handler-clears-tf

    /* ---- CPUID leaf 0x21 ---- */
    CONF_BEGIN
    movq    $RFLAGS_TF, exc_andnot_flags(%rip)
    mov     $0x21, %eax
    xor     %ecx, %ecx
    xor     %ebx, %ebx
    TF_ON
    cpuid
1:  nop
    mov     %rbx, rbx_after(%rip)
    ONE_STEP step.over-cpuid
    cmpb    $0, tdemu_in_td(%rip)
    je      2f
    CHECK "step.over-cpuid.result", $0x65746e49, rbx_after(%rip)
    jmp     3f
2:  CHECK "step.over-cpuid.result", $0, rbx_after(%rip)
3:

    /* ---- a hypercall: VMCALL or TDCALL(TDG.VP.VMCALL), both exits to the VMM ---- */
    CONF_BEGIN
    movq    $RFLAGS_TF, exc_andnot_flags(%rip)
    cmpb    $0, tdemu_in_td(%rip)
    jne     2f
    mov     $TDEMU_HC_HOST_WORKLOAD, %eax
    TF_ON
    vmcall
1:  nop
    ONE_STEP step.over-hypercall
    jmp     3f
2:  xor     %eax, %eax
    mov     $0xFC00, %ecx
    mov     $TDEMU_TD_VENDOR_LEAF, %r10d
    mov     $TDEMU_HC_HOST_WORKLOAD, %r11d
    TF_ON
    tdcall_insn
1:  nop
    ONE_STEP step.over-hypercall
3:

    cmpb    $0, tdemu_in_td(%rip)
    je      4f
    /* ---- TD: TDCALL(TDG.VP.INFO), answered by the TDX module ---- */
    CONF_BEGIN
    movq    $RFLAGS_TF, exc_andnot_flags(%rip)
    mov     $1, %eax
    TF_ON
    tdcall_insn
1:  nop
    mov     %rax, rax_after(%rip)
    ONE_STEP step.over-tdcall-vp-info
    CHECK "step.over-tdcall-vp-info.status", $0, rax_after(%rip)
    jmp     5f
4:
    /* ---- VMX: IN from the console port, an I/O exit the VMM emulates ---- */
    CONF_BEGIN
    movq    $RFLAGS_TF, exc_andnot_flags(%rip)
    TF_ON
    inb     $TDEMU_CONSOLE_PORT, %al
1:  nop
    ONE_STEP step.over-io-exit
5:

    /* ---- MOV DR right after an exit ---- */
    CONF_BEGIN
    mov     $TDEMU_HC_HOST_WORKLOAD, %eax
    call    tdemu_hypercall
    movq    $RFLAGS_TF, exc_andnot_flags(%rip)
    TF_ON
    mov     %dr7, %rax
1:  nop
    mov     %rax, rax_after(%rip)
    ONE_STEP step.over-mov-dr
    CHECK "step.over-mov-dr.value", $DR7_FIXED, rax_after(%rip)

    /* ---- single step and a data breakpoint in one instruction ---- */
    CONF_BEGIN
    SET_DRN_ADDR 0, watch
    SET_DR7 DR7_SLOT(0, DR7_L(0), RW_W, LEN_1)
    movq    $RFLAGS_TF, exc_andnot_flags(%rip)
    TF_ON
    movb    $1, watch(%rip)
1:  nop
    DR_OFF
    CHECK "step.with-data-hit.db-count", $1, exc_count(%rip)
    CHECK_ADDR "step.with-data-hit.trap-rip-after-instruction", 1b, exc_rip(%rip)
    CHECK "step.with-data-hit.dr6-bs-and-b0", $(DR6_INIT | DR6_BS | 1), exc_dr6(%rip)

    /* ---- single step, then an execute breakpoint on the next instruction: two #DBs ---- */
    CONF_BEGIN
    SET_DRN_ADDR 2, step_bp_target
    SET_DR7 DR7_SLOT(2, DR7_L(2), RW_X, LEN_1)
    /* The step trap returns (TF cleared) to the breakpoint, whose fault then recovers past it. */
    movq    $RFLAGS_TF, exc_andnot_flags(%rip)
    movq    $1, exc_recover_skip(%rip)
    ARM_RECOVER 1f
    TF_ON
    nop
step_bp_target:
    nop
1:  DR_OFF
    CHECK "step.then-exec-bp.db-count", $2, exc_count(%rip)
    CHECK_ADDR "step.then-exec-bp.step-trap-rip", step_bp_target, LOG_RIP(0)
    CHECK "step.then-exec-bp.step-trap-dr6-bs", $(DR6_INIT | DR6_BS), LOG_DR6(0)
    CHECK_ADDR "step.then-exec-bp.breakpoint-fault-rip", step_bp_target, LOG_RIP(1)
    CHECK "step.then-exec-bp.breakpoint-dr6-b2-bs-sticky", $(DR6_INIT | DR6_BS | 4), LOG_DR6(1)

    /* ---- MOV SS holds the single-step trap until after the next instruction ---- */
    CONF_BEGIN
    movq    $RFLAGS_TF, exc_andnot_flags(%rip)
    mov     %ss, %eax
    TF_ON
    mov     %eax, %ss
    nop
1:  nop
    CHECK "step.mov-ss.db-count", $1, exc_count(%rip)
    CHECK_ADDR "step.mov-ss.trap-after-the-instruction-following-mov-ss", 1b, exc_rip(%rip)
    CHECK "step.mov-ss.dr6-bs", $(DR6_INIT | DR6_BS), exc_dr6(%rip)

    /* ---- PUSHF with TF=1 onto a watched stack slot ---- */
    CONF_BEGIN
    movq    $RFLAGS_TF, exc_andnot_flags(%rip)
    pushfq
    orq     $RFLAGS_TF, (%rsp)
    /* Watch the slot POPF reads TF from and PUSHF writes next (arming after the writes above). */
    mov     %rsp, %rax
    mov     %rax, %dr1
    SET_DR7 DR7_SLOT(1, DR7_L(1), RW_W, LEN_8)
    popfq
    pushfq
1:  DR_OFF
    pop     %rax
    mov     %rax, flags_pushed(%rip)
    CHECK "step.pushf-watched.db-count", $1, exc_count(%rip)
    CHECK "step.pushf-watched.dr6-bs-and-b1", $(DR6_INIT | DR6_BS | 2), exc_dr6(%rip)
    CHECK_MASK "step.pushf-watched.pushed-tf-kept", $RFLAGS_TF, flags_pushed(%rip), $RFLAGS_TF

    /* ---- REP STOSB, three iterations, stepped ---- */
    CONF_BEGIN
    lea     watch(%rip), %rdi
    mov     $3, %ecx
    xor     %eax, %eax
    cld
    TF_ON
    nop
rep_insn:
    rep stosb
1:  pushfq
    andq    $~RFLAGS_TF, (%rsp)
    popfq
    /* traps: after the NOP, after each of the three iterations, after PUSHF, AND, POPF */
    CHECK "step.rep-stosb.db-count", $7, exc_count(%rip)
    CHECK_ADDR "step.rep-stosb.iteration-1-rip-on-instruction", rep_insn, LOG_RIP(1)
    CHECK_ADDR "step.rep-stosb.iteration-2-rip-on-instruction", rep_insn, LOG_RIP(2)
    CHECK_ADDR "step.rep-stosb.iteration-3-rip-after-instruction", 1b, LOG_RIP(3)
    CHECK_MASK "step.rep-stosb.iteration-1-frame-rf-set", $RFLAGS_RF, LOG_RFLAGS(1), $RFLAGS_RF
    CHECK_MASK "step.rep-stosb.iteration-2-frame-rf-set", $RFLAGS_RF, LOG_RFLAGS(2), $RFLAGS_RF
    CHECK_MASK "step.rep-stosb.iteration-3-frame-rf-clear", $0, LOG_RFLAGS(3), $RFLAGS_RF

    CONF_FINISH dr-step

    TDEMU_RUNTIME
    CONF_RUNTIME

    .section .data
    .balign 8
flags_pushed:   .quad 0
rbx_after:      .quad 0
rax_after:      .quad 0
    .balign 4096
watch:          .space 4096
