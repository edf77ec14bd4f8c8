package dev.tdemu.emulator.machine;

/**
 * The structures the emulator builds in the first megabyte of guest RAM before a guest starts:
 * GDT, one 64-bit TSS per vCPU (with RSP0 and IST1 stacks) and identity page tables with 2 MiB
 * pages over all of RAM. {@link #entryState} gives the register values a vCPU starts with.
 * The layout is documented for guest authors in docs/guest-abi.md.
 */
public final class BootStructures {
    public static final long GDT_BASE = 0x1000;
    public static final long TSS_BASE = 0x2000;
    public static final long TSS_STRIDE = 0x80;
    public static final long PML4_BASE = 0x10000;
    public static final long RSP0_STACKS = 0x20000;
    public static final long IST1_STACKS = 0x60000;
    public static final long STACK_SIZE = 0x4000;
    public static final long IMAGE_BASE = 0x100000;
    public static final int MAX_VCPUS = 16;
    // Four page directories (0x12000..0x15FFF) fit below the RSP0 stacks.
    public static final long MAX_RAM = 4L << 30;

    public static final int KERNEL_CS = 0x08;
    public static final int KERNEL_DS = 0x10;
    public static final int USER_DS = 0x1b;
    public static final int USER_CS = 0x23;
    public static final int FIRST_TSS_SELECTOR = 0x28;

    static final long CODE64_DPL0 = 0x00AF9A000000FFFFL;
    static final long DATA_DPL0 = 0x00CF92000000FFFFL;
    static final long DATA_DPL3 = 0x00CFF2000000FFFFL;
    static final long CODE64_DPL3 = 0x00AFFA000000FFFFL;
    static final int TSS_LIMIT = 0x67;

    public static final long CR0 = 0x80010033L;  // PG WP NE ET MP PE
    public static final long CR4 = 0x620;         // OSXMMEXCPT OSFXSR PAE
    public static final long EFER = 0x500;        // LMA LME

    private static final long PTE_PRESENT = 1, PTE_WRITE = 2, PTE_USER = 4, PTE_LARGE = 0x80;

    /** Register values a vCPU starts with (see docs/guest-abi.md). */
    public record EntryState(long rip, long rsp, long rflags, long rdi, long rsi, long cr0, long cr3, long cr4,
                             long efer, long gdtBase, int gdtLimit, int cs, int ds, int tr, long trBase) {}

    private BootStructures() {}

    public static void build(GuestMemory mem, int vcpus) {
        if (vcpus < 1 || vcpus > MAX_VCPUS) {
            throw new IllegalArgumentException("vCPU count must be 1.." + MAX_VCPUS + ", not " + vcpus);
        }
        if (mem.size() > MAX_RAM) {
            throw new IllegalArgumentException("guest RAM above " + (MAX_RAM >> 30) + " GiB is not supported");
        }
        mem.fill(0, IMAGE_BASE, (byte) 0);
        long[] gdt = {0, CODE64_DPL0, DATA_DPL0, DATA_DPL3, CODE64_DPL3};
        for (int i = 0; i < gdt.length; i++) {
            mem.write64(GDT_BASE + 8L * i, gdt[i]);
        }
        for (int cpu = 0; cpu < vcpus; cpu++) {
            long tss = tssBase(cpu);
            mem.write64(tss + 4, RSP0_STACKS + (cpu + 1) * STACK_SIZE);   // RSP0
            mem.write64(tss + 36, IST1_STACKS + (cpu + 1) * STACK_SIZE);  // IST1
            mem.write16(tss + 102, TSS_LIMIT + 1);                        // no I/O permission bitmap
            long desc = GDT_BASE + tssSelector(cpu);
            mem.write64(desc, tssDescriptorLow(tss));
            mem.write64(desc + 8, tss >>> 32);
        }
        buildIdentityPageTables(mem);
    }

    static long tssDescriptorLow(long base) {
        // 64-bit available TSS (type 9), present, DPL0, byte-granular limit 0x67.
        return (TSS_LIMIT & 0xFFFFL) | ((base & 0xFFFFFFL) << 16) | (0x89L << 40) | (((base >>> 24) & 0xFF) << 56);
    }

    public static long tssBase(int cpu) {
        return TSS_BASE + cpu * TSS_STRIDE;
    }

    public static int tssSelector(int cpu) {
        return FIRST_TSS_SELECTOR + 16 * cpu;
    }

    public static int gdtLimit(int vcpus) {
        return FIRST_TSS_SELECTOR + 16 * vcpus - 1;
    }

    private static void buildIdentityPageTables(GuestMemory mem) {
        long pdpt = PML4_BASE + 0x1000;
        long firstPd = pdpt + 0x1000;
        long table = PTE_PRESENT | PTE_WRITE | PTE_USER;
        mem.write64(PML4_BASE, pdpt | table);
        long twoMiB = 2L << 20;
        long pages = mem.size() / twoMiB;
        for (long p = 0; p < pages; p++) {
            long pd = firstPd + (p / 512) * 0x1000;
            if (p % 512 == 0) {
                mem.write64(pdpt + 8 * (p / 512), pd | table);
            }
            mem.write64(pd + 8 * (p % 512), p * twoMiB | PTE_PRESENT | PTE_WRITE | PTE_USER | PTE_LARGE);
        }
    }

    public static EntryState entryState(GuestMemory mem, int cpu, int vcpus, long entry) {
        return new EntryState(entry, mem.size() - 16, 0x2, cpu, mem.size(), CR0, PML4_BASE, CR4, EFER,
                GDT_BASE, gdtLimit(vcpus), KERNEL_CS, KERNEL_DS, tssSelector(cpu), tssBase(cpu));
    }
}
