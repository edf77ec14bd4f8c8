/* robust-unmapped: maps a linear address to guest-physical 32 GiB (far beyond its RAM) in its own
 * page tables (a new page directory with one 2 MiB page) and reads it: an EPT violation with no
 * device behind it ends the VM clearly. */
#include "tdemu.inc"
    .section .text.entry, "ax"
    .globl _start
_start:
    call    tdemu_init
    mov     %cr3, %rax
    and     $~0xfff, %rax
    mov     (%rax), %rbx                /* PML4[0] -> PDPT */
    and     $~0xfff, %rbx
    lea     new_pd(%rip), %rcx
    or      $0x7, %rcx
    mov     %rcx, 8 * 4(%rbx)           /* PDPT[4] (linear 4 GiB) -> new_pd */
    mov     $(32 << 30), %rcx
    or      $0x87, %rcx                 /* 2 MiB page: present, writable, user, PS */
    mov     %rcx, new_pd(%rip)
    mov     %cr3, %rax
    mov     %rax, %cr3                  /* flush the TLB */
    mov     $(4 << 30), %rdx
    mov     (%rdx), %rax
    guest_exit 0                        /* never reached */

    TDEMU_RUNTIME

    .section .bss
    .balign 4096
new_pd: .skip 4096
