/* sev-es-dr: an AMD SEV-ES guest (run with --mode sev-es). It talks to the VMM only through the
 * GHCB (AMD GHCB specification 56421): CPUID and port I/O raise #VC, whose handler asks the VMM
 * with VMGEXIT (the MSR protocol's CPUID request; a GHCB page for IOIO), and it ends with the MSR
 * protocol's termination request (reason set 0, reason code = exit status). It sets its own execute
 * and write breakpoints and checks they fire, and read back, after every round of exits (with
 * DebugSwap the CPU swaps them through the VMSA).
 * Build flag SEV_AP_FEATURES: first re-create this vCPU through SNP AP Creation with these
 * SEV_FEATURES (the guest turning DebugSwap on or off behind KVM's back); its breakpoints are then
 * set but not checked, since without DebugSwap they are not the guest's own.
 * Exits 0 when every check passes, 1 when one fails, 0xED-0xEF when the #VC handler is lost. */
#include "minidt.inc"
.equ MSR_GHCB, 0xC0010130
.equ ROUNDS, 10
.equ CONSOLE_PORT, 0xE9
/* L0 execute at bp_func; L1 write, 8 bytes, at wvar */
.equ DR7_VALUE, 0x400 | 0x1 | 0x4 | (0x1 << 20) | (0x2 << 22)

.macro vmgexit
    .byte 0xf3, 0x0f, 0x01, 0xd9        /* rep vmmcall */
.endm

/* GHCB MSR protocol termination request: reason set 0, reason code \code. */
.macro terminate code
    mov     $(0x100 | (\code << 16)), %eax
    xor     %edx, %edx
    mov     $MSR_GHCB, %ecx
    wrmsr
    vmgexit
    hlt
.endm

.macro print label, len
    lea     \label(%rip), %rsi
    mov     $\len, %ecx
    call    puts
.endm

    .section .text.entry, "ax"
    .globl _start
_start:
    idt_set 1, db_handler
    idt_set 29, vc_handler
    idt_load
    print   m_start, m_start_len
    /* CPUID leaf 0 through #VC: the vendor string is printed, the #VC counted */
    xor     %eax, %eax
    xor     %ecx, %ecx
    cpuid
    mov     %ebx, vendor(%rip)
    mov     %edx, vendor + 4(%rip)
    mov     %ecx, vendor + 8(%rip)
    print   m_vendor, m_vendor_len
    print   vendor, 12
    print   m_nl, 1
    cmpq    $1, vc_cpuid(%rip)
    jne     bad_vc
#ifdef SEV_AP_FEATURES
    /* SNP AP Creation for this vCPU (APIC ID 0): a GHCB page with the new SEV_FEATURES in RAX */
    lea     ghcb(%rip), %rdi
    mov     $0x80000013, %eax
    mov     %rax, 0x390(%rdi)           /* sw_exit_code: SVM_VMGEXIT_AP_CREATION */
    movq    $1, 0x398(%rdi)             /* sw_exit_info_1: SVM_VMGEXIT_AP_CREATE, APIC ID 0 */
    movq    $SEV_AP_FEATURES, 0x1f8(%rdi)
    mov     %rdi, %rax
    mov     %rdi, %rdx
    shr     $32, %rdx
    mov     $MSR_GHCB, %ecx
    wrmsr
    vmgexit
    print   m_ap, m_ap_len
#endif
    lea     bp_func(%rip), %rax
    mov     %rax, %dr0
    lea     wvar(%rip), %rax
    mov     %rax, %dr1
    mov     $DR7_VALUE, %rax
    mov     %rax, %dr7
    mov     $ROUNDS, %r15
round:
    mov     $1, %eax                    /* CPUID: #VC and four VMGEXITs between every breakpoint */
    xor     %ecx, %ecx
    cpuid
    call    bp_func                     /* execute breakpoint: B0 */
    mov     $1, %eax
    xor     %ecx, %ecx
    cpuid
    movq    $7, wvar(%rip)              /* write breakpoint: B1 */
#ifndef SEV_AP_FEATURES
    lea     bp_func(%rip), %rax         /* the guest's view of its DRs survives the exits */
    mov     %dr0, %rbx
    cmp     %rax, %rbx
    jne     bad_dr
    mov     %dr7, %rbx
    mov     $DR7_VALUE, %rax
    cmp     %rax, %rbx
    jne     bad_dr
#endif
    dec     %r15
    jnz     round
    cmpq    $(1 + 2 * ROUNDS), vc_cpuid(%rip)
    jne     bad_vc
#ifndef SEV_AP_FEATURES
    cmpq    $ROUNDS, exec_hits(%rip)
    jne     bad_count
    cmpq    $ROUNDS, write_hits(%rip)
    jne     bad_count
    cmpq    $0, wrong_dr6(%rip)
    jne     bad_count
#endif
    print   m_ok, m_ok_len
    terminate 0
bad_dr:
    print   m_dr, m_dr_len
    terminate 1
bad_count:
    print   m_count, m_count_len
    mov     exec_hits(%rip), %rax
    call    puthex
    mov     write_hits(%rip), %rax
    call    puthex
    mov     wrong_dr6(%rip), %rax
    call    puthex
    terminate 1
bad_vc:
    print   m_vc, m_vc_len
    terminate 1

bp_func:
    ret

/* puts: %rcx bytes at %rsi to the console port, each OUT a #VC */
puts:
    test    %rcx, %rcx
    jz      2f
    mov     $CONSOLE_PORT, %dx
1:  lodsb
    outb    %al, %dx
    dec     %rcx
    jnz     1b
2:  ret

/* puthex: %rax as 16 hex digits and a newline (clobbers rax, rbx, rcx, rdx, rsi) */
puthex:
    mov     %rax, %rbx
    mov     $16, %ecx
    mov     $CONSOLE_PORT, %dx
1:  rol     $4, %rbx
    mov     %ebx, %eax
    and     $0xf, %eax
    lea     hexdigits(%rip), %rsi
    movzbl  (%rsi,%rax), %eax
    outb    %al, %dx
    dec     %ecx
    jnz     1b
    mov     $0x0a, %al
    outb    %al, %dx
    ret

/* #DB: B0 and B1 counted by DR6, anything else is wrong; DR6 back to its reset value. */
db_handler:
    push    %rax
    push    %rbx
    mov     %dr6, %rax
    mov     %rax, %rbx
    and     $0x400f, %rbx
    cmp     $0x1, %rbx
    jne     1f
    incq    exec_hits(%rip)
    orq     $0x10000, 32(%rsp)          /* RF: the breakpointed instruction runs once */
    jmp     9f
1:  cmp     $0x2, %rbx
    jne     2f
    incq    write_hits(%rip)
    jmp     9f
2:  incq    wrong_dr6(%rip)
9:  mov     $0xffff0ff0, %rax
    mov     %rax, %dr6
    pop     %rbx
    pop     %rax
    iretq

/* #VC: the error code is the SVM exit code. Frame after the pushes: rdi 0, rsi 8, rdx 16, rcx 24,
 * rbx 32, rax 40, error code 48, rip 56, cs 64, rflags 72. */
vc_handler:
    push    %rax
    push    %rbx
    push    %rcx
    push    %rdx
    push    %rsi
    push    %rdi
    mov     48(%rsp), %rax
    cmp     $0x72, %rax
    je      vc_cpuid_exit
    cmp     $0x7b, %rax
    je      vc_ioio_exit
    terminate 0xED
vc_cpuid_exit:
    /* the MSR protocol: one request per register, EAX (0) to EDX (3) */
    mov     40(%rsp), %edi              /* the function (its slot gets EAX's answer) */
    xor     %esi, %esi
1:  mov     %edi, %edx                  /* GHCBData[63:32]: the CPUID function */
    mov     %esi, %eax
    shl     $30, %eax                   /* GHCBData[31:30]: the register */
    or      $0x004, %eax                /* CPUID request */
    mov     $MSR_GHCB, %ecx
    wrmsr
    vmgexit
    mov     $MSR_GHCB, %ecx
    rdmsr
    and     $0xfff, %eax
    cmp     $0x005, %eax                /* CPUID response */
    jne     vc_lost
    mov     %esi, %ebx
    shl     $3, %ebx
    neg     %rbx
    mov     %edx, %edx
    mov     %rdx, 40(%rsp,%rbx)         /* rax, rbx, rcx, rdx slots at 40, 32, 24, 16 */
    inc     %esi
    cmp     $4, %esi
    jb      1b
    incq    vc_cpuid(%rip)
    addq    $2, 56(%rsp)
    jmp     vc_done
vc_ioio_exit:
    mov     56(%rsp), %rbx
    cmpb    $0xee, (%rbx)               /* only OUT %al, %dx is expected */
    jne     vc_unknown_insn
    lea     ghcb(%rip), %rdi
    movq    $0x7b, 0x390(%rdi)          /* sw_exit_code: SVM_EXIT_IOIO */
    movzwl  16(%rsp), %eax
    shl     $16, %eax                   /* port */
    or      $0x10, %eax                 /* SZ8, OUT */
    mov     %rax, 0x398(%rdi)
    movzbl  40(%rsp), %eax
    mov     %rax, 0x1f8(%rdi)           /* RAX */
    mov     %rdi, %rax
    mov     %rdi, %rdx
    shr     $32, %rdx
    mov     $MSR_GHCB, %ecx
    wrmsr
    vmgexit
    incq    56(%rsp)
vc_done:
    /* the instruction is done: RF (set in a fault's frame) must not spare the next one's breakpoint */
    andq    $~0x10000, 72(%rsp)
    pop     %rdi
    pop     %rsi
    pop     %rdx
    pop     %rcx
    pop     %rbx
    pop     %rax
    add     $8, %rsp                    /* the error code */
    iretq
vc_lost:
    terminate 0xEE
vc_unknown_insn:
    terminate 0xEF

    .section .rodata
m_start: .ascii "sev-es-dr: an SEV-ES guest\n"
.equ m_start_len, . - m_start
m_vendor: .ascii "CPUID vendor through #VC: "
.equ m_vendor_len, . - m_vendor
m_nl: .ascii "\n"
hexdigits: .ascii "0123456789abcdef"
m_ap: .ascii "AP Creation: new SEV_FEATURES\n"
.equ m_ap_len, . - m_ap
m_ok: .ascii "sev-es-dr: ok\n"
.equ m_ok_len, . - m_ok
m_dr: .ascii "sev-es-dr: DR0 or DR7 read back wrong after exits\n"
.equ m_dr_len, . - m_dr
m_count: .ascii "sev-es-dr: a breakpoint did not fire as often as it ran\n"
.equ m_count_len, . - m_count
m_vc: .ascii "sev-es-dr: CPUID did not raise #VC\n"
.equ m_vc_len, . - m_vc

    .section .data
    .balign 8
wvar: .quad 0
exec_hits: .quad 0
write_hits: .quad 0
wrong_dr6: .quad 0
vc_cpuid: .quad 0
vendor: .skip 12

    .section .bss
    .balign 4096
ghcb: .skip 4096
