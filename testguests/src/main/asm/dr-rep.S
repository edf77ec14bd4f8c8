/* dr-rep: data breakpoints hit by repeated string instructions (SDM Vol. 3, "Debug Registers":
 * a data breakpoint hit by an iteration of a REP string instruction is reported after that
 * iteration; the RF value pushed is 1 for a trap raised by any iteration but the last).
 *
 *   data.rep.stosb.*           REP STOSB over 64 bytes with a 1-byte write watch on byte 40: one
 *                              #DB after the 41st iteration, RCX = 23 and RDI = byte 41 at that
 *                              point, byte 40 written and byte 41 not, RIP still on the instruction,
 *                              RF=1 in the frame; resumed, the instruction completes
 *   data.rep.movsb.*           REP MOVSB reading a read/write-watched source byte: RCX, RSI, RDI
 *                              after the 11th iteration
 *   data.rep.last-iteration.*  the watched byte is the last iteration's: RIP past the instruction,
 *                              RCX = 0, RF clear
 */
#include "tdemu.inc"
#include "conformance.inc"

    .section .text.entry, "ax"
    .globl _start
_start:
    call    tdemu_init
    call    conf_idt_init

    /* REP STOSB over 64 bytes of B with a 1-byte write watch on B+40: #DB after the 41st
       iteration, RCX = 23 left, RDI = B+41, RIP still on the instruction, RF=1 in the frame. */
    call    clear_watch
    CONF_BEGIN
    lea     (watch_b + 40)(%rip), %rax
    mov     %rax, %dr0
    mov     %rax, exc_probe_addr(%rip)
    SET_DR7 DR7_SLOT(0, DR7_L(0), RW_W, LEN_1)
    lea     watch_b(%rip), %rdi
    mov     $64, %ecx
    mov     $0xaa, %al
    cld
rep_stos_insn:
    rep stosb
    mov     %rcx, rcx_after(%rip)
    mov     %rdi, rdi_after(%rip)
    DR_OFF
    lea     watch_b(%rip), %rbx
    CHECK "data.rep.stosb.db-count", $1, exc_count(%rip)
    CHECK_ADDR "data.rep.stosb.rip-on-instruction-while-iterations-remain", rep_stos_insn, exc_rip(%rip)
    CHECK "data.rep.stosb.rcx-after-touching-iteration", $23, exc_rcx(%rip)
    CHECK_ADDR "data.rep.stosb.rdi-after-touching-iteration", (watch_b + 41), exc_rdi(%rip)
    CHECK "data.rep.stosb.watched-byte-written-next-not", $0xaa, exc_probe_val(%rip)
    CHECK "data.rep.stosb.dr6", $(DR6_INIT | 1), exc_dr6(%rip)
    CHECK_MASK "data.rep.stosb.frame-rf-set-while-iterations-remain", $RFLAGS_RF, exc_rflags(%rip), $RFLAGS_RF
    CHECK "data.rep.stosb.completes-rcx", $0, rcx_after(%rip)
    CHECK_ADDR "data.rep.stosb.completes-rdi", (watch_b + 64), rdi_after(%rip)
    CHECK_MASK "data.rep.stosb.completes-last-byte", $0xaa, 63(%rbx), $0xff

    /* REP MOVSB reading a read/write-watched source byte: #DB after the 11th iteration. */
    call    clear_watch
    CONF_BEGIN
    lea     (watch_b + 10)(%rip), %rax
    mov     %rax, %dr1
    SET_DR7 DR7_SLOT(1, DR7_L(1), RW_RW, LEN_1)
    lea     watch_b(%rip), %rsi
    lea     watch_c(%rip), %rdi
    mov     $32, %ecx
    cld
rep_movs_insn:
    rep movsb
    mov     %rcx, rcx_after(%rip)
    DR_OFF
    CHECK "data.rep.movsb.db-count", $1, exc_count(%rip)
    CHECK_ADDR "data.rep.movsb.rip-on-instruction-while-iterations-remain", rep_movs_insn, exc_rip(%rip)
    CHECK "data.rep.movsb.rcx-after-touching-iteration", $21, exc_rcx(%rip)
    CHECK_ADDR "data.rep.movsb.rsi-after-touching-iteration", (watch_b + 11), exc_rsi(%rip)
    CHECK_ADDR "data.rep.movsb.rdi-after-touching-iteration", (watch_c + 11), exc_rdi(%rip)
    CHECK "data.rep.movsb.dr6", $(DR6_INIT | 2), exc_dr6(%rip)
    CHECK_MASK "data.rep.movsb.frame-rf-set-while-iterations-remain", $RFLAGS_RF, exc_rflags(%rip), $RFLAGS_RF
    CHECK "data.rep.movsb.completes-rcx", $0, rcx_after(%rip)

    /* The watched byte is the last iteration's: RIP past the instruction, RCX = 0, RF clear. */
    call    clear_watch
    CONF_BEGIN
    lea     (watch_b + 15)(%rip), %rax
    mov     %rax, %dr0
    SET_DR7 DR7_SLOT(0, DR7_L(0), RW_W, LEN_1)
    lea     watch_b(%rip), %rdi
    mov     $16, %ecx
    mov     $0x55, %al
    cld
    rep stosb
1:  DR_OFF
    CHECK "data.rep.last-iteration.db-count", $1, exc_count(%rip)
    CHECK_ADDR "data.rep.last-iteration.rip-after-instruction", 1b, exc_rip(%rip)
    CHECK "data.rep.last-iteration.rcx-zero", $0, exc_rcx(%rip)
    CHECK_MASK "data.rep.last-iteration.frame-rf-clear", $0, exc_rflags(%rip), $RFLAGS_RF


    CONF_FINISH dr-rep

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

    TDEMU_RUNTIME
    CONF_RUNTIME

    .section .data
    .balign 8
rcx_after:      .quad 0
rdi_after:      .quad 0
    /* The watched buffers live alone on their page. */
    .balign 4096
watch_page:
watch_b:
    .space 0x100
watch_c:
    .space 4096 - 0x100
