/* pc64-cr4: MOV to CR4 as a CPU with tdemu's PC CPUID checks it (no XSAVE, PCID, SMEP, SMAP,
 * PKU, LA57, UMIP, FSGSBASE, VMX or SMX offered), the kvm-unit-tests xsave/pcid/access cases.
 *
 *   gp.*        setting OSXSAVE, PCIDE, SMEP, SMAP, PKE, LA57, UMIP, FSGSBASE, VMXE, SMXE, bit 15
 *               or bit 63, or clearing PAE in long mode, raises #GP(0); CR4 is unchanged after all
 *   ok.*        an offered bit (PGE, OSXMMEXCPT) is set and cleared and reads back
 */
#define CONF_PC
#include "multiboot.inc"
#include "pc.inc"
#include "conformance.inc"
#include "pc64.inc"

/* Writes CR4 | \bits (\bits an immediate, or with \clear = 1 CR4 & ~\bits): expects #GP(0). */
.macro CR4_GP name, bits, clear=0
    CONF_BEGIN
    mov     %cr4, %rax
    movabs  $(\bits), %rbx
    .if \clear
    not     %rbx
    and     %rbx, %rax
    .else
    or      %rbx, %rax
    .endif
    ARM_RECOVER 1f
    mov     %rax, %cr4
    movq    $-1, exc_vector(%rip)       /* not refused */
1:  CHECK "gp.\name", $VEC_GP, exc_vector(%rip)
    CHECK "gp.\name-error-code-0", $0, exc_error(%rip)
.endm

    .text
main64:
    mov     %cr4, %rax
    mov     %rax, cr4_before(%rip)
    CR4_GP  "osxsave", 1 << 18
    CR4_GP  "pcide", 1 << 17
    CR4_GP  "smep", 1 << 20
    CR4_GP  "smap", 1 << 21
    CR4_GP  "pke", 1 << 22
    CR4_GP  "la57", 1 << 12
    CR4_GP  "umip", 1 << 11
    CR4_GP  "fsgsbase", 1 << 16
    CR4_GP  "vmxe", 1 << 13
    CR4_GP  "smxe", 1 << 14
    CR4_GP  "bit-15", 1 << 15
    CR4_GP  "bit-63", 1 << 63
    CR4_GP  "pae-cleared-in-long-mode", 1 << 5, 1
    mov     %cr4, %rax
    mov     %rax, v0(%rip)
    CHECK   "gp.cr4-unchanged", cr4_before(%rip), v0(%rip)

    mov     %cr4, %rax
    or      $((1 << 7) | (1 << 10)), %rax
    mov     %rax, %cr4
    mov     %cr4, %rax
    mov     %rax, v0(%rip)
    CHECK_MASK "ok.pge-osxmmexcpt-set", $((1 << 7) | (1 << 10)), v0(%rip), $((1 << 7) | (1 << 10))
    and     $~((1 << 7) | (1 << 10)), %rax
    mov     %rax, %cr4
    mov     %cr4, %rax
    mov     %rax, v0(%rip)
    CHECK_MASK "ok.pge-osxmmexcpt-cleared", $0, v0(%rip), $((1 << 7) | (1 << 10))
    mov     cr4_before(%rip), %rax
    mov     %rax, %cr4

    CONF_FINISH "pc64-cr4"

    .data
    .balign 8
v0:         .quad 0
cr4_before: .quad 0

    .text
    CONF_RUNTIME
    PC64_RUNTIME
