/* dr-cpl3: debug registers and exceptions with user-mode (CPL3) code, checked from inside the
 * guest (SDM Vol. 3: MOV DR "#GP(0) if the current privilege level is not 0"; stack switching
 * through the TSS on a privilege change; breakpoints match linear addresses at any CPL).
 *
 * The guest enters CPL3 with IRETQ (CS 0x23, SS 0x1b, its own user stack; the identity pages are
 * already U/S=1). Each user stub does one thing; the CPL0 handler records it and the recovery
 * address brings the guest back to CPL0.
 *
 *   cpl3.mov-from-dr.* / cpl3.mov-to-dr.*   #GP(0), frame CS 0x23 / SS 0x1b / user RSP, the
 *                                           handler's frame on the TSS RSP0 stack, DR unchanged
 *   cpl3.ud2.* / cpl3.de.*                  other exceptions reach the CPL0 handler the same way
 *   cpl3.de-twice.*                         #DE, handled, then #DE again at CPL3: not #DF
 *   cpl3.exec-bp.*                          an execute breakpoint on a CPL3 address fires (fault,
 *                                           frame RIP = the address, CS 0x23)
 *   cpl3.data-bp.*                          a write breakpoint hit by a CPL3 store (trap)
 *   cpl3.int3-through-dpl0-gate.*           INT3 at CPL3 through a DPL0 gate: #GP(3*8+2) on INT3
 *   cpl3.int3-through-dpl3-gate.*           through a DPL3 gate: #BP after it, on the RSP0 stack
 *   cpl3.icebp-through-dpl0-gate.*          ICEBP ignores the gate's DPL: #DB after it
 *   cpl3.back-at-cpl0                       after all this the guest runs at CPL0 again
 */
#include "tdemu.inc"
#include "conformance.inc"

#define USER_CS 0x23
#define USER_SS 0x1b

/* Runs user stub \stub at CPL3; the exception it raises returns to CPL0 at label 1 (local). */
.macro RUN_USER stub
    ARM_RECOVER 1f
    lea     \stub(%rip), %rax
    call    enter_user
.endm

.macro USER_FRAME_CHECKS name
    CHECK "\name\().frame-cs-user", $USER_CS, exc_cs(%rip)
    CHECK "\name\().frame-ss-user", $USER_SS, exc_ss(%rip)
    CHECK_ADDR "\name\().frame-rsp-is-user-stack", user_stack_top, exc_rsp(%rip)
.endm

    .section .text.entry, "ax"
    .globl _start
_start:
    call    tdemu_init
    call    conf_idt_init
    call    read_rsp0

    /* ---- MOV from DR at CPL3 ---- */
    CONF_BEGIN
    RUN_USER user_mov_from_dr
1:  CHECK "cpl3.mov-from-dr.vector", $VEC_GP, exc_vector(%rip)
    CHECK "cpl3.mov-from-dr.error-code", $0, exc_error(%rip)
    CHECK_ADDR "cpl3.mov-from-dr.fault-rip-on-mov", user_mov_from_dr, exc_rip(%rip)
    USER_FRAME_CHECKS cpl3.mov-from-dr
    /* The frame with an error code: RIP slot at RSP0 - 40 (SS, RSP, RFLAGS, CS above it). */
    mov     tss_rsp0(%rip), %rax
    sub     $40, %rax
    mov     %rax, expected_frame(%rip)
    CHECK "cpl3.mov-from-dr.handler-on-tss-rsp0-stack", expected_frame(%rip), exc_frame(%rip)

    /* ---- MOV to DR at CPL3: #GP(0), DR7 unchanged ---- */
    CONF_BEGIN
    RUN_USER user_mov_to_dr
1:  SAVE_DR 7, dr7_after
    CHECK "cpl3.mov-to-dr.vector", $VEC_GP, exc_vector(%rip)
    CHECK "cpl3.mov-to-dr.error-code", $0, exc_error(%rip)
    CHECK_ADDR "cpl3.mov-to-dr.fault-rip-on-mov", user_mov_to_dr_insn, exc_rip(%rip)
    CHECK "cpl3.mov-to-dr.handler-on-tss-rsp0-stack", expected_frame(%rip), exc_frame(%rip)
    CHECK "cpl3.mov-to-dr.dr7-unchanged", $DR7_FIXED, dr7_after(%rip)

    /* ---- UD2 at CPL3 ---- */
    CONF_BEGIN
    RUN_USER user_ud2
1:  CHECK "cpl3.ud2.vector", $VEC_UD, exc_vector(%rip)
    CHECK_ADDR "cpl3.ud2.fault-rip", user_ud2, exc_rip(%rip)
    USER_FRAME_CHECKS cpl3.ud2
    /* No error code: the RIP slot is at RSP0 - 40 as well (the CPU pushes 5 qwords). */
    CHECK "cpl3.ud2.handler-on-tss-rsp0-stack", expected_frame(%rip), exc_frame(%rip)

    /* ---- #DE at CPL3, twice ---- */
    CONF_BEGIN
    RUN_USER user_de
1:  CHECK "cpl3.de.vector", $VEC_DE, exc_vector(%rip)
    CHECK_ADDR "cpl3.de.fault-rip", user_de_insn, exc_rip(%rip)
    USER_FRAME_CHECKS cpl3.de
    RUN_USER user_de
1:  CHECK "cpl3.de-twice.count", $2, exc_count(%rip)
    CHECK "cpl3.de-twice.second-vector-not-df", $VEC_DE, LOG_VECTOR(1)
    CHECK_ADDR "cpl3.de-twice.second-fault-rip", user_de_insn, LOG_RIP(1)

    /* ---- execute breakpoint on a CPL3 address ---- */
    CONF_BEGIN
    movq    $0, user_counter(%rip)
    SET_DRN_ADDR 1, user_bp_insn
    SET_DR7 DR7_SLOT(1, DR7_L(1), RW_X, LEN_1)
    RUN_USER user_exec
1:  DR_OFF
    CHECK "cpl3.exec-bp.vector", $VEC_DB, exc_vector(%rip)
    CHECK_ADDR "cpl3.exec-bp.fault-rip-is-breakpoint-address", user_bp_insn, exc_rip(%rip)
    CHECK "cpl3.exec-bp.frame-cs-user", $USER_CS, exc_cs(%rip)
    CHECK "cpl3.exec-bp.dr6", $(DR6_INIT | 2), exc_dr6(%rip)
    CHECK "cpl3.exec-bp.instruction-not-executed", $0, user_counter(%rip)

    /* ---- write breakpoint hit by a CPL3 store ---- */
    CONF_BEGIN
    SET_DRN_ADDR 2, user_data
    SET_DR7 DR7_SLOT(2, DR7_G(2), RW_W, LEN_8)
    RUN_USER user_store
1:  DR_OFF
    CHECK "cpl3.data-bp.vector", $VEC_DB, exc_vector(%rip)
    CHECK_ADDR "cpl3.data-bp.trap-rip-after-store", user_store_next, exc_rip(%rip)
    CHECK "cpl3.data-bp.frame-cs-user", $USER_CS, exc_cs(%rip)
    CHECK "cpl3.data-bp.dr6", $(DR6_INIT | 4), exc_dr6(%rip)
    CHECK "cpl3.data-bp.store-done", $0x77, user_data(%rip)

    /* ---- INT3 and ICEBP at CPL3 through the DPL0 gates ---- */
    /* INT3 is a software interrupt: a gate with DPL < CPL makes it #GP(vector*8+2). */
    CONF_BEGIN
    RUN_USER user_int3
1:  CHECK "cpl3.int3-through-dpl0-gate.vector", $VEC_GP, exc_vector(%rip)
    CHECK "cpl3.int3-through-dpl0-gate.error-code", $(VEC_BP * 8 + 2), exc_error(%rip)
    CHECK_ADDR "cpl3.int3-through-dpl0-gate.fault-rip-on-int3", user_int3, exc_rip(%rip)
    /* Through a DPL3 gate INT3 is #BP, delivered on the RSP0 stack. */
    IDT_GATE_DPL VEC_BP, 3
    CONF_BEGIN
    RUN_USER user_int3
1:  IDT_GATE_DPL VEC_BP, 0
    CHECK "cpl3.int3-through-dpl3-gate.vector", $VEC_BP, exc_vector(%rip)
    CHECK_ADDR "cpl3.int3-through-dpl3-gate.trap-rip-after-int3", user_int3_next, exc_rip(%rip)
    CHECK "cpl3.int3-through-dpl3-gate.frame-cs-user", $USER_CS, exc_cs(%rip)
    CHECK "cpl3.int3-through-dpl3-gate.handler-on-tss-rsp0-stack", expected_frame(%rip), exc_frame(%rip)
    /* ICEBP is not subject to the gate's DPL: #DB. */
    CONF_BEGIN
    RUN_USER user_icebp
1:  CHECK "cpl3.icebp-through-dpl0-gate.vector", $VEC_DB, exc_vector(%rip)
    CHECK_ADDR "cpl3.icebp-through-dpl0-gate.trap-rip-after-icebp", user_icebp_next, exc_rip(%rip)
    CHECK "cpl3.icebp-through-dpl0-gate.frame-cs-user", $USER_CS, exc_cs(%rip)

    mov     %cs, %rax
    and     $3, %eax
    mov     %rax, cpl_after(%rip)
    CHECK "cpl3.back-at-cpl0", $0, cpl_after(%rip)

    CONF_FINISH dr-cpl3

/* enter_user: IRETQ to CPL3 at %rax with the user stack; never returns (the stubs fault). */
enter_user:
    pushq   $USER_SS
    lea     user_stack_top(%rip), %rcx
    push    %rcx
    pushq   $0x2
    pushq   $USER_CS
    push    %rax
    iretq

/* read_rsp0: tss_rsp0 <- RSP0 of this vCPU's TSS (found through TR and the GDT). */
read_rsp0:
    sub     $16, %rsp
    sgdt    (%rsp)
    mov     2(%rsp), %rsi                    /* GDT base */
    xor     %eax, %eax
    str     %ax
    and     $~7, %eax
    add     %rax, %rsi                       /* the TSS descriptor */
    movzwl  2(%rsi), %eax                    /* base 15:0 */
    movzbl  4(%rsi), %ecx                    /* base 23:16 */
    shl     $16, %ecx
    or      %ecx, %eax
    movzbl  7(%rsi), %ecx                    /* base 31:24 */
    shl     $24, %ecx
    or      %ecx, %eax
    mov     8(%rsi), %ecx                    /* base 63:32 */
    shl     $32, %rcx
    or      %rcx, %rax
    mov     4(%rax), %rax                    /* RSP0 */
    and     $~0xf, %rax
    mov     %rax, tss_rsp0(%rip)
    add     $16, %rsp
    ret

/* ---- user stubs (CPL3) ---- */
    .balign 16
user_mov_from_dr:
    mov     %dr7, %rax
    ud2
user_mov_to_dr:
    mov     $(DR7_FIXED | DR7_L(0)), %eax
user_mov_to_dr_insn:
    mov     %rax, %dr7
    ud2
user_ud2:
    ud2
user_de:
    xor     %ecx, %ecx
    mov     $1, %eax
    xor     %edx, %edx
user_de_insn:
    div     %ecx
    ud2
user_exec:
    nop
user_bp_insn:
    incq    user_counter(%rip)
    ud2
user_store:
    movq    $0x77, user_data(%rip)
user_store_next:
    ud2
user_int3:
    int3
user_int3_next:
    ud2
user_icebp:
    .byte   0xf1
user_icebp_next:
    ud2

    TDEMU_RUNTIME
    CONF_RUNTIME

    .section .data
    .balign 8
tss_rsp0:       .quad 0
expected_frame: .quad 0
dr7_after:      .quad 0
cpl_after:      .quad 0
user_counter:   .quad 0
user_data:      .quad 0
    .section .bss
    .balign 4096
user_stack:     .space 4096
user_stack_top:
