package dev.tdemu.core.tdx;

import java.util.List;

/**
 * How the TDX module treats RDMSR and WRMSR in a TD (the TDX module 1.5 ABI's "MSR
 * Virtualization" table): an MSR the TD's MSR bitmap passes through is accessed natively; an
 * intercepted one is #GP, #VE (the TD asks the host with TDG.VP.VMCALL&lt;Instruction.RDMSR/WRMSR&gt;)
 * or answered by the module itself. An MSR the table does not list is intercepted and becomes #VE.
 *
 * <p>tdemu models a TD with the default attributes and XFAM: no performance monitoring, PT, CET,
 * LBR, user interrupts, PKS, TSX, WAITPKG or AMX, so the MSRs whose treatment depends on those
 * (the table's dynamic bits) are #GP here. Where the real module inspects the value (EFER, XSS,
 * DEBUGCTL) tdemu performs the access natively.
 */
public final class TdMsrVirtualization {

    /** What one access to one MSR does in the TD. */
    public enum Treatment {
        /** Not intercepted: the CPU accesses the MSR itself. */
        NATIVE,
        /** Intercepted: #VE, for the TD to handle (usually by TDG.VP.VMCALL). */
        VE,
        /** Intercepted: #GP(0). */
        GP,
        /** Intercepted and answered by the module with a fixed virtual value (reads only). */
        MODULE
    }

    /** One row: the MSRs first..last, how a read and a write of them are treated, and the module's value for MODULE reads. */
    record Row(String name, long first, long last, Treatment read, Treatment write, long moduleValue) {
        Row(String name, long first, long last, Treatment read, Treatment write) {
            this(name, first, last, read, write, 0);
        }

        boolean covers(long msr) {
            return msr >= first && msr <= last;
        }
    }

    private static final Treatment N = Treatment.NATIVE, V = Treatment.VE, G = Treatment.GP, M = Treatment.MODULE;

    /** IA32_XAPIC_DISABLE_STATUS: LEGACY_XAPIC_DISABLED, a TD's local APIC is x2APIC only. */
    public static final long XAPIC_DISABLE_STATUS_VALUE = 1;
    /** IA32_MISC_ENABLE as the module reports it: fast strings, BTS and PEBS unavailable. */
    public static final long MISC_ENABLE_VALUE = 0x1 | 1L << 11 | 1L << 12;

    private static final List<Row> ROWS = List.of(
            new Row("IA32_TIME_STAMP_COUNTER", 0x10, 0x10, N, V),
            new Row("IA32_SPEC_CTRL", 0x48, 0x48, N, N),
            new Row("IA32_PRED_CMD", 0x49, 0x49, N, N),
            new Row("IA32_MKTME_PARTITIONING", 0x87, 0x87, V, V),
            new Row("IA32_SGXLEPUBKEYHASH0..3", 0x8C, 0x8F, G, G),
            new Row("MSR_WBINVDP", 0x98, 0x98, G, G),
            new Row("MSR_WBNOINVDP", 0x99, 0x99, G, G),
            new Row("MSR_INTR_PENDING", 0x9A, 0x9A, G, G),
            new Row("IA32_SMM_MONITOR_CTL", 0x9B, 0x9B, G, G),
            new Row("IA32_SMBASE", 0x9E, 0x9E, G, G),
            new Row("IA32_MISC_PACKAGE_CTLS", 0xBC, 0xBC, N, V),
            new Row("IA32_XAPIC_DISABLE_STATUS", 0xBD, 0xBD, M, N, XAPIC_DISABLE_STATUS_VALUE),
            new Row("IA32_PMC0..7", 0xC1, 0xC8, G, G),
            new Row("IA32_UMWAIT_CONTROL", 0xE1, 0xE1, G, G),
            new Row("IA32_ARCH_CAPABILITIES", 0x10A, 0x10A, M, N),
            new Row("IA32_FLUSH_CMD", 0x10B, 0x10B, N, N),
            new Row("IA32_TSX_CTRL", 0x122, 0x122, G, G),
            new Row("IA32_SYSENTER_CS", 0x174, 0x176, N, N),
            new Row("IA32_PERFEVTSEL0..7", 0x186, 0x18D, G, G),
            new Row("IA32_OVERCLOCKING_STATUS", 0x195, 0x195, G, G),
            new Row("IA32_MISC_ENABLE", 0x1A0, 0x1A0, M, V, MISC_ENABLE_VALUE),
            new Row("MSR_OFFCORE_RSP0..1", 0x1A6, 0x1A7, G, G),
            new Row("IA32_XFD", 0x1C4, 0x1C5, G, G),
            new Row("IA32_DEBUGCTL", 0x1D9, 0x1D9, N, N),
            new Row("IA32_PLATFORM_DCA_CAP", 0x1F8, 0x1FA, V, V),
            new Row("MSR_SLAM_ENABLE", 0x276, 0x276, G, G),
            new Row("IA32_PAT", 0x277, 0x277, N, N),
            new Row("IA32_FIXED_CTR0..7", 0x309, 0x310, G, G),
            new Row("IA32_PERF_METRICS", 0x329, 0x329, G, G),
            new Row("IA32_PERF_CAPABILITIES", 0x345, 0x345, M, G),
            new Row("IA32_FIXED_CTR_CTRL..PERF_GLOBAL_INUSE", 0x38D, 0x392, G, G),
            new Row("IA32_PEBS_ENABLE", 0x3F1, 0x3F2, G, G),
            new Row("MSR_PEBS_LD_LATENCY", 0x3F6, 0x3F7, G, G),
            // No VMX in a TD: CPUID reports none, and the capability MSRs cannot be read.
            new Row("IA32_VMX_BASIC..PROCBASED_CTLS3", 0x480, 0x492, G, G),
            new Row("IA32_A_PMC0..7", 0x4C1, 0x4C8, G, G),
            new Row("IA32_SGX_SVN_STATUS", 0x500, 0x500, G, G),
            new Row("IA32_RTIT_*", 0x560, 0x587, G, G),
            new Row("IA32_DS_AREA", 0x600, 0x600, N, N),
            new Row("IA32_U_CET..INTERRUPT_SSP_TABLE_ADDR", 0x6A0, 0x6A8, G, G),
            new Row("IA32_TSC_DEADLINE", 0x6E0, 0x6E0, V, V),
            new Row("IA32_PKRS", 0x6E1, 0x6E1, G, G),
            // The x2APIC: the registers APIC virtualization handles are native, the rest #VE
            // (unlisted), the reserved ones #GP.
            new Row("x2APIC reserved", 0x800, 0x801, G, G),
            new Row("x2APIC reserved", 0x804, 0x807, G, G),
            new Row("IA32_X2APIC_TPR..EOI", 0x808, 0x80C, N, N),
            new Row("x2APIC reserved", 0x80E, 0x80E, N, N),
            new Row("IA32_X2APIC_ISR0..IRR7", 0x810, 0x827, N, N),
            new Row("x2APIC reserved", 0x829, 0x82E, G, G),
            new Row("x2APIC reserved", 0x831, 0x831, G, G),
            new Row("IA32_X2APIC_SELF_IPI", 0x83F, 0x83F, N, N),
            new Row("x2APIC reserved", 0x840, 0x8FF, G, G),
            new Row("IA32_TME_CAPABILITY..EXCLUDE_BASE", 0x981, 0x984, V, V),
            new Row("IA32_UINTR_*", 0x985, 0x98A, G, G),
            new Row("IA32_DEBUG_INTERFACE", 0xC80, 0xC80, N, V),
            new Row("IA32_BNDCFGS", 0xD90, 0xD90, G, G),
            new Row("IA32_PASID", 0xD93, 0xD93, G, G),
            new Row("IA32_XSS", 0xDA0, 0xDA0, N, N),
            new Row("IA32_LBR_INFO_*", 0x1200, 0x12FF, G, G),
            new Row("IA32_LBR_CTL..DEPTH", 0x14CE, 0x14CF, G, G),
            new Row("IA32_LBR_x_FROM_IP/TO_IP", 0x1500, 0x16FF, G, G),
            new Row("IA32_UARCH_MISC_CTL", 0x1B01, 0x1B01, N, N),
            new Row("IA32_EFER", 0xC000_0080L, 0xC000_0080L, N, N),
            new Row("IA32_STAR..FMASK", 0xC000_0081L, 0xC000_0084L, N, N),
            new Row("IA32_FS_BASE..TSC_AUX", 0xC000_0100L, 0xC000_0103L, N, N));

    private TdMsrVirtualization() {}

    /** How {@code write ? WRMSR : RDMSR} of MSR {@code msr} (ECX, zero-extended) is treated. */
    public static Treatment treatment(long msr, boolean write) {
        Row row = row(msr);
        if (row == null) {
            return Treatment.VE;
        }
        return write ? row.write() : row.read();
    }

    /** The value the module answers a {@link Treatment#MODULE} read of {@code msr} with. */
    public static long moduleValue(long msr) {
        Row row = row(msr);
        if (row == null || row.read() != Treatment.MODULE) {
            throw new IllegalArgumentException(String.format("the TDX module does not answer RDMSR 0x%x itself", msr));
        }
        return row.moduleValue();
    }

    /** The architectural name of {@code msr} in the table, or null when the table does not list it. */
    public static String name(long msr) {
        Row row = row(msr);
        return row == null ? null : row.name();
    }

    private static Row row(long msr) {
        for (Row r : ROWS) {
            if (r.covers(msr)) {
                return r;
            }
        }
        return null;
    }
}
