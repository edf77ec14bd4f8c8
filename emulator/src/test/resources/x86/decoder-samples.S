    .text
    nop
    ret
    push %rax
    push %r12
    pop %r15
    mov %rax, %rbx
    mov %r8d, %r9d
    mov (%rax), %rcx
    mov 0x12(%rbp), %eax
    mov -0x1234(%rsp), %r10
    mov 0x10(%rax,%rbx,4), %edx
    mov (,%rcx,8), %rax
    mov 0x11223344, %eax
    mov sym(%rip), %rax
    movb $4, sym(%rip)
    movl $0x12345678, sym(%rip)
    movq $-1, 8(%r13)
    movw $0x1234, (%rax)
    addq $0x12345678, %rax
    addw $0x1234, %ax
    add $5, %al
    add $0x12345678, %eax
    imul $7, %rax, %rbx
    imul $0x1000, (%rsi), %ecx
    lock incq (%rbx)
    lock xadd %rax, 0x40(%rbx)
    lock cmpxchg %rcx, 0x100(%rbx)
    xchg %rax, (%rdi)
    movabs $0x1122334455667788, %rax
    movabs 0x1122334455667788, %al
    movabs %rax, 0x1122334455667788
    mov $0x12345678, %r11d
    call sym
    jmp sym
    jne sym
    je .
    jmp *%rax
    call *0x18(%rax)
    jmp *sym(%rip)
    rep movsb
    rep stosq
    lodsb
    outsb
    insl
    in $0x80, %al
    out %al, (%dx)
    cpuid
    rdmsr
    wrmsr
    hlt
    int3
    int $0x80
    iretq
    sti
    pushfq
    popfq
    enter $16, $0
    leave
    ret $8
    mov %rax, %dr7
    mov %dr6, %rbx
    mov %rax, %cr3
    invlpg (%rax)
    invlpg sym(%rip)
    lgdt (%rax)
    vmcall
    shl $3, %rax
    shl %cl, 0x20(%rsp)
    test $0x12345678, %edx
    testb $1, (%rax)
    testl $1, (%rax)
    not %r9
    neg (%rcx)
    movzbl (%rsi), %eax
    movsxd %eax, %rdx
    bswap %eax
    bt $3, (%rax)
    bts %rax, (%rbx)
    cmovne %rcx, %rdx
    sete %al
    movaps %xmm0, (%rax)
    movdqu 0x10(%rsp), %xmm1
    pshufd $0x1b, %xmm0, %xmm1
    psrldq $4, %xmm2
    pinsrd $1, %eax, %xmm0
    pshufb %xmm1, %xmm0
    vmovdqu (%rax), %ymm0
    vpaddd %ymm1, %ymm2, %ymm3
    vpermq $0x4e, %ymm0, %ymm1
    vpshufd $0x1b, 0x20(%r12), %xmm0
    vmovdqu64 %zmm0, (%rax)
    vmovdqu64 0x40(%rax), %zmm1
    vaddps %zmm1, %zmm2, %zmm3
    fld (%rax)
    fstp %st(1)
    mov %fs:0x28, %rax
    mov %gs:(%rax), %rbx
    addr32 mov (%eax), %ecx
    mov (%eax,%ebx,2), %ecx
    xlat
    clflush (%rax)
    rdtsc
    syscall
    ud2
    pause
    movnti %rax, (%rdi)
    prefetcht0 (%rax)
    cmpxchg16b (%rdi)
    rdrand %rax
    crc32q (%rax), %rcx
    popcnt %rax, %rbx
    tzcnt 4(%rax), %rcx
    andn %rax, %rbx, %rcx
    sarx %rax, (%rbx), %rcx
    rorx $5, %rax, %rbx
    mov %ss, %ax
    mov %ax, %ds
    lea 0x8(%rip), %rax
    xbegin .
    xabort $1
    movbe (%rax), %ecx
    mov (%r13), %eax
    mov (%r12), %eax
    mov 0x10(%rsp,%r9,8), %rax
    mov sym(%eip), %eax
    mov %es:(%rax), %eax
    mov %ss:8(%rbp), %eax
    mov %cs:(%rbx), %ecx
    mov %ds:(%rcx), %edx
    mov %fs:(%r8,%rcx,2), %r9
    movabs %fs:0x1122334455667788, %eax
    addr32 movabs 0x11223344, %eax
    mov %ax, %bx
    push %ax
    pushw $0x1234
    push $0x12345678
    mov %eax, %ss
    mov (%rax), %ss
    mov %eax, %ds
    mov %rax, %cr0
    mov %cr2, %rax
    mov %rax, %cr4
    mov %r9, %cr8
    mov %cr8, %rax
    mov %rax, %db0
    mov %r10, %db7
    mov %db6, %r11
    clts
    lmsw %ax
    lmsw (%rax)
    smsw %eax
    smsw %rax
    smsw (%rbx)
    in $0x80, %ax
    in $0x80, %eax
    out %al, $0x80
    out %eax, $0x71
    in (%dx), %al
    in (%dx), %ax
    in (%dx), %eax
    out %ax, (%dx)
    out %eax, (%dx)
    insb
    insw
    outsw
    outsl
    rep insw
    rep outsb
    addr32 rep insb
    outsb %fs:(%rsi), (%dx)
    movsq
    cmpsb
    stosw
    lodsq
    scasl
    repne scasb
    repe cmpsq
    rep movsl
    movsb %gs:(%rsi), %es:(%rdi)
    iret
    iretw
    pushfw
    popfw
    .byte 0xcd, 0x03
    int1
    cli
    rdtscp
    vmmcall
    tdcall
    lidt (%rax)
    lgdt 6(%rbp)
    lldt %ax
    lldt (%rax)
    ltr %ax
    ltr (%rbx)
    ljmp *(%rax)
    ljmpw *(%rax)
    rex.W ljmp *(%rax)
    lcall *8(%rsi)
    lret
    sysret
    sysretq
    sysenter
    sysexit
    swapgs
    xsetbv
    monitor
    mwait
    wbinvd
    invd
    vzeroupper
    .byte 0x66, 0x48, 0x8b, 0x03
    .byte 0x67, 0x66, 0x8b, 0x03
    .byte 0xf2, 0xf3, 0xa4
    .byte 0x26, 0x64, 0x8b, 0x03
    .byte 0x66, 0xe8, 0x00, 0x00, 0x00, 0x00
    .byte 0x66, 0x0f, 0x85, 0x00, 0x00, 0x00, 0x00
    .byte 0x06
    .byte 0xce
sym:
    .byte 0
