/* dr-stack: data breakpoints on the stack (SDM Vol. 3, "Debug Registers": data breakpoints
 * are traps after the instruction; MOV SS holds debug exceptions for one instruction).
 *
 *   data.stack.push.* / pop.* / call.* / ret.*   PUSH, POP, CALL and RET touching a watched stack
 *                          slot: a trap after the instruction (after CALL: RIP is the callee's
 *                          entry; after RET: the return address), the value already stored
 *   data.stack.mov-ss.*    MOV SS from a watched slot: the #DB waits until after the next
 *                          instruction
 *   data.stack.pushf*.*    PUSHF onto a watched page, with and without a hit: the pushed RFLAGS
 *                          and the #DB frame never carry the TF tdemu uses to step the instruction
 *   data.stack.popf.*      POPF of TF=0 from a watched slot: one #DB, no single step afterwards
 *
 * The #DB handler runs on IST1 (conformance.inc), so it never touches the watched stack.
 */
#include "tdemu.inc"
#include "conformance.inc"

    .section .text.entry, "ax"
    .globl _start
_start:
    call    tdemu_init
    call    conf_idt_init

    /* PUSH onto a write-watched slot: trap after the push, the value is there; POP does not hit. */
    CONF_BEGIN
    lea     -8(%rsp), %rax
    mov     %rax, %dr0
    mov     %rax, exc_probe_addr(%rip)
    SET_DR7 DR7_SLOT(0, DR7_L(0), RW_W, LEN_8)
    mov     $0x1234, %rax
    push    %rax
1:  pop     %rcx
    DR_OFF
    CHECK "data.stack.push.db-count-pop-no-hit", $1, exc_count(%rip)
    CHECK_ADDR "data.stack.push.trap-rip-after-push", 1b, exc_rip(%rip)
    CHECK "data.stack.push.dr6", $(DR6_INIT | 1), exc_dr6(%rip)
    CHECK "data.stack.push.value-stored-before-db", $0x1234, exc_probe_val(%rip)

    /* POP from a read/write-watched slot. */
    CONF_BEGIN
    mov     $0x5678, %rax
    push    %rax
    mov     %rsp, %rax
    mov     %rax, %dr0
    SET_DR7 DR7_SLOT(0, DR7_L(0), RW_RW, LEN_8)
    pop     %rcx
1:  DR_OFF
    mov     %rcx, rcx_after(%rip)
    CHECK "data.stack.pop.db-count", $1, exc_count(%rip)
    CHECK_ADDR "data.stack.pop.trap-rip-after-pop", 1b, exc_rip(%rip)
    CHECK "data.stack.pop.value-loaded", $0x5678, rcx_after(%rip)
    CHECK "data.stack.pop.dr6", $(DR6_INIT | 1), exc_dr6(%rip)

    /* RET reading a read/write-watched return address: the trap RIP is the return address. */
    CONF_BEGIN
    call    ret_watched
1:  DR_OFF
    CHECK "data.stack.ret.db-count", $1, exc_count(%rip)
    CHECK_ADDR "data.stack.ret.trap-rip-is-return-address", 1b, exc_rip(%rip)
    CHECK "data.stack.ret.dr6", $(DR6_INIT | 1), exc_dr6(%rip)

    /* MOV SS from a read/write-watched stack slot (POP SS does not exist in 64-bit mode): the
       #DB waits until after the next instruction. */
    CONF_BEGIN
    mov     %ss, %eax
    push    %rax
    mov     %rsp, %rax
    mov     %rax, %dr0
    SET_DR7 DR7_SLOT(0, DR7_L(0), RW_RW, LEN_2)
    mov     (%rsp), %ss
    nop
1:  nop
    DR_OFF
    add     $8, %rsp
    CHECK "data.stack.mov-ss.db-count", $1, exc_count(%rip)
    CHECK_ADDR "data.stack.mov-ss.trap-after-the-instruction-following-mov-ss", 1b, exc_rip(%rip)
    CHECK "data.stack.mov-ss.dr6", $(DR6_INIT | 1), exc_dr6(%rip)

    /* CALL pushing its return address onto a watched slot: the trap RIP is the callee's entry. */
    CONF_BEGIN
    lea     -8(%rsp), %rax
    mov     %rax, %dr3
    SET_DR7 DR7_SLOT(3, DR7_L(3), RW_W, LEN_8)
    call    stack_callee
    DR_OFF
    CHECK "data.stack.call.db-count", $1, exc_count(%rip)
    CHECK_ADDR "data.stack.call.trap-rip-is-callee-entry", stack_callee, exc_rip(%rip)
    CHECK "data.stack.call.dr6", $(DR6_INIT | 8), exc_dr6(%rip)

    /* PUSHF onto a watched slot with TF=0: the pushed RFLAGS and the #DB frame have TF=0. */
    CONF_BEGIN
    lea     -8(%rsp), %rax
    mov     %rax, %dr0
    SET_DR7 DR7_SLOT(0, DR7_L(0), RW_W, LEN_8)
    pushfq
1:  DR_OFF
    pop     %rax
    mov     %rax, flags_pushed(%rip)
    CHECK "data.stack.pushf.db-count", $1, exc_count(%rip)
    CHECK_ADDR "data.stack.pushf.trap-rip-after-pushf", 1b, exc_rip(%rip)
    CHECK_MASK "data.stack.pushf.pushed-tf-clear", $0, flags_pushed(%rip), $RFLAGS_TF
    CHECK_MASK "data.stack.pushf.frame-tf-clear", $0, exc_rflags(%rip), $RFLAGS_TF

    /* PUSHF onto a watched page outside the watched range: no #DB, pushed TF still clear. */
    CONF_BEGIN
    lea     -64(%rsp), %rax
    mov     %rax, %dr0
    SET_DR7 DR7_SLOT(0, DR7_L(0), RW_W, LEN_8)
    pushfq
    DR_OFF
    pop     %rax
    mov     %rax, flags_pushed(%rip)
    CHECK "data.stack.pushf-same-page.no-db", $0, exc_count(%rip)
    CHECK_MASK "data.stack.pushf-same-page.pushed-tf-clear", $0, flags_pushed(%rip), $RFLAGS_TF

    /* POPF of TF=0 from a read/write-watched slot: one #DB, and no single-step afterwards. */
    CONF_BEGIN
    pushq   $0x2
    mov     %rsp, %rax
    mov     %rax, %dr0
    SET_DR7 DR7_SLOT(0, DR7_L(0), RW_RW, LEN_8)
    popfq
1:  nop
    nop
    DR_OFF
    CHECK "data.stack.popf.db-count-no-single-step", $1, exc_count(%rip)
    CHECK_ADDR "data.stack.popf.trap-rip-after-popf", 1b, exc_rip(%rip)
    CHECK "data.stack.popf.dr6-no-bs", $(DR6_INIT | 1), exc_dr6(%rip)


    CONF_FINISH dr-stack

stack_callee:
    nop
    ret

/* ret_watched: watches its own return address (R/W=11, 8 bytes, slot 0), then returns. */
ret_watched:
    mov     %rsp, %rax
    mov     %rax, %dr0
    SET_DR7 DR7_SLOT(0, DR7_L(0), RW_RW, LEN_8)
    ret

    TDEMU_RUNTIME
    CONF_RUNTIME

    .section .data
    .balign 8
rcx_after:      .quad 0
flags_pushed:   .quad 0
