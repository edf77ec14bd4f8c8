/* pc64-movss-null: MOV to SS in 64-bit mode at CPL 0 (SDM vol. 2, MOV, "64-Bit Mode Exceptions").
 * A null selector is allowed only with RPL = CPL; with another RPL it is #GP(0). A non-null
 * selector with RPL != CPL is #GP(selector). A refused load leaves SS as it was (the frame's SS)
 * and RIP on the MOV.
 *
 *   movss.null-rpl0              null selector 0: loaded, no exception
 *   movss.null-rpl3-reg.*        null selector 3 from a register: #GP(0)
 *   movss.null-rpl1-mem.*        null selector 1 from memory: #GP(0)
 *   movss.data-rpl3.*            SEL_DATA | 3: #GP(SEL_DATA)
 *   movss.data-rpl0              SEL_DATA: loaded, no exception
 */
#define CONF_PC
#include "multiboot.inc"
#include "pc.inc"
#include "conformance.inc"
#include "pc64.inc"

/* Checks the #GP(\error) of the MOV at \at, with SS still SEL_DATA. */
.macro EXPECT_REFUSED name, error, at
    CHECK       "movss.\name\().vector", $VEC_GP, exc_vector(%rip)
    CHECK       "movss.\name\().error-code", $\error, exc_error(%rip)
    CHECK_ADDR  "movss.\name\().rip", \at, exc_rip(%rip)
    CHECK       "movss.\name\().ss", $SEL_DATA, exc_ss(%rip)
.endm

/* Starts a check with SS = SEL_DATA. */
.macro MOVSS_BEGIN
    CONF_BEGIN
    mov     $SEL_DATA, %eax
    mov     %eax, %ss
.endm

    .text
main64:
    MOVSS_BEGIN
    xor     %eax, %eax
    mov     %eax, %ss
    mov     %ss, %ebx
    CHECK   "movss.null-rpl0.vector", $-1, exc_vector(%rip)
    CHECK   "movss.null-rpl0.ss", $0, %rbx

    MOVSS_BEGIN
    mov     $3, %eax
    ARM_RECOVER 1f
2:  mov     %eax, %ss
1:  EXPECT_REFUSED null-rpl3-reg, 0, 2b

    MOVSS_BEGIN
    movw    $1, selector(%rip)
    ARM_RECOVER 1f
2:  mov     selector(%rip), %ss
1:  EXPECT_REFUSED null-rpl1-mem, 0, 2b

    MOVSS_BEGIN
    mov     $(SEL_DATA | 3), %eax
    ARM_RECOVER 1f
2:  mov     %eax, %ss
1:  EXPECT_REFUSED data-rpl3, SEL_DATA, 2b

    MOVSS_BEGIN
    mov     $SEL_DATA, %eax
    mov     %eax, %ss
    mov     %ss, %ebx
    CHECK   "movss.data-rpl0.vector", $-1, exc_vector(%rip)
    CHECK   "movss.data-rpl0.ss", $SEL_DATA, %rbx

    CONF_FINISH "pc64-movss-null"

    CONF_RUNTIME
    PC64_RUNTIME

    .data
    .balign 8
selector:   .quad 0
