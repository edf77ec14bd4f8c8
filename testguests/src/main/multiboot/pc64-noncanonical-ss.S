/* pc64-noncanonical-ss: a memory access through SS with a non-canonical address is #SS(0), through
 * any other segment #GP(0) (SDM vol. 3A, "Interrupt 12—Stack Fault Exception (#SS)": "a memory
 * operand that references the SS segment is in non-canonical form"). In 64-bit mode a ModRM
 * operand with base RSP or RBP goes through SS.
 *
 *   noncanonical.rax-based     OR to [RAX] (DS): #GP(0)
 *   noncanonical.rsp-based     OR to [RSP + reg] (SS): #SS(0)
 *   noncanonical.rbp-based     OR to [RBP + reg] (SS): #SS(0)
 *   noncanonical.rsp-load      MOV from [RSP + reg]: #SS(0)
 *   noncanonical.canonical-rsp-based  [RSP + reg] that is canonical: no exception
 */
#define CONF_PC
#include "multiboot.inc"
#include "pc.inc"
#include "conformance.inc"
#include "pc64.inc"

#define VEC_SS 12
#define NONCANONICAL 0xAAAAAAAAAAAAAAAA

/* Runs \insn (which faults) and checks the vector \vector and error code 0. */
.macro NONCANONICAL_TRY name, vector, insn:vararg
    CONF_BEGIN
    movabs  $NONCANONICAL, %rax
    mov     %rax, %rcx
    ARM_RECOVER 1f
    \insn
1:  CHECK   "noncanonical.\name\().vector", $\vector, exc_vector(%rip)
    CHECK   "noncanonical.\name\().error-code", $0, exc_error(%rip)
.endm

    .text
main64:
    NONCANONICAL_TRY rax-based, VEC_GP, orq $0, (%rax)
    NONCANONICAL_TRY rsp-based, VEC_SS, orq $0, (%rsp, %rcx, 1)
    push    %rbp
    mov     %rsp, %rbp
    NONCANONICAL_TRY rbp-based, VEC_SS, orq $0, (%rbp, %rcx, 1)
    pop     %rbp
    NONCANONICAL_TRY rsp-load, VEC_SS, mov (%rsp, %rcx, 1), %rdx

    CONF_BEGIN
    xor     %ecx, %ecx
    orq     $0, (%rsp, %rcx, 1)
    CHECK   "noncanonical.canonical-rsp-based", $-1, exc_vector(%rip)

    CONF_FINISH "pc64-noncanonical-ss"

    CONF_RUNTIME
    PC64_RUNTIME
