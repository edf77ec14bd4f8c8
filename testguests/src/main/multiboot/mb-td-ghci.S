/* A TD-aware Multiboot kernel (run with --mode td): it switches to long mode itself (CR4.PAE,
   EFER.LME by WRMSR, which a TD's MSR bitmap passes through, CR0.PG, a far jump), then reaches
   every device through TDG.VP.VMCALL as the GHCI specifies, never by IN/OUT, RDMSR of an
   intercepted MSR or MMIO:
     Instruction.IO      (R11 30) writes the report to COM1 and finally ends the VM through
                         isa-debug-exit (port 0xF4, value 0x10: exit status 33);
     Instruction.RDMSR   (R11 31) reads IA32_APIC_BASE (enabled, BSP, base 0xFEE00000);
     #VE.RequestMMIO     (R11 48) reads the I/O APIC's version register through the shared
                         alias of its page (GPAW 48: shared bit 47);
   and checks that WRMSR/RDMSR of IA32_GS_BASE run natively (no #VE: there is no IDT at all, so
   a #VE would triple-fault). Each check prints a line; a failed one prints FAIL and exits 3. */
#include "multiboot.inc"
#include "td.inc"
#define FLAGS MB_MEMORY_INFO
#define SHARED (1 << 47)

    MULTIBOOT_HEADER FLAGS
    MULTIBOOT_ENTRY32 stack_top
    TD_TO_LONG_MODE long_mode

    lea banner(%rip), %rsi
    call print

    /* IA32_APIC_BASE through Instruction.RDMSR: enabled (bit 11), BSP (bit 8), base 0xFEE00000. */
    mov $31, %r11
    mov $0x1B, %r12
    call vmcall
    mov %r11, %rax
    and $0xFFFFF900, %eax
    cmp $0xFEE00900, %eax
    jne fail
    lea msr_ok(%rip), %rsi
    call print

    /* The I/O APIC's version register through #VE.RequestMMIO on the shared alias: IOREGSEL = 1,
       then IOWIN. (A TD's local APIC is in x2APIC mode from the start: it decodes no page.) */
    mov $48, %r11
    mov $4, %r12
    mov $1, %r13
    mov $SHARED + 0xFEC00000, %r14
    mov $1, %r15
    call vmcall
    mov $48, %r11
    mov $4, %r12
    xor %r13, %r13
    mov $SHARED + 0xFEC00010, %r14
    call vmcall
    mov %r11, %rax
    cmp $0x20, %al                      /* version 0x20 */
    jne fail
    lea mmio_ok(%rip), %rsi
    call print

    /* IA32_GS_BASE natively: a #VE here would find no IDT and triple-fault. */
    mov $0xC0000101, %ecx
    mov $0x89ABCDEF, %eax
    mov $0x00001234, %edx
    wrmsr
    xor %eax, %eax
    xor %edx, %edx
    rdmsr
    cmp $0x89ABCDEF, %eax
    jne fail
    cmp $0x00001234, %edx
    jne fail
    lea native_ok(%rip), %rsi
    call print

    mov $0x10, %r15                     /* isa-debug-exit: status (0x10 << 1) | 1 = 33 */
    jmp td_exit

fail:
    lea failed(%rip), %rsi
    call print
    mov $1, %r15                        /* status 3 */
    jmp td_exit

    TD_VMCALL_RUNTIME

    .data
banner:    .asciz "td-ghci: long mode\n"
msr_ok:    .asciz "td-ghci: Instruction.RDMSR IA32_APIC_BASE ok\n"
mmio_ok:   .asciz "td-ghci: #VE.RequestMMIO I/O APIC version ok\n"
native_ok: .asciz "td-ghci: native IA32_GS_BASE ok\n"
failed:    .asciz "td-ghci: FAIL\n"
    TD_GDT

    .bss
    TD_PAGE_TABLES
    .space 0x4000
stack_top:
