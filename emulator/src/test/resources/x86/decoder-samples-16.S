# 16-bit samples: decoded as 16-bit protected mode (CS.D=0); see make-decoder-samples.sh.
    .text
    .code16
    nop
    mov %ax, %bx
    mov %eax, %ebx
    mov (%bx,%si), %ax
    mov (%bx,%di), %ax
    mov (%bp,%si), %ax
    mov (%bp,%di), %ax
    mov (%si), %ax
    mov (%di), %ax
    mov 0x1234, %ax
    mov (%bx), %ax
    mov 0x12(%bx,%si), %ax
    mov -0x1234(%bp,%di), %cx
    mov 0x10(%bp), %dx
    mov -2(%si), %dx
    mov %es:0x10(%bp), %dx
    mov %cs:(%si), %ax
    mov %ss:(%bx), %ax
    mov %ds:2(%bp), %ax
    mov %fs:(%di), %ax
    mov %gs:2(%bx,%si), %ax
    mov %es:0x1234, %ax
    mov (%eax), %ax
    mov 0x10(%eax,%ebx,4), %ecx
    mov (%esp), %ax
    mov 8(%ebp), %ax
    mov 0x12345678(,%esi,2), %ax
    mov 0x1234, %al
    mov %ax, 0x5678
    mov %fs:0x1234, %al
    movw $0x1234, (%bx)
    movl $0x12345678, 4(%bx,%di)
    mov $0x1234, %ax
    mov $0x12345678, %eax
    add $0x1234, %ax
    add $0x12345678, %eax
    add $5, %al
    addw $5, (%bx)
    imul $0x1000, (%si), %cx
    test $0x1234, %dx
    testb $1, (%bx)
    testw $1, (%bx)
    testl $1, (%bx)
    shl $3, %ax
    lea 4(%bp,%si), %ax
    lock incw (%bx)
    xchg %ax, (%di)
    inc %ax
    dec %cx
    push %es
    pop %es
    push %cs
    pusha
    popa
    daa
    aam
    aad $0x10
    arpl %ax, (%bx)
    les (%bx), %ax
    lds 2(%bx), %si
    bound %ax, (%bx)
    push $0x1234
    push $1
    pushl $0x12345678
    enter $16, $0
    leave
    ret $8
    ret
    lret
    lret $4
    call sym
    jmp sym
    jne sym
    je .
    jcxz .
    loop .
    jmp *%ax
    call *(%bx)
    xlat
    flds (%bx)
    movaps %xmm0, (%bx)
    pshufd $0x1b, %xmm0, %xmm1
    pinsrd $1, %eax, %xmm0
    pshufb %xmm1, %xmm0
    vmovdqu (%bx), %ymm0
    vpaddd %ymm1, %ymm2, %ymm3
    vpermq $0x4e, %ymm0, %ymm1
    vaddps %zmm1, %zmm2, %zmm3
    mov %eax, %cr0
    mov %cr3, %eax
    mov %cr4, %ebx
    mov %eax, %dr7
    mov %dr6, %ecx
    clts
    lmsw %ax
    lmsw (%bx)
    smsw %ax
    smsw (%bx)
    in $0x80, %al
    in $0x80, %ax
    in $0x80, %eax
    out %al, $0x80
    out %ax, $0x71
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
    rep insb
    rep outsw
    outsb %fs:(%si), (%dx)
    movsb
    movsw
    movsl
    cmpsb
    stosw
    lodsl
    scasb
    rep movsb
    repne scasb
    repe cmpsw
    rep stosl
    movsb %fs:(%si), %es:(%di)
    addr32 rep movsb
    iret
    iretl
    pushf
    pushfl
    popf
    popfl
    int $0x80
    .byte 0xcd, 0x03
    int3
    into
    int1
    mov %ax, %ss
    mov (%bx), %ss
    pop %ss
    mov %ax, %ds
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
    invlpg (%bx)
    invlpg 0x1234
    lgdt (%bx)
    lidt 6(%bp)
    lgdtl (%bx)
    lldt %ax
    lldt (%bx)
    ltr %ax
    ltr (%bx)
    ud2
    ljmp $0x10, $0x1000
    ljmpl $0x10, $0x12345678
    lcall $0x8, $0x100
    ljmp *(%bx)
    ljmpl *(%bx)
    lcall *4(%si)
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
    .byte 0xf2, 0xf3, 0xa4
    .byte 0x26, 0x64, 0x8b, 0x07
    .byte 0x66, 0x67, 0x8b, 0x00
    .byte 0x66, 0x66, 0x66, 0x90
sym:
    .byte 0
