/* host-bp-survives: exits to the host many times and in many ways (CPUID, port I/O, hypercalls,
 * HLT woken by the timer) without touching any debug register. The host's own breakpoints must
 * survive every exit: the host workload that runs after each exit proves it. Exits 0. */
#include "tdemu.inc"
#include "minidt.inc"
.equ ROUNDS, 20
    .section .text.entry, "ax"
    .globl _start
_start:
    call    tdemu_init
    idt_set 0x20, timer
    idt_load
    mov     $ROUNDS, %r15
1:  mov     $1, %eax                    /* CPUID: an exit in a VMX guest, a #VE-free module call in a TD for 0x21 */
    cmpb    $0, tdemu_in_td(%rip)
    je      2f
    mov     $0x21, %eax
2:  xor     %ecx, %ecx
    push    %rbx
    cpuid
    pop     %rbx
    mov     $'.', %al
    mov     $TDEMU_CONSOLE_PORT, %dx
    call    tdemu_outb                  /* port I/O: an exit (TDG.VP.VMCALL<IO> in a TD) */
    mov     $0x1ff, %eax                /* an unknown hypercall: an exit that answers -ENOSYS */
    call    tdemu_hypercall
    call    tdemu_wait                  /* HLT: an exit, woken by the timer */
    dec     %r15
    jnz     1b
    console_write done, done_len
    guest_exit 0
timer:
    iretq

    TDEMU_RUNTIME

    .section .rodata
done: .ascii "\nhost-bp-survives: done\n"
    .equ done_len, . - done
