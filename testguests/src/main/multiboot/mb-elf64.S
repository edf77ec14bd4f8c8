/* A Multiboot kernel in ELF64, linked higher-half (mb-elf64.ld): virtual 0xC0200000 and
   0xC0300000, physical (p_paddr) 0x200000 and 0x300000. The entry runs in 32-bit protected
   mode with paging off, so the loader must load by p_paddr and translate e_entry. */
#include "multiboot.inc"
#define FLAGS MB_MEMORY_INFO
#define PHYS(sym) ((sym) - 0xC0000000)

    MULTIBOOT_HEADER FLAGS
    MULTIBOOT_ENTRY32 PHYS(stack_top)        /* _start: virtual 0xC020000c, physical 0x20000c */
    mov %eax, PHYS(magic_seen)
    mov %ebx, PHYS(info_seen)
1:  hlt
    jmp 1b

    .data
    .ascii "ELF64-DATA-MARK!"           /* physical 0x300000 */
magic_seen: .long 0
info_seen:  .long 0
    .balign 16                          /* data ends at 0x300020 */

    .bss
    .balign 16
    .space 0x1000                       /* 0x300020..0x301020 */
stack_top:
