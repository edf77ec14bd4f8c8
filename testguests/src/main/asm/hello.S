/* hello: prints a greeting on the console and exits with status 0 (VMX guest, TD or bare engine). */
#include "tdemu.inc"
    .section .text.entry, "ax"
    .globl _start
_start:
    call    tdemu_init
    console_write msg, msg_len
    guest_exit 0

    TDEMU_RUNTIME

    .section .rodata
msg:
    .ascii "Hello from a tdemu guest!\n"
    .equ msg_len, . - msg
