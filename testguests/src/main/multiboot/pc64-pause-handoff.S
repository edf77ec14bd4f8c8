/* pc64-pause-handoff: two CPUs hand a counter back and forth through PAUSE spin loops, the usual
 * SMP idiom (`while (flag != x) pause();`), which PAUSE-loop exiting makes quick on tdemu, where
 * one vCPU runs at a time (a spinning vCPU gives the engine to the one it waits for).
 *
 *   solo.*     every run first spins alone: SOLO_PAUSES PAUSEs in a loop that ends by itself
 *              (with one vCPU, the whole test: nothing to hand over to)
 *   handoff.*  with 2 to 8 CPUs (fw_cfg's count), the BSP starts the APs; the BSP and APIC ID 1
 *              take turns ROUNDS times: the BSP waits (PAUSE loop) for an even counter and makes
 *              it odd, the AP waits for an odd one and makes it even; the counter ends at
 *              2 * ROUNDS, and each side saw every one of its turns
 *   dr.*       the BSP's DR0 (an execute breakpoint on code that never runs) and DR7 read back as
 *              written after the hand-offs: the debug registers survive every exit they cost
 * Ends through isa-debug-exit (status 1 when all checks passed).
 */
#define CONF_PC
#include "multiboot.inc"
#include "pc.inc"
#include "conformance.inc"
#include "pc64.inc"

#ifndef ROUNDS
#define ROUNDS          5000
#endif
#define SOLO_PAUSES     10000
#define TRAMPOLINE      0x8000
#define MAX_CPUS        8
#define AP_STACK_SIZE   4096
#define DR7_L0_EXECUTE  0x401           /* L0, RW0 = 00 (execute), LEN0 = 00; bit 10 reads as 1 */

    .text
main64:
    /* ---- alone ---- */
    mov     $SOLO_PAUSES, %ecx
1:  pause
    dec     %ecx
    jnz     1b
    CHECK   "solo.pause-loop-ran-to-its-end", $0, %rcx

    FW_CFG_CPU_COUNT ncpus
    cmpq    $1, ncpus(%rip)
    je      done
    cmpq    $MAX_CPUS, ncpus(%rip)
    ja      too_many
    mov     $0xFF, %al                  /* both 8259s masked: QEMU's firmware left the PIT's IRQ 0 on vector 8 */
    outb    %al, $0x21
    outb    %al, $0xA1
    APIC_WRITE APIC_SPIV, $(APIC_SPIV_APIC_ENABLED | 0xFF)

    /* an execute breakpoint that never fires, armed across the hand-offs */
    lea     never_runs(%rip), %rax
    mov     %rax, %dr0
    mov     $DR7_L0_EXECUTE, %eax
    mov     %rax, %dr7

    AP_START_ALL trampoline, trampoline_end, TRAMPOLINE, ap_count, ncpus
    CHECK   "handoff.every-ap-up", %rbx, ap_count(%rip)

    /* ---- the BSP's turns: an even counter becomes odd ---- */
    xor     %r12, %r12
2:  mov     counter(%rip), %rax
    test    $1, %rax
    jz      3f
    pause
    jmp     2b
3:  incq    bsp_turns(%rip)
    inc     %rax
    mov     %rax, counter(%rip)
    inc     %r12
    cmp     $ROUNDS, %r12
    jb      2b
    /* the AP's last turn */
4:  cmpq    $(2 * ROUNDS), counter(%rip)
    je      5f
    pause
    jmp     4b
5:  CHECK   "handoff.counter-went-back-and-forth", $(2 * ROUNDS), counter(%rip)
    CHECK   "handoff.bsp-took-every-turn", $ROUNDS, bsp_turns(%rip)
    CHECK   "handoff.ap-took-every-turn", $ROUNDS, ap_turns(%rip)

    mov     %dr0, %rax
    lea     never_runs(%rip), %rbx
    CHECK   "dr.dr0-kept", %rbx, %rax
    mov     %dr7, %rax
    CHECK   "dr.dr7-kept", $DR7_L0_EXECUTE, %rax
    xor     %eax, %eax
    mov     %rax, %dr7

done:
    CONF_FINISH "pc64-pause-handoff"

too_many:
    PC_SAY  "FAIL handoff.cpus: run this kernel with 1 to 8 vCPUs"
    incq    conf_fail(%rip)
    CONF_FINISH "pc64-pause-handoff"

never_runs:
    PC_SAY  "FAIL dr.never-runs-ran"
    incq    conf_fail(%rip)
    CONF_FINISH "pc64-pause-handoff"

/* ---- the application processors: real mode at 0x8000 (CS 0x0800), copied there by the BSP ---- */
    AP_TRAMPOLINE_TO_LONG_MODE trampoline, trampoline_end, ap_start64
    AP_OWN_STACK ap_stacks_top, AP_STACK_SIZE
    lock incq ap_count(%rip)
    cmp     $1, %ebx                    /* only APIC ID 1 plays; the others halt */
    jne     9f
    /* the AP's turns: an odd counter becomes even */
6:  mov     counter(%rip), %rax
    test    $1, %rax
    jnz     7f
    pause
    jmp     6b
7:  incq    ap_turns(%rip)
    inc     %rax
    mov     %rax, counter(%rip)
    cmp     $(2 * ROUNDS), %rax
    jb      6b
9:  cli
    hlt
    jmp     9b

    CONF_RUNTIME
    PC64_RUNTIME

    .data
    .balign 8
ncpus:          .quad 0
ap_count:       .quad 0
counter:        .quad 0
bsp_turns:      .quad 0
ap_turns:       .quad 0

    .bss
    .balign 4096
                .space MAX_CPUS * AP_STACK_SIZE
ap_stacks_top:
