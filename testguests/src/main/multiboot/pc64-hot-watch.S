/* pc64-hot-watch: issue 18's hot-page watchpoint loop for a side-by-side measurement with QEMU
 * (docs/emulator.md, "Hot-page mode"): N iterations storing twice to one page, next to hot_var,
 * which nothing writes, then isa-debug-exit. Under gdb: watch *(long *)&hot_var, continue, and
 * time it against the same without the watch, in tdemu (.elf) and QEMU (.flat, ELF32). */
#define CONF_PC
#include "multiboot.inc"
#include "pc.inc"
#include "conformance.inc"
#include "pc64.inc"
#define N 20000000
    .text
main64:
    lea     hot_page(%rip), %rbx
    mov     $N, %ecx
1:  mov     %rcx, (%rbx)
    add     %rcx, 16(%rbx)
    dec     %ecx
    jnz     1b
    CONF_FINISH "pc64-hot-watch"

    CONF_RUNTIME
    PC64_RUNTIME
    .data
    .balign 4096
    .globl hot_page
hot_page: .skip 48
    .globl hot_var
hot_var: .quad 0
