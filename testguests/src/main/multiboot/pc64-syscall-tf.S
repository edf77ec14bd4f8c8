/* pc64-syscall-tf: the single-step trap of a SYSCALL executed with RFLAGS.TF set. As for the
 * instructions that load RFLAGS, the trap depends on TF at the end of the instruction: with
 * IA32_FMASK clearing TF (what an OS does) the handler starts with TF clear and no #DB is taken
 * at all (Linux's entry code and its single_step_syscall selftest rely on it; KVM's emulator
 * does the same); with FMASK leaving TF set, the trap is taken before the handler's first
 * instruction, in the handler's context (CS from STAR, RIP = LSTAR).
 *
 *   masked.*     FMASK = TF: no #DB; R11 holds the RFLAGS with TF; the handler ran with TF clear
 *   unmasked.*   FMASK = 0: one #DB (DR6.BS), its frame's RIP is LSTAR and CS the kernel's
 */
#define CONF_PC
#include "multiboot.inc"
#include "pc.inc"
#include "conformance.inc"
#include "pc64.inc"

#define MSR_EFER    0xC0000080
#define MSR_STAR    0xC0000081
#define MSR_LSTAR   0xC0000082
#define MSR_FMASK   0xC0000084
#define EFER_SCE    0x1

/* MSR \index <- the address of \label (clobbers %rax, %rcx, %rdx) */
.macro WR_ADDR index, label
    lea     \label(%rip), %rax
    mov     %rax, %rdx
    shr     $32, %rdx
    mov     $(\index), %ecx
    wrmsr
.endm

/* SYSCALL with TF set by POPF just before it (so SYSCALL is the first instruction traced). */
.macro SYSCALL_WITH_TF
    pushfq
    orq     $RFLAGS_TF, (%rsp)
    popfq
    syscall
.endm

    .text
main64:
    mov     $MSR_EFER, %ecx
    rdmsr
    or      $EFER_SCE, %eax
    wrmsr
    WR      MSR_STAR, (SEL_CODE64 << 32) | (SEL_USER32 << 48)
    WR_ADDR MSR_LSTAR, handler

    /* ---- FMASK clears TF ---- */
    WR      MSR_FMASK, RFLAGS_TF
    CONF_BEGIN
    movq    $RFLAGS_TF, exc_andnot_flags(%rip)
    SYSCALL_WITH_TF
    mov     exc_count(%rip), %rax
    mov     %rax, v0(%rip)
    CHECK      "masked.no-single-step-trap", $0, v0(%rip)
    CHECK_MASK "masked.r11-holds-tf", $RFLAGS_TF, sys_r11(%rip), $RFLAGS_TF
    CHECK_MASK "masked.handler-runs-with-tf-clear", $0, sys_rflags(%rip), $RFLAGS_TF

    /* ---- FMASK leaves TF set ---- */
    WR      MSR_FMASK, 0
    CONF_BEGIN
    movq    $RFLAGS_TF, exc_andnot_flags(%rip)   /* the #DB returns into the handler with TF clear */
    SYSCALL_WITH_TF
    mov     exc_count(%rip), %rax
    mov     %rax, v0(%rip)
    CHECK      "unmasked.one-trap", $1, v0(%rip)
    CHECK      "unmasked.debug-exception", $VEC_DB, exc_vector(%rip)
    CHECK_MASK "unmasked.dr6-bs", $DR6_BS, exc_dr6(%rip), $DR6_BS
    CHECK_ADDR "unmasked.rip-is-lstar", handler, exc_rip(%rip)
    CHECK      "unmasked.cs-is-the-kernels", $SEL_CODE64, exc_cs(%rip)

    CONF_FINISH "pc64-syscall-tf"

/* The SYSCALL target: notes R11 and its own RFLAGS, returns to RCX with TF cleared (CPL0). */
handler:
    mov     %r11, sys_r11(%rip)
    pushfq
    popq    sys_rflags(%rip)
    and     $~RFLAGS_TF, %r11
    push    %r11
    popfq
    jmp     *%rcx

    .data
    .balign 8
v0:         .quad 0
sys_r11:    .quad 0
sys_rflags: .quad 0

    .text
    CONF_RUNTIME
    PC64_RUNTIME
