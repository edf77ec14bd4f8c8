/* hello: prints a greeting through the console port and exits with status 0. */
#include "tdemu.inc"
    .section .text.entry, "ax"
    .globl _start
_start:
    console_write msg, msg_len
    guest_exit 0

    .section .rodata
msg:
    .ascii "Hello from a tdemu guest!\n"
    .equ msg_len, . - msg
