/* dr-data: data breakpoints, checked from inside the guest (SDM Vol. 3, "Debug Registers":
 * data memory and I/O breakpoint exception conditions; DESIGN.md section 2).
 *
 *   data.w.lenN.*      R/W=01 with LEN 1, 2, 4, 8: a trap after the access (frame RIP = next
 *                      instruction, the store already done), DR6 = B0; any byte of an access
 *                      overlapping the aligned range matches (aligned, misaligned, crossing the
 *                      range's start or end), accesses just outside and reads do not
 *   data.w.*           DR address aligned down to LEN, several slots in one access, a disabled
 *                      matching slot, read-modify-write, global enable, a 16-byte SSE store,
 *                      stores crossing into and out of the watched page
 *   data.exec-then-write-same-instruction.*   an execute and a write breakpoint on one store:
 *                      the fault before it, then (RF) the trap after it, the store runs once
 *   data.rw.*          R/W=11: reads and writes trigger, instruction fetch does not
 *
 * REP string instructions are in dr-rep, the stack in dr-stack.
 *
 * Build flag CONF_MUTANT_DATA_FAULT: expects write breakpoints to be faults (frame RIP on the
 * store), which they are not: the suite uses it to prove these checks can fail.
 */
#include "tdemu.inc"
#include "conformance.inc"

/* Zero the watch page, arm slot 0 as (rw, len) at watch_a + off. The accesses that follow (HIT,
   HIT_STORE, MISS) share this one arming: arming a watch costs the emulator a flush of its
   translations, so a group of accesses runs under one, and DR_OFF ends the group. */
.macro ARM0 rw, len, off
    call    clear_watch
    CONF_BEGIN
    lea     (watch_a + \off)(%rip), %rax
    mov     %rax, %dr0
    SET_DR7 DR7_SLOT(0, DR7_L(0), \rw, \len)
.endm

/* The access (made through %rbx = watch_a) hits: one trap #DB right after it reporting B0. */
.macro HIT name, insn
    CONF_NEXT
    lea     watch_a(%rip), %rbx
    \insn
1:  CHECK "\name\().db-count", $1, exc_count(%rip)
    CHECK_ADDR "\name\().trap-rip-after-access", 1b, exc_rip(%rip)
    CHECK "\name\().dr6", $(DR6_INIT | 1), exc_dr6(%rip)
.endm

/* A store that hits: as HIT, and the handler sees the stored value (masked) at watch_a + at. */
.macro HIT_STORE name, insn, at, mask, value
    CONF_NEXT
    lea     watch_a(%rip), %rbx
    lea     (watch_a + \at)(%rip), %rax
    mov     %rax, exc_probe_addr(%rip)
0:  \insn
1:  CHECK "\name\().db-count", $1, exc_count(%rip)
#ifdef CONF_MUTANT_DATA_FAULT
    CHECK_ADDR "\name\().trap-rip-after-access", 0b, exc_rip(%rip)
#else
    CHECK_ADDR "\name\().trap-rip-after-access", 1b, exc_rip(%rip)
#endif
    CHECK "\name\().dr6", $(DR6_INIT | 1), exc_dr6(%rip)
    CHECK_MASK "\name\().store-done-before-db", $\value, exc_probe_val(%rip), $\mask
    CHECK_MASK "\name\().frame-tf-clear", $0, exc_rflags(%rip), $RFLAGS_TF
.endm

/* The access does not hit. */
.macro MISS name, insn
    CONF_NEXT
    lea     watch_a(%rip), %rbx
    \insn
    CHECK "\name\().no-db", $0, exc_count(%rip)
.endm

    .section .text.entry, "ax"
    .globl _start
_start:
    call    tdemu_init
    call    conf_idt_init

    /* ---- R/W=01, LEN=1 at A ---- */
    ARM0    RW_W, LEN_1, 0
    HIT_STORE data.w.len1.exact-byte, "movb $0x5a, (%rbx)", 0, 0xff, 0x5a
    HIT data.w.len1.misaligned-qword-covering, "movq $-1, -4(%rbx)"
    HIT data.w.len1.sse-16-byte-store-covering, "movups %xmm0, -12(%rbx)"
    HIT data.w.read-modify-write, "addb $1, (%rbx)"
    MISS data.w.len1.byte-below, "movb $1, -1(%rbx)"
    MISS data.w.len1.byte-above, "movb $1, 1(%rbx)"
    MISS data.w.len1.qword-ending-below, "movq $1, -8(%rbx)"
    MISS data.w.len1.read, "movb (%rbx), %al"
    DR_OFF

    /* ---- LEN=2 ---- */
    ARM0    RW_W, LEN_2, 0
    HIT_STORE data.w.len2.exact-word, "movw $0x1234, (%rbx)", 0, 0xffff, 0x1234
    HIT data.w.len2.last-byte, "movb $1, 1(%rbx)"
    HIT data.w.len2.misaligned-word-crossing-start, "movw $1, -1(%rbx)"
    HIT data.w.len2.misaligned-word-crossing-end, "movw $1, 1(%rbx)"
    MISS data.w.len2.byte-above, "movb $1, 2(%rbx)"
    MISS data.w.len2.word-below, "movw $1, -2(%rbx)"
    MISS data.w.len2.read, "movw (%rbx), %ax"
    DR_OFF

    /* ---- LEN=4 ---- */
    ARM0    RW_W, LEN_4, 0
    HIT_STORE data.w.len4.exact-dword, "movl $0x89abcdef, (%rbx)", 0, 0xffffffff, 0x89abcdef
    HIT data.w.len4.last-byte, "movb $1, 3(%rbx)"
    HIT data.w.len4.misaligned-qword-crossing-start, "movq $1, -7(%rbx)"
    HIT data.w.len4.misaligned-dword-crossing-end, "movl $1, 2(%rbx)"
    MISS data.w.len4.dword-above, "movl $1, 4(%rbx)"
    MISS data.w.len4.byte-below, "movb $1, -1(%rbx)"
    MISS data.w.len4.read, "movl (%rbx), %eax"
    DR_OFF

    /* ---- LEN=8 (DR7 LEN encoding 10) ---- */
    ARM0    RW_W, LEN_8, 0
    HIT_STORE data.w.len8.exact-qword, "movq $-0x76543211, (%rbx)", 0, 0xffffffffffffffff, 0xffffffff89abcdef
    HIT data.w.len8.last-byte, "movb $1, 7(%rbx)"
    HIT data.w.len8.misaligned-dword-crossing-end, "movl $1, 6(%rbx)"
    HIT data.w.len8.misaligned-qword-crossing-start, "movq $1, -3(%rbx)"
    MISS data.w.len8.qword-above, "movq $1, 8(%rbx)"
    MISS data.w.len8.qword-below, "movq $1, -8(%rbx)"
    MISS data.w.len8.read, "movq (%rbx), %rax"
    DR_OFF

    /* The DR address is aligned down to LEN: LEN=4 at A+3 watches A..A+3. */
    ARM0    RW_W, LEN_4, 3
    HIT data.w.len4.dr-address-aligned-down, "movb $1, (%rbx)"
    DR_OFF

    /* ---- R/W=11 ---- */
    ARM0    RW_RW, LEN_4, 0
    HIT data.rw.read-byte, "movb (%rbx), %al"
    HIT data.rw.write-byte, "movb $1, (%rbx)"
    HIT data.rw.read-misaligned-qword, "movq -7(%rbx), %rax"
    HIT data.rw.read-modify-write, "incl (%rbx)"
    MISS data.rw.read-byte-above, "movb 4(%rbx), %al"
    DR_OFF

    /* Stores crossing a page boundary into and out of the watched page. */
    call    clear_watch
    CONF_BEGIN
    SET_DRN_ADDR 0, watch_page
    SET_DR7 DR7_SLOT(0, DR7_L(0), RW_W, LEN_4)
    movq    $-1, (watch_page - 4)(%rip)
1:  DR_OFF
    CHECK "data.w.cross-page-store-into-watched-page.db-count", $1, exc_count(%rip)
    CHECK_ADDR "data.w.cross-page-store-into-watched-page.trap-rip-after-access", 1b, exc_rip(%rip)
    CHECK "data.w.cross-page-store-into-watched-page.dr6", $(DR6_INIT | 1), exc_dr6(%rip)
    call    clear_watch
    CONF_BEGIN
    SET_DRN_ADDR 0, (after_page - 4)
    SET_DR7 DR7_SLOT(0, DR7_L(0), RW_W, LEN_4)
    movq    $-1, (after_page - 2)(%rip)
1:  DR_OFF
    CHECK "data.w.cross-page-store-out-of-watched-page.db-count", $1, exc_count(%rip)
    CHECK_ADDR "data.w.cross-page-store-out-of-watched-page.trap-rip-after-access", 1b, exc_rip(%rip)
    CHECK "data.w.cross-page-store-out-of-watched-page.dr6", $(DR6_INIT | 1), exc_dr6(%rip)

    /* Global enable. */
    call    clear_watch
    CONF_BEGIN
    SET_DRN_ADDR 1, watch_a
    SET_DR7 DR7_SLOT(1, DR7_G(1), RW_W, LEN_4)
    lea     watch_a(%rip), %rbx
    movl    $7, (%rbx)
1:  DR_OFF
    CHECK "data.w.global-enable.dr6", $(DR6_INIT | 2), exc_dr6(%rip)
    CHECK_ADDR "data.w.global-enable.trap-rip-after-access", 1b, exc_rip(%rip)

    /* One store meeting two enabled slots and a disabled one: one #DB, B bits of all three. */
    call    clear_watch
    CONF_BEGIN
    SET_DRN_ADDR 0, watch_a
    lea     (watch_a + 1)(%rip), %rax
    mov     %rax, %dr2
    lea     (watch_a + 1)(%rip), %rax
    mov     %rax, %dr3
    SET_DR7 (DR7_SLOT(0, DR7_L(0), RW_W, LEN_1) | DR7_SLOT(2, DR7_L(2), RW_W, LEN_1) | DR7_SLOT(3, 0, RW_W, LEN_1))
    lea     watch_a(%rip), %rbx
    movw    $0x101, (%rbx)
    DR_OFF
    CHECK "data.w.two-slots-one-access.db-count", $1, exc_count(%rip)
    CHECK "data.w.two-slots-one-access.dr6", $(DR6_INIT | 0xd), exc_dr6(%rip)

    /* An execute breakpoint on a store that hits a write breakpoint: the fault #DB before it,
       then (RF set by the handler, the store runs once) the trap #DB after it. */
    call    clear_watch
    CONF_BEGIN
    SET_DRN_ADDR 0, exec_store
    SET_DRN_ADDR 1, watch_a
    SET_DR7 (DR7_SLOT(0, DR7_L(0), RW_X, LEN_1) | DR7_SLOT(1, DR7_L(1), RW_W, LEN_1))
    movq    $RFLAGS_RF, exc_or_flags(%rip)
exec_store:
    addb    $1, watch_a(%rip)
1:  DR_OFF
    CHECK "data.exec-then-write-same-instruction.db-count", $2, exc_count(%rip)
    CHECK_ADDR "data.exec-then-write-same-instruction.fault-rip", exec_store, LOG_RIP(0)
    CHECK "data.exec-then-write-same-instruction.fault-dr6", $(DR6_INIT | 1), LOG_DR6(0)
    CHECK_ADDR "data.exec-then-write-same-instruction.trap-rip", 1b, LOG_RIP(1)
    CHECK "data.exec-then-write-same-instruction.trap-dr6", $(DR6_INIT | 2), LOG_DR6(1)
    CHECK_MASK "data.exec-then-write-same-instruction.store-ran-once", $1, watch_a(%rip), $0xff

    /* ---- R/W=11 on code ---- */
    /* An instruction fetch from a read/write-watched address does not trigger; a data read of it does. */
    CONF_BEGIN
    movq    $0, rw_code_runs(%rip)
    SET_DRN_ADDR 0, rw_code
    SET_DR7 DR7_SLOT(0, DR7_L(0), RW_RW, LEN_1)
    call    rw_code
    mov     exc_count(%rip), %rax
    mov     %rax, count_first(%rip)
    movb    rw_code(%rip), %al
1:  DR_OFF
    CHECK "data.rw.instruction-fetch-no-db", $0, count_first(%rip)
    CHECK "data.rw.instruction-fetch-code-ran", $1, rw_code_runs(%rip)
    CHECK "data.rw.read-of-code-bytes.db-count", $1, exc_count(%rip)
    CHECK_ADDR "data.rw.read-of-code-bytes.trap-rip-after-access", 1b, exc_rip(%rip)

    CONF_FINISH dr-data

/* clear_watch: zeroes the watched page (breakpoints must be off). */
clear_watch:
    push    %rax
    push    %rcx
    push    %rdi
    lea     watch_page(%rip), %rdi
    mov     $512, %ecx
    xor     %eax, %eax
    cld
    rep stosq
    pop     %rdi
    pop     %rcx
    pop     %rax
    ret

    .balign 16
rw_code:
    incq    rw_code_runs(%rip)
    ret

    TDEMU_RUNTIME
    CONF_RUNTIME

    .section .data
    .balign 8
rw_code_runs:   .quad 0
count_first:    .quad 0
    /* The watched buffers live alone on their page, between two spare pages. */
    .balign 4096
before_page:
    .space 4096
watch_page:
    .space 0x100
watch_a:
    .space 0x100
watch_b:
    .space 0x100
watch_c:
    .space 4096 - 0x300
after_page:
    .space 4096
