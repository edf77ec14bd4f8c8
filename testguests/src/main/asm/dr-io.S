/* dr-io: I/O breakpoints (R/W=10 with CR4.DE=1) on port 0x80, which a VMX guest reaches without
 * a VM exit (docs/guest-abi.md). SDM Vol. 3, "Debug Registers": I/O breakpoints are traps after
 * the IN/OUT instruction; the port range is the DR address aligned down to LEN, like data.
 *
 *   io.{out,in}-*          IN/OUT with an immediate port or DX, byte and word: trap, RIP after, B0
 *   io.range.*             LEN 2/4 ranges containing 0x80 (DR address aligned down) hit, ranges
 *                          beside it do not
 *   io.outsb.*             a string OUT to port 0x80 is an I/O access too
 *   io.with-single-step.*  an I/O breakpoint and single step on one OUT make one #DB
 *   io.cr4-de-clear.*      with CR4.DE=0, R/W=10 raises nothing
 *
 * In a TD every IN/OUT raises #VE before it runs, so no I/O breakpoint can fire: the guest says
 * so and runs no check there.
 */
#include "tdemu.inc"
#include "conformance.inc"

.macro ARM_IO dr, len
    CONF_BEGIN
    mov     $\dr, %eax
    mov     %rax, %dr0
    SET_DR7 DR7_SLOT(0, DR7_L(0), RW_IO, \len)
    mov     $0x80, %edx
.endm

.macro IO_HIT name, dr, len, insn
    ARM_IO  \dr, \len
    \insn
1:  DR_OFF
    CHECK "\name\().db-count", $1, exc_count(%rip)
    CHECK_ADDR "\name\().trap-rip-after-instruction", 1b, exc_rip(%rip)
    CHECK "\name\().dr6", $(DR6_INIT | 1), exc_dr6(%rip)
.endm

.macro IO_MISS name, dr, len, insn
    ARM_IO  \dr, \len
    \insn
    DR_OFF
    CHECK "\name\().no-db", $0, exc_count(%rip)
.endm

    .section .text.entry, "ax"
    .globl _start
_start:
    call    tdemu_init
    call    conf_idt_init
    cmpb    $0, tdemu_in_td(%rip)
    je      1f
    CONF_SAY "SKIP io: in a TD port I/O raises #VE before it runs, so I/O breakpoints cannot fire"
    CONF_FINISH dr-io
1:
    mov     %cr4, %rax
    or      $CR4_DE, %rax
    mov     %rax, %cr4

    IO_HIT io.out-imm8-byte, 0x80, LEN_1, "outb %al, $0x80"
    IO_HIT io.in-imm8-byte, 0x80, LEN_1, "inb $0x80, %al"
    IO_HIT io.out-dx-byte, 0x80, LEN_1, "outb %al, %dx"
    IO_HIT io.in-dx-byte, 0x80, LEN_1, "inb %dx, %al"
    IO_HIT io.out-dx-word, 0x80, LEN_2, "outw %ax, %dx"
    IO_HIT io.in-imm8-word, 0x80, LEN_1, "inw $0x80, %ax"
    IO_HIT io.range.len2-address-aligned-down, 0x81, LEN_2, "outb %al, $0x80"
    IO_HIT io.range.len4-address-aligned-down, 0x83, LEN_4, "inb $0x80, %al"
    IO_HIT io.range.len8, 0x80, LEN_8, "outb %al, $0x80"
    IO_MISS io.range.len1-next-port, 0x81, LEN_1, "outb %al, $0x80"
    IO_MISS io.range.len4-next-range, 0x84, LEN_4, "outb %al, $0x80"
    IO_MISS io.range.len2-previous-range, 0x7e, LEN_2, "inb $0x80, %al"

    /* A string OUT of one byte to port 0x80. */
    CONF_BEGIN
    lea     io_byte(%rip), %rsi
    mov     $0x80, %eax
    mov     %rax, %dr0
    SET_DR7 DR7_SLOT(0, DR7_L(0), RW_IO, LEN_1)
    mov     $0x80, %edx
    outsb
1:  DR_OFF
    CHECK "io.outsb.db-count", $1, exc_count(%rip)
    CHECK_ADDR "io.outsb.trap-rip-after-instruction", 1b, exc_rip(%rip)
    CHECK "io.outsb.dr6", $(DR6_INIT | 1), exc_dr6(%rip)

    /* Single step and an I/O breakpoint on one OUT: one #DB with BS and B0. */
    ARM_IO  0x80, LEN_1
    movq    $RFLAGS_TF, exc_andnot_flags(%rip)
    pushfq
    orq     $RFLAGS_TF, (%rsp)
    popfq
    outb    %al, $0x80
1:  nop
    DR_OFF
    CHECK "io.with-single-step.db-count", $1, exc_count(%rip)
    CHECK_ADDR "io.with-single-step.trap-rip-after-instruction", 1b, exc_rip(%rip)
    CHECK "io.with-single-step.dr6-bs-and-b0", $(DR6_INIT | DR6_BS | 1), exc_dr6(%rip)

    /* Another slot than 0, global enable. */
    CONF_BEGIN
    mov     $0x80, %eax
    mov     %rax, %dr2
    SET_DR7 DR7_SLOT(2, DR7_G(2), RW_IO, LEN_1)
    outb    %al, $0x80
1:  DR_OFF
    CHECK "io.dr2-global.dr6", $(DR6_INIT | 4), exc_dr6(%rip)
    CHECK_ADDR "io.dr2-global.trap-rip-after-instruction", 1b, exc_rip(%rip)

    /* CR4.DE=0: R/W=10 is not an I/O breakpoint. */
    mov     %cr4, %rax
    and     $~CR4_DE, %rax
    mov     %rax, %cr4
    ARM_IO  0x80, LEN_1
    outb    %al, $0x80
    inb     $0x80, %al
    DR_OFF
    CHECK "io.cr4-de-clear.no-db", $0, exc_count(%rip)

    CONF_FINISH dr-io

    TDEMU_RUNTIME
    CONF_RUNTIME

    .section .data
io_byte: .byte 0x42
