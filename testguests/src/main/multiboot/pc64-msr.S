/* pc64-msr: the MSRs a 64-bit kernel uses, read, written and refused (#GP(0)) from inside the
 * kernel, and the ones the engine acts on seen acting:
 *
 *   efer.*        LME/LMA after the switch, SCE and NXE written, LMA ignored on write, a reserved
 *                 bit and clearing LME under paging #GP; SYSCALL #UD without SCE
 *   syscall.*     STAR/LSTAR/FMASK: SYSCALL lands on LSTAR with CS/SS from STAR, RCX/R11 the
 *                 return RIP and RFLAGS, RFLAGS masked by FMASK, from CPL0 and from CPL3 (reached
 *                 by SYSRET); CSTAR reads back; a non-canonical LSTAR and FMASK bits 63:32 #GP
 *   segbase.*     FS_BASE and GS_BASE address %fs:/%gs: operands, SWAPGS exchanges GS_BASE and
 *                 KERNEL_GS_BASE, a non-canonical base #GPs
 *   tsc.*         IA32_TIME_STAMP_COUNTER counts, a write moves RDTSC with it
 *   tsc_aux.*     CPUID offers RDTSCP and RDPID (tdemu performs them; the engine lacks them):
 *                TSC_AUX holds 32 bits, RDTSCP returns it in ECX with the TSC in EDX:EAX, RDPID
 *                returns it in any register, LOCK RDTSCP is #UD
 *   apic_base.*   the BSP's enabled xAPIC at 0xFEE00000; a reserved bit #GPs
 *   pat.*, mtrr.* reset values, each writable register reads back, invalid memory types and
 *                 reserved bits #GP, MTRRcap is read-only, 8 variable pairs and no ninth
 *   misc_enable.* KVM's reset value, writable bits stored, reserved and read-only bits #GP
 *   sysenter.*    CS keeps 32 bits, ESP and EIP are canonicalized
 *   debugctl.*    LBR and BTF accepted and dropped, anything else #GP
 *   other.*       what KVM answers for the rest it emulates (MCG_CAP, FEATURE_CONTROL locked,
 *                 the microcode revision, PLATFORM_ID) and #GP for an index nobody implements
 */
#define CONF_PC
#include "multiboot.inc"
#include "pc.inc"
#include "conformance.inc"
#include "pc64.inc"

#define IA32_TSC            0x10
#define IA32_PLATFORM_ID    0x17
#define IA32_FEATURE_CONTROL 0x3A
#define IA32_TSC_ADJUST     0x3B
#define IA32_BIOS_SIGN_ID   0x8B
#define IA32_MTRRCAP        0xFE
#define IA32_SYSENTER_CS    0x174
#define IA32_SYSENTER_ESP   0x175
#define IA32_SYSENTER_EIP   0x176
#define IA32_MCG_CAP        0x179
#define IA32_MISC_ENABLE    0x1A0
#define IA32_DEBUGCTL       0x1D9
#define IA32_MTRR_PHYSBASE0 0x200
#define IA32_PAT            0x277
#define IA32_MTRR_DEF_TYPE  0x2FF
#define MSR_STAR            0xC0000081
#define MSR_LSTAR           0xC0000082
#define MSR_CSTAR           0xC0000083
#define MSR_FMASK           0xC0000084
#define MSR_FS_BASE         0xC0000100
#define MSR_GS_BASE         0xC0000101
#define MSR_KERNEL_GS_BASE  0xC0000102
#define MSR_TSC_AUX         0xC0000103
#define EFER_SCE            0x1
#define EFER_NXE            0x800

/* Reading \index raises #GP(0). */
.macro GP_ON_RD name, index
    CONF_BEGIN
    ARM_RECOVER 1f
    mov     $(\index), %ecx
    rdmsr
1:  CHECK "\name\().rdmsr-gp", $VEC_GP, exc_vector(%rip)
    CHECK "\name\().rdmsr-gp-error-code-0", $0, exc_error(%rip)
.endm

/* Writing \value to \index raises #GP(0). */
.macro GP_ON_WR name, index, value
    CONF_BEGIN
    ARM_RECOVER 1f
    WR      \index, \value
1:  CHECK "\name\().wrmsr-gp", $VEC_GP, exc_vector(%rip)
    CHECK "\name\().wrmsr-gp-error-code-0", $0, exc_error(%rip)
.endm

/* \index reads \expected. */
.macro READS name, index, expected
    RD      \index
    mov     %rax, got(%rip)
    CHECK "\name", $(\expected), got(%rip)
.endm

/* \value written to \index reads back as \expected. */
.macro WRITES name, index, value, expected
    WR      \index, \value
    READS   "\name", \index, \expected
.endm

    .text
main64:
    /* ---- EFER ---- */
    READS   "efer.lme-lma-after-the-switch-to-long-mode", MSR_EFER, EFER_LME | EFER_LMA
    WRITES  "efer.sce-nxe-written-lma-kept", MSR_EFER, EFER_SCE | EFER_NXE | EFER_LME, EFER_SCE | EFER_NXE | EFER_LME | EFER_LMA
    GP_ON_WR "efer.reserved-bit-1", MSR_EFER, EFER_LME | 0x2
    GP_ON_WR "efer.clearing-lme-under-paging", MSR_EFER, EFER_SCE
    READS   "efer.unchanged-by-refused-writes", MSR_EFER, EFER_SCE | EFER_NXE | EFER_LME | EFER_LMA

    /* ---- SYSCALL ---- */
    WRITES  "syscall.star", MSR_STAR, (SEL_CODE64 << 32) | (0x1B << 48), (SEL_CODE64 << 32) | (0x1B << 48)
    WRITES  "syscall.fmask", MSR_FMASK, 0x600, 0x600          /* IF and DF */
    WRITES  "syscall.cstar", MSR_CSTAR, 0xFFFF800000001000, 0xFFFF800000001000
    GP_ON_WR "syscall.lstar-non-canonical", MSR_LSTAR, 0x0000800000000000
    GP_ON_WR "syscall.fmask-bits-63-32", MSR_FMASK, 0x100000000
    lea     syscall_target(%rip), %rax
    mov     %rax, %rdx
    shr     $32, %rdx
    mov     $MSR_LSTAR, %ecx
    wrmsr
    RD      MSR_LSTAR
    lea     syscall_target(%rip), %rbx
    CHECK "syscall.lstar-reads-back", %rbx, %rax
    std
    syscall
syscall_return:
    cld
    CHECK_ADDR "syscall.rcx-is-the-return-rip", syscall_return, sys_rcx(%rip)
    CHECK_MASK "syscall.r11-holds-rflags-df", $0x400, sys_r11(%rip), $0x400
    CHECK_MASK "syscall.rflags-masked-by-fmask", $0, sys_rflags(%rip), $0x600
    CHECK "syscall.cs-from-star", $SEL_CODE64, sys_cs(%rip)
    CHECK "syscall.ss-from-star-plus-8", $SEL_DATA, sys_ss(%rip)
    /* SYSRET to CPL3, then SYSCALL from there back to CPL0 */
    WR      MSR_STAR, (SEL_CODE64 << 32) | (SEL_USER32 << 48)
    lea     syscall_from_user(%rip), %rax
    mov     %rax, %rdx
    shr     $32, %rdx
    mov     $MSR_LSTAR, %ecx
    wrmsr
    mov     %rsp, saved_rsp(%rip)
    lea     user_code(%rip), %rcx
    mov     $0x2, %r11d
    sysretq
user_code:                              /* CPL3 */
    mov     %cs, %eax
    mov     %rax, user_cs(%rip)
    syscall
user_syscall_return:
    ud2                                 /* never reached: the kernel does not return */
syscall_from_user:
    mov     saved_rsp(%rip), %rsp
    mov     %rcx, sys_rcx(%rip)
    mov     %cs, %eax
    mov     %rax, sys_cs(%rip)
    mov     %ss, %eax
    mov     %rax, sys_ss(%rip)
    CHECK "syscall.sysret-reaches-cpl3", $(SEL_USER64 | 3), user_cs(%rip)
    CHECK_ADDR "syscall.from-cpl3-rcx-is-the-return-rip", user_syscall_return, sys_rcx(%rip)
    CHECK "syscall.from-cpl3-cs-is-cpl0", $SEL_CODE64, sys_cs(%rip)
    CHECK "syscall.from-cpl3-ss-is-cpl0", $SEL_DATA, sys_ss(%rip)
    mov     $SEL_DATA, %eax             /* DS/ES were left as SYSRET found them; FS/GS untouched */
    mov     %eax, %ds
    mov     %eax, %es

    WR      MSR_EFER, EFER_NXE | EFER_LME
    CONF_BEGIN
    ARM_RECOVER 1f
    syscall
1:  CHECK "efer.syscall-without-sce-is-ud", $VEC_UD, exc_vector(%rip)
    WR      MSR_EFER, EFER_SCE | EFER_NXE | EFER_LME

    /* ---- FS_BASE, GS_BASE, KERNEL_GS_BASE, SWAPGS ---- */
    lea     block_a(%rip), %rax
    mov     %rax, %rdx
    shr     $32, %rdx
    mov     $MSR_FS_BASE, %ecx
    wrmsr
    mov     %fs:8, %rax
    mov     %rax, got(%rip)
    CHECK "segbase.fs-operand-uses-fs-base", $0xA1, got(%rip)
    RD      MSR_FS_BASE
    lea     block_a(%rip), %rbx
    CHECK "segbase.fs-base-reads-back", %rbx, %rax
    lea     block_a(%rip), %rax
    mov     %rax, %rdx
    shr     $32, %rdx
    mov     $MSR_GS_BASE, %ecx
    wrmsr
    lea     block_b(%rip), %rax
    mov     %rax, %rdx
    shr     $32, %rdx
    mov     $MSR_KERNEL_GS_BASE, %ecx
    wrmsr
    mov     %gs:0, %rax
    mov     %rax, got(%rip)
    CHECK "segbase.gs-operand-uses-gs-base", $0xA0, got(%rip)
    swapgs
    mov     %gs:0, %rax
    mov     %rax, got(%rip)
    CHECK "segbase.swapgs-gs-operand-uses-the-kernel-gs-base", $0xB0, got(%rip)
    RD      MSR_GS_BASE
    lea     block_b(%rip), %rbx
    CHECK "segbase.swapgs-gs-base-is-the-old-kernel-gs-base", %rbx, %rax
    RD      MSR_KERNEL_GS_BASE
    lea     block_a(%rip), %rbx
    CHECK "segbase.swapgs-kernel-gs-base-is-the-old-gs-base", %rbx, %rax
    swapgs
    mov     %gs:0, %rax
    mov     %rax, got(%rip)
    CHECK "segbase.swapgs-twice-is-back", $0xA0, got(%rip)
    GP_ON_WR "segbase.fs-base-non-canonical", MSR_FS_BASE, 0x0001000000000000
    GP_ON_WR "segbase.kernel-gs-base-non-canonical", MSR_KERNEL_GS_BASE, 0x8000000000000000

    /* ---- TSC ---- */
    RD      IA32_TSC
    mov     %rax, %r12
    RD      IA32_TSC
    sub     %r12, %rax
    setnz   %bl
    movzbl  %bl, %ebx
    CHECK "tsc.msr-counts", $1, %rbx
    WR      IA32_TSC, 0x100000000000
    rdtsc
    shl     $32, %rdx
    or      %rdx, %rax
    movabs  $0x100000000000, %rbx
    sub     %rbx, %rax
    mov     %rax, got(%rip)
    CHECK_MASK "tsc.rdtsc-follows-a-write", $0, got(%rip), $0xFFFFFFF000000000   /* 0 <= delta < 64 s */

    /* ---- TSC_AUX / RDTSCP / RDPID ---- */
    mov     $0x80000001, %eax
    cpuid
    mov     %rdx, got(%rip)
    CHECK_MASK "tsc_aux.cpuid-offers-rdtscp", $(1 << 27), got(%rip), $(1 << 27)
    mov     $7, %eax
    xor     %ecx, %ecx
    cpuid
    mov     %rcx, got(%rip)
    CHECK_MASK "tsc_aux.cpuid-offers-rdpid", $(1 << 22), got(%rip), $(1 << 22)
    READS   "tsc_aux.reset-value-0", MSR_TSC_AUX, 0
    WRITES  "tsc_aux.32-bits-read-back", MSR_TSC_AUX, 0xFFFFFFFF, 0xFFFFFFFF
    GP_ON_WR "tsc_aux.bits-63-32", MSR_TSC_AUX, 0x100000000
    WR      MSR_TSC_AUX, 0x1234
    rdtsc
    shl     $32, %rdx
    or      %rdx, %rax
    mov     %rax, %rbx
    movabs  $0xFFFFFFFFFFFFFFFF, %rcx
    rdtscp
    mov     %rcx, got(%rip)
    CHECK   "tsc_aux.rdtscp-ecx-is-tsc-aux", $0x1234, got(%rip)
    shl     $32, %rdx
    or      %rdx, %rax
    sub     %rbx, %rax
    mov     %rax, got(%rip)
    CHECK_MASK "tsc_aux.rdtscp-tsc-follows-rdtsc", $0, got(%rip), $0xFFFFFFF000000000   /* 0 <= delta < 64 s */
    movabs  $0xFFFFFFFFFFFFFFFF, %rbx
    rdpid   %rbx
    mov     %rbx, got(%rip)
    CHECK   "tsc_aux.rdpid-reads-tsc-aux-zero-extended", $0x1234, got(%rip)
    movabs  $0xFFFFFFFFFFFFFFFF, %r9
    rdpid   %r9
    mov     %r9, got(%rip)
    CHECK   "tsc_aux.rdpid-into-r9", $0x1234, got(%rip)
    CONF_BEGIN
    ARM_RECOVER 1f
    .byte   0xF0, 0x0F, 0x01, 0xF9      /* LOCK RDTSCP */
1:  CHECK "tsc_aux.lock-rdtscp-is-ud", $VEC_UD, exc_vector(%rip)

    /* ---- APIC_BASE ---- */
    READS   "apic_base.bsp-enabled-at-0xfee00000", APIC_BASE_MSR, 0xFEE00900
    GP_ON_WR "apic_base.reserved-bit-0", APIC_BASE_MSR, 0xFEE00901
    WRITES  "apic_base.same-value-accepted", APIC_BASE_MSR, 0xFEE00900, 0xFEE00900

    /* ---- PAT ---- */
    READS   "pat.reset", IA32_PAT, 0x0007040600070406
    WRITES  "pat.wc-in-entry-1", IA32_PAT, 0x0007010600070106, 0x0007010600070106
    GP_ON_WR "pat.type-2", IA32_PAT, 0x0007040600070402
    GP_ON_WR "pat.type-8", IA32_PAT, 0x0807040600070406
    WRITES  "pat.back-to-reset", IA32_PAT, 0x0007040600070406, 0x0007040600070406

    /* ---- MTRRs ---- */
    READS   "mtrr.cap-8-variable-fixed-wc", IA32_MTRRCAP, 0x508
    GP_ON_WR "mtrr.cap-is-read-only", IA32_MTRRCAP, 0x508
    READS   "mtrr.def-type-reset", IA32_MTRR_DEF_TYPE, 0
    WRITES  "mtrr.def-type-enabled-fixed-wb", IA32_MTRR_DEF_TYPE, 0xC06, 0xC06
    GP_ON_WR "mtrr.def-type-reserved-bit-12", IA32_MTRR_DEF_TYPE, 0x1C06
    GP_ON_WR "mtrr.def-type-type-2", IA32_MTRR_DEF_TYPE, 0xC02
    lea     fixed_mtrrs(%rip), %r12     /* every fixed-range MTRR keeps its own pattern */
    xor     %r13d, %r13d
2:  movzwl  (%r12), %ecx
    test    %ecx, %ecx
    jz      3f
    movabs  $0x0605040100010405, %rax
    add     %r13, %rax                  /* a different valid pattern each: bump entry 0 ... */
    and     $~0xFF, %rax
    lea     mtrr_types(%rip), %rbx
    movzbl  (%rbx, %r13), %ebx
    or      %rbx, %rax
    mov     %rax, %r14
    mov     %rax, %rdx
    shr     $32, %rdx
    wrmsr
    rdmsr
    shl     $32, %rdx
    mov     %eax, %eax
    or      %rdx, %rax
    cmp     %r14, %rax
    jne     4f
    inc     %r13
    add     $2, %r12
    jmp     2b
4:  mov     %r13, bad_fixed(%rip)
3:  CHECK "mtrr.every-fixed-range-reads-back", $11, %r13
    GP_ON_WR "mtrr.fixed-type-3", 0x250, 0x0606060606060603
    WRITES  "mtrr.physbase0", IA32_MTRR_PHYSBASE0, 0x80000006, 0x80000006
    WRITES  "mtrr.physmask0", IA32_MTRR_PHYSBASE0 + 1, 0xFF80000800, 0xFF80000800
    WRITES  "mtrr.physbase7", IA32_MTRR_PHYSBASE0 + 14, 0x40000000, 0x40000000
    GP_ON_WR "mtrr.physbase-above-maxphyaddr", IA32_MTRR_PHYSBASE0, 0x10000000006
    GP_ON_WR "mtrr.physbase-reserved-bits-11-8", IA32_MTRR_PHYSBASE0, 0x80000106
    GP_ON_WR "mtrr.physmask-reserved-bits-10-0", IA32_MTRR_PHYSBASE0 + 1, 0xFF80000801
    GP_ON_RD "mtrr.no-ninth-variable-pair", IA32_MTRR_PHYSBASE0 + 16

    /* ---- MISC_ENABLE ---- */
    READS   "misc_enable.reset-fast-strings-no-bts-pebs", IA32_MISC_ENABLE, 0x1801
    WRITES  "misc_enable.auto-tcc-stored", IA32_MISC_ENABLE, 0x1809, 0x1809
    GP_ON_WR "misc_enable.reserved-bit-2", IA32_MISC_ENABLE, 0x1805
    GP_ON_WR "misc_enable.bts-unavailable-is-read-only", IA32_MISC_ENABLE, 0x1001
    WRITES  "misc_enable.back", IA32_MISC_ENABLE, 0x1801, 0x1801

    /* ---- SYSENTER ---- */
    WRITES  "sysenter.cs-keeps-32-bits", IA32_SYSENTER_CS, 0x1234500000010, 0x00000010
    WRITES  "sysenter.esp-canonicalized", IA32_SYSENTER_ESP, 0x0000800000001000, 0xFFFF800000001000
    WRITES  "sysenter.eip", IA32_SYSENTER_EIP, 0xFFFFFFFF80001000, 0xFFFFFFFF80001000

    /* ---- DEBUGCTL ---- */
    WRITES  "debugctl.zero", IA32_DEBUGCTL, 0, 0
    WRITES  "debugctl.lbr-btf-accepted-and-dropped", IA32_DEBUGCTL, 3, 0
    GP_ON_WR "debugctl.bit-2", IA32_DEBUGCTL, 4

    /* ---- the rest KVM emulates, and nothing ---- */
    READS   "other.mcg-cap-10-banks-ctl-ser", IA32_MCG_CAP, 0x100010A
    READS   "other.feature-control-locked", IA32_FEATURE_CONTROL, 1
    GP_ON_WR "other.feature-control-locked", IA32_FEATURE_CONTROL, 5
    READS   "other.microcode-revision", IA32_BIOS_SIGN_ID, 0x100000000
    READS   "other.platform-id", IA32_PLATFORM_ID, 0
    GP_ON_RD "other.tsc-adjust-not-offered", IA32_TSC_ADJUST
    GP_ON_RD "other.unknown-index", 0x12345678
    GP_ON_WR "other.unknown-index", 0x12345678, 0
    GP_ON_RD "other.unknown-high-index", 0xC0000110

    CONF_FINISH "pc64-msr"

/* SYSCALL lands here at CPL0: record, restore RFLAGS from R11 and return to RCX. */
syscall_target:
    mov     %rcx, sys_rcx(%rip)
    mov     %r11, sys_r11(%rip)
    pushfq
    popq    sys_rflags(%rip)
    mov     %cs, %eax
    mov     %rax, sys_cs(%rip)
    mov     %ss, %eax
    mov     %rax, sys_ss(%rip)
    push    %r11
    popfq
    jmp     *%rcx

    .section .rodata
fixed_mtrrs: .word 0x250, 0x258, 0x259, 0x268, 0x269, 0x26A, 0x26B, 0x26C, 0x26D, 0x26E, 0x26F, 0
mtrr_types:  .byte 0, 1, 4, 5, 6, 0, 1, 4, 5, 6, 0

    .data
    .balign 16
block_a:    .quad 0xA0, 0xA1
block_b:    .quad 0xB0, 0xB1
got:        .quad 0
bad_fixed:  .quad 0
sys_rcx:    .quad 0
sys_r11:    .quad 0
sys_rflags: .quad 0
sys_cs:     .quad 0
sys_ss:     .quad 0
saved_rsp:  .quad 0
user_cs:    .quad 0

    .text
    CONF_RUNTIME
    PC64_RUNTIME
