/* pc64-apic-timer: the local APIC timer against the TSC. Both count on the machine's virtual
 * clock (the TSC at 1 GHz, the timer at 1 GHz before division), so whatever the host does the
 * kernel can check one against the other exactly; it never measures wall time. It waits with
 * CLI; check; STI; HLT, so every wait is also an STI;HLT woken by the timer.
 *
 *   oneshot.*    one interrupt, never before TMICT counts from the write, TMCCT 0 afterwards,
 *                and no second one however long the kernel waits
 *   periodic.*   the k-th interrupt never before k periods from the write, TMCCT reloads, and
 *                TMICT 0 stops it
 *   divide.*     for divide-by 1, 2, 16 and 128: the counts TMCCT says have passed, times the
 *                divisor, lie within the TSC time bracketing the TMICT write and the TMCCT read
 *   masked.*     a masked timer counts to 0 and raises nothing
 *   pending.*    with IF clear the timer's vector waits in IRR and is taken right after STI
 *   deadline.*   TSC-deadline mode (CPUID offers it): the interrupt comes at or after the deadline
 *                in IA32_TSC_DEADLINE, which reads 0 afterwards; TMICT is ignored in that mode
 */
#define CONF_PC
#include "multiboot.inc"
#include "pc.inc"
#include "conformance.inc"
#include "pc64.inc"

#define VEC_TIMER       0x40
#define MSR_TSC_DEADLINE 0x6E0
#define ONESHOT_COUNT   50000           /* 50 us at divide-by-1 */
#define PERIOD          1000000         /* 1 ms: the handler must run well within a period, or
                                           every IRET meets the next one (an interrupt storm) */

/* %rax <- TSC (clobbers %rdx) */
.macro TSC
    rdtsc
    shl     $32, %rdx
    or      %rdx, %rax
.endm

/* Waits, CLI; check; STI; HLT, until at least \n timer interrupts were counted. */
.macro WAIT_TICKS n
1:  cli
    cmpq    $(\n), ticks(%rip)
    jae     2f
    sti
    hlt
    jmp     1b
2:
.endm

/* Spins (interrupts as they are) until the TSC passes \variable + \delta. */
.macro SPIN_PAST variable, delta
1:  TSC
    sub     \variable(%rip), %rax
    cmp     $(\delta), %rax
    jb      1b
.endm

    .text
main64:
    PC_GATE VEC_TIMER, timer_isr
    APIC_WRITE APIC_SPIV, $(APIC_SPIV_APIC_ENABLED | 0xFF)

    /* ---- one-shot ---- */
    APIC_WRITE APIC_TDCR, $0xB
    APIC_WRITE APIC_LVTT, $VEC_TIMER
    movq    $0, ticks(%rip)
    TSC
    mov     %rax, t_a(%rip)
    APIC_WRITE APIC_TMICT, $ONESHOT_COUNT
    WAIT_TICKS 1
    mov     times(%rip), %rax
    sub     t_a(%rip), %rax
    cmp     $ONESHOT_COUNT, %rax
    setae   %bl
    movzbl  %bl, %ebx
    CHECK "oneshot.not-before-its-count", $1, %rbx
    APIC_SAVE APIC_TMCCT, v0
    CHECK "oneshot.tmcct-0-after", $0, v0(%rip)
    sti
    SPIN_PAST times, (20*ONESHOT_COUNT)
    cli
    CHECK "oneshot.fires-once", $1, ticks(%rip)

    /* ---- periodic ---- */
    APIC_WRITE APIC_LVTT, $(APIC_LVT_TIMER_PERIODIC | VEC_TIMER)
    movq    $0, ticks(%rip)
    TSC
    mov     %rax, t_a(%rip)
    APIC_WRITE APIC_TMICT, $PERIOD
    WAIT_TICKS 5
    APIC_SAVE APIC_TMCCT, v0
    APIC_WRITE APIC_TMICT, $0
    xor     %ecx, %ecx                  /* interrupt k (from 1) at or after k periods */
    xor     %ebx, %ebx
    lea     times(%rip), %rsi
3:  mov     (%rsi, %rcx, 8), %rax
    sub     t_a(%rip), %rax
    lea     1(%rcx), %rdx
    imul    $PERIOD, %rdx
    cmp     %rdx, %rax
    jb      4f
    inc     %ebx
4:  inc     %ecx
    cmp     $5, %ecx
    jne     3b
    CHECK "periodic.kth-interrupt-not-before-k-periods", $5, %rbx
    mov     v0(%rip), %rax
    dec     %rax
    cmp     $PERIOD, %rax               /* 1..PERIOD: reloaded, not 0 */
    setb    %bl
    movzbl  %bl, %ebx
    CHECK "periodic.tmcct-reloads", $1, %rbx
    sti                                 /* one may still wait in IRR from before the stop */
    nop
    cli
    mov     ticks(%rip), %r12
    TSC
    mov     %rax, t_a(%rip)
    sti
    SPIN_PAST t_a, (20*PERIOD)
    cli
    CHECK "periodic.tmict-0-stops-it", %r12, ticks(%rip)

    /* ---- divide configuration against the TSC ---- */
    APIC_WRITE APIC_LVTT, $(APIC_LVT_MASKED | VEC_TIMER)
    mov     $0xB, %edi
    mov     $1, %esi
    call    divide_check
    CHECK "divide.by-1", $1, %rax
    mov     $0x0, %edi
    mov     $2, %esi
    call    divide_check
    CHECK "divide.by-2", $1, %rax
    mov     $0x3, %edi
    mov     $16, %esi
    call    divide_check
    CHECK "divide.by-16", $1, %rax
    mov     $0xA, %edi
    mov     $128, %esi
    call    divide_check
    CHECK "divide.by-128", $1, %rax

    /* ---- masked ---- */
    APIC_WRITE APIC_TDCR, $0xB
    movq    $0, ticks(%rip)
    APIC_WRITE APIC_TMICT, $ONESHOT_COUNT
    sti
5:  APIC_READ APIC_TMCCT, %eax
    test    %eax, %eax
    jnz     5b
    cli
    CHECK "masked.no-interrupt", $0, ticks(%rip)
    APIC_SAVE APIC_IRR + 0x20, v0       /* IRR bits for vectors 0x40-0x5F */
    CHECK_MASK "masked.nothing-in-irr", $0, v0(%rip), $1

    /* ---- pending while IF is clear ---- */
    APIC_WRITE APIC_LVTT, $VEC_TIMER
    APIC_WRITE APIC_TMICT, $ONESHOT_COUNT
6:  APIC_READ APIC_TMCCT, %eax
    test    %eax, %eax
    jnz     6b
7:  APIC_READ APIC_IRR + 0x20, %eax     /* the interrupt reaches IRR once the device timer ran */
    test    $1, %eax
    jz      7b
    CHECK "pending.no-interrupt-with-if-clear", $0, ticks(%rip)
    sti
    nop
    cli
    CHECK "pending.taken-after-sti", $1, ticks(%rip)
    APIC_SAVE APIC_IRR + 0x20, v0
    CHECK_MASK "pending.irr-clear-once-taken", $0, v0(%rip), $1

    /* ---- TSC-deadline ---- */
    APIC_WRITE APIC_LVTT, $(0x40000 | VEC_TIMER)
    APIC_WRITE APIC_TMICT, $PERIOD
    APIC_SAVE APIC_TMICT, v0
    CHECK "deadline.tmict-ignored", $0, v0(%rip)
    movq    $0, ticks(%rip)
    TSC
    add     $ONESHOT_COUNT, %rax
    mov     %rax, t_a(%rip)
    mov     %rax, %rdx
    shr     $32, %rdx
    mov     $MSR_TSC_DEADLINE, %ecx
    wrmsr
    WAIT_TICKS 1
    mov     times(%rip), %rax
    cmp     t_a(%rip), %rax
    setae   %bl
    movzbl  %bl, %ebx
    CHECK "deadline.not-before-the-deadline", $1, %rbx
    mov     $MSR_TSC_DEADLINE, %ecx
    rdmsr
    shl     $32, %rdx
    or      %rdx, %rax
    mov     %rax, v0(%rip)
    CHECK "deadline.msr-0-once-fired", $0, v0(%rip)
    APIC_WRITE APIC_LVTT, $(APIC_LVT_MASKED | VEC_TIMER)

    CONF_FINISH "pc64-apic-timer"

/* divide_check: TDCR %edi (the divisor %esi); %rax <- 1 when TMCCT agrees with the TSC. */
divide_check:
    push    %rbx
    push    %r12
    push    %r13
    APIC_WRITE APIC_TDCR, %edi
    TSC
    mov     %rax, %r12                  /* t_a */
    APIC_WRITE APIC_TMICT, $0x40000000
    TSC
    mov     %rax, %r13                  /* t_b */
    mov     %r13, t_b(%rip)
    SPIN_PAST t_b, 200000               /* 200 us */
    TSC
    mov     %rax, %r8                   /* t_c */
    APIC_READ APIC_TMCCT, %ebx
    TSC
    mov     %rax, %r9                   /* t_d */
    APIC_WRITE APIC_TMICT, $0
    mov     $0x40000000, %eax
    sub     %rbx, %rax
    imul    %rsi, %rax                  /* ns the timer says passed */
    xor     %ecx, %ecx
    mov     %r9, %rdx
    sub     %r12, %rdx                  /* at most t_d - t_a */
    cmp     %rdx, %rax
    ja      1f
    mov     %r8, %rdx
    sub     %r13, %rdx
    sub     %rsi, %rdx                  /* more than t_c - t_b - divisor */
    cmp     %rdx, %rax
    jle     1f
    mov     $1, %ecx
1:  mov     %rcx, %rax
    pop     %r13
    pop     %r12
    pop     %rbx
    ret

timer_isr:
    push    %rax
    push    %rdx
    push    %rcx
    TSC
    mov     ticks(%rip), %rcx
    cmp     $16, %rcx
    jae     1f
    lea     times(%rip), %rdx
    mov     %rax, (%rdx, %rcx, 8)
1:  incq    ticks(%rip)
    APIC_WRITE APIC_EOI, $0
    pop     %rcx
    pop     %rdx
    pop     %rax
    iretq

    .data
    .balign 8
ticks:  .quad 0
t_a:    .quad 0
t_b:    .quad 0
v0:     .quad 0
times:  .space 16 * 8

    .text
    CONF_RUNTIME
    PC64_RUNTIME
