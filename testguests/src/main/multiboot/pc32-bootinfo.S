/* pc32-bootinfo: reports, one "key value" line each on COM1, everything the boot loader handed
 * over (Multiboot Specification 0.6.96, 3.2 and 3.3), for the test to compare with what it asked
 * for: EAX and EBX, where the kernel ends, CR0 and EFLAGS, each segment register (selector, limit by LSL, access rights
 * by LAR, base from its descriptor in the GDT the loader left), whether A20 is on, the info
 * structure's flags, mem_lower and mem_upper, the command line, the boot loader name, each
 * module (start, end, string, the 32-bit sum of its bytes) and each memory map entry. Then it
 * exits with isa-debug-exit 0.
 *
 * Built three ways from this one source: pc32-bootinfo.elf (ELF32), pc-bootinfo-elf64.elf (the
 * same 32-bit code in an ELF64 file) and pc-bootinfo-aout.bin (MB_AOUT: a flat binary whose
 * header gives the load addresses, the a.out kludge).
 */
#include "multiboot.inc"
#include "pc.inc"
#include "pc32.inc"

#ifdef MB_AOUT
#define FLAGS (MB_PAGE_ALIGN | MB_MEMORY_INFO | MB_ADDRESS_FIELDS)
#else
#define FLAGS (MB_PAGE_ALIGN | MB_MEMORY_INFO)
#endif

    .section .multiboot, "a"
    .balign 4
mb_header:
    .long MB_MAGIC, FLAGS, -(MB_MAGIC + FLAGS)
#ifdef MB_AOUT
    .long mb_header, _load_start, _load_end, _bss_end, _start
#endif

/* Prints "\key " then the value in %eax in hex and a newline. */
.macro KEY_HEX key
    .pushsection .rodata
key_\@: .asciz "\key "
    .popsection
    push    %esi
    mov     $key_\@, %esi
    call    pc32_puts
    call    pc32_puthex
    mov     $s_nl, %esi
    call    pc32_puts
    pop     %esi
.endm

/* Prints "\key " then the NUL-terminated string at %eax and a newline. */
.macro KEY_STR key
    .pushsection .rodata
key_\@: .asciz "\key "
    .popsection
    push    %esi
    mov     $key_\@, %esi
    call    pc32_puts
    mov     %eax, %esi
    call    pc32_puts
    mov     $s_nl, %esi
    call    pc32_puts
    pop     %esi
.endm

/* One segment register: selector, LSL limit, LAR access rights, base from the GDT. */
.macro SEGMENT sreg
    mov     %\sreg, %eax
    movzwl  %ax, %ebx
    mov     %ebx, %eax
    KEY_HEX "seg.\sreg\().selector"
    lsl     %ebx, %eax
    jz      1f
    mov     $0xDEAD, %eax               /* LSL refused the selector */
1:  KEY_HEX "seg.\sreg\().limit"
    lar     %ebx, %eax
    jz      2f
    mov     $0xDEAD, %eax
2:  KEY_HEX "seg.\sreg\().rights"
    mov     %ebx, %eax
    call    descriptor_base
    KEY_HEX "seg.\sreg\().base"
.endm

    .section .text.entry, "ax"
    .code32
    .globl _start
_start:
    /* first, before anything changes them (ESP is undefined: a stack comes first) */
    mov     $stack_top, %esp
    mov     %eax, entry_eax
    mov     %ebx, entry_ebx
    pushf
    pop     entry_eflags
    mov     %cr0, %eax
    mov     %eax, entry_cr0

    mov     entry_eax, %eax
    KEY_HEX "eax"
    mov     entry_ebx, %eax
    KEY_HEX "ebx"
    mov     entry_cr0, %eax
    KEY_HEX "cr0"
    mov     entry_eflags, %eax
    KEY_HEX "eflags"
    SEGMENT cs
    SEGMENT ds
    SEGMENT es
    SEGMENT fs
    SEGMENT gs
    SEGMENT ss

    /* A20: with it off, the address 1 MiB lower would alias a20_probe */
    mov     $a20_probe, %edi
    mov     %edi, %esi
    sub     $0x100000, %esi
    movl    $0, (%esi)
    movl    $0xA20A20, (%edi)
    mov     (%esi), %eax
    KEY_HEX "a20.alias"

    mov     $_bss_end, %eax
    KEY_HEX "kernel_end"
    mov     entry_ebx, %ebp             /* the information structure */
    mov     0(%ebp), %eax
    KEY_HEX "flags"
    mov     4(%ebp), %eax
    KEY_HEX "mem_lower"
    mov     8(%ebp), %eax
    KEY_HEX "mem_upper"
    mov     16(%ebp), %eax
    KEY_STR "cmdline"
    mov     64(%ebp), %eax
    KEY_STR "boot_loader_name"

    /* modules */
    mov     20(%ebp), %eax
    KEY_HEX "mods_count"
    mov     24(%ebp), %edi
    xor     %ecx, %ecx
mods:
    cmp     20(%ebp), %ecx
    je      mods_done
    mov     0(%edi), %eax
    KEY_HEX "mod.start"
    mov     4(%edi), %eax
    KEY_HEX "mod.end"
    mov     8(%edi), %eax
    KEY_STR "mod.string"
    mov     0(%edi), %esi
    xor     %eax, %eax
    xor     %edx, %edx
1:  cmp     4(%edi), %esi
    jae     2f
    movzbl  (%esi), %ebx
    add     %ebx, %eax
    inc     %esi
    jmp     1b
2:  KEY_HEX "mod.sum"
    add     $16, %edi
    inc     %ecx
    jmp     mods
mods_done:

    /* memory map: entries of size (4, not counted in itself), base (8), length (8), type (4) */
    mov     44(%ebp), %eax
    KEY_HEX "mmap_length"
    mov     48(%ebp), %edi
    mov     %edi, %ecx
    add     44(%ebp), %ecx              /* end */
mmap:
    cmp     %ecx, %edi
    jae     mmap_done
    mov     8(%edi), %eax
    KEY_HEX "mmap.base_hi"
    mov     4(%edi), %eax
    KEY_HEX "mmap.base_lo"
    mov     16(%edi), %eax
    KEY_HEX "mmap.length_hi"
    mov     12(%edi), %eax
    KEY_HEX "mmap.length_lo"
    mov     20(%edi), %eax
    KEY_HEX "mmap.type"
    add     (%edi), %edi
    add     $4, %edi
    jmp     mmap
mmap_done:
    SAY32   "bootinfo done"
    xor     %eax, %eax
    jmp     pc32_exit

/* descriptor_base: the base of the GDT descriptor for selector %eax (from SGDT), into %eax. */
descriptor_base:
    push    %ebx
    push    %edx
    sgdt    gdtr
    and     $0xFFF8, %eax
    add     gdtr + 2, %eax
    mov     (%eax), %edx                /* base 15:0 in bits 31:16 */
    mov     4(%eax), %ebx               /* base 23:16 in bits 7:0, base 31:24 in bits 31:24 */
    shr     $16, %edx
    mov     %ebx, %eax
    and     $0xFF, %eax
    shl     $16, %eax
    or      %eax, %edx
    and     $0xFF000000, %ebx
    or      %ebx, %edx
    mov     %edx, %eax
    pop     %edx
    pop     %ebx
    ret

    PC32_RUNTIME

    .section .rodata
s_nl:   .asciz "\n"

    .data
    .balign 4
entry_eax:      .long 0
entry_ebx:      .long 0
entry_eflags:   .long 0
entry_cr0:      .long 0
gdtr:           .word 0
                .long 0

    .bss
    .balign 16
a20_probe:      .space 16
                .space 4096
stack_top:
