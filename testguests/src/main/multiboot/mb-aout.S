/* A Multiboot kernel that says where it loads (header flag bit 16, the "a.out kludge"), at
   2 MiB (mb-aout.ld). Built twice: as ELF32 (mb-aout.elf), whose own e_entry is elf_entry, and
   as a flat binary (mb-aout.bin). A loader must use the header's fields for both: load the file
   from 16 bytes before the header at 0x200000 up to load_end 0x201020, zero up to bss_end
   0x202020, and enter at aout_entry 0x200040. */
#include "multiboot.inc"
#define FLAGS (MB_ADDRESS_FIELDS | MB_PAGE_ALIGN | MB_MEMORY_INFO)

    .text
    .code32
    .globl _load_start
_load_start:                            /* 0x200000 */
    .ascii "AOUT-TEXT-START!"
mb_header:                              /* 0x200010 */
    .long MB_MAGIC, FLAGS, -(MB_MAGIC + FLAGS)
    .long mb_header                     /* header_addr */
    .long _load_start                   /* load_addr */
    .long _load_end                     /* load_end_addr */
    .long _bss_end                      /* bss_end_addr */
    .long aout_entry                    /* entry_addr */

    .org 0x30
    .globl elf_entry
elf_entry:                              /* 0x200030: what ELF would pick; must not be used */
    ud2

    .org 0x40
aout_entry:                             /* 0x200040 */
    cli
    mov $stack_top, %esp
    mov %eax, magic_seen
    mov %ebx, info_seen
1:  hlt
    jmp 1b

    .data
    .ascii "AOUT-DATA-START!"           /* 0x201000 */
magic_seen: .long 0
info_seen:  .long 0
    .balign 16
    .globl _load_end
_load_end:                              /* 0x201020 */

    .bss
    .space 0x1000
stack_top:
    .globl _bss_end
_bss_end:                               /* 0x202020 */
