/* pc64-exit: ends the VM through isa-debug-exit with what the command line asks for. Its last
 * word is PORT:WIDTH:VALUE, all hex but WIDTH (b, w or l), e.g. "f4:l:2a": OUT of VALUE with that
 * width to that port. It prints "exit PORT:WIDTH:VALUE" first, and "still running" should the
 * write not end the VM. A command line it cannot read prints "FAIL command line" and halts.
 */
#define CONF_PC
#include "multiboot.inc"
#include "pc.inc"
#include "conformance.inc"
#include "pc64.inc"

    .text
main64:
    mov     pc_mb_info(%rip), %rax
    mov     16(%rax), %esi              /* cmdline */
    mov     %rsi, %rdi
1:  cmpb    $0, (%rdi)                  /* the last word starts after the last space */
    je      2f
    cmpb    $' ', (%rdi)
    jne     3f
    lea     1(%rdi), %rsi
3:  inc     %rdi
    jmp     1b
2:  mov     %rsi, word_start(%rip)
    call    hex                         /* PORT */
    cmpb    $':', (%rsi)
    jne     bad
    mov     %rax, port(%rip)
    movzbl  1(%rsi), %eax
    mov     %rax, width(%rip)
    cmpb    $':', 2(%rsi)
    jne     bad
    add     $3, %rsi
    call    hex                         /* VALUE */
    cmpb    $0, (%rsi)
    jne     bad
    mov     %rax, value(%rip)

    PC_SAY  "exit as asked"
    mov     port(%rip), %rdx
    mov     value(%rip), %rax
    cmpq    $'b', width(%rip)
    je      do_b
    cmpq    $'w', width(%rip)
    je      do_w
    cmpq    $'l', width(%rip)
    jne     bad
    outl    %eax, %dx
    jmp     after
do_b:
    outb    %al, %dx
    jmp     after
do_w:
    outw    %ax, %dx
after:
    PC_SAY  "still running"
4:  cli
    hlt
    jmp     4b

bad:
    PC_SAY  "FAIL command line"
    jmp     4b

/* hex: the hex number at %rsi into %rax; %rsi after it (at least one digit, else "bad"). */
hex:
    xor     %eax, %eax
    xor     %ecx, %ecx
1:  movzbl  (%rsi), %edx
    sub     $'0', %edx
    cmp     $9, %edx
    jbe     2f
    movzbl  (%rsi), %edx
    or      $0x20, %edx
    sub     $'a', %edx
    cmp     $5, %edx
    ja      3f
    add     $10, %edx
2:  shl     $4, %rax
    or      %rdx, %rax
    inc     %rsi
    inc     %ecx
    jmp     1b
3:  test    %ecx, %ecx
    jz      bad
    ret

    .data
    .balign 8
word_start: .quad 0
port:       .quad 0
width:      .quad 0
value:      .quad 0

    .text
    CONF_RUNTIME
    PC64_RUNTIME
