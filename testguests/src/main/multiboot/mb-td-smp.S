/* A TD-aware SMP Multiboot kernel (run with --mode td --vcpus N, N = 2..8): it starts its
   application processors the way a TD must, through the ACPI Multiprocessor Wakeup mailbox the
   MADT names (ACPI 6.4 5.2.12.19), and reaches every device and the x2APIC's intercepted MSRs
   through TDG.VP.VMCALL (GHCI), never by IN/OUT or RDMSR/WRMSR of an intercepted MSR:
     1. finds the RSDP, the RSDT and the MADT: the enabled local APICs and the mailbox address;
     2. reads IA32_APIC_BASE (Instruction.RDMSR): x2APIC enabled, as a TD's APIC always is; reads
        its x2APIC ID and software-enables its APIC (SVR, Instruction.WRMSR);
     3. sends INIT and SIPI to all-but-self (Instruction.WRMSR of the x2APIC ICR) with a SIPI page
        whose real-mode code would count: in a TD they start nothing;
     4. arms its own execute breakpoint (DR0 on `probe`), then wakes each AP through the mailbox
        (ApicId, WakeupVector, Command = 1) and waits for the firmware's acknowledgement
        (Command back to 0);
     5. each AP, in 64-bit mode on the firmware's page tables, loads its own GDT, CR3, stack and
        IDT, software-enables its APIC (SVR), arms its own DR0 on `probe`, leaves the TD once
        (Instruction.RDMSR of its x2APIC ID), calls `probe` (one #DB), reads DR0 back, sends the
        BSP an IPI of vector 0x40 + its APIC ID (Instruction.WRMSR of the ICR), counts itself
        ready and halts with interrupts blocked (Instruction.HLT, R12 = 1, RFLAGS.IF 0), sending
        the BSP that IPI again whenever it wakes;
     6. the BSP waits for every AP's IPI in the race-free idle loop of a TD kernel: CLI, look,
        Instruction.HLT with interrupts not blocked (R12 = 0) while RFLAGS.IF is 0, then STI; NOP;
        the IPI handlers EOI through the x2APIC EOI MSR, which the TDX module virtualizes (native);
     7. checks the SIPI page's count is 0, every CPU's breakpoint hit once and DR0 read back;
     8. sends the first AP an IPI while it is halted with interrupts blocked (a new vector each
        time it looked a while for the answer, as the AP may not have halted yet): a posted interrupt
        resumes such a HLT (KVM's tdx_protected_apic_has_interrupt), IF still clear, so the AP
        answers with its IPI, which the BSP waits for as in step 6;
     9. arms its own x2APIC timer (one-shot, Instruction.WRMSR) and halts with interrupts blocked
        while every AP is halted so too: the timer's posted interrupt resumes it (the VM does not
        end as if every vCPU slept for good); prints one line per check and ends through
        isa-debug-exit (Instruction.IO, port 0xF4, value 0x10: exit status 33). A failed check
        prints "td-smp: FAIL at step S" and exits with status 3. */
#include "multiboot.inc"
#include "td.inc"
#define FLAGS MB_MEMORY_INFO
#define MAX_CPUS 8
#define IPI_VECTOR 0x40
#define TIMER_VECTOR 0x60
#define SIPI_PAGE 0x8000
#define SIPI_COUNT 0x8100
#define ICR 0x830
#define X2APIC_ID 0x802
#define X2APIC_EOI 0x80B
#define MAX_SPIN 0x80000000
/* The mailbox command the BSP writes: 1 is Wakeup; the build's mb-td-smp-bad-command writes 2,
   which mailbox version 0 does not define. */
#ifndef WAKEUP_COMMAND
#define WAKEUP_COMMAND 1
#endif

    MULTIBOOT_HEADER FLAGS
    MULTIBOOT_ENTRY32 stack_top
    TD_TO_LONG_MODE long_mode
    call build_idt
    lidt idt_descriptor

    /* Step 1: the MADT through the RSDP and the RSDT. */
    movb $'1', step(%rip)
    mov $0xE0000, %rsi
    mov $0x2052545020445352, %rax       /* "RSD PTR " */
1:  cmp %rax, (%rsi)
    je 2f
    add $16, %rsi
    cmp $0x100000, %rsi
    jb 1b
    jmp fail
2:  movl 16(%rsi), %esi                 /* RSDT */
    movl 4(%rsi), %ecx                  /* its length */
    lea 36(%rsi), %rdi
    add %rsi, %rcx
3:  cmp %rcx, %rdi
    jae fail
    movl (%rdi), %ebx
    cmpl $0x43495041, (%rbx)            /* "APIC" */
    je 4f
    add $4, %rdi
    jmp 3b
4:  movl 4(%rbx), %ecx                  /* MADT length */
    add %rbx, %rcx
    lea 44(%rbx), %rdi
5:  cmp %rcx, %rdi
    jae 8f
    movzbl (%rdi), %eax                 /* type */
    cmp $0, %eax
    jne 6f
    testl $1, 4(%rdi)                   /* enabled */
    jz 7f
    movzbl 3(%rdi), %eax                /* APIC ID */
    mov ncpus(%rip), %edx
    cmp $MAX_CPUS, %edx
    jae fail
    mov %eax, apic_ids(,%rdx,4)
    incl ncpus(%rip)
    jmp 7f
6:  cmp $0x10, %eax                     /* Multiprocessor Wakeup */
    jne 7f
    mov 8(%rdi), %rax
    mov %rax, mailbox(%rip)
7:  movzbl 1(%rdi), %eax
    test %eax, %eax
    jz fail
    add %rax, %rdi
    jmp 5b
8:  cmpq $0, mailbox(%rip)
    je fail
    cmpl $2, ncpus(%rip)
    jb fail
    lea madt_1(%rip), %rsi
    call print
    mov ncpus(%rip), %eax
    add $'0', %eax
    call putc
    lea madt_2(%rip), %rsi
    call print

    /* Step 2: IA32_APIC_BASE: enabled, x2APIC. */
    movb $'2', step(%rip)
    mov $31, %r11
    mov $0x1B, %r12
    call vmcall
    and $0xC00, %r11
    cmp $0xC00, %r11
    jne fail
    lea x2apic_ok(%rip), %rsi
    call print
    mov $31, %r11                       /* the BSP's own x2APIC ID */
    mov $X2APIC_ID, %r12
    call vmcall
    mov %r11d, bsp_id(%rip)
    mov $0x80F, %r12                    /* SVR: software-enable the APIC (spurious vector 0xFF) */
    mov $0x1FF, %r13
    call wrmsr_vmcall

    /* Step 3: INIT and SIPI to all-but-self, which real TDX ignores. */
    movb $'3', step(%rip)
    lea sipi_stub(%rip), %rsi
    mov $SIPI_PAGE, %rdi
    mov $sipi_stub_end - sipi_stub, %rcx
    rep movsb
    movl $0, SIPI_COUNT
    mov $ICR, %r12
    mov $0xC4500, %r13                  /* all excluding self, assert, INIT */
    call wrmsr_vmcall
    mov $0xC4600 | (SIPI_PAGE >> 12), %r13 /* all excluding self, assert, start-up */
    call wrmsr_vmcall

    /* Step 4: the BSP's own breakpoint, then every AP through the mailbox. */
    movb $'4', step(%rip)
    call arm_and_probe
    mov mailbox(%rip), %rbx
    xor %r15d, %r15d
1:  cmp ncpus(%rip), %r15d
    jae 4f
    mov apic_ids(,%r15,4), %eax
    inc %r15d
    cmp bsp_id(%rip), %eax
    je 1b
    mov %eax, 4(%rbx)                   /* ApicId */
    lea ap_entry(%rip), %rax
    mov %rax, 8(%rbx)                   /* WakeupVector */
    movw $WAKEUP_COMMAND, (%rbx)        /* Command: Wakeup, written last */
    mov $MAX_SPIN, %rcx
2:  cmpw $0, (%rbx)                     /* the firmware's acknowledgement */
    je 1b
    pause
    dec %rcx
    jnz 2b
    jmp fail

    /* Step 6: every AP's IPI, in a TD's idle loop: HLT with interrupts not blocked, IF = 0. */
4:  movb $'6', step(%rip)
    mov ncpus(%rip), %ecx
    mov $1, %eax
    shl %cl, %rax
    dec %rax
    mov bsp_id(%rip), %ecx
    btr %rcx, %rax
    mov %rax, ipi_expected(%rip)
5:  cli
    mov ipi_mask(%rip), %rax
    cmp ipi_expected(%rip), %rax
    je 6f
    mov $12, %r11                       /* Instruction.HLT */
    xor %r12, %r12                      /* interrupts not blocked */
    call vmcall
    sti
    nop                                 /* the STI shadow ends here: a pending IPI is taken */
    jmp 5b
6:  mov ncpus(%rip), %eax
    dec %eax
    mov $MAX_SPIN, %rcx
7:  cmp ap_ready(%rip), %eax
    je 8f
    pause
    dec %rcx
    jnz 7b
    jmp fail
8:  lea wakeup_ok(%rip), %rsi
    call print

    /* Step 7: nothing ran at the SIPI page; every CPU's breakpoint hit once and read back. */
    movb $'7', step(%rip)
    cmpl $0, SIPI_COUNT
    jne fail
    lea sipi_ok(%rip), %rsi
    call print
    lea ipi_ok(%rip), %rsi
    call print
    mov ncpus(%rip), %eax
    cmp db_hits(%rip), %eax
    jne fail
    cmp dr_ok(%rip), %eax
    jne fail
    lea dr_ok_line(%rip), %rsi
    call print

    /* Step 8: an IPI to the first AP, halted with interrupts blocked, resumes it; it answers.
       The AP may still be on its way to that HLT (preempted after its step-5 IPI): a vector
       already requested when it halts does not resume it, so the BSP sends a new vector each
       time it has looked for the answer a while without finding it (0x50, 0x51, ... 0xEF). */
    movb $'8', step(%rip)
    movq $0, ipi_mask(%rip)
    xor %r15d, %r15d
1:  mov apic_ids(,%r15,4), %eax
    inc %r15d
    cmp bsp_id(%rip), %eax
    je 1b
    mov %eax, %ebx                      /* the AP's APIC ID */
    mov $0x50, %r9d                     /* the vector of this attempt */
4:  cli
    mov %rbx, %r13
    shl $32, %r13                       /* destination: that AP */
    or %r9, %r13                        /* fixed, physical; its IF is clear: it stays requested */
    mov $ICR, %r12
    call wrmsr_vmcall
    mov $200000, %r8d                   /* look a while, the answer's interrupt enabled */
    sti
5:  bt %rbx, ipi_mask(%rip)
    jc 3f
    pause
    dec %r8d
    jnz 5b
    inc %r9d
    cmp $0xF0, %r9d
    jb 4b
    jmp fail
3:  sti
    mov ipi_mask(%rip), %rax
    btr %rbx, %rax
    test %rax, %rax                     /* no other AP woke */
    jnz fail
    lea posted_ok(%rip), %rsi
    call print

    /* Step 9: every AP is halted with its interrupts blocked, and so is now the BSP, its own
       APIC timer armed (one-shot, vector 0x60, about 1 s: divide by 128, 0x800000 counts).
       Its expiry posts an interrupt that resumes the BSP, so the VM must not end as if every
       vCPU slept for good; the count read back is 0 (the timer ran out). The count is long so
       that a host that stalls the BSP between arming the timer and its HLT (a collection, a busy
       machine) still leaves the expiry after the halt: one that came before would be a request
       already there at the halt, which resumes nothing. */
    movb $'9', step(%rip)
    cli
    mov $0x83E, %r12                    /* TDCR: divide by 128 */
    mov $0xA, %r13
    call wrmsr_vmcall
    mov $0x832, %r12                    /* LVT timer: one-shot, unmasked, vector 0x60 */
    mov $TIMER_VECTOR, %r13
    call wrmsr_vmcall
    mov $0x838, %r12                    /* TMICT: starts the count */
    mov $0x800000, %r13
    call wrmsr_vmcall
    mov $12, %r11                       /* Instruction.HLT, interrupts blocked (IF is 0 too) */
    mov $1, %r12
    call vmcall
    mov $31, %r11                       /* TMCCT (Instruction.RDMSR) */
    mov $0x839, %r12
    call vmcall
    test %r11, %r11
    jnz fail
    lea timer_ok(%rip), %rsi
    call print

    mov $0x10, %r15                     /* isa-debug-exit: status (0x10 << 1) | 1 = 33 */
    jmp td_exit

fail:
    lea failed(%rip), %rsi
    call print
    movzbl step(%rip), %eax
    call putc
    mov $'\n', %eax
    call putc
    mov $1, %r15                        /* status 3 */
    jmp td_exit

/* An application processor, woken by the mailbox: 64-bit mode on the firmware's page tables and
   GDT, interrupts disabled, no stack, no IDT. */
ap_entry:
    lgdt td_gdt_descriptor
    mov $pml4, %rax
    mov %rax, %cr3
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    mov $1, %eax
    lock xadd %eax, next_stack(%rip)
    shl $12, %eax
    lea ap_stacks(%rip), %rsp
    add %rax, %rsp
    add $4096, %rsp
    pushq $0x08
    lea 1f(%rip), %rax
    push %rax
    lretq                               /* CS from the kernel's own GDT */
1:  lidt idt_descriptor
    mov $0x80F, %r12                    /* SVR: software-enable its APIC (it takes step 8's IPI) */
    mov $0x1FF, %r13
    call wrmsr_vmcall
    call arm_and_probe
    mov $31, %r11                       /* its x2APIC ID (and a TD exit with DR0 armed) */
    mov $X2APIC_ID, %r12
    call vmcall
    mov %r11, %r13
    add $IPI_VECTOR, %r13               /* fixed, physical, vector 0x40 + ID */
    movl bsp_id(%rip), %eax
    shl $32, %rax
    or %rax, %r13                       /* destination: the BSP */
    mov $ICR, %r12
    mov %r13, %rbx                      /* kept for the answer to a wake-up */
    call wrmsr_vmcall
    lock incl ap_ready(%rip)
2:  mov $12, %r11                       /* Instruction.HLT, interrupts blocked (IF is 0 too) */
    mov $1, %r12
    call vmcall
    mov $ICR, %r12                      /* a posted interrupt woke it: answer the BSP */
    mov %rbx, %r13
    call wrmsr_vmcall
    jmp 2b

/* Arms DR0 as an execute breakpoint on probe, leaves the TD once (Instruction.CPUID), calls probe
   (the #DB handler counts it) and counts DR0 read back. */
arm_and_probe:
    lea probe(%rip), %rax
    mov %rax, %dr0
    mov $1, %eax                        /* L0, execute, 1 byte */
    mov %rax, %dr7
    mov $10, %r11                       /* Instruction.CPUID leaf 0 */
    xor %r12, %r12
    xor %r13, %r13
    call vmcall
    call probe
    mov %dr0, %rax
    lea probe(%rip), %rcx
    cmp %rcx, %rax
    jne 1f
    lock incl dr_ok(%rip)
1:  xor %eax, %eax
    mov %rax, %dr7
    ret

probe:
    ret

/* TDG.VP.VMCALL<Instruction.WRMSR> of MSR R12 with R13. */
wrmsr_vmcall:
    mov $32, %r11
    jmp vmcall

    TD_VMCALL_RUNTIME

/* The IDT: #DB and the IPI vectors 0x41..0x47. */
build_idt:
    mov $1, %edi
    lea db_handler(%rip), %rsi
    call set_gate
    .irp id,1,2,3,4,5,6,7
    mov $IPI_VECTOR + \id, %edi
    lea ipi_handler_\id(%rip), %rsi
    call set_gate
    .endr
    ret

/* Interrupt gate for vector EDI to handler RSI (CS 0x08, DPL 0). */
set_gate:
    shl $4, %rdi
    lea idt(%rip), %rax
    add %rax, %rdi
    mov %rsi, %rax
    mov %ax, (%rdi)
    movw $0x08, 2(%rdi)
    movw $0x8E00, 4(%rdi)
    shr $16, %rax
    mov %ax, 6(%rdi)
    shr $16, %rax
    mov %eax, 8(%rdi)
    movl $0, 12(%rdi)
    ret

/* An execute breakpoint is a fault: return with RF set so that the instruction runs. */
db_handler:
    lock incl db_hits(%rip)
    orq $0x10000, 16(%rsp)
    iretq

    .irp id,1,2,3,4,5,6,7
ipi_handler_\id:
    push %rax
    push %rcx
    push %rdx
    lock btsq $\id, ipi_mask(%rip)
    mov $X2APIC_EOI, %ecx               /* virtualized by the TDX module: native */
    xor %eax, %eax
    xor %edx, %edx
    wrmsr
    pop %rdx
    pop %rcx
    pop %rax
    iretq
    .endr

/* What a start-up IPI would run, in real mode: counts and spins. Copied to SIPI_PAGE. */
    .code16
sipi_stub:
    lock incl SIPI_COUNT
1:  jmp 1b
sipi_stub_end:
    .code64

    .data
madt_1:     .asciz "td-smp: MADT lists "
madt_2:     .asciz " CPUs and a wakeup mailbox\n"
x2apic_ok:  .asciz "td-smp: x2APIC enabled\n"
wakeup_ok:  .asciz "td-smp: every AP woke through the mailbox\n"
sipi_ok:    .asciz "td-smp: INIT/SIPI started no AP\n"
ipi_ok:     .asciz "td-smp: every AP's IPI woke the BSP's HLT\n"
dr_ok_line: .asciz "td-smp: every CPU's breakpoint hit and read back\n"
posted_ok:  .asciz "td-smp: an IPI resumed an AP's HLT with interrupts blocked\n"
timer_ok:   .asciz "td-smp: the BSP's own APIC timer resumed its HLT with interrupts blocked\n"
failed:     .asciz "td-smp: FAIL at step "
step:       .byte '0'
    .balign 8
mailbox:      .quad 0
ipi_mask:     .quad 0
ipi_expected: .quad 0
ncpus:        .long 0
bsp_id:       .long 0
ap_ready:     .long 0
db_hits:      .long 0
dr_ok:        .long 0
next_stack:   .long 0
apic_ids:     .space 4 * MAX_CPUS
    TD_GDT
idt_descriptor:
    .word 256 * 16 - 1
    .quad idt

    .bss
    TD_PAGE_TABLES
idt:  .space 256 * 16
ap_stacks: .space 4096 * MAX_CPUS
    .space 0x4000
stack_top:
