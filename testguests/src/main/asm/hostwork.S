/* hostwork: the host kernel's work between VM exits, run on the same physical CPU as the guest
 * in memory the guest cannot reach. It touches every target listed in the table the emulator
 * writes at HOSTWORK_TABLE, so host hardware breakpoints are proven by execution:
 *   u64 count, then count entries of { u64 kind, u64 address, u64 length }
 *   kind 1: call the address (host text is filled with RET)    kind 2: write `length` bytes there
 *   kind 3: read `length` bytes there                           kind 4: OUT to port `address`
 * It ends with HLT. */
.equ HOSTWORK_TABLE, 0x3ff000

    .section .text.entry, "ax"
    .globl _start
_start:
    mov     $HOSTWORK_TABLE, %rbx
    mov     (%rbx), %rcx
    lea     8(%rbx), %rbx
next:
    test    %rcx, %rcx
    jz      done
    mov     (%rbx), %rax
    mov     8(%rbx), %rdi
    mov     16(%rbx), %rsi
    cmp     $1, %rax
    je      do_call
    cmp     $2, %rax
    je      do_write
    cmp     $3, %rax
    je      do_read
    cmp     $4, %rax
    je      do_out
    jmp     advance
do_call:
    push    %rcx
    call    *%rdi
    pop     %rcx
    jmp     advance
do_write:
    mov     $0x5a5a5a5a5a5a5a5a, %rax
    cmp     $1, %rsi
    je      w1
    cmp     $2, %rsi
    je      w2
    cmp     $4, %rsi
    je      w4
    mov     %rax, (%rdi)
    jmp     advance
w1: mov     %al, (%rdi)
    jmp     advance
w2: mov     %ax, (%rdi)
    jmp     advance
w4: mov     %eax, (%rdi)
    jmp     advance
do_read:
    cmp     $1, %rsi
    je      r1
    cmp     $2, %rsi
    je      r2
    cmp     $4, %rsi
    je      r4
    mov     (%rdi), %rax
    jmp     advance
r1: mov     (%rdi), %al
    jmp     advance
r2: mov     (%rdi), %ax
    jmp     advance
r4: mov     (%rdi), %eax
    jmp     advance
do_out:
    mov     %di, %dx
    outb    %al, %dx
advance:
    lea     24(%rbx), %rbx
    dec     %rcx
    jmp     next
done:
    hlt
