/* dr-linear: breakpoints match linear addresses (SDM Vol. 3, "Debug Registers": DR0-DR3 hold
 * linear addresses; a breakpoint is hit by an access or fetch whose linear address matches, not
 * by another linear address that maps to the same physical memory).
 *
 * The guest maps a second linear window (ALIAS_BASE, one 2 MiB page of the boot page tables'
 * first page directory) onto the physical 2 MiB page that holds its image, so every byte of the
 * image has two linear addresses.
 *
 *   linear.paging.*   preconditions: CR0.PG is set (docs/guest-abi.md), a not-present linear
 *                     address page-faults, the window reads the image's bytes
 *   linear.exec.*     an execute breakpoint on one linear address of an instruction is hit only
 *                     when the instruction is fetched through that address
 *   linear.data.*     a data breakpoint is hit only through its own linear address, also after
 *                     that address is remapped to other physical memory (INVLPG, no CR3 write)
 *
 * ALIAS_PDE must be beyond guest RAM's identity mapping (the default 64 MiB uses PDEs 0..31).
 */
#include "tdemu.inc"
#include "conformance.inc"

.equ ALIAS_PDE, 100
.equ ALIAS_BASE, ALIAS_PDE << 21
.equ IMAGE_PAGE, 0                          /* the 2 MiB physical page the image is loaded in */
.equ ALIAS_OFFSET, ALIAS_BASE - IMAGE_PAGE  /* alias = identity address + ALIAS_OFFSET */

    .section .text.entry, "ax"
    .globl _start
_start:
    call    tdemu_init
    call    conf_idt_init

    /* ---- preconditions ---- */
    mov     %cr0, %rax
    mov     %rax, value(%rip)
    CHECK_MASK "linear.paging.cr0-pg-set", $0x80000000, value(%rip), $0x80000000
    CONF_BEGIN
    ARM_RECOVER 1f
    mov     $ALIAS_BASE, %eax
pf_insn:
    mov     (%rax), %rbx
1:  mov     %cr2, %rax
    mov     %rax, value(%rip)
    CHECK "linear.paging.not-present-address-page-faults.vector", $VEC_PF, exc_vector(%rip)
    CHECK_ADDR "linear.paging.not-present-address-page-faults.rip", pf_insn, exc_rip(%rip)
    CHECK "linear.paging.not-present-address-page-faults.cr2", $ALIAS_BASE, value(%rip)
    CHECK "linear.paging.not-present-address-page-faults.error-code", $0, exc_error(%rip)
    mov     $IMAGE_PAGE, %eax
    call    set_alias
    mov     (_start + ALIAS_OFFSET), %rax
    mov     %rax, value(%rip)
    mov     _start(%rip), %rax
    mov     %rax, value2(%rip)
    CHECK "linear.paging.alias-reads-the-image", value2(%rip), value(%rip)

    /* ---- execute breakpoints ---- */
    CONF_BEGIN
    movq    $0, exec_counter(%rip)
    SET_DRN_ADDR 0, exec_target
    SET_DR7 DR7_SLOT(0, DR7_L(0), RW_X, LEN_1)
    mov     $(exec_target + ALIAS_OFFSET), %eax
    call    *%rax
    DR_OFF
    CHECK "linear.exec.identity-breakpoint-not-hit-through-alias", $0, exc_count(%rip)
    CHECK "linear.exec.identity-breakpoint-not-hit-through-alias.ran", $1, exec_counter(%rip)
    CONF_BEGIN
    movq    $0, exec_counter(%rip)
    mov     $(exec_target + ALIAS_OFFSET), %eax
    mov     %rax, %dr1
    SET_DR7 DR7_SLOT(1, DR7_L(1), RW_X, LEN_1)
    call    exec_target
    mov     exc_count(%rip), %rax
    mov     %rax, value(%rip)
    ARM_RECOVER 1f
    mov     $(exec_target + ALIAS_OFFSET), %eax
    call    *%rax
1:  DR_OFF
    CHECK "linear.exec.alias-breakpoint-not-hit-through-identity", $0, value(%rip)
    CHECK "linear.exec.alias-breakpoint-hit-through-alias.db-count", $1, exc_count(%rip)
    CHECK "linear.exec.alias-breakpoint-hit-through-alias.rip", $(exec_target + ALIAS_OFFSET), exc_rip(%rip)
    CHECK "linear.exec.alias-breakpoint-hit-through-alias.dr6", $(DR6_INIT | 2), exc_dr6(%rip)

    /* ---- data breakpoints ---- */
    /* A store through the other linear address of the watched byte does not match. */
    CONF_BEGIN
    SET_DRN_ADDR 0, watched
    SET_DR7 DR7_SLOT(0, DR7_L(0), RW_W, LEN_1)
    movb    $1, (watched + ALIAS_OFFSET)
    DR_OFF
    CHECK "linear.data.store-through-alias-of-watched-byte-no-db", $0, exc_count(%rip)
    /* A watch on the alias address: not hit through the identity address, hit through the alias. */
    CONF_BEGIN
    mov     $(watched + ALIAS_OFFSET), %eax
    mov     %rax, %dr2
    SET_DR7 DR7_SLOT(2, DR7_L(2), RW_W, LEN_1)
    movb    $2, watched(%rip)
    mov     exc_count(%rip), %rax
    mov     %rax, value(%rip)
    movb    $3, (watched + ALIAS_OFFSET)
1:  DR_OFF
    CHECK "linear.data.alias-watch-not-hit-through-identity", $0, value(%rip)
    CHECK "linear.data.alias-watch-hit-through-alias.db-count", $1, exc_count(%rip)
    CHECK_ADDR "linear.data.alias-watch-hit-through-alias.trap-rip", 1b, exc_rip(%rip)
    CHECK "linear.data.alias-watch-hit-through-alias.dr6", $(DR6_INIT | 4), exc_dr6(%rip)
    /* Remap the watched alias to other physical memory while armed: the watch follows the
       linear address. */
    CONF_BEGIN
    mov     $(watched + ALIAS_OFFSET), %eax
    mov     %rax, %dr3
    SET_DR7 DR7_SLOT(3, DR7_L(3), RW_W, LEN_1)
    mov     $(IMAGE_PAGE + (2 << 20)), %eax  /* the next 2 MiB of RAM, unused by the image */
    call    set_alias
    movb    $4, (watched + ALIAS_OFFSET)
1:  DR_OFF
    mov     $IMAGE_PAGE, %eax
    call    set_alias
    CHECK "linear.data.remapped-watch.db-count", $1, exc_count(%rip)
    CHECK_ADDR "linear.data.remapped-watch.trap-rip", 1b, exc_rip(%rip)
    CHECK "linear.data.remapped-watch.dr6", $(DR6_INIT | 8), exc_dr6(%rip)
    CHECK "linear.data.remapped-watch.image-byte-untouched", $3, watched(%rip)

    call    unmap_alias
    CONF_FINISH dr-linear

/* alias_pde: %rax <- address of the alias PD entry (CR3 -> PML4[0] -> PDPT[0] -> PD; the boot
   tables are identity mapped). */
alias_pde:
    mov     %cr3, %rax
    and     $~0xfff, %rax
    mov     (%rax), %rax                     /* PML4[0]: the PDPT */
    and     $~0xfff, %rax
    mov     (%rax), %rax                     /* PDPT[0]: the first PD */
    and     $~0xfff, %rax
    add     $(8 * ALIAS_PDE), %rax
    ret

/* set_alias: the window maps the 2 MiB physical page at %rax (present, writable, user, 2 MiB). */
set_alias:
    push    %rcx
    mov     %rax, %rcx
    or      $0x87, %rcx
    call    alias_pde
    mov     %rcx, (%rax)
    mov     $ALIAS_BASE, %eax
    invlpg  (%rax)
    pop     %rcx
    ret

unmap_alias:
    call    alias_pde
    movq    $0, (%rax)
    mov     $ALIAS_BASE, %eax
    invlpg  (%rax)
    ret

    .balign 16
exec_target:
    incq    exec_counter(%rip)
    ret

    TDEMU_RUNTIME
    CONF_RUNTIME

    .section .data
    .balign 8
value:          .quad 0
value2:         .quad 0
exec_counter:   .quad 0
    .balign 4096
watched:        .quad 0
    .balign 4096
