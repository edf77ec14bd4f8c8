/* pc64-compat-exception: an exception raised in compatibility mode at CPL3 is delivered to a
 * 64-bit handler that runs as 64-bit code (kvm-unit-tests syscall.flat's #UD of a 32-bit
 * SYSCALL). SYSRETL enters a 32-bit CPL3 code segment (STAR[63:48]); its UD2 raises #UD through
 * conformance.inc's handler, which records the frame and recovers to 64-bit CPL0 code.
 *
 *   ud.*   the handler ran (it records only when decoded as 64-bit code): #UD, the frame's CS is
 *          the 32-bit user segment, its RIP the UD2
 */
#define CONF_PC
#include "multiboot.inc"
#include "pc.inc"
#include "conformance.inc"
#include "pc64.inc"

    .text
main64:
    mov     $0xC0000080, %ecx           /* EFER.SCE */
    rdmsr
    or      $1, %eax
    wrmsr
    mov     $0xC0000081, %ecx           /* STAR: SYSRET to SEL_USER32 */
    xor     %eax, %eax
    mov     $((SEL_USER32 << 16) | SEL_CODE64), %edx
    wrmsr
    mov     %rsp, pc_tss + 4(%rip)      /* RSP0 */
    CONF_BEGIN
    ARM_RECOVER 2f
    lea     user32(%rip), %rcx
    mov     $0x2, %r11d
    sysretl
    .code32
user32:
    nop
ud:
    ud2
    .code64
2:  CHECK "ud.vector", $VEC_UD, exc_vector(%rip)
    CHECK "ud.cs-is-the-32-bit-user-segment", $(SEL_USER32 | 3), exc_cs(%rip)
    CHECK_ADDR "ud.rip-is-the-ud2", ud, exc_rip(%rip)
    CONF_FINISH "pc64-compat-exception"

    .text
    CONF_RUNTIME
    PC64_RUNTIME
