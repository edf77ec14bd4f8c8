# 32-bit samples: decoded as 32-bit protected mode (CS.D=1); see make-decoder-samples.sh.
    .text
    .code32
    nop
    mov %eax, %ebx
    mov %ax, %bx
    mov (%eax), %ecx
    mov 0x12(%ebp), %eax
    mov -0x1234(%esp), %edx
    mov 0x10(%eax,%ebx,4), %edx
    mov (,%ecx,8), %eax
    mov 0x11223344, %eax
    mov 0x12(%esp,%esi,4), %eax
    mov 0x12345678(%ebx), %eax
    mov (%ebp,%eax,2), %eax
    mov %es:(%eax), %eax
    mov %cs:4(%ebx), %eax
    mov %ss:(%eax), %eax
    mov %ds:(%ebp), %eax
    mov %fs:0x28, %eax
    mov %gs:(%eax), %ebx
    mov (%bx,%si), %eax
    mov 0x12(%bp), %eax
    mov 0x1234, %ax
    mov 0x11223344, %al
    mov %eax, 0x55667788
    mov %fs:0x11223344, %eax
    movw $0x1234, (%eax)
    movl $0x12345678, 4(%ebx)
    movb $4, (%ecx)
    mov $0x12345678, %eax
    mov $0x1234, %ax
    add $0x12345678, %eax
    add $0x1234, %ax
    add $5, %al
    imul $7, %eax, %ebx
    imul $0x1000, (%esi), %ecx
    test $0x12345678, %edx
    testw $1, (%eax)
    testl $1, (%eax)
    lock incl (%ebx)
    lock cmpxchg %ecx, 0x100(%ebx)
    xchg %eax, (%edi)
    lea 8(%eax,%ebx,2), %ecx
    inc %eax
    dec %ecx
    push %ds
    pop %ds
    pusha
    popa
    aas
    aam
    arpl %ax, (%ebx)
    les (%eax), %eax
    lds 4(%eax), %esi
    bound %eax, (%ebx)
    push $0x12345678
    push $1
    pushw $0x1234
    enter $16, $0
    leave
    ret $8
    lret
    call sym
    jmp sym
    jne sym
    je .
    jecxz .
    jmp *%eax
    call *0x18(%eax)
    jmp *sym
    xlat
    flds (%eax)
    fstp %st(1)
    movaps %xmm0, (%eax)
    movdqu 0x10(%esp), %xmm1
    pshufd $0x1b, %xmm0, %xmm1
    psrldq $4, %xmm2
    pinsrd $1, %eax, %xmm0
    pshufb %xmm1, %xmm0
    vmovdqu (%eax), %ymm0
    vpaddd %ymm1, %ymm2, %ymm3
    vpermq $0x4e, %ymm0, %ymm1
    vpshufd $0x1b, 0x20(%esi), %xmm0
    vmovdqu64 %zmm0, (%eax)
    vaddps %zmm1, %zmm2, %zmm3
    andn %eax, %ebx, %ecx
    rorx $5, %eax, %ebx
    vzeroupper
    movzbl (%esi), %eax
    bswap %eax
    bt $3, (%eax)
    cmovne %ecx, %edx
    sete %al
    clflush (%eax)
    mov %ss, %ax
    mov %eax, %cr0
    mov %cr2, %eax
    mov %cr3, %ebx
    mov %eax, %cr4
    mov %eax, %dr7
    mov %dr6, %ebx
    mov %edi, %dr0
    clts
    lmsw %ax
    lmsw (%eax)
    smsw %eax
    smsw (%eax)
    in $0x80, %al
    in $0x80, %ax
    in $0x80, %eax
    out %al, $0x80
    out %eax, $0x71
    in (%dx), %al
    in (%dx), %ax
    in (%dx), %eax
    out %al, (%dx)
    out %ax, (%dx)
    out %eax, (%dx)
    insb
    insw
    insl
    outsb
    outsw
    outsl
    rep insl
    rep outsb
    outsb %gs:(%esi), (%dx)
    addr16 rep insb
    movsb
    movsw
    movsl
    cmpsl
    stosb
    lodsw
    scasl
    rep movsl
    repne scasb
    repe cmpsb
    rep stosb
    movsl %es:(%esi), %es:(%edi)
    iret
    iretw
    pushf
    pushfw
    popf
    popfw
    int $0x80
    .byte 0xcd, 0x03
    int3
    into
    int1
    mov %ax, %ss
    mov (%eax), %ss
    pop %ss
    sti
    cli
    hlt
    cpuid
    rdmsr
    wrmsr
    rdtsc
    rdtscp
    vmcall
    vmmcall
    tdcall
    invlpg (%eax)
    invlpg 0x11223344
    lgdt (%eax)
    lidt 6(%ebp)
    lgdtw (%eax)
    lldt %ax
    lldt (%eax)
    ltr %ax
    ltr (%ebx)
    ud2
    ljmp $0x10, $0x100000
    ljmpw $0x10, $0x1000
    lcall $0x8, $0x100
    ljmp *(%eax)
    ljmpw *(%eax)
    lcall *4(%esi)
    sysenter
    sysexit
    syscall
    sysret
    xsetbv
    pause
    monitor
    mwait
    wbinvd
    invd
    .byte 0xf3, 0xf3, 0xa4
    .byte 0xf3, 0xf2, 0xae
    .byte 0x2e, 0x65, 0x8b, 0x03
    .byte 0x66, 0x67, 0x8b, 0x07
    .byte 0x67, 0x67, 0x8b, 0x07
    .byte 0x48, 0x8b, 0x03
sym:
    .byte 0
