/* smp-atomic: every vCPU runs the same three kinds of shared-memory updates and vCPU 0 checks
 * the totals once everyone is done:
 *   - LOCK INC on one counter (ROUNDS per vCPU),
 *   - LOCK XADD adding 3 to another,
 *   - a CMPXCHG spinlock around a plain, non-atomic read-modify-write of a third (the lock is
 *     released with a plain store, as real spinlocks do).
 * Any lost or repeated update shows in a total. Exits 0 when all three are exact. */
#include "tdemu.inc"
.equ ROUNDS, 20000
    .section .text.entry, "ax"
    .globl _start
_start:
    mov     %rdi, %r12                  /* vCPU index */
    test    %r12, %r12
    jnz     1f
    call    tdemu_init
    movb    $1, setup_done(%rip)
1:  cmpb    $0, setup_done(%rip)
    je      1b
    mov     $ROUNDS, %r13
2:  lock incq inc_counter(%rip)
    mov     $3, %eax
    lock xaddq %rax, xadd_counter(%rip)
3:  xor     %eax, %eax                  /* spin_lock: 0 -> 1 */
    mov     $1, %ecx
    lock cmpxchgq %rcx, spin(%rip)
    jne     3b
    mov     plain_counter(%rip), %rax   /* the critical section: not atomic by itself */
    add     $1, %rax
    mov     %rax, plain_counter(%rip)
    movq    $0, spin(%rip)              /* spin_unlock: a plain store */
    dec     %r13
    jnz     2b
    lock incq finished(%rip)
    test    %r12, %r12
    jz      wait_all
    call    tdemu_halt
wait_all:
    cmpb    $0, tdemu_in_td(%rip)
    jne     4f
    mov     $1, %eax
    xor     %ecx, %ecx
    cpuid
    shr     $16, %ebx
    and     $0xff, %ebx                 /* CPUID.1:EBX[23:16] = vCPU count */
    jmp     5f
4:  mov     $1, %eax                    /* TDG.VP.INFO: R8 low half = number of vCPUs */
    tdcall_insn
    mov     %r8d, %ebx
5:  cmp     %rbx, finished(%rip)
    jne     5b
    imul    $ROUNDS, %rbx, %r14         /* expected LOCK INC total */
    cmp     %r14, inc_counter(%rip)
    jne     fail
    cmp     %r14, plain_counter(%rip)
    jne     fail
    lea     (%r14,%r14,2), %rax
    cmp     %rax, xadd_counter(%rip)
    jne     fail
    console_write ok, ok_len
    guest_exit 0
fail:
    console_write bad, bad_len
    mov     inc_counter(%rip), %rax
    call    tdemu_puthex
    mov     xadd_counter(%rip), %rax
    call    tdemu_puthex
    mov     plain_counter(%rip), %rax
    call    tdemu_puthex
    guest_exit 1

    TDEMU_RUNTIME

    .section .data
    .balign 64
setup_done: .quad 0
    .balign 64
inc_counter: .quad 0
    .balign 64
xadd_counter: .quad 0
    .balign 64
plain_counter: .quad 0
    .balign 64
spin: .quad 0
    .balign 64
finished: .quad 0
    .section .rodata
ok:  .ascii "smp-atomic: every locked update and every critical section counted exactly once\n"
    .equ ok_len, . - ok
bad: .ascii "FAIL: LOCK INC, LOCK XADD, spinlocked totals: "
    .equ bad_len, . - bad
