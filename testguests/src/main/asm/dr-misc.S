/* dr-misc: ICEBP, INT3, general detect, DR4/DR5 aliasing, reserved and fixed DR6/DR7 bits, and
 * exceptions in a row; checked from inside the guest (SDM Vol. 3, "Debug Registers", "Debug
 * Exception (#DB)", "Interrupt 0 - Divide Error Exception", MOV to/from DR).
 *
 *   misc.icebp.*        ICEBP (F1): trap #DB, RIP after it, DR6 without B bits or BS
 *   misc.int3.* / misc.int-imm3.*   INT3 / INT 3: #BP (vector 3), RIP after it, DR6 unchanged
 *   misc.gd.*           DR7.GD: the next MOV to or from any DR faults with #DB, DR6.BD, RIP on
 *                       the MOV and RF=1 in the frame, GD cleared when the handler runs (its own
 *                       MOV from DR6 does not fault again), the MOV completes when re-run; also
 *                       with a VM/TD exit between setting GD and the MOV; any #DB clears GD.
 *                       (After an exit a VMX guest's MOV DR exits again and KVM's handle_dr
 *                       injects the #DB itself, setting no RF, as the kernel does for every #DB:
 *                       misc.gd.after-exit therefore does not check RF.)
 *   misc.dr4-dr5.*      CR4.DE=0: DR4/DR5 are DR6/DR7; CR4.DE=1: MOV DR4/DR5 is #UD
 *   misc.reserved.*     a 1 in bit 32 of DR7 or DR6 is #GP(0) and changes nothing
 *   misc.fixed.*        DR6 reads with its fixed bits (0xFFFF0FF0 pattern), DR7 bit 10 reads 1
 *   misc.de-twice.*     a #DE after a handled #DE is #DE again (not #DF), RF=1 in its frame
 */
#include "tdemu.inc"
#include "conformance.inc"

    .section .text.entry, "ax"
    .globl _start
_start:
    call    tdemu_init
    call    conf_idt_init

    /* ---- ICEBP ---- */
    CONF_BEGIN
    .byte   0xf1
1:  nop
    CHECK "misc.icebp.vector", $VEC_DB, exc_vector(%rip)
    CHECK "misc.icebp.db-count", $1, exc_count(%rip)
    CHECK_ADDR "misc.icebp.trap-rip-after-instruction", 1b, exc_rip(%rip)
    CHECK "misc.icebp.dr6-no-b-bits-no-bs", $DR6_INIT, exc_dr6(%rip)

    /* ---- INT3 and INT 3 ---- */
    CONF_BEGIN
    SET_DR6 (DR6_INIT | 2)
    int3
1:  SAVE_DR 6, dr6_after
    CHECK "misc.int3.vector", $VEC_BP, exc_vector(%rip)
    CHECK_ADDR "misc.int3.trap-rip-after-instruction", 1b, exc_rip(%rip)
    CHECK "misc.int3.dr6-unchanged", $(DR6_INIT | 2), dr6_after(%rip)
    CONF_BEGIN
    SET_DR6 (DR6_INIT | DR6_BS)
    .byte   0xcd, 0x03                      /* INT 3, the two-byte form */
1:  SAVE_DR 6, dr6_after
    CHECK "misc.int-imm3.vector", $VEC_BP, exc_vector(%rip)
    CHECK_ADDR "misc.int-imm3.trap-rip-after-instruction", 1b, exc_rip(%rip)
    CHECK "misc.int-imm3.dr6-unchanged", $(DR6_INIT | DR6_BS), dr6_after(%rip)

    /* ---- general detect: MOV from a DR ---- */
    CONF_BEGIN
    SET_DR7 (DR7_FIXED | DR7_GD)
gd_from:
    mov     %dr0, %rbx
    SAVE_DR 7, dr7_after
    CHECK "misc.gd.mov-from-dr.vector", $VEC_DB, exc_vector(%rip)
    CHECK_ADDR "misc.gd.mov-from-dr.fault-rip-on-mov", gd_from, exc_rip(%rip)
    CHECK "misc.gd.mov-from-dr.dr6-bd", $(DR6_INIT | DR6_BD), exc_dr6(%rip)
    CHECK_MASK "misc.gd.mov-from-dr.gd-cleared-in-handler", $0, exc_dr7(%rip), $DR7_GD
    CHECK "misc.gd.mov-from-dr.handler-mov-dr-did-not-fault", $0, exc_nested(%rip)
    CHECK "misc.gd.mov-from-dr.completes-when-rerun", $1, exc_count(%rip)
    CHECK "misc.gd.mov-from-dr.gd-stays-clear", $DR7_FIXED, dr7_after(%rip)
    CHECK_MASK "misc.gd.mov-from-dr.frame-rf-set", $RFLAGS_RF, exc_rflags(%rip), $RFLAGS_RF

    /* ---- general detect: MOV to a DR ---- */
    CONF_BEGIN
    mov     $0x123458, %rbx
    SET_DR7 (DR7_FIXED | DR7_GD)
gd_to:
    mov     %rbx, %dr3
    SAVE_DR 3, dr3_after
    CHECK "misc.gd.mov-to-dr.vector", $VEC_DB, exc_vector(%rip)
    CHECK_ADDR "misc.gd.mov-to-dr.fault-rip-on-mov", gd_to, exc_rip(%rip)
    CHECK "misc.gd.mov-to-dr.dr6-bd", $(DR6_INIT | DR6_BD), exc_dr6(%rip)
    CHECK_MASK "misc.gd.mov-to-dr.gd-cleared-in-handler", $0, exc_dr7(%rip), $DR7_GD
    CHECK "misc.gd.mov-to-dr.completes-when-rerun", $0x123458, dr3_after(%rip)

    /* ---- general detect: the MOV that would clear GD faults too ---- */
    CONF_BEGIN
    SET_DR7 (DR7_FIXED | DR7_GD)
    mov     $DR7_FIXED, %eax
gd_dr7:
    mov     %rax, %dr7
    CHECK "misc.gd.mov-to-dr7.db-count", $1, exc_count(%rip)
    CHECK_ADDR "misc.gd.mov-to-dr7.fault-rip-on-mov", gd_dr7, exc_rip(%rip)
    CHECK "misc.gd.mov-to-dr7.dr6-bd", $(DR6_INIT | DR6_BD), exc_dr6(%rip)

    /* ---- general detect with an exit to the VMM between setting GD and the MOV ---- */
    CONF_BEGIN
    SET_DR7 (DR7_FIXED | DR7_GD)
    mov     $TDEMU_HC_HOST_WORKLOAD, %eax
    call    tdemu_hypercall
gd_exit:
    mov     %dr6, %rbx
    CHECK "misc.gd.after-exit.vector", $VEC_DB, exc_vector(%rip)
    CHECK "misc.gd.after-exit.db-count", $1, exc_count(%rip)
    CHECK_ADDR "misc.gd.after-exit.fault-rip-on-mov", gd_exit, exc_rip(%rip)
    CHECK "misc.gd.after-exit.dr6-bd", $(DR6_INIT | DR6_BD), exc_dr6(%rip)
    CHECK_MASK "misc.gd.after-exit.gd-cleared-in-handler", $0, exc_dr7(%rip), $DR7_GD

    /* ---- any #DB clears GD: ICEBP with GD set; the handler's MOV from DR6 must not fault ---- */
    CONF_BEGIN
    SET_DR7 (DR7_FIXED | DR7_GD)
    .byte   0xf1
    CHECK "misc.gd.cleared-by-any-db.db-count", $1, exc_count(%rip)
    CHECK_MASK "misc.gd.cleared-by-any-db.gd-cleared-in-handler", $0, exc_dr7(%rip), $DR7_GD
    CHECK "misc.gd.cleared-by-any-db.dr6-no-bd", $DR6_INIT, exc_dr6(%rip)

    /* ---- DR4/DR5 with CR4.DE=0: aliases of DR6/DR7 ---- */
    CONF_BEGIN
    SET_DR6 (DR6_INIT | 5)
    mov     %dr4, %rax
    mov     %rax, rax_after(%rip)
    CHECK "misc.dr4-dr5.de0-read-dr4-is-dr6", $(DR6_INIT | 5), rax_after(%rip)
    mov     $(DR6_INIT | 8), %eax
    mov     %rax, %dr4
    SAVE_DR 6, dr6_after
    CHECK "misc.dr4-dr5.de0-write-dr4-is-dr6", $(DR6_INIT | 8), dr6_after(%rip)
    mov     $(DR7_FIXED | (RW_W << 16) | (LEN_4 << 18)), %eax
    mov     %rax, %dr5
    SAVE_DR 7, dr7_after
    CHECK "misc.dr4-dr5.de0-write-dr5-is-dr7", $(DR7_FIXED | (RW_W << 16) | (LEN_4 << 18)), dr7_after(%rip)
    mov     %dr5, %rax
    mov     %rax, rax_after(%rip)
    CHECK "misc.dr4-dr5.de0-read-dr5-is-dr7", $(DR7_FIXED | (RW_W << 16) | (LEN_4 << 18)), rax_after(%rip)
    DR_OFF

    /* ---- DR4/DR5 with CR4.DE=1: #UD ---- */
    mov     %cr4, %rax
    or      $CR4_DE, %rax
    mov     %rax, %cr4
    CONF_BEGIN
    ARM_RECOVER 1f
dr4_ud:
    mov     %dr4, %rax
1:  CHECK "misc.dr4-dr5.de1-read-dr4.vector", $VEC_UD, exc_vector(%rip)
    CHECK_ADDR "misc.dr4-dr5.de1-read-dr4.fault-rip-on-mov", dr4_ud, exc_rip(%rip)
    CONF_BEGIN
    ARM_RECOVER 1f
    mov     $DR7_FIXED, %eax
dr5_ud:
    mov     %rax, %dr5
1:  CHECK "misc.dr4-dr5.de1-write-dr5.vector", $VEC_UD, exc_vector(%rip)
    CHECK_ADDR "misc.dr4-dr5.de1-write-dr5.fault-rip-on-mov", dr5_ud, exc_rip(%rip)
    CONF_BEGIN
    SET_DR6 (DR6_INIT | 1)
    SAVE_DR 6, dr6_after
    CHECK "misc.dr4-dr5.de1-dr6-still-accessible", $(DR6_INIT | 1), dr6_after(%rip)
    mov     %cr4, %rax
    and     $~CR4_DE, %rax
    mov     %rax, %cr4

    /* ---- reserved bits 63:32 of DR7 and DR6 ---- */
    CONF_BEGIN
    ARM_RECOVER 1f
    movabs  $0x100000400, %rax
dr7_gp:
    mov     %rax, %dr7
1:  SAVE_DR 7, dr7_after
    CHECK "misc.reserved.dr7-bit32.vector", $VEC_GP, exc_vector(%rip)
    CHECK "misc.reserved.dr7-bit32.error-code", $0, exc_error(%rip)
    CHECK_ADDR "misc.reserved.dr7-bit32.fault-rip-on-mov", dr7_gp, exc_rip(%rip)
    CHECK "misc.reserved.dr7-bit32.dr7-unchanged", $DR7_FIXED, dr7_after(%rip)
    CONF_BEGIN
    SET_DR6 (DR6_INIT | 2)
    ARM_RECOVER 1f
    movabs  $(0x100000000 | DR6_INIT), %rax
dr6_gp:
    mov     %rax, %dr6
1:  SAVE_DR 6, dr6_after
    CHECK "misc.reserved.dr6-bit32.vector", $VEC_GP, exc_vector(%rip)
    CHECK "misc.reserved.dr6-bit32.error-code", $0, exc_error(%rip)
    CHECK_ADDR "misc.reserved.dr6-bit32.fault-rip-on-mov", dr6_gp, exc_rip(%rip)
    CHECK "misc.reserved.dr6-bit32.dr6-unchanged", $(DR6_INIT | 2), dr6_after(%rip)

    /* ---- fixed bits ---- */
    CONF_BEGIN
    xor     %eax, %eax
    mov     %rax, %dr6
    SAVE_DR 6, dr6_after
    CHECK "misc.fixed.dr6-written-0-reads-0xffff0ff0", $DR6_INIT, dr6_after(%rip)
    mov     $0xffffffff, %eax
    mov     %rax, %dr6
    SAVE_DR 6, dr6_after
    CHECK "misc.fixed.dr6-written-ones-bit12-reads-0", $0xffffefff, dr6_after(%rip)
    xor     %eax, %eax
    mov     %rax, %dr6
    xor     %eax, %eax
    mov     %rax, %dr7
    SAVE_DR 7, dr7_after
    CHECK "misc.fixed.dr7-written-0-bit10-reads-1", $DR7_FIXED, dr7_after(%rip)

    /* ---- #DE, handled, then #DE again ---- */
    CONF_BEGIN
    xor     %ecx, %ecx
    ARM_RECOVER 1f
    mov     $1, %eax
    xor     %edx, %edx
de_1:
    div     %ecx
1:  ARM_RECOVER 2f
    mov     $1, %eax
    xor     %edx, %edx
de_2:
    div     %ecx
2:  CHECK "misc.de-twice.count", $2, exc_count(%rip)
    CHECK "misc.de-twice.first-vector", $VEC_DE, LOG_VECTOR(0)
    CHECK "misc.de-twice.second-vector-not-df", $VEC_DE, LOG_VECTOR(1)
    CHECK_ADDR "misc.de-twice.first-fault-rip", de_1, LOG_RIP(0)
    CHECK_ADDR "misc.de-twice.second-fault-rip", de_2, LOG_RIP(1)
    CHECK_MASK "misc.de-twice.frame-rf-set", $RFLAGS_RF, LOG_RFLAGS(1), $RFLAGS_RF

    CONF_FINISH dr-misc

    TDEMU_RUNTIME
    CONF_RUNTIME

    .section .data
    .balign 8
dr6_after:  .quad 0
dr7_after:  .quad 0
dr3_after:  .quad 0
rax_after:  .quad 0
