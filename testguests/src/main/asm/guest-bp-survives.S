/* guest-bp-survives: the guest programs its own execute, write and read/write breakpoints and
 * single-steps, while exiting to the host between every hit. Its breakpoints must keep firing
 * with the right DR6, and its reads of DR0-DR7 must return what it wrote — in a VMX guest through
 * KVM's lazy switch (WONT_EXIT), in a TD through the TDX module's automatic switch.
 * Exits 0 when every count and value is right, else prints what differed and exits 1. */
#include "tdemu.inc"
#include "minidt.inc"
.equ ROUNDS, 25
.equ DR7_VALUE, 0x401 | 0x4 | 0x10 | (0x1 << 20) | (0x2 << 22) | (0x3 << 24) | (0x3 << 26)
    /* L0 exec at bp_func; L1 write, 8 bytes at wvar; L2 read/write, 4 bytes at rwvar */
    .section .text.entry, "ax"
    .globl _start
_start:
    call    tdemu_init
    idt_set 1, db_handler
    idt_load
    lea     bp_func(%rip), %rax
    mov     %rax, %dr0
    lea     wvar(%rip), %rax
    mov     %rax, %dr1
    lea     rwvar(%rip), %rax
    mov     %rax, %dr2
    mov     $DR7_VALUE, %rax
    mov     %rax, %dr7
    mov     $ROUNDS, %r15
round:
    mov     $0x1ff, %eax
    call    tdemu_hypercall             /* an exit between every breakpoint */
    call    bp_func                     /* execute breakpoint: B0 */
    mov     $0x1ff, %eax
    call    tdemu_hypercall
    movq    $7, wvar(%rip)              /* write breakpoint: B1 */
    mov     $0x1ff, %eax
    call    tdemu_hypercall
    mov     rwvar(%rip), %eax           /* read/write breakpoint: B2 */
    mov     $0x1ff, %eax
    call    tdemu_hypercall
    pushf                               /* single-step: TF from POPF applies after the next instruction */
    orq     $0x100, (%rsp)
    popf
    nop
    nop
    pushf
    andq    $~0x100, (%rsp)
    popf
    /* the guest's view of its registers survives the exits */
    lea     bp_func(%rip), %rax
    mov     %dr0, %rbx
    cmp     %rax, %rbx
    jne     bad_dr
    lea     wvar(%rip), %rax
    mov     %dr1, %rbx
    cmp     %rax, %rbx
    jne     bad_dr
    mov     %dr7, %rbx
    mov     $DR7_VALUE, %rax
    cmp     %rax, %rbx
    jne     bad_dr
    dec     %r15
    jnz     round
    /* counts: every breakpoint once per round; single-step traps after nop, nop, pushf, andq and
       the popf that clears TF (TF was still set when that popf began) */
    cmpq    $ROUNDS, exec_hits(%rip)
    jne     bad_count
    cmpq    $ROUNDS, write_hits(%rip)
    jne     bad_count
    cmpq    $ROUNDS, rw_hits(%rip)
    jne     bad_count
    cmpq    $(ROUNDS * 5), step_hits(%rip)
    jne     bad_count
    cmpq    $0, wrong_dr6(%rip)
    jne     bad_dr6
    console_write ok, ok_len
    guest_exit 0
bad_dr:
    console_write m_dr, m_dr_len
    guest_exit 1
bad_count:
    console_write m_count, m_count_len
    mov     exec_hits(%rip), %rax
    call    tdemu_puthex
    mov     write_hits(%rip), %rax
    call    tdemu_puthex
    mov     rw_hits(%rip), %rax
    call    tdemu_puthex
    mov     step_hits(%rip), %rax
    call    tdemu_puthex
    mov     wrong_dr6(%rip), %rax
    call    tdemu_puthex
    guest_exit 1
bad_dr6:
    console_write m_dr6, m_dr6_len
    guest_exit 1

bp_func:
    ret

/* Counts hits by DR6 and checks that exactly one condition is reported per #DB. */
db_handler:
    push    %rax
    push    %rbx
    mov     %dr6, %rax
    mov     %rax, %rbx
    and     $0x400f, %rbx               /* B0-B3 and BS */
    cmp     $0x1, %rbx
    jne     1f
    incq    exec_hits(%rip)
    orq     $0x10000, 32(%rsp)          /* RF: the breakpointed instruction runs once */
    jmp     9f
1:  cmp     $0x2, %rbx
    jne     2f
    incq    write_hits(%rip)
    jmp     9f
2:  cmp     $0x4, %rbx
    jne     3f
    incq    rw_hits(%rip)
    jmp     9f
3:  cmp     $0x4000, %rbx
    jne     4f
    incq    step_hits(%rip)
    jmp     9f
4:  incq    wrong_dr6(%rip)
9:  mov     $0xffff0ff0, %rax           /* the handler clears DR6, as an OS does */
    mov     %rax, %dr6
    pop     %rbx
    pop     %rax
    iretq

    TDEMU_RUNTIME

    .section .data
    .balign 8
wvar:       .quad 0
rwvar:      .quad 0
exec_hits:  .quad 0
write_hits: .quad 0
rw_hits:    .quad 0
step_hits:  .quad 0
wrong_dr6:  .quad 0
    .section .rodata
ok:      .ascii "guest-bp-survives: every breakpoint fired every round with the right DR6\n"
    .equ ok_len, . - ok
m_dr:    .ascii "FAIL: a debug register read back a different value\n"
    .equ m_dr_len, . - m_dr
m_count: .ascii "FAIL: a breakpoint did not fire every round (exec write rw step wrong-dr6): "
    .equ m_count_len, . - m_count
m_dr6:   .ascii "FAIL: a #DB reported an unexpected DR6\n"
    .equ m_dr6_len, . - m_dr6
