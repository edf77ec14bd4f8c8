package dev.tdemu.core.x86;

import java.util.ArrayList;
import java.util.List;

/**
 * IA32_DEBUGCTL (MSR 0x1D9): the bits tdemu names, with the kernel's DEBUGCTLMSR_* names, and the
 * masks KVM and the TDX module apply. The register itself is per physical CPU, in
 * {@link DebugRegisterFile}.
 */
public final class Debugctl {

    public static final int MSR_IA32_DEBUGCTLMSR = 0x1D9;

    /** Last-branch record. */
    public static final long LBR = 1L;
    /** Single-step on branches. */
    public static final long BTF = 1L << 1;
    /** Bus-lock detection: #DB (DR6.BLD cleared) after an instruction that locked the bus. */
    public static final long BUS_LOCK_DETECT = 1L << 2;
    public static final long FREEZE_LBRS_ON_PMI = 1L << 11;
    public static final long FREEZE_PERFMON_ON_PMI = 1L << 12;
    /** Performance counters and LBRs stop while the CPU is in SMM; SMI/RSM do not switch DEBUGCTL. */
    public static final long FREEZE_IN_SMM = 1L << 14;
    public static final long RTM_DEBUG = 1L << 15;

    /**
     * TDX_DEBUGCTL_PRESERVED: the host bits the TDX module puts back on TD exit; KVM must restore
     * the others itself ({@code if (host_debugctl & ~TDX_DEBUGCTL_PRESERVED)}).
     */
    public static final long TDX_DEBUGCTL_PRESERVED = BTF | FREEZE_PERFMON_ON_PMI | FREEZE_IN_SMM;

    private Debugctl() {
    }

    /** The bits of {@code value} by name, e.g. "LBR|FREEZE_IN_SMM", or "0". */
    public static String describe(long value) {
        List<String> names = new ArrayList<>();
        long rest = value;
        long[] bits = {LBR, BTF, BUS_LOCK_DETECT, FREEZE_LBRS_ON_PMI, FREEZE_PERFMON_ON_PMI, FREEZE_IN_SMM, RTM_DEBUG};
        String[] spelled = {"LBR", "BTF", "BUS_LOCK_DETECT", "FREEZE_LBRS_ON_PMI", "FREEZE_PERFMON_ON_PMI",
                "FREEZE_IN_SMM", "RTM_DEBUG"};
        for (int i = 0; i < bits.length; i++) {
            if ((rest & bits[i]) != 0) {
                names.add(spelled[i]);
                rest &= ~bits[i];
            }
        }
        if (rest != 0) {
            names.add(String.format("0x%x", rest));
        }
        return names.isEmpty() ? "0" : String.join("|", names);
    }
}
