/* pc64-string-mmio: INS and OUTS whose memory operand is device memory, not RAM: pc-testdev's
 * 64 KiB storage window at 0xFF000000 (reads back what was written). The VMM performs string
 * port I/O itself, so its memory side must reach the device as the CPU's own access would.
 *
 *   ins.*    OUT of 0x99 to the scratch port, then REP INSB of 128 bytes into the window from
 *            0xFF000FC0, across its page boundary: both ends and the bytes around the boundary
 *            hold 0x99, the byte after the last untouched, RDI advanced and RCX zero
 *   outs.*   a byte stored in the window by MOV, then OUTSB from it: the scratch port reads it back
 *   insw.*   REP INSW of two words with RFLAGS.DF set, into the window: at RDI and the word
 *            below it, nothing further down
 */
#define CONF_PC
#include "multiboot.inc"
#include "pc.inc"
#include "conformance.inc"
#include "pc64.inc"

#define TESTDEV_PORT 0xE0
#define IOMEM        0xFF000000

    .text
main64:
    mov     $IOMEM, %ebx
    movb    $0x11, 0x1040(%rbx)         /* the byte after the last one INS writes */
    mov     $0x9999, %eax
    mov     $TESTDEV_PORT, %edx
    outw    %ax, %dx
    lea     0xFC0(%rbx), %rdi
    mov     $128, %ecx
    cld
    rep insb
    mov     %rdi, v0(%rip)
    mov     %rcx, v1(%rip)
    lea     0x1040(%rbx), %rax
    mov     %rax, v2(%rip)
    CHECK   "ins.rdi-advanced", v2(%rip), v0(%rip)
    CHECK   "ins.rcx-zero", $0, v1(%rip)
    movzbl  0xFC0(%rbx), %eax
    mov     %rax, v0(%rip)
    CHECK   "ins.first-byte", $0x99, v0(%rip)
    movzwl  0xFFF(%rbx), %eax
    mov     %rax, v0(%rip)
    CHECK   "ins.across-the-page-boundary", $0x9999, v0(%rip)
    movzbl  0x103F(%rbx), %eax
    mov     %rax, v0(%rip)
    CHECK   "ins.last-byte", $0x99, v0(%rip)
    movzbl  0x1040(%rbx), %eax
    mov     %rax, v0(%rip)
    CHECK   "ins.byte-after-untouched", $0x11, v0(%rip)

    movb    $0x5A, 0x2000(%rbx)
    lea     0x2000(%rbx), %rsi
    mov     $TESTDEV_PORT, %edx
    outsb
    xor     %eax, %eax
    inb     %dx, %al
    mov     %rax, v0(%rip)
    CHECK   "outs.reads-the-device", $0x5A, v0(%rip)

    mov     $0x1234, %eax
    outw    %ax, %dx
    lea     0x3002(%rbx), %rdi
    movl    $0, 0x3000(%rbx)
    movl    $0, 0x2FFC(%rbx)
    mov     $2, %ecx
    std
    rep insw
    cld
    mov     0x3000(%rbx), %eax
    mov     %rax, v0(%rip)
    CHECK   "insw.df-words-at-rdi-and-below", $0x12341234, v0(%rip)
    mov     0x2FFC(%rbx), %eax
    mov     %rax, v0(%rip)
    CHECK   "insw.df-nothing-below-the-count", $0, v0(%rip)

    CONF_FINISH "pc64-string-mmio"

    .data
    .balign 8
v0: .quad 0
v1: .quad 0
v2: .quad 0

    .text
    CONF_RUNTIME
    PC64_RUNTIME
