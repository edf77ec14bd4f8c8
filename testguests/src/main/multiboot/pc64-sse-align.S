/* pc64-sse-align: the SSE moves that require alignment raise #GP(0) for a memory operand that is
 * not 16-byte aligned (SDM vol. 2, MOVAPS, MOVAPD, MOVDQA, MOVNTDQ), with RIP on the move and
 * memory untouched; aligned, and the unaligned moves (MOVUPS) anywhere, complete.
 *
 *   sse.movaps-store.*     MOVAPS xmm to buffer+8: #GP(0), the buffer unchanged
 *   sse.movaps-load.*      MOVAPS from buffer+8: #GP(0)
 *   sse.movapd-load.*      MOVAPD from buffer+4: #GP(0)
 *   sse.movdqa-store.*     MOVDQA to buffer+1 (through RSP): #GP(0)
 *   sse.movntdq-store.*    MOVNTDQ to buffer+8: #GP(0)
 *   sse.movaps-aligned     MOVAPS to buffer: stored, no exception
 *   sse.movups-unaligned   MOVUPS to buffer+8: stored, no exception
 */
#define CONF_PC
#include "multiboot.inc"
#include "pc.inc"
#include "conformance.inc"
#include "pc64.inc"

#define CR0_EM       (1 << 2)
#define CR0_MP       (1 << 1)
#define CR4_OSFXSR   (1 << 9)
#define CR4_OSXMMEXCPT (1 << 10)
#define MARK 0x5A5A5A5A5A5A5A5A

/* Checks the #GP(0) of the move at \at and that the qword at buffer+8 still holds MARK. */
.macro EXPECT_GP name, at
    CHECK       "sse.\name\().vector", $VEC_GP, exc_vector(%rip)
    CHECK       "sse.\name\().error-code", $0, exc_error(%rip)
    CHECK_ADDR  "sse.\name\().rip", \at, exc_rip(%rip)
    mov         buffer+8(%rip), %rbx
    movabs      $MARK, %rcx
    CHECK       "sse.\name\().memory", %rcx, %rbx
.endm

/* Starts a check: the buffer filled with MARK, RDI its address, XMM0 all ones. */
.macro SSE_BEGIN
    CONF_BEGIN
    lea     buffer(%rip), %rdi
    movabs  $MARK, %rax
    mov     %rax, (%rdi)
    mov     %rax, 8(%rdi)
    mov     %rax, 16(%rdi)
    mov     %rax, 24(%rdi)
    pcmpeqd %xmm0, %xmm0
.endm

    .text
main64:
    mov     %cr0, %rax
    and     $~CR0_EM, %rax
    or      $CR0_MP, %rax
    mov     %rax, %cr0
    mov     %cr4, %rax
    or      $(CR4_OSFXSR | CR4_OSXMMEXCPT), %rax
    mov     %rax, %cr4

    SSE_BEGIN
    ARM_RECOVER 1f
2:  movaps  %xmm0, 8(%rdi)
1:  EXPECT_GP movaps-store, 2b

    SSE_BEGIN
    ARM_RECOVER 1f
2:  movaps  8(%rdi), %xmm1
1:  EXPECT_GP movaps-load, 2b

    SSE_BEGIN
    ARM_RECOVER 1f
2:  movapd  4(%rdi), %xmm1
1:  EXPECT_GP movapd-load, 2b

    SSE_BEGIN
    mov     %rsp, %rbp
    sub     $64, %rsp
    and     $~15, %rsp
    ARM_RECOVER 1f
2:  movdqa  %xmm0, 1(%rsp)
1:  mov     %rbp, %rsp
    CHECK       "sse.movdqa-store.vector", $VEC_GP, exc_vector(%rip)
    CHECK       "sse.movdqa-store.error-code", $0, exc_error(%rip)
    CHECK_ADDR  "sse.movdqa-store.rip", 2b, exc_rip(%rip)

    SSE_BEGIN
    ARM_RECOVER 1f
2:  movntdq %xmm0, 8(%rdi)
1:  EXPECT_GP movntdq-store, 2b

    SSE_BEGIN
    movaps  %xmm0, (%rdi)
    mov     8(%rdi), %rbx
    CHECK   "sse.movaps-aligned.vector", $-1, exc_vector(%rip)
    CHECK   "sse.movaps-aligned.memory", $-1, %rbx

    SSE_BEGIN
    movups  %xmm0, 8(%rdi)
    mov     8(%rdi), %rbx
    CHECK   "sse.movups-unaligned.vector", $-1, exc_vector(%rip)
    CHECK   "sse.movups-unaligned.memory", $-1, %rbx

    CONF_FINISH "pc64-sse-align"

    CONF_RUNTIME
    PC64_RUNTIME

    .data
    .balign 16
buffer:     .space 32
