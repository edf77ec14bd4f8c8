/* A Multiboot kernel in ELF32 at 1 MiB (mb-elf32.ld): the header opens .text, the entry follows
   it, .data starts with a marker the loader tests look for, .bss is 8 KiB that must come out
   zeroed. It stores what the loader handed over (EAX, EBX) and halts. */
#include "multiboot.inc"
#define FLAGS (MB_PAGE_ALIGN | MB_MEMORY_INFO)

    MULTIBOOT_HEADER FLAGS
    MULTIBOOT_ENTRY32 stack_top              /* _start: 0x10000c */
    mov %eax, magic_seen
    mov %ebx, info_seen
1:  hlt
    jmp 1b

    .data
    .ascii "ELF32-DATA-MARK!"           /* 0x102000 */
magic_seen: .long 0
info_seen:  .long 0
    .balign 16                          /* data ends at 0x102020 */

    .bss
    .balign 16
    .space 0x2000                       /* 0x102020..0x104020 */
stack_top:
