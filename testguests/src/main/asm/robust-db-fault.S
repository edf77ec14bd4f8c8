/* robust-db-fault: its #DB handler faults (UD2) and there is no #UD handler, so delivering the
 * #UD fails, then #GP, then #DF: the VM must end with a clear triple-fault report. */
#include "tdemu.inc"
#include "minidt.inc"
    .section .text.entry, "ax"
    .globl _start
_start:
    call    tdemu_init
    idt_set 1, db_handler
    idt_load
    lea     target(%rip), %rax
    mov     %rax, %dr0
    mov     $0x1, %rax
    mov     %rax, %dr7
target:
    nop
    guest_exit 0                        /* never reached */
db_handler:
    ud2

    TDEMU_RUNTIME
