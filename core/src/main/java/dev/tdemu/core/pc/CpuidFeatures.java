package dev.tdemu.core.pc;

/**
 * The instruction-set feature bits a guest may be told about: what the CPU engine executes and
 * what tdemu's devices back. Bits that describe topology or state (APIC, HTT, HYPERVISOR,
 * OSXSAVE) are filled in by {@link CpuidModel}. Bit names follow Linux's X86_FEATURE_* flags.
 *
 * <p>x2APIC and the TSC-deadline timer are device features tdemu's {@link LocalApic} backs, not
 * instructions, so a profile may offer them or not ({@link #withoutX2apic()},
 * {@link #withoutTscDeadline()}); the local APIC and {@link MsrFile} follow the profile. A profile
 * that claims something tdemu cannot honour (XSAVE, AVX, MONITOR, VMX, SVM, PCID, TSC_ADJUST,
 * SPEC_CTRL, ARCH_CAPABILITIES) is refused at construction.
 */
public record CpuidFeatures(int leaf1Edx, int leaf1Ecx, int leaf6Eax, int leaf7Ebx, int leaf7Ecx, int leaf7Edx,
        int ext1Ecx, int ext1Edx, int physicalAddressBits, int linearAddressBits) {

    // CPUID.01H:EDX
    public static final int FPU = 1;
    public static final int VME = 1 << 1;
    public static final int DE = 1 << 2;
    public static final int PSE = 1 << 3;
    public static final int TSC = 1 << 4;
    public static final int MSR = 1 << 5;
    public static final int PAE = 1 << 6;
    public static final int MCE = 1 << 7;
    public static final int CX8 = 1 << 8;
    public static final int APIC = 1 << 9;
    public static final int SEP = 1 << 11;
    public static final int MTRR = 1 << 12;
    public static final int PGE = 1 << 13;
    public static final int MCA = 1 << 14;
    public static final int CMOV = 1 << 15;
    public static final int PAT = 1 << 16;
    public static final int PSE36 = 1 << 17;
    public static final int CLFLUSH = 1 << 19;
    public static final int MMX = 1 << 23;
    public static final int FXSR = 1 << 24;
    public static final int XMM = 1 << 25;
    public static final int XMM2 = 1 << 26;
    public static final int HT = 1 << 28;
    // CPUID.01H:ECX
    public static final int XMM3 = 1;
    public static final int MWAIT = 1 << 3;
    public static final int VMX = 1 << 5;
    public static final int SSSE3 = 1 << 9;
    public static final int CX16 = 1 << 13;
    public static final int PCID = 1 << 17;
    public static final int XMM4_1 = 1 << 19;
    public static final int XMM4_2 = 1 << 20;
    public static final int X2APIC = 1 << 21;
    public static final int POPCNT = 1 << 23;
    public static final int TSC_DEADLINE_TIMER = 1 << 24;
    public static final int XSAVE = 1 << 26;
    public static final int OSXSAVE = 1 << 27;
    public static final int AVX = 1 << 28;
    public static final int HYPERVISOR = 1 << 31;
    // CPUID.06H:EAX
    public static final int ARAT = 1 << 2;
    // CPUID.(07H,0):EBX and EDX
    public static final int TSC_ADJUST = 1 << 1;
    /** CPUID.(07H,0):ECX. */
    public static final int RDPID = 1 << 22;
    public static final int SPEC_CTRL = 1 << 26;
    public static final int ARCH_CAPABILITIES = 1 << 29;
    // CPUID.80000001H:ECX and EDX
    public static final int LAHF_LM = 1;
    public static final int SVM = 1 << 2;
    public static final int SYSCALL = 1 << 11;
    public static final int NX = 1 << 20;
    public static final int GBPAGES = 1 << 26;
    public static final int RDTSCP = 1 << 27;
    public static final int LM = 1 << 29;

    /** QEMU's TCG_PHYS_ADDR_BITS, which the engine uses for its page walks. */
    public static final int PHYSICAL_ADDRESS_BITS = 40;

    /**
     * The engine tdemu runs: Unicorn 2.1.1's default x86-64 model ("qemu64") after its own
     * TCG feature filter (target/i386/cpu.c, qemu64 definition and TCG_*_FEATURES): FPU to SSE2,
     * SSE3, CX16, LAHF, SYSCALL, NX, long mode. The engine rejects every instruction of a feature
     * its model lacks (SSSE3, SSE4, POPCNT, XSAVE, ... are #UD), so none is advertised, except
     * RDTSCP and RDPID: tdemu's CPU layer performs those on the engine's #UD (the TSC is the
     * machine's virtual clock anyway, IA32_TSC_AUX is the engine's).
     * SEP is left out although the model has it: the engine's CPU is AMD-flavoured and makes
     * SYSENTER #UD in 64-bit mode, where an Intel CPU executes it. ARAT (the APIC timer keeps
     * running in deep C-states) describes tdemu's timer, which never stops. x2APIC and the
     * TSC-deadline timer are tdemu's local APIC's, as KVM offers them on every host.
     */
    public static final CpuidFeatures UNICORN_QEMU64 = new CpuidFeatures(
            FPU | DE | PSE | TSC | MSR | PAE | MCE | CX8 | APIC | MTRR | PGE | MCA | CMOV | PAT | PSE36 | CLFLUSH | MMX
                    | FXSR | XMM | XMM2,
            XMM3 | CX16 | X2APIC | TSC_DEADLINE_TIMER,
            ARAT,
            0, RDPID, 0,
            LAHF_LM,
            SYSCALL | NX | RDTSCP | LM,
            PHYSICAL_ADDRESS_BITS, 48);

    public CpuidFeatures {
        refuse(leaf1Ecx, XSAVE | OSXSAVE | AVX, "XSAVE/AVX: CPUID leaf 0xD and XCR0 are not modelled");
        refuse(leaf1Ecx, MWAIT, "MONITOR/MWAIT: CPUID leaf 5 and MWAIT are not modelled");
        refuse(leaf1Ecx, VMX, "VMX: nested virtualization is not offered");
        refuse(leaf1Ecx, PCID, "PCID: the engine's TCG does not implement it");
        refuse(leaf1Edx, HT, "HTT: set from the vCPU count by CpuidModel");
        refuse(leaf7Ebx, TSC_ADJUST, "TSC_ADJUST: IA32_TSC_ADJUST is not modelled");
        refuse(leaf7Edx, SPEC_CTRL | ARCH_CAPABILITIES, "SPEC_CTRL/ARCH_CAPABILITIES: those MSRs are not modelled");
        refuse(ext1Ecx, SVM, "SVM: nested virtualization is not offered");
        if (physicalAddressBits < 36 || physicalAddressBits > 52 || (linearAddressBits != 48 && linearAddressBits != 57)) {
            throw new IllegalArgumentException(String.format("address widths %d physical / %d linear are not an x86-64 CPU's",
                    physicalAddressBits, linearAddressBits));
        }
    }

    private static void refuse(int word, int bits, String what) {
        if ((word & bits) != 0) {
            throw new IllegalArgumentException("CPUID profile claims " + what);
        }
    }

    public boolean nx() {
        return (ext1Edx & NX) != 0;
    }

    public boolean longMode() {
        return (ext1Edx & LM) != 0;
    }

    public boolean syscall() {
        return (ext1Edx & SYSCALL) != 0;
    }

    public boolean rdtscp() {
        return (ext1Edx & RDTSCP) != 0;
    }

    // CR4 bits (SDM Vol. 3 2.5) and the CPUID.(07H,0) bits that offer them
    private static final long CR4_VME = 1, CR4_PVI = 1 << 1, CR4_TSD = 1 << 2, CR4_DE = 1 << 3, CR4_PSE = 1 << 4,
            CR4_PAE = 1 << 5, CR4_MCE = 1 << 6, CR4_PGE = 1 << 7, CR4_PCE = 1 << 8, CR4_OSFXSR = 1 << 9,
            CR4_OSXMMEXCPT = 1 << 10, CR4_UMIP = 1 << 11, CR4_LA57 = 1 << 12, CR4_VMXE = 1 << 13, CR4_FSGSBASE = 1 << 16,
            CR4_PCIDE = 1 << 17, CR4_OSXSAVE = 1 << 18, CR4_SMEP = 1 << 20, CR4_SMAP = 1 << 21, CR4_PKE = 1 << 22,
            CR4_CET = 1 << 23;
    private static final int LEAF7_EBX_FSGSBASE = 1, LEAF7_EBX_SMEP = 1 << 7, LEAF7_EBX_SMAP = 1 << 20;
    private static final int LEAF7_ECX_UMIP = 1 << 2, LEAF7_ECX_PKU = 1 << 3, LEAF7_ECX_SHSTK = 1 << 7, LEAF7_ECX_LA57 = 1 << 16;
    private static final int LEAF7_EDX_IBT = 1 << 20;

    /**
     * The CR4 bits a MOV to CR4 may not set on this CPU (#GP(0)): the architecturally reserved
     * ones (SMXE among them: no SMX) and each feature's enable bit whose feature CPUID does not
     * offer, as KVM's {@code __cr4_reserved_bits} derives them from the guest's CPUID.
     */
    public long cr4ReservedBits() {
        long allowed = CR4_VME | CR4_PVI | CR4_TSD | CR4_DE | CR4_PSE | CR4_PAE | CR4_MCE | CR4_PGE | CR4_PCE | CR4_OSFXSR
                | CR4_OSXMMEXCPT;
        allowed |= (leaf1Ecx & XSAVE) != 0 ? CR4_OSXSAVE : 0;
        allowed |= (leaf1Ecx & PCID) != 0 ? CR4_PCIDE : 0;
        allowed |= (leaf1Ecx & VMX) != 0 ? CR4_VMXE : 0;
        allowed |= (leaf7Ebx & LEAF7_EBX_FSGSBASE) != 0 ? CR4_FSGSBASE : 0;
        allowed |= (leaf7Ebx & LEAF7_EBX_SMEP) != 0 ? CR4_SMEP : 0;
        allowed |= (leaf7Ebx & LEAF7_EBX_SMAP) != 0 ? CR4_SMAP : 0;
        allowed |= (leaf7Ecx & LEAF7_ECX_UMIP) != 0 ? CR4_UMIP : 0;
        allowed |= (leaf7Ecx & LEAF7_ECX_PKU) != 0 ? CR4_PKE : 0;
        allowed |= (leaf7Ecx & LEAF7_ECX_LA57) != 0 ? CR4_LA57 : 0;
        allowed |= (leaf7Ecx & LEAF7_ECX_SHSTK) != 0 || (leaf7Edx & LEAF7_EDX_IBT) != 0 ? CR4_CET : 0;
        return ~allowed;
    }

    /** RDPID (CPUID.(07H,0):ECX[22]): reads IA32_TSC_AUX, which exists when RDTSCP or RDPID is offered. */
    public boolean rdpid() {
        return (leaf7Ecx & RDPID) != 0;
    }

    public boolean pat() {
        return (leaf1Edx & PAT) != 0;
    }

    public boolean mtrr() {
        return (leaf1Edx & MTRR) != 0;
    }

    /** Machine-check architecture: the MCG and MCi MSRs exist. */
    public boolean mca() {
        return (leaf1Edx & (MCE | MCA)) == (MCE | MCA);
    }

    public boolean apic() {
        return (leaf1Edx & APIC) != 0;
    }

    /** CPUID.01H:ECX.x2APIC: IA32_APIC_BASE.EXTD may be set and the x2APIC MSRs exist in x2APIC mode. */
    public boolean x2apic() {
        return (leaf1Ecx & X2APIC) != 0;
    }

    /** CPUID.01H:ECX.TSC_Deadline: LVT timer mode 10b and IA32_TSC_DEADLINE exist. */
    public boolean tscDeadline() {
        return (leaf1Ecx & TSC_DEADLINE_TIMER) != 0;
    }

    /** This profile without x2APIC (for a mode or guest that must stay on the xAPIC). */
    public CpuidFeatures withoutX2apic() {
        return withLeaf1Ecx(leaf1Ecx & ~X2APIC);
    }

    /** This profile without the TSC-deadline timer. */
    public CpuidFeatures withoutTscDeadline() {
        return withLeaf1Ecx(leaf1Ecx & ~TSC_DEADLINE_TIMER);
    }

    /** This profile with another MAXPHYADDR (IA32_APIC_BASE, MTRR masks and CPUID.80000008H follow it). */
    public CpuidFeatures withPhysicalAddressBits(int bits) {
        return new CpuidFeatures(leaf1Edx, leaf1Ecx, leaf6Eax, leaf7Ebx, leaf7Ecx, leaf7Edx, ext1Ecx, ext1Edx, bits,
                linearAddressBits);
    }

    private CpuidFeatures withLeaf1Ecx(int ecx) {
        return new CpuidFeatures(leaf1Edx, ecx, leaf6Eax, leaf7Ebx, leaf7Ecx, leaf7Edx, ext1Ecx, ext1Edx, physicalAddressBits,
                linearAddressBits);
    }
}
