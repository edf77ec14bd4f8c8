/* pc64-np-gate: #NP raised while delivering an interrupt (SDM 6.12.1.1 and "Interrupt 11"), the
 * kvm-unit-tests eventinj case. #NP is a fault: its frame saves the RIP of the INT instruction,
 * so once the handler has mended the gate, IRET re-runs the INT and it reaches its handler.
 *
 *   cs.*        INT 0x40 through a gate whose selector names a not-present code segment:
 *               #NP(selector), EXT clear for INT n; the frame's RIP is the INT itself; after the
 *               handler mends the gate the INT is delivered once
 *   gate.*      INT 0x42 through a not-present gate: #NP(0x42 * 8 + 2), RIP the INT, re-run
 *   ext.*       a self-IPI of vector 0x41 through a gate naming the not-present segment: #NP
 *               with EXT set (selector + 1). (The interrupt itself was acknowledged: whether it
 *               is seen again is not checked.)
 */
#define CONF_PC
#include "multiboot.inc"
#include "pc.inc"
#include "conformance.inc"
#include "pc64.inc"

#define VEC_NP    11
#define SEL_NP    SEL_CODE16              /* unused in long mode: made not present below */
#define GATE(v)   (pc_idt + 16 * (v))

    .text
main64:
    andb    $0x7F, (pc_gdt + SEL_NP + 5)(%rip)     /* P = 0 */
    PC_GATE VEC_NP, np_handler
    PC_GATE 0x40, isr
    PC_GATE 0x41, isr
    PC_GATE 0x42, isr
    APIC_WRITE APIC_SPIV, $(APIC_SPIV_APIC_ENABLED | 0xFF)

    /* ---- the gate's code segment is not present ---- */
    movw    $SEL_NP, (GATE(0x40) + 2)(%rip)
    call    reset
int40:
    int     $0x40
    CHECK      "cs.one-np", $1, np_count(%rip)
    CHECK      "cs.error-code-is-the-selector", $SEL_NP, np_error(%rip)
    CHECK_ADDR "cs.rip-is-the-int", int40, np_rip(%rip)
    CHECK      "cs.int-re-run-reaches-its-handler", $1, isr_count(%rip)

    /* ---- the gate itself is not present ---- */
    andb    $0x7F, (GATE(0x42) + 5)(%rip)
    call    reset
int42:
    int     $0x42
    CHECK      "gate.one-np", $1, np_count(%rip)
    CHECK      "gate.error-code-is-vector-8-plus-2", $(0x42 * 8 + 2), np_error(%rip)
    CHECK_ADDR "gate.rip-is-the-int", int42, np_rip(%rip)
    CHECK      "gate.int-re-run-reaches-its-handler", $1, isr_count(%rip)

    /* ---- an external interrupt: EXT set ---- */
    movw    $SEL_NP, (GATE(0x41) + 2)(%rip)
    call    reset
    APIC_WRITE APIC_ICR, $(APIC_ICR_SELF | 0x41)
    sti
    nop
    cli
    CHECK      "ext.one-np", $1, np_count(%rip)
    CHECK      "ext.error-code-is-the-selector-plus-ext", $(SEL_NP + 1), np_error(%rip)

    CONF_FINISH "pc64-np-gate"

reset:
    movq    $0, np_count(%rip)
    movq    $0, np_error(%rip)
    movq    $0, np_rip(%rip)
    movq    $0, isr_count(%rip)
    ret

/* #NP: records the error code and the frame's RIP, mends the gates (selector, present) and
   returns to the faulting point. */
np_handler:
    push    %rax
    mov     8(%rsp), %rax
    mov     %rax, np_error(%rip)
    mov     16(%rsp), %rax
    mov     %rax, np_rip(%rip)
    incq    np_count(%rip)
    movw    $SEL_CODE64, (GATE(0x40) + 2)(%rip)
    movw    $SEL_CODE64, (GATE(0x41) + 2)(%rip)
    orb     $0x80, (GATE(0x42) + 5)(%rip)
    pop     %rax
    add     $8, %rsp                    /* the error code */
    iretq

isr:
    incq    isr_count(%rip)
    APIC_WRITE APIC_EOI, $0
    iretq

    .data
    .balign 8
np_count:  .quad 0
np_error:  .quad 0
np_rip:    .quad 0
isr_count: .quad 0

    .text
    CONF_RUNTIME
    PC64_RUNTIME
