/* pc64-boot-sieve: the boot benchmark's compute-bound kernel (BootBenchmark): boots to long mode,
 * then runs the sieve of Eratosthenes over the numbers below 2^24 (one byte each, 16 MiB at
 * 32 MiB physical, so the VM needs 48 MiB) ROUNDS times, and checks the count of primes against
 * pi(2^24) = 1077871 before it ends through isa-debug-exit: status 1 when the count was right,
 * 3 when not, so a benchmark can tell that both emulators computed the same thing.
 * Ordinary code without exits: memory stores through the TLB, compares, branches.
 */
#define CONF_PC
#include "multiboot.inc"
#include "pc.inc"
#include "conformance.inc"
#include "pc64.inc"

#define SIEVE   0x2000000
#define N       0x1000000
#define ROUNDS  3
#define PRIMES  1077871

    .text
main64:
    mov     $ROUNDS, %r15
round:
    mov     $SIEVE, %edi                /* every number a prime candidate (0) */
    mov     $(N / 8), %ecx
    xor     %eax, %eax
    rep stosq
    mov     $2, %ebx                    /* i */
outer:
    mov     %rbx, %rax
    imul    %rbx, %rax                  /* i * i */
    cmp     $N, %rax
    jae     count
    cmpb    $0, SIEVE(%rbx)
    jne     next
inner:
    movb    $1, SIEVE(%rax)             /* multiples of i from i * i are composite */
    add     %rbx, %rax
    cmp     $N, %rax
    jb      inner
next:
    inc     %rbx
    jmp     outer
count:
    xor     %r12d, %r12d
    mov     $2, %ebx
1:  cmpb    $0, SIEVE(%rbx)
    jne     2f
    inc     %r12
2:  inc     %rbx
    cmp     $N, %rbx
    jb      1b
    dec     %r15
    jnz     round
    CHECK "boot-sieve.primes", $PRIMES, %r12
    CONF_FINISH "pc64-boot-sieve"

    CONF_RUNTIME
    PC64_RUNTIME
