/* pc64-xmc: cross-modifying code (SDM vol. 3A, "Handling Self- and Cross-Modifying Code"), on a
 * machine of 2 CPUs (./tdemu run pc64-xmc.elf --vcpus 2). The BSP starts one AP; the AP runs code
 * the BSP writes, on request, and reports EAX; the BSP rewrites the code's immediate between
 * requests, and the AP executes CPUID (serializing) before each run, as the SDM asks.
 *
 *   xmc.first                              the AP runs the code the BSP wrote
 *   xmc.immediate-written-by-another-cpu   after the BSP rewrote the immediate, the new one runs
 *   xmc.again                              and once more
 *   xmc.bsp-runs-what-the-ap-wrote         the BSP runs the code, the AP rewrites the immediate
 *                                          (on request), the BSP runs the new one
 */
#define CONF_PC
#include "multiboot.inc"
#include "pc.inc"
#include "conformance.inc"
#include "pc64.inc"

#define TRAMPOLINE      0x8000
#define SIPI_VECTOR     (TRAMPOLINE >> 12)
#define ICR_INIT        0x0500
#define ICR_STARTUP     0x0600
#define ICR_ASSERT      0x4000
#define ICR_ALL_BUT     0xC0000

.macro SEND_IPI low
    APIC_WRITE APIC_ICR2, $0
    APIC_WRITE APIC_ICR, \low
.endm

/* Asks the AP to run code_page; waits; %rax <- its EAX. */
.macro AP_RUN
    incq    request(%rip)
    mov     request(%rip), %rcx
1:  pause
    cmp     done(%rip), %rcx
    jne     1b
    mov     result(%rip), %rax
.endm

/* Runs code_page on this CPU; %rax <- its EAX. */
.macro RUN_HERE
    xor     %eax, %eax
    lea     code_page(%rip), %rdx
    call    *%rdx
.endm

    .text
main64:
    APIC_WRITE APIC_SPIV, $(APIC_SPIV_APIC_ENABLED | 0xFF)
    lea     trampoline(%rip), %rsi
    mov     $TRAMPOLINE, %edi
    mov     $(trampoline_end - trampoline), %ecx
    rep movsb
    SEND_IPI $(ICR_ALL_BUT | ICR_ASSERT | ICR_INIT)
    SEND_IPI $(ICR_ALL_BUT | ICR_ASSERT | ICR_STARTUP | SIPI_VECTOR)
1:  pause
    cmpq    $0, ap_up(%rip)
    je      1b

    lea     code_page(%rip), %rdi       /* mov $1, %eax ; ret */
    movb    $0xB8, (%rdi)
    movl    $1, 1(%rdi)
    movb    $0xC3, 5(%rdi)
    AP_RUN
    CHECK   "xmc.first", $1, %rax
    movb    $2, (code_page + 1)(%rip)
    AP_RUN
    CHECK   "xmc.immediate-written-by-another-cpu", $2, %rax
    movb    $3, (code_page + 1)(%rip)
    AP_RUN
    CHECK   "xmc.again", $3, %rax

    RUN_HERE
    CHECK   "xmc.bsp-runs-its-own-copy", $3, %rax
    incq    write_request(%rip)             /* the AP writes 4 over the immediate */
    mov     write_request(%rip), %rcx
1:  pause
    cmp     write_done(%rip), %rcx
    jne     1b
    cpuid                                   /* serializing, before running modified code */
    RUN_HERE
    CHECK   "xmc.bsp-runs-what-the-ap-wrote", $4, %rax
    CONF_FINISH "pc64-xmc"

    AP_TRAMPOLINE_TO_LONG_MODE trampoline, trampoline_end, ap_start64
    lea     ap_stack_top(%rip), %rsp
    movq    $1, ap_up(%rip)
    xor     %r12d, %r12d                /* run requests served */
    xor     %r13d, %r13d                /* write requests served */
1:  pause
    cmp     write_request(%rip), %r13
    je      2f
    movb    $4, (code_page + 1)(%rip)   /* the BSP ran this code: rewrite its immediate */
    inc     %r13
    mov     %r13, write_done(%rip)
2:  cmp     request(%rip), %r12
    je      1b
    xor     %eax, %eax
    cpuid                               /* serializing, before running modified code */
    lea     code_page(%rip), %rdx
    xor     %eax, %eax
    call    *%rdx
    mov     %rax, result(%rip)
    inc     %r12
    mov     %r12, done(%rip)
    jmp     1b

    CONF_RUNTIME
    PC64_RUNTIME

    .data
    .balign 8
ap_up:      .quad 0
request:    .quad 0
done:       .quad 0
result:     .quad 0
write_request: .quad 0
write_done: .quad 0

    .bss
    .balign 4096
code_page:  .space 4096
            .space 4096
ap_stack_top:
