/* pc64-written-io: port I/O in code the kernel writes at run time (tdemu hooks the I/O
 * instructions of the loaded image; these it meets only when they run, through the engine's
 * fallback I/O hooks). Each instruction of the written code runs exactly once and the I/O is
 * where it is in the instruction stream:
 *
 *   written-io.*  a stretch of written code with an OUT and an IN to pc-testdev's scratch
 *                 register between memory increments, each I/O followed by a direct jump (the
 *                 engine chains such blocks without writing RIP, as kvm-unit-tests realmode.flat's
 *                 copied test code does): every increment happens once, the IN reads what the OUT
 *                 wrote, the code returns to its caller; run twice with other bytes written over
 *                 it, the second version is the one that runs
 */
#define CONF_PC
#include "multiboot.inc"
#include "pc.inc"
#include "conformance.inc"
#include "pc64.inc"

#define TESTDEV_SCRATCH 0xE0

    .text
main64:
    mov     $0x5A, %bl
    call    write_and_run
    CHECK   "written-io.each-increment-once", $3, counter(%rip)
    CHECK   "written-io.in-reads-what-out-wrote", $0x5A, got(%rip)
    CHECK   "written-io.returned-past-the-call", $1, returned(%rip)
    mov     $0xA5, %bl
    call    write_and_run
    CHECK   "written-io.rewritten-each-increment-once", $3, counter(%rip)
    CHECK   "written-io.rewritten-code-runs", $0xA5, got(%rip)
    CONF_FINISH "pc64-written-io"

/* Copies the template into code_buf with its OUT value patched to %bl, runs it, counts the return. */
write_and_run:
    lea     io_template(%rip), %rsi
    lea     code_buf(%rip), %rdi
    mov     $(io_template_end - io_template), %ecx
    rep movsb
    mov     %bl, (code_buf + (io_value - io_template) + 1)(%rip)
    movq    $0, counter(%rip)
    movq    $0, got(%rip)
    movq    $0, returned(%rip)
    lea     counter(%rip), %rdi
    lea     code_buf(%rip), %rax
    call    *%rax
    incq    returned(%rip)
    ret

/* The code that is copied: %rdi -> counter, got follows it. Not run where it is assembled. */
io_template:
    pushq   $0x2
    popfq                       /* ends the block before: the next one starts here */
    incq    (%rdi)
io_value:
    mov     $0, %al
    out     %al, $TESTDEV_SCRATCH
    incq    (%rdi)
    jmp     1f                  /* a direct jump: the next block is chained to this one */
1:  xor     %eax, %eax
    in      $TESTDEV_SCRATCH, %al
    incq    (%rdi)
    jmp     2f
2:  mov     %rax, 8(%rdi)
    ret
io_template_end:

    .data
    .balign 8
counter:    .quad 0
got:        .quad 0
returned:   .quad 0

    .bss
    .balign 64
code_buf:   .space 64       /* not in the file: tdemu cannot have hooked anything here at load */

    .text
    CONF_RUNTIME
    PC64_RUNTIME
