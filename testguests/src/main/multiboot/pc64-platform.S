/* pc64-platform: the PC's other devices and its empty places, from the guest's side.
 *
 *   fw_cfg.*     the legacy interface (16-bit select at 0x510, 8-bit data at 0x511): the "QEMU"
 *                signature, ID with the traditional-interface bit, NB_CPUS and MAX_CPUS 1, a read
 *                past an item's end and an unknown key read 0, a 16-bit data read all-ones;
 *                reported: RAM size, the file directory (count, then each file)
 *   unclaimed.*  ports nobody claims read all-ones at every width, and a write to one changes
 *                nothing
 *   mmio.*       outside RAM and the devices, reads are all-ones at every width and writes are
 *                dropped (at 3 GiB and right after the end of RAM)
 *   post.*       port 0x80 takes writes and reads all-ones
 *   pmtimer.*    the ACPI PM timer (0x608) counts up, 24 bits, and no faster than the TSC allows
 *                at 3.579545 MHz against 1 GHz
 *   cmos.*       status registers A, B, D and a BCD seconds value; reported: the memory sizes
 *                firmware reads at 0x30/0x31 and 0x34/0x35
 *   pci.*        configuration mechanism 1: CONFIG_ADDRESS reads back, 00:00.0 is the i440FX host
 *                bridge, 00:01.0 is absent
 *   pic.*        the masks the BIOS would have left (only the cascade open)
 *   ioapic.*     the I/O APIC's version register through IOREGSEL/IOWIN
 */
#define CONF_PC
#include "multiboot.inc"
#include "pc.inc"
#include "conformance.inc"
#include "pc64.inc"

/* \dst (a 64-bit register other than %rax/%rcx/%rdx) <- \count bytes of the fw_cfg item
   selected last, little-endian */
.macro FW_READ_LE count, dst
    xor     \dst, \dst
    mov     $FW_CFG_DATA, %dx
    mov     $0, %ecx
1:  inb     %dx, %al
    movzbl  %al, %eax
    shl     %cl, %rax
    or      %rax, \dst
    add     $8, %ecx
    cmp     $(8 * \count), %ecx
    jne     1b
.endm

.macro FW_SELECT key
    mov     $(\key), %ax
    mov     $FW_CFG_CTL, %dx
    outw    %ax, %dx
.endm

    .text
main64:
    /* ---- fw_cfg ---- */
    FW_SELECT FW_CFG_SIGNATURE
    FW_READ_LE 4, %rbx
    CHECK "fw_cfg.signature-qemu", $0x554D4551, %rbx
    FW_READ_LE 1, %rbx
    CHECK "fw_cfg.past-the-end-reads-0", $0, %rbx
    FW_SELECT FW_CFG_ID
    FW_READ_LE 4, %rbx
    CHECK_MASK "fw_cfg.id-traditional-interface", $1, %rbx, $1
    FW_SELECT FW_CFG_NB_CPUS
    FW_READ_LE 2, %rbx
    CHECK "fw_cfg.nb-cpus", $1, %rbx
    FW_SELECT FW_CFG_MAX_CPUS
    FW_READ_LE 2, %rbx
    CHECK "fw_cfg.max-cpus", $1, %rbx
    FW_SELECT 0x7777
    FW_READ_LE 4, %rbx
    CHECK "fw_cfg.unknown-key-reads-0", $0, %rbx
    FW_SELECT FW_CFG_SIGNATURE
    mov     $FW_CFG_DATA, %dx
    inw     %dx, %ax
    movzwl  %ax, %ebx
    CHECK "fw_cfg.16-bit-data-read-all-ones", $0xFFFF, %rbx
    FW_SELECT FW_CFG_RAM_SIZE
    FW_READ_LE 8, %rbx
    REPORT "fw_cfg.ram_size", %rbx
    FW_SELECT FW_CFG_FILE_DIR
    FW_READ_LE 4, %rbx                  /* the count is big-endian */
    bswap   %ebx
    REPORT "fw_cfg.files", %rbx
    mov     %rbx, %r12
2:  test    %r12, %r12
    jz      4f
    FW_READ_LE 4, %rbx                  /* size, big-endian */
    bswap   %ebx
    REPORT "fw_cfg.file.size", %rbx
    FW_READ_LE 4, %rbx                  /* select (big-endian 16 bits), reserved */
    REPORT "fw_cfg.file.select-reserved", %rbx
    mov     $56, %r13d                  /* the name: skipped */
3:  FW_READ_LE 1, %rbx
    dec     %r13d
    jnz     3b
    dec     %r12
    jmp     2b
4:

    /* ---- ports nobody claims ---- */
    mov     $0x1234, %dx
    inb     %dx, %al
    movzbl  %al, %ebx
    CHECK "unclaimed.byte-reads-0xff", $0xFF, %rbx
    mov     $0x278, %dx
    inw     %dx, %ax
    movzwl  %ax, %ebx
    CHECK "unclaimed.word-reads-0xffff", $0xFFFF, %rbx
    mov     $0x3E8, %dx
    inl     %dx, %eax
    mov     %eax, %ebx
    CHECK "unclaimed.dword-reads-0xffffffff", $0xFFFFFFFF, %rbx
    mov     $0xFA, %dx                  /* between isa-debug-exit (0xF4-0xF7) and the PIC */
    mov     $0, %eax
    outl    %eax, %dx
    inl     %dx, %eax
    mov     %eax, %ebx
    CHECK "unclaimed.write-is-dropped", $0xFFFFFFFF, %rbx
    mov     $0x514, %dx                 /* fw_cfg's DMA register: not modelled, so unclaimed */
    inl     %dx, %eax
    mov     %eax, %ebx
    CHECK "unclaimed.fw-cfg-dma-reads-all-ones", $0xFFFFFFFF, %rbx

    /* ---- MMIO nobody claims ---- */
    mov     $0xC0000000, %esi
    movzbl  (%rsi), %ebx
    CHECK "mmio.3g.byte-reads-0xff", $0xFF, %rbx
    movzwl  2(%rsi), %ebx
    CHECK "mmio.3g.word-reads-0xffff", $0xFFFF, %rbx
    mov     4(%rsi), %ebx
    CHECK "mmio.3g.dword-reads-all-ones", $0xFFFFFFFF, %rbx
    mov     8(%rsi), %rbx
    CHECK "mmio.3g.qword-reads-all-ones", $-1, %rbx
    movq    $0, 16(%rsi)
    mov     16(%rsi), %rbx
    CHECK "mmio.3g.write-is-dropped", $-1, %rbx
    mov     pc_mb_info(%rip), %rax
    mov     8(%rax), %esi               /* mem_upper: KiB above 1 MiB */
    add     $1024, %esi
    shl     $10, %rsi                   /* the end of RAM */
    REPORT  "mmio.ram_end", %rsi
    movl    $0, (%rsi)
    mov     (%rsi), %ebx
    CHECK "mmio.after-ram.write-dropped-dword-reads-all-ones", $0xFFFFFFFF, %rbx
    movq    $0x1122334455667788, %rax      /* the last RAM qword is still RAM */
    mov     %rax, -8(%rsi)
    mov     -8(%rsi), %rbx
    CHECK "mmio.last-qword-of-ram-is-ram", $0x1122334455667788, %rbx

    /* ---- port 0x80 ---- */
    mov     $POST_PORT, %dx
    mov     $0x42, %al
    outb    %al, %dx
    inb     %dx, %al
    movzbl  %al, %ebx
    CHECK "post.reads-0xff", $0xFF, %rbx

    /* ---- ACPI PM timer ---- */
    rdtsc
    shl     $32, %rdx
    or      %rax, %rdx
    mov     %rdx, %r12                  /* TSC before */
    mov     $PM_TIMER_PORT, %dx
    inl     %dx, %eax
    mov     %eax, %r13d                 /* PM before */
    mov     %eax, %ebx
    shr     $24, %ebx
    mov     %rbx, v0(%rip)
    CHECK "pmtimer.24-bits", $0, v0(%rip)
5:  pause                               /* until the timer moved on by at least 3580 (1 ms) */
    inl     %dx, %eax
    mov     %eax, %ebx
    sub     %r13d, %ebx
    and     $0xFFFFFF, %ebx
    cmp     $3580, %ebx
    jb      5b
    mov     %eax, %r14d                 /* PM after */
    rdtsc
    shl     $32, %rdx
    or      %rax, %rdx
    sub     %r12, %rdx                  /* TSC ticks (ns) across both reads */
    mov     %r14d, %eax
    sub     %r13d, %eax
    and     $0xFFFFFF, %eax
    cmp     $0x800000, %eax             /* moved forward, not back */
    setb    %bl
    movzbl  %bl, %ebx
    CHECK "pmtimer.counts-up", $1, %rbx
    dec     %eax
    imul    $279, %rax                  /* a PM tick is 279.4 ns */
    cmp     %rdx, %rax
    setbe   %bl
    movzbl  %bl, %ebx
    CHECK "pmtimer.no-faster-than-3.58-mhz-by-the-tsc", $1, %rbx

    /* ---- CMOS ---- */
    mov     $0x0A, %al
    call    cmos
    CHECK_MASK "cmos.reg-a-32khz-divider-1024hz", $0x26, %rbx, $0x7F
    mov     $0x0D, %al
    call    cmos
    CHECK "cmos.reg-d-valid-ram", $0x80, %rbx
    mov     $0x0B, %al
    call    cmos
    mov     %rbx, v0(%rip)
    CHECK_MASK "cmos.reg-b-no-interrupts-no-set", $0, v0(%rip), $0xF0
    mov     $0x00, %al
    call    cmos
    mov     %ebx, %ecx                  /* BCD (register B's DM bit clear) or binary: < 60 either way */
    testq   $4, v0(%rip)
    jnz     6f
    mov     %ebx, %eax
    and     $0xF, %eax
    shr     $4, %ecx
    imul    $10, %ecx
    add     %eax, %ecx
    cmp     $9, %eax
    jbe     6f
    mov     $99, %ecx
6:  cmp     $60, %ecx
    setb    %bl
    movzbl  %bl, %ebx
    CHECK "cmos.seconds-below-60", $1, %rbx
    mov     $0x30, %al
    call    cmos
    mov     %rbx, %r12
    mov     $0x31, %al
    call    cmos
    shl     $8, %rbx
    or      %r12, %rbx
    REPORT  "cmos.extended_kib", %rbx
    mov     $0x34, %al
    call    cmos
    mov     %rbx, %r12
    mov     $0x35, %al
    call    cmos
    shl     $8, %rbx
    or      %r12, %rbx
    REPORT  "cmos.above_16m_64k", %rbx
    mov     $(0x80 | 0x0D), %al         /* bit 7 of the index (NMI off) selects the same register */
    call    cmos
    CHECK "cmos.index-bit-7-is-not-part-of-the-index", $0x80, %rbx
    mov     $0x0D, %al
    call    cmos

    /* ---- PCI configuration mechanism 1 ---- */
    mov     $0xCF8, %dx
    mov     $0x80000000, %eax
    outl    %eax, %dx
    inl     %dx, %eax
    mov     %eax, %ebx
    CHECK "pci.config-address-reads-back", $0x80000000, %rbx
    mov     $0xCFC, %dx
    inl     %dx, %eax
    mov     %eax, %ebx
    CHECK "pci.00-00-0-is-the-i440fx", $0x12378086, %rbx
    mov     $0xCF8, %dx
    mov     $0x80000800, %eax
    outl    %eax, %dx
    mov     $0xCFC, %dx
    inl     %dx, %eax
    mov     %eax, %ebx
    CHECK "pci.00-01-0-is-absent", $0xFFFFFFFF, %rbx

    /* ---- the PIC masks ---- */
    mov     $0x21, %dx
    inb     %dx, %al
    movzbl  %al, %ebx
    CHECK "pic.master-masks-all-but-the-cascade", $0xFB, %rbx
    mov     $0xA1, %dx
    inb     %dx, %al
    movzbl  %al, %ebx
    CHECK "pic.slave-masks-all", $0xFF, %rbx

    /* ---- the I/O APIC ---- */
    mov     $0xFEC00000, %esi
    movl    $1, (%rsi)                  /* IOREGSEL = IOAPICVER */
    mov     0x10(%rsi), %ebx            /* IOWIN */
    CHECK "ioapic.version-0x20-24-pins", $0x170020, %rbx

    CONF_FINISH "pc64-platform"

/* cmos: CMOS register %al into %rbx (clobbers %rax, %rdx) */
cmos:
    mov     $CMOS_INDEX, %dx
    outb    %al, %dx
    mov     $CMOS_DATA, %dx
    inb     %dx, %al
    movzbl  %al, %ebx
    ret

    .data
    .balign 8
v0: .quad 0

    .text
    CONF_RUNTIME
    PC64_RUNTIME
