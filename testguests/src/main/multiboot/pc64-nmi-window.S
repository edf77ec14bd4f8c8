/* pc64-nmi-window: an NMI that arrives inside an STI or MOV SS shadow (SDM vol. 3A "Interrupt
 * and Exception Handling", table "Priority Among Simultaneous Exceptions and Interrupts": STI and
 * MOV SS block NMIs for one instruction) waits for the shadowed instruction and no longer: the
 * VMM asks for an NMI window (KVM's enable_nmi_window) and injects it at that exit. The NMI is a
 * self-NMI written to the ICR right before the shadow-setting instruction; the local APIC page is
 * device memory the engine reaches without an exit, so the NMI comes while the guest runs. The
 * handler records where it interrupted the guest; after the shadow the kernel waits with no exit.
 *
 *   mov-ss.*   with RFLAGS.IF clear, an NMI latched before MOV SS to SS is taken right after the
 *              one instruction MOV SS shadows (an interrupt window would never open)
 *   sti.*      the same after STI, which sets IF
 *   blocked.*  an NMI sent inside the NMI handler is taken right after the handler's IRET (the
 *              second NMI interrupts the guest where the first returned to)
 */
#define CONF_PC
#include "multiboot.inc"
#include "pc.inc"
#include "conformance.inc"
#include "pc64.inc"

#define ICR_SELF_NMI    (APIC_ICR_SELF | 0x4000 | 0x400)

    .text
main64:
    PC_GATE 2, isr_nmi
    APIC_WRITE APIC_SPIV, $(APIC_SPIV_APIC_ENABLED | 0xFF)
    mov     $APIC_DEFAULT, %r11d

    /* ---- MOV SS, interrupts off ---- */
    cli
    mov     %ss, %eax
    movl    $ICR_SELF_NMI, APIC_ICR(%r11)
    mov     %eax, %ss
    inc     %rbx                        /* in the MOV SS shadow */
mov_ss_after:
1:  cmpq    $1, nmis(%rip)
    jb      1b
    CHECK   "mov-ss.nmi-taken-once", $1, nmis(%rip)
    CHECK_ADDR "mov-ss.taken-right-after-the-shadowed-instruction", mov_ss_after, nmi_rip(%rip)

    /* ---- STI ---- */
    movl    $ICR_SELF_NMI, APIC_ICR(%r11)
    sti
    inc     %rbx                        /* in the STI shadow */
sti_after:
    cli
2:  cmpq    $2, nmis(%rip)
    jb      2b
    CHECK   "sti.nmi-taken-once", $2, nmis(%rip)
    CHECK_ADDR "sti.taken-right-after-the-shadowed-instruction", sti_after, nmi_rip(%rip)

    /* ---- an NMI sent in the NMI handler ---- */
    movq    $1, resend(%rip)
    movl    $ICR_SELF_NMI, APIC_ICR(%r11)
3:  cmpq    $4, nmis(%rip)
    jb      3b
    CHECK   "blocked.both-taken", $4, nmis(%rip)
    CHECK   "blocked.never-nested", $0, nested(%rip)
    mov     prev_rip(%rip), %rcx
    CHECK   "blocked.second-taken-right-after-the-iret-where-the-first-returned", %rcx, nmi_rip(%rip)

    CONF_FINISH "pc64-nmi-window"

/* Counts NMIs, records the interrupted RIP, notes nesting; sends one more NMI when asked. */
isr_nmi:
    push    %rax
    cmpq    $0, in_nmi(%rip)
    je      1f
    incq    nested(%rip)
1:  movq    $1, in_nmi(%rip)
    incq    nmis(%rip)
    mov     nmi_rip(%rip), %rax
    mov     %rax, prev_rip(%rip)
    mov     8(%rsp), %rax
    mov     %rax, nmi_rip(%rip)
    cmpq    $0, resend(%rip)
    je      2f
    movq    $0, resend(%rip)
    push    %r11
    mov     $APIC_DEFAULT, %r11d
    movl    $ICR_SELF_NMI, APIC_ICR(%r11)
    pop     %r11
2:  movq    $0, in_nmi(%rip)
    pop     %rax
    iretq

    CONF_RUNTIME
    PC64_RUNTIME

    .data
    .balign 8
nmis:       .quad 0
nmi_rip:    .quad 0
prev_rip:   .quad 0
in_nmi:     .quad 0
nested:     .quad 0
resend:     .quad 0
