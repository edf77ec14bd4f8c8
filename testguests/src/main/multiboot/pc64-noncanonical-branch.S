/* pc64-noncanonical-branch: a near branch whose target is not canonical faults on the branch
 * itself with #GP(0) (SDM vol. 2, JMP, CALL, RET: "If the target address is in non-canonical
 * form"): the frame's RIP is the branch's, a CALL has pushed nothing and a RET popped nothing, and
 * CR2 is untouched (no page fault was involved).
 *
 *   ncbranch.jmp-mem.*    JMP through a qword in memory
 *   ncbranch.jmp-reg.*    JMP through a register
 *   ncbranch.call-reg.*   CALL through a register: RSP unchanged
 *   ncbranch.call-rsp.*   CALL through [RSP] (the operand is read before the push would be)
 *   ncbranch.ret.*        RET to a non-canonical return address: RSP unchanged
 *   ncbranch.ret-imm.*    RET imm16: RSP unchanged
 *   ncbranch.canonical    JMP through a register to a canonical address: no exception
 */
#define CONF_PC
#include "multiboot.inc"
#include "pc.inc"
#include "conformance.inc"
#include "pc64.inc"

#define NONCANONICAL 0xAAAAAAAAAAAAAAAA
#define CR2_MARK 0xDECAFBAD

/* Checks the #GP(0) of the branch at \at, with RSP as branch_rsp recorded it and CR2 untouched. */
.macro EXPECT_BRANCH_FAULT name, at
    CHECK       "ncbranch.\name\().vector", $VEC_GP, exc_vector(%rip)
    CHECK       "ncbranch.\name\().error-code", $0, exc_error(%rip)
    CHECK_ADDR  "ncbranch.\name\().rip", \at, exc_rip(%rip)
    CHECK       "ncbranch.\name\().rsp", branch_rsp(%rip), exc_rsp(%rip)
    mov         %cr2, %rbx
    CHECK       "ncbranch.\name\().cr2", $CR2_MARK, %rbx
.endm

/* Starts a check: CR2 marked, RAX the non-canonical address. */
.macro BRANCH_BEGIN
    CONF_BEGIN
    mov     $CR2_MARK, %eax
    mov     %rax, %cr2
    movabs  $NONCANONICAL, %rax
.endm

    .text
main64:
    BRANCH_BEGIN
    mov     %rax, target(%rip)
    ARM_RECOVER 1f
    mov     %rsp, branch_rsp(%rip)
2:  jmp     *target(%rip)
1:  EXPECT_BRANCH_FAULT jmp-mem, 2b

    BRANCH_BEGIN
    ARM_RECOVER 1f
    mov     %rsp, branch_rsp(%rip)
2:  jmp     *%rax
1:  EXPECT_BRANCH_FAULT jmp-reg, 2b

    BRANCH_BEGIN
    ARM_RECOVER 1f
    mov     %rsp, branch_rsp(%rip)
2:  call    *%rax
1:  EXPECT_BRANCH_FAULT call-reg, 2b

    BRANCH_BEGIN
    push    %rax
    ARM_RECOVER 1f
    mov     %rsp, branch_rsp(%rip)
2:  call    *(%rsp)
1:  EXPECT_BRANCH_FAULT call-rsp, 2b
    add     $8, %rsp

    BRANCH_BEGIN
    push    %rax
    ARM_RECOVER 1f
    mov     %rsp, branch_rsp(%rip)
2:  ret
1:  EXPECT_BRANCH_FAULT ret, 2b
    add     $8, %rsp

    BRANCH_BEGIN
    sub     $16, %rsp
    push    %rax
    ARM_RECOVER 1f
    mov     %rsp, branch_rsp(%rip)
2:  ret     $16
1:  EXPECT_BRANCH_FAULT ret-imm, 2b
    add     $24, %rsp

    CONF_BEGIN
    lea     1f(%rip), %rax
    jmp     *%rax
1:  CHECK   "ncbranch.canonical", $-1, exc_vector(%rip)

    CONF_FINISH "pc64-noncanonical-branch"

    CONF_RUNTIME
    PC64_RUNTIME

    .data
    .balign 8
target:     .quad 0
branch_rsp: .quad 0
