/* robust-hc-fuzz: 4000 hypercalls (VMX: VMCALL) or TDCALLs (TD: every TDCALL leaf and
 * TDG.VP.VMCALL subfunction) with pseudo-random registers, hostile values mixed in (0, -1,
 * 2^63, 2^63-1, small numbers). Whatever the VMM answers, it must answer: the guest ends with
 * exit status 0 after the last call, never with a VMM internal error. Calls that would end or halt
 * the guest on purpose (EXIT, ReportFatalError, HLT with interrupts blocked, OUT to 0xF4) are
 * turned into harmless ones, and the TDCALL leaves tdemu's TDX module does not model (which stop
 * the TD loudly, by design) are not drawn. */
#include "tdemu.inc"
#include "minidt.inc"
    .equ CALLS, 4000
    .section .text.entry, "ax"
    .globl _start
_start:
    call    tdemu_init
    idt_set 0x20, timer_handler         /* GHCI HLT with interrupts open wakes on the timer */
    idt_load
    movq    $CALLS, left(%rip)
1:  cmpb    $0, tdemu_in_td(%rip)
    jne     2f
    call    vmx_call
    jmp     3f
2:  call    td_call
3:  decq    left(%rip)
    jnz     1b
    console_write ok, ok_len
    guest_exit 0

timer_handler:
    iretq

/* xorshift64: the next pseudo-random value in %rax (clobbers %rdx). */
random:
    mov     state(%rip), %rax
    mov     %rax, %rdx
    shl     $13, %rdx
    xor     %rdx, %rax
    mov     %rax, %rdx
    shr     $7, %rdx
    xor     %rdx, %rax
    mov     %rax, %rdx
    shl     $17, %rdx
    xor     %rdx, %rax
    mov     %rax, state(%rip)
    ret

/* arg: a hostile or random argument in %rax (clobbers %rdx, %rcx). */
arg:
    call    random
    mov     %rax, %rcx
    and     $7, %ecx
    cmp     $0, %ecx
    je      10f
    cmp     $1, %ecx
    je      11f
    cmp     $2, %ecx
    je      12f
    cmp     $3, %ecx
    je      13f
    cmp     $4, %ecx
    je      14f
    jmp     random                      /* anything */
10: xor     %eax, %eax
    ret
11: mov     $-1, %rax
    ret
12: movabs  $0x8000000000000000, %rax
    ret
13: shr     $3, %rax
    and     $0xff, %eax
    ret
14: movabs  $0x7fffffffffffffff, %rax
    ret

/* One VMCALL: a tdemu hypercall number (0x100-0x107, EXIT excluded) or any number. */
vmx_call:
    call    random
    test    $3, %al
    jz      20f
    shr     $2, %rax
    and     $7, %eax
    add     $0x100, %eax
20: cmp     $0x100, %rax                /* TDEMU_HC_EXIT would end the guest */
    jne     21f
    mov     $0x101, %eax
21: mov     %rax, nr(%rip)
    call    arg
    mov     %rax, a0(%rip)
    call    arg
    mov     %rax, a1(%rip)
    call    arg
    mov     %rax, %rdx
    mov     nr(%rip), %rax
    mov     a0(%rip), %rdi
    mov     a1(%rip), %rsi
    vmcall
    ret

/* One TDCALL: leaf 0 (TDG.VP.VMCALL) half of the time, else INFO, VEINFO.GET, a small or any leaf. */
td_call:
    call    arg
    mov     %rax, r12v(%rip)
    call    arg
    mov     %rax, r13v(%rip)
    call    arg
    mov     %rax, r14v(%rip)
    call    arg
    mov     %rax, r15v(%rip)
    call    random
    mov     %rax, %rcx
    shr     $8, %rcx
    and     $1, %ecx
    mov     $0xFC00, %edx
    cmovnz  %rax, %rdx                  /* the register mask: the usual, or anything */
    mov     %rdx, rcxv(%rip)
    mov     %rax, %rcx
    and     $7, %ecx
    cmp     $4, %ecx
    jb      30f                         /* 0-3: TDG.VP.VMCALL */
    je      31f
    cmp     $5, %ecx
    je      32f
    cmp     $6, %ecx
    je      33f
    call    random                      /* 7: any leaf above the defined ones */
    or      $0x40, %eax
    and     $0xffff, %eax
    jmp     39f
31: mov     $1, %eax                    /* TDG.VP.INFO */
    jmp     39f
32: mov     $3, %eax                    /* TDG.VP.VEINFO.GET */
    jmp     39f
33: call    random                      /* a leaf the module models, or an undefined one */
    and     $15, %eax
    lea     leaves(%rip), %rdx
    mov     (%rdx,%rax,8), %rax
    jmp     39f
39: mov     %rax, leaf(%rip)
    jmp     50f
30: movq    $0, leaf(%rip)              /* TDG.VP.VMCALL: pick R10 and R11 */
    call    random
    mov     %rax, %rcx
    and     $3, %ecx
    xor     %edx, %edx                  /* 0, 1: a GHCI leaf */
    cmp     $2, %ecx
    jne     40f
    mov     $TDEMU_TD_VENDOR_LEAF, %edx /* 2: tdemu's vendor leaf */
40: cmp     $3, %ecx
    jne     41f
    mov     %rax, %rdx                  /* 3: any R10 */
41: mov     %rdx, r10v(%rip)
    call    random
    mov     %rax, %rcx
    shr     $4, %rcx
    and     $15, %ecx
    lea     subfunctions(%rip), %rdx
    mov     (%rdx,%rcx,8), %rdx
    cmp     $-1, %rdx
    cmove   %rax, %rdx                  /* the -1 slot: any subfunction */
    mov     %rdx, r11v(%rip)
    /* harmless versions of the calls that end or halt the guest on purpose */
    cmpq    $0x10003, r11v(%rip)        /* ReportFatalError */
    jne     42f
    movq    $10, r11v(%rip)
42: cmpq    $GHCI_HLT, r11v(%rip)
    jne     43f
    cmpq    $0, r10v(%rip)
    jne     43f
    movq    $0, r12v(%rip)              /* interrupts not blocked: the timer wakes it */
43: cmpq    $TDEMU_TD_VENDOR_LEAF, r10v(%rip)
    jne     44f
    cmpq    $0x100, r11v(%rip)          /* TDEMU_HC_EXIT */
    jne     44f
    movq    $0x101, r11v(%rip)
44: cmpq    $GHCI_IO, r11v(%rip)
    jne     50f
    mov     r14v(%rip), %rax
    and     $0xffff, %eax
    cmp     $TDEMU_EXIT_PORT, %eax      /* the exit device */
    jne     50f
    movq    $0x80, r14v(%rip)
50: mov     leaf(%rip), %rax
    mov     rcxv(%rip), %rcx
    mov     r10v(%rip), %r10
    mov     r11v(%rip), %r11
    mov     r12v(%rip), %r12
    mov     r13v(%rip), %r13
    mov     r14v(%rip), %r14
    mov     r15v(%rip), %r15
    sti
    tdcall_insn
    cli
    ret

    TDEMU_RUNTIME

    .section .rodata
    .balign 8
leaves:         /* TDCALL leaves the module models, and undefined ones (which it refuses) */
    .quad 1, 3, 5, 6, 7, 8, 9, 10, 13, 14, 15, 16, 17, 19, 21, 63
subfunctions:   /* GHCI leaves, tdemu hypercalls, and one "anything" (-1) */
    .quad GHCI_CPUID, GHCI_HLT, GHCI_IO, GHCI_RDMSR, GHCI_WRMSR, 48, 0x10001, 0x10002
    .quad 0x10004, 0x101, 0x102, 0x103, 0x104, 0x1d9, GHCI_IO, -1
ok:  .ascii "4000 fuzzed calls answered\n"
    .equ ok_len, . - ok
    .section .data
    .balign 8
state: .quad 0x9e3779b97f4a7c15
left:  .quad 0
nr:    .quad 0
a0:    .quad 0
a1:    .quad 0
leaf:  .quad 0
rcxv:  .quad 0
r10v:  .quad 0
r11v:  .quad 0
r12v:  .quad 0
r13v:  .quad 0
r14v:  .quad 0
r15v:  .quad 0
