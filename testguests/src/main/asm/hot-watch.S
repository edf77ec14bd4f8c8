/* hot-watch: a page written a million times (hot_page[0], hot_page[1]) next to hot_var, which
 * the guest writes only once, after the loop: the case of a watchpoint on a variable whose page
 * the guest writes constantly. Exits 0. */
#include "tdemu.inc"
    .section .text.entry, "ax"
    .globl _start
_start:
    call    tdemu_init
    lea     hot_page(%rip), %rbx
    mov     $1000000, %ecx
1:  mov     %rcx, (%rbx)
    add     %rcx, 8(%rbx)
    dec     %ecx
    jnz     1b
    movq    $42, hot_var(%rip)
    .globl hot_var_written
hot_var_written:
    nop
    guest_exit 0

    TDEMU_RUNTIME

    .section .data
    .balign 4096
    .globl hot_page
hot_page: .skip 48
    .globl hot_var
hot_var:  .quad 0
