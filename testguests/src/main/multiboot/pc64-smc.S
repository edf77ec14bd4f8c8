/* pc64-smc: self-modifying code (SDM vol. 3A, "Self-Modifying Code"): a store to code the CPU
 * has already run takes effect for the next execution of that code, whatever the store went
 * through. Each check writes code into a page that also holds data (the page's data is written
 * between the checks, as a kernel's is), runs it, rewrites it, and runs it again: the new bytes
 * must run, never the old ones.
 *
 *   smc.first           code written by plain stores runs (EAX = 1)
 *   smc.immediate       a byte store over the immediate of code that ran, after a store to
 *                       data on the same page: the new immediate runs (EAX = 2)
 *   smc.opcode          a dword store over the opcode bytes: the new instruction runs
 *   smc.alias           a store through another linear address of the same physical page
 *                       (PML4 entry 1 maps the first 512 GiB again at 512 GiB), after a store
 *                       to data through that alias: the new immediate runs
 *   smc.alias-run       the code run through the alias is the rewritten one too
 *   smc.rep-movs        REP MOVSB copies new code over the old
 *   smc.rep-movs-alias  REP MOVSB through the alias
 *   smc.next-insn       an instruction that rewrites the immediate of the instruction right
 *                       after it, in the same straight-line run: the new immediate runs
 *   smc.ins             INSB from pc-testdev's scratch register over the immediate (tdemu
 *                       performs INS and stores to RAM itself, outside the engine)
 */
#define TESTDEV_SCRATCH 0xE0
#define CONF_PC
#include "multiboot.inc"
#include "pc.inc"
#include "conformance.inc"
#include "pc64.inc"

#define ALIAS       0x8000000000            /* PML4 entry 1: linear ALIAS + x is physical x */
#define DATA        2048                     /* data on the code page, away from the code */

/* Runs the code at code_page (its identity address) and leaves its EAX in %rax. */
.macro RUN_CODE
    xor     %eax, %eax
    lea     code_page(%rip), %rdx
    call    *%rdx
.endm

    .text
main64:
    /* The alias: PML4[1] = PML4[0], and a CR3 reload so no translation predates it. */
    mov     pc_pml4(%rip), %rax
    mov     %rax, (pc_pml4 + 8)(%rip)
    mov     %cr3, %rax
    mov     %rax, %cr3

    /* mov $1, %eax; ret */
    lea     code_page(%rip), %rdi
    movb    $0xB8, (%rdi)
    movl    $1, 1(%rdi)
    movb    $0xC3, 5(%rdi)
    RUN_CODE
    CHECK   "smc.first", $1, %rax

    incq    (code_page + DATA)(%rip)        /* data on the code's page */
    movb    $2, (code_page + 1)(%rip)
    RUN_CODE
    CHECK   "smc.immediate", $2, %rax

    incq    (code_page + DATA)(%rip)
    movl    $0xD0F7C031, code_page(%rip)    /* 31 C0 F7 D0: xor %eax,%eax; not %eax */
    movb    $0x90, (code_page + 4)(%rip)    /* nop (the old immediate's last byte) */
    RUN_CODE
    CHECK   "smc.opcode", $0xFFFFFFFF, %rax

    /* Back to mov $imm, %eax; ret. */
    lea     code_page(%rip), %rdi
    movb    $0xB8, (%rdi)
    movl    $3, 1(%rdi)
    movb    $0xC3, 5(%rdi)
    RUN_CODE
    CHECK   "smc.opcode-back", $3, %rax

    movabs  $(ALIAS), %rbx
    lea     code_page(%rip), %rdi
    add     %rbx, %rdi                      /* %rdi: code_page through the alias */
    incq    DATA(%rdi)                      /* data through the alias */
    movb    $4, 1(%rdi)
    RUN_CODE
    CHECK   "smc.alias", $4, %rax

    incq    DATA(%rdi)
    movb    $5, 1(%rdi)
    xor     %eax, %eax
    call    *%rdi                           /* the code run through the alias */
    CHECK   "smc.alias-run", $5, %rax

    incq    (code_page + DATA)(%rip)
    lea     template6(%rip), %rsi
    lea     code_page(%rip), %rdi
    mov     $(template6_end - template6), %ecx
    rep movsb
    RUN_CODE
    CHECK   "smc.rep-movs", $6, %rax

    movabs  $(ALIAS), %rbx
    lea     template7(%rip), %rsi
    lea     code_page(%rip), %rdi
    add     %rbx, %rdi
    incq    DATA(%rdi)
    mov     $(template7_end - template7), %ecx
    rep movsb
    RUN_CODE
    CHECK   "smc.rep-movs-alias", $7, %rax

    /* The patching code itself, copied to the code page and run twice. */
    incq    (code_page + DATA)(%rip)
    lea     patcher(%rip), %rsi
    lea     code_page(%rip), %rdi
    mov     $(patcher_end - patcher), %ecx
    rep movsb
    mov     $8, %ecx
    RUN_CODE
    CHECK   "smc.next-insn", $8, %rax
    incq    (code_page + DATA)(%rip)
    mov     $9, %ecx
    RUN_CODE
    CHECK   "smc.next-insn-again", $9, %rax

    lea     code_page(%rip), %rdi
    movb    $0xB8, (%rdi)
    movl    $1, 1(%rdi)
    movb    $0xC3, 5(%rdi)
    RUN_CODE
    CHECK   "smc.ins-before", $1, %rax
    mov     $10, %al
    out     %al, $TESTDEV_SCRATCH
    lea     (code_page + 1)(%rip), %rdi
    mov     $TESTDEV_SCRATCH, %dx
    insb
    RUN_CODE
    CHECK   "smc.ins", $10, %rax

    CONF_FINISH "pc64-smc"

/* Templates, copied to the code page (never run where they are assembled). */
template6:
    mov     $6, %eax
    ret
template6_end:
template7:
    mov     $7, %eax
    ret
template7_end:
/* Writes %cl over the immediate of the MOV right after it (no branch in between), then runs it. */
patcher:
    mov     %cl, (patcher_mov + 1 - patcher + code_page)   /* absolute: the copy runs elsewhere */
patcher_mov:
    mov     $0, %eax
    ret
patcher_end:

    .bss
    .balign 4096
code_page:  .space 4096                     /* not in the file: nothing was translated here at load */

    .text
    CONF_RUNTIME
    PC64_RUNTIME
