/* pc32-modes: the mode switches a kernel makes on its own, each with a hardware breakpoint that
 * must fire there (guest MOV DR works in every mode):
 *
 *   pm32.*   32-bit protected mode with the kernel's own GDT and IDT: an execute breakpoint (DR0)
 *            faults once on its instruction, DR6.B0; the handler resumes with RF
 *   pm16.*   a 16-bit code segment (base 0, 64 KiB): CR0.PE still set there
 *   real.*   real mode, entered by clearing CR0.PE and a far jump, left by setting it and a far
 *            jump back: CR0.PE clear, INT 0x30 through the kernel's IVT, segment arithmetic
 *            (ES 0x1000 : 0x10 is linear 0x10010), port I/O (a line to COM1), an execute
 *            breakpoint (DR0, fault, DR6.B0, the handler disables it: a real-mode IRET cannot
 *            set RF) and a write watchpoint (DR1, trap after the MOV, DR6.B1) through IVT vector 1;
 *            far CALLs (direct and through memory) to a routine reached through another code
 *            segment (CS RM_SEG - 0x100, so its base differs by 0x1000) that returns by RET far
 *            and RET far imm16, and the caller goes on after each call with SP as before
 *   long.*   long mode: CR4.PAE, CR3, EFER.LME by WRMSR, CR0.PG, a far jump to a 64-bit code
 *            segment; EFER.LMA set, 64-bit arithmetic, an execute breakpoint (DR2, DR6.B2) through
 *            a 64-bit IDT, then a far return to a 32-bit code segment (compatibility mode) to report
 *
 * The real-mode code is position-independent within its blob, which the kernel copies to 0x8000
 * (real mode reaches only the first MiB); its variables live in the blob too, so the watched word
 * shares its page with the #DB handler that writes the results and returns with IRET (tdemu steps
 * each access to that page on its own).
 */
#include "multiboot.inc"
#include "pc.inc"
#include "pc32.inc"

#define SEL_CODE32  0x08
#define SEL_DATA    0x10
#define SEL_CODE16  0x18
#define SEL_DATA16  0x20
#define SEL_CODE64  0x28
#define RM_BASE     0x8000
#define RM_SEG      (RM_BASE >> 4)
#define RM(sym)     ((sym) - rm_start)          /* offset in the blob (real mode, DS = CS = RM_SEG) */
#define RM_LINEAR(sym) (RM_BASE + RM(sym))      /* where it is once copied */
#define FAR_SEG     (RM_SEG - 0x100)            /* the same blob through a CS base 0x1000 lower */
#define FAR(sym)    (RM(sym) + 0x1000)          /* offset of sym in FAR_SEG */
#define DR6_INIT    0xFFFF0FF0

    .section .multiboot, "a"
    .balign 4
    .long MB_MAGIC, MB_PAGE_ALIGN | MB_MEMORY_INFO, -(MB_MAGIC + (MB_PAGE_ALIGN | MB_MEMORY_INFO))

    .section .text.entry, "ax"
    .code32
    .globl _start
_start:
    mov     $stack_top, %esp
    lgdt    gdtr
    ljmp    $SEL_CODE32, $1f
1:  mov     $SEL_DATA, %ax
    mov     %ax, %ds
    mov     %ax, %es
    mov     %ax, %fs
    mov     %ax, %gs
    mov     %ax, %ss
    call    idt32_init

    /* ---- 32-bit protected mode ---- */
    mov     $pm32_bp, %eax
    mov     %eax, %dr0
    mov     $0x401, %eax                /* L0, execute, 1 byte */
    mov     %eax, %dr7
pm32_bp:
    nop
    mov     $0x400, %eax
    mov     %eax, %dr7
    CHECK32 "pm32.bp.db-count", $1, db_count
    CHECK32 "pm32.bp.fault-eip-on-instruction", $pm32_bp, db_ip
    CHECK32 "pm32.bp.dr6-b0", $(DR6_INIT | 1), db_dr6

    /* ---- to real mode through a 16-bit segment, and back ---- */
    mov     $rm_start, %esi
    mov     $RM_BASE, %edi
    mov     $(rm_end - rm_start), %ecx
    rep movsb
    mov     %esp, saved_esp
    ljmp    $SEL_CODE16, $RM_LINEAR(rm_pm16)
pm_back:
    mov     $SEL_DATA, %ax
    mov     %ax, %ds
    mov     %ax, %es
    mov     %ax, %fs
    mov     %ax, %gs
    mov     %ax, %ss
    mov     saved_esp, %esp
    lidt    idt32r
    CHECK32 "pm16.cr0-pe-set", $1, (RM_LINEAR(rm_pm16_cr0))
    CHECK32 "real.cr0-pe-clear", $0, (RM_LINEAR(rm_real_cr0))
    CHECK32 "real.int30-through-the-ivt", $1, (RM_LINEAR(rm_int30_count))
    CHECK32 "real.int30-handler-cs", $RM_SEG, (RM_LINEAR(rm_int30_cs))
    movzwl  0x10010, %eax
    CHECK32 "real.es-0x1000-offset-0x10-is-linear-0x10010", $0xBEEF, %eax
    CHECK32 "real.bp.db-count", $1, (RM_LINEAR(rm_bp_count))
    CHECK32 "real.bp.fault-ip-on-instruction", $RM(rm_bp), (RM_LINEAR(rm_bp_ip))
    CHECK32 "real.bp.dr6-b0", $(DR6_INIT | 1), (RM_LINEAR(rm_bp_dr6))
    CHECK32 "real.wp.db-count", $1, (RM_LINEAR(rm_wp_count))
    CHECK32 "real.wp.trap-ip-after-the-write", $RM(rm_wp_after), (RM_LINEAR(rm_wp_ip))
    CHECK32 "real.wp.dr6-b1", $(DR6_INIT | 2), (RM_LINEAR(rm_wp_dr6))
    CHECK32 "real.wp.value-written", $0x1234, (RM_LINEAR(rm_watched))
    CHECK32 "real.stack-intact-across-int", $0x5A5A, (RM_LINEAR(rm_popped))
    CHECK32 "real.far-call.callee-ran-each-time", $3, (RM_LINEAR(rm_far_count))
    CHECK32 "real.far-call.callee-cs-is-the-other-segment", $FAR_SEG, (RM_LINEAR(rm_far_cs))
    CHECK32 "real.far-call.caller-resumed-after-each-return", $3, (RM_LINEAR(rm_far_back))
    CHECK32 "real.far-call.sp-as-before", $0x7000, (RM_LINEAR(rm_far_sp))

    /* ---- long mode ---- */
    mov     $pd, %edi                   /* 1 GiB of 2 MiB pages */
    xor     %ecx, %ecx
2:  mov     %ecx, %eax
    shl     $21, %eax
    or      $0x83, %eax
    mov     %eax, (%edi, %ecx, 8)
    inc     %ecx
    cmp     $512, %ecx
    jne     2b
    movl    $(pd + 3), pdpt
    movl    $(pdpt + 3), pml4
    mov     $pml4, %eax
    mov     %eax, %cr3
    mov     %cr4, %eax
    or      $CR4_PAE, %eax
    mov     %eax, %cr4
    mov     $MSR_EFER, %ecx
    rdmsr
    or      $EFER_LME, %eax
    wrmsr
    mov     %cr0, %eax
    or      $CR0_PG, %eax
    mov     %eax, %cr0
    ljmp    $SEL_CODE64, $long64

    .code64
long64:
    mov     $SEL_DATA, %ax
    mov     %ax, %ds
    mov     %ax, %ss
    mov     $MSR_EFER, %ecx
    rdmsr
    mov     %eax, efer_in_long(%rip)
    movabs  $0x123456789, %rax
    shr     $32, %rax
    mov     %eax, high_half(%rip)
    lidt    idt64r(%rip)
    movl    $0, db_count(%rip)
    lea     long_bp(%rip), %rax
    mov     %rax, %dr2
    mov     $0x410, %eax                /* L2, execute, 1 byte */
    mov     %rax, %dr7
long_bp:
    nop
    mov     $0x400, %eax
    mov     %rax, %dr7
    /* to compatibility mode (32-bit code in long mode) to report with the 32-bit runtime */
    pushq   $SEL_CODE32
    lea     compat(%rip), %rax
    push    %rax
    lretq

    .code32
compat:
    CHECK32 "long.efer-lma-set", $(EFER_LME | EFER_LMA), efer_in_long
    CHECK32 "long.64-bit-arithmetic", $1, high_half
    CHECK32 "long.bp.db-count", $1, db_count
    CHECK32 "long.bp.fault-rip-on-instruction", $long_bp, db_ip
    CHECK32 "long.bp.dr6-b2", $(DR6_INIT | 4), db_dr6
    mov     $MSR_EFER, %ecx
    rdmsr
    and     $EFER_LMA, %eax
    CHECK32 "compat.efer-lma-still-set", $EFER_LMA, %eax
    FINISH32 "pc32-modes"

/* ---- 32-bit IDT: #DB records and resumes with RF; anything else ends the kernel ---- */
idt32_init:
    xor     %ecx, %ecx
1:  mov     $fatal32, %eax
    cmp     $1, %ecx
    jne     2f
    mov     $db32, %eax
2:  mov     %ax, idt32(, %ecx, 8)
    movw    $SEL_CODE32, idt32 + 2(, %ecx, 8)
    movw    $0x8E00, idt32 + 4(, %ecx, 8)   /* present, DPL 0, 32-bit interrupt gate */
    shr     $16, %eax
    mov     %ax, idt32 + 6(, %ecx, 8)
    inc     %ecx
    cmp     $32, %ecx
    jne     1b
    /* the 64-bit IDT: #DB and, for the rest, the fatal handler */
    xor     %ecx, %ecx
3:  mov     $fatal64, %eax
    cmp     $1, %ecx
    jne     4f
    mov     $db64, %eax
4:  mov     %ecx, %edx
    shl     $4, %edx
    mov     %ax, idt64(%edx)
    movw    $SEL_CODE64, idt64 + 2(%edx)
    movw    $0x8E00, idt64 + 4(%edx)
    shr     $16, %eax
    mov     %ax, idt64 + 6(%edx)
    movl    $0, idt64 + 8(%edx)
    movl    $0, idt64 + 12(%edx)
    inc     %ecx
    cmp     $32, %ecx
    jne     3b
    lidt    idt32r
    ret

db32:
    push    %eax
    incl    db_count
    mov     4(%esp), %eax
    mov     %eax, db_ip
    mov     %dr6, %eax
    mov     %eax, db_dr6
    xor     %eax, %eax
    mov     %eax, %dr6
    orl     $0x10000, 12(%esp)          /* RF: the instruction runs when resumed */
    pop     %eax
    iret

fatal32:
    SAY32   "FAIL unexpected exception in protected mode"
    mov     $0x7F, %eax
    jmp     pc32_exit

    .code64
db64:
    push    %rax
    incl    db_count(%rip)
    mov     8(%rsp), %rax
    mov     %eax, db_ip(%rip)
    mov     %dr6, %rax
    mov     %eax, db_dr6(%rip)
    xor     %eax, %eax
    mov     %rax, %dr6
    orq     $0x10000, 24(%rsp)
    pop     %rax
    iretq

fatal64:
    mov     $0x7F, %eax
    mov     $DEBUG_EXIT_PORT, %dx
    outl    %eax, %dx
    hlt

/* ---- the real-mode blob, copied to RM_BASE ---- */
    .code16
    .balign 16                          /* so that alignment in the blob holds once copied */
rm_start:
rm_pm16:                                /* 16-bit protected mode, CS base 0 */
    mov     $SEL_DATA16, %ax
    mov     %ax, %ds
    mov     %ax, %es
    mov     %ax, %ss
    mov     %cr0, %eax
    and     $CR0_PE, %eax
    mov     %eax, %ds:RM_LINEAR(rm_pm16_cr0)
    mov     %cr0, %eax
    and     $~CR0_PE, %eax
    mov     %eax, %cr0
    ljmp    $RM_SEG, $RM(rm_real)
rm_real:
    mov     $RM_SEG, %ax
    mov     %ax, %ds
    xor     %ax, %ax
    mov     %ax, %ss
    mov     $0x7000, %sp
    mov     %cr0, %eax
    and     $CR0_PE, %eax
    mov     %eax, RM(rm_real_cr0)
    lidt    RM(rm_ivt)
    xor     %ax, %ax
    mov     %ax, %es
    movw    $RM(rm_db), %es:4           /* IVT[1] = RM_SEG:rm_db */
    movw    $RM_SEG, %es:6
    movw    $RM(rm_int30), %es:0xC0     /* IVT[0x30] = RM_SEG:rm_int30 */
    movw    $RM_SEG, %es:0xC2

    /* a line to COM1 by port I/O */
    mov     $RM(rm_hello), %si
1:  lodsb
    test    %al, %al
    jz      3f
    mov     %al, %bl
    mov     $(COM1 + UART_LSR), %dx
2:  inb     %dx, %al
    test    $UART_LSR_THRE, %al
    jz      2b
    mov     $(COM1 + UART_TX), %dx
    mov     %bl, %al
    outb    %al, %dx
    jmp     1b
3:
    /* INT 0x30 through the IVT, the stack survives it */
    pushw   $0x5A5A
    int     $0x30
    popw    RM(rm_popped)

    /* far calls into another code segment, back by RET far (SP is 0x7000 here) */
    lcall   $FAR_SEG, $FAR(rm_far_routine)
    incw    RM(rm_far_back)
    movw    $FAR(rm_far_routine), RM(rm_far_ptr)
    movw    $FAR_SEG, RM(rm_far_ptr) + 2
    mov     $RM(rm_far_ptr), %bx
    lcallw  *(%bx)
    incw    RM(rm_far_back)
    sub     $6, %sp                     /* RET far 6 releases these */
    lcall   $FAR_SEG, $FAR(rm_far_routine_imm)
    incw    RM(rm_far_back)
    mov     %sp, RM(rm_far_sp)

    /* segment arithmetic */
    mov     $0x1000, %ax
    mov     %ax, %es
    movw    $0xBEEF, %es:0x10

    /* an execute breakpoint */
    movl    $RM_LINEAR(rm_bp), %eax
    mov     %eax, %dr0
    mov     $0x401, %eax
    mov     %eax, %dr7
rm_bp:
    nop

    /* a write watchpoint, 2 bytes */
    movl    $RM_LINEAR(rm_watched), %eax
    mov     %eax, %dr1
    mov     $0x500404, %eax             /* L1, write, 2 bytes */
    mov     %eax, %dr7
    movw    $0x1234, RM(rm_watched)
rm_wp_after:
    mov     $0x400, %eax
    mov     %eax, %dr7

    /* back to protected mode */
    mov     %cr0, %eax
    or      $CR0_PE, %eax
    mov     %eax, %cr0
    ljmpl   $SEL_CODE32, $pm_back

rm_far_routine:                         /* runs with CS = FAR_SEG */
    incw    %cs:FAR(rm_far_count)
    mov     %cs, %cs:FAR(rm_far_cs)
    lret
rm_far_routine_imm:
    incw    %cs:FAR(rm_far_count)
    lret    $6

rm_int30:
    incw    %cs:RM(rm_int30_count)
    mov     %sp, %bp
    mov     2(%bp), %ax                 /* the CS pushed: the caller's */
    mov     %ax, %cs:RM(rm_int30_cs)
    iret

rm_db:                                  /* #DB: DR6 says which */
    push    %eax
    push    %bp
    mov     %sp, %bp
    mov     %dr6, %eax
    test    $1, %al
    jz      1f
    incw    %cs:RM(rm_bp_count)
    mov     %eax, %cs:RM(rm_bp_dr6)
    mov     6(%bp), %ax
    mov     %ax, %cs:RM(rm_bp_ip)
    mov     $0x400, %eax                /* resuming would fault again: no RF in a real-mode frame */
    mov     %eax, %dr7
    jmp     2f
1:  incw    %cs:RM(rm_wp_count)
    mov     %eax, %cs:RM(rm_wp_dr6)
    mov     6(%bp), %ax
    mov     %ax, %cs:RM(rm_wp_ip)
2:  xor     %eax, %eax
    mov     %eax, %dr6
    pop     %bp
    pop     %eax
    iret

    .balign 4
rm_ivt:         .word 0x3FF
                .long 0
    .balign 4
rm_pm16_cr0:    .long 0xFF
rm_real_cr0:    .long 0xFF
rm_int30_count: .long 0
rm_int30_cs:    .long 0
rm_bp_count:    .long 0
rm_bp_ip:       .long 0
rm_bp_dr6:      .long 0
rm_wp_count:    .long 0
rm_wp_ip:       .long 0
rm_wp_dr6:      .long 0
rm_watched:     .long 0
rm_popped:      .long 0
rm_far_count:   .long 0
rm_far_cs:      .long 0
rm_far_back:    .long 0
rm_far_sp:      .long 0
rm_far_ptr:     .long 0
rm_hello:       .asciz "hello from real mode\n"
rm_end:
    .code32

    PC32_RUNTIME

    .data
    .balign 8
gdt:
    .quad 0
    .quad 0x00CF9A000000FFFF            /* 0x08 32-bit code */
    .quad 0x00CF92000000FFFF            /* 0x10 data */
    .quad 0x00009A000000FFFF            /* 0x18 16-bit code, base 0, 64 KiB */
    .quad 0x000092000000FFFF            /* 0x20 16-bit data, base 0, 64 KiB */
    .quad 0x00AF9A000000FFFF            /* 0x28 64-bit code */
gdt_end:
gdtr:   .word gdt_end - gdt - 1
        .long gdt
    .balign 8
idt32r: .word 32 * 8 - 1
        .long idt32
    .balign 8
idt64r: .word 32 * 16 - 1
        .long idt64, 0
saved_esp:      .long 0
db_count:       .long 0
db_ip:          .long 0
db_dr6:         .long 0
efer_in_long:   .long 0
high_half:      .long 0

    .bss
    .balign 4096
pml4:   .space 4096
pdpt:   .space 4096
pd:     .space 4096
idt32:  .space 32 * 8
idt64:  .space 32 * 16
    .balign 16
        .space 8192
stack_top:
