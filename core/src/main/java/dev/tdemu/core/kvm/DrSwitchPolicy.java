package dev.tdemu.core.kvm;

/**
 * The variants of vcpu_enter_guest's DR handling proposed upstream, as data: when the guest's
 * debug registers are loaded before entry ({@link LoadCondition}) and how the host's are put back
 * after exit ({@link ExitRestore}). This table is DESIGN.md section 5; {@link VcpuEnterGuest}
 * executes it.
 *
 * <table>
 *   <caption>policy table</caption>
 *   <tr><th>policy</th><th>load before entry when</th><th>host restore after exit (host BPs active)</th></tr>
 *   <tr><td>PRE_TDX</td><td>switchDbRegs ≠ 0</td><td>full</td></tr>
 *   <tr><td>V1_SKIP_RESTORE</td><td>(switchDbRegs &amp; ~AUTO_SWITCH) ≠ 0</td><td>full; none with AUTO_SWITCH</td></tr>
 *   <tr><td>V5_AS_POSTED</td><td>(switchDbRegs &amp; ~AUTO_SWITCH) ≠ 0</td><td>full</td></tr>
 *   <tr><td>DR7_ONLY</td><td>(switchDbRegs &amp; ~AUTO_SWITCH) ≠ 0</td><td>full; DR7 only with AUTO_SWITCH</td></tr>
 *   <tr><td>UPSTREAM</td><td>switchDbRegs ≠ 0 and AUTO_SWITCH clear</td><td>full</td></tr>
 * </table>
 * When the load condition is false and host breakpoints are active, every policy writes DR7 ← 0x400.
 */
public enum DrSwitchPolicy {
    /** Before AUTO_SWITCH existed: a TD vCPU has no such flag (switchDbRegs starts at 0). */
    PRE_TDX(LoadCondition.ANY_FLAG, ExitRestore.FULL, false),
    /** 2020 RFC: skip the host restore entirely when AUTO_SWITCH. */
    V1_SKIP_RESTORE(LoadCondition.ANY_FLAG_EXCEPT_AUTO_SWITCH, ExitRestore.NONE_WITH_AUTO_SWITCH, true),
    /** The seed patch: the entry side ignores AUTO_SWITCH, the exit path is unchanged from PRE_TDX. */
    V5_AS_POSTED(LoadCondition.ANY_FLAG_EXCEPT_AUTO_SWITCH, ExitRestore.FULL, true),
    /** The review's proposal: with AUTO_SWITCH restore only DR7 ← cpu_dr7. */
    DR7_ONLY(LoadCondition.ANY_FLAG_EXCEPT_AUTO_SWITCH, ExitRestore.DR7_ONLY_WITH_AUTO_SWITCH, true),
    /** Merged: never load guest DRs with AUTO_SWITCH, always fully restore active host breakpoints. */
    UPSTREAM(LoadCondition.ANY_FLAG_UNLESS_AUTO_SWITCH, ExitRestore.FULL, true);

    /** Whether KVM loads the guest's effective DRs (instead of only clearing DR7) before entry. */
    public enum LoadCondition {
        ANY_FLAG {
            @Override
            public boolean loads(SwitchDbRegs s) {
                return !s.isEmpty();
            }
        },
        ANY_FLAG_EXCEPT_AUTO_SWITCH {
            @Override
            public boolean loads(SwitchDbRegs s) {
                return !s.without(SwitchDbRegs.AUTO_SWITCH).isEmpty();
            }
        },
        ANY_FLAG_UNLESS_AUTO_SWITCH {
            @Override
            public boolean loads(SwitchDbRegs s) {
                return !s.isEmpty() && !s.autoSwitch();
            }
        };

        public abstract boolean loads(SwitchDbRegs s);
    }

    /** What KVM writes back to the physical DRs after the exit when host breakpoints are active. */
    public enum HostRestore {
        /** Nothing. */
        NONE,
        /** DR7 ← cpu_dr7 only. */
        DR7,
        /** hw_breakpoint_restore(): DR0–3 ← cpu_debugreg, DR6 ← 0xFFFF0FF0, DR7 ← cpu_dr7. */
        FULL
    }

    /** The exit path's restore rule. */
    public enum ExitRestore {
        FULL {
            @Override
            public HostRestore restore(SwitchDbRegs s, boolean hostActive) {
                return hostActive ? HostRestore.FULL : HostRestore.NONE;
            }
        },
        NONE_WITH_AUTO_SWITCH {
            @Override
            public HostRestore restore(SwitchDbRegs s, boolean hostActive) {
                return hostActive && !s.autoSwitch() ? HostRestore.FULL : HostRestore.NONE;
            }
        },
        DR7_ONLY_WITH_AUTO_SWITCH {
            @Override
            public HostRestore restore(SwitchDbRegs s, boolean hostActive) {
                if (!hostActive) {
                    return HostRestore.NONE;
                }
                return s.autoSwitch() ? HostRestore.DR7 : HostRestore.FULL;
            }
        };

        public abstract HostRestore restore(SwitchDbRegs s, boolean hostActive);
    }

    private final LoadCondition loadCondition;
    private final ExitRestore exitRestore;
    private final boolean hasAutoSwitchFlag;

    DrSwitchPolicy(LoadCondition loadCondition, ExitRestore exitRestore, boolean hasAutoSwitchFlag) {
        this.loadCondition = loadCondition;
        this.exitRestore = exitRestore;
        this.hasAutoSwitchFlag = hasAutoSwitchFlag;
    }

    public LoadCondition loadCondition() {
        return loadCondition;
    }

    public ExitRestore exitRestore() {
        return exitRestore;
    }

    /** Whether this kernel has KVM_DEBUGREG_AUTO_SWITCH at all (so TD vCPUs start with it). */
    public boolean hasAutoSwitchFlag() {
        return hasAutoSwitchFlag;
    }

    /** Before entry: load the guest's DRs? */
    public boolean loadsGuestDebugRegisters(SwitchDbRegs s) {
        return loadCondition.loads(s);
    }

    /** After exit (and after the WONT_EXIT sync): what to restore for the host. */
    public HostRestore hostRestoreAfterExit(SwitchDbRegs s, boolean hwBreakpointActive) {
        return exitRestore.restore(s, hwBreakpointActive);
    }

    public static DrSwitchPolicy fromProto(dev.tdemu.proto.DrSwitchPolicy p) {
        return switch (p) {
            case DR_SWITCH_POLICY_PRE_TDX -> PRE_TDX;
            case DR_SWITCH_POLICY_V1_SKIP_RESTORE -> V1_SKIP_RESTORE;
            case DR_SWITCH_POLICY_V5_AS_POSTED -> V5_AS_POSTED;
            case DR_SWITCH_POLICY_DR7_ONLY -> DR7_ONLY;
            case DR_SWITCH_POLICY_UPSTREAM -> UPSTREAM;
            default -> throw new IllegalArgumentException("no DR switch policy given: " + p);
        };
    }

    public dev.tdemu.proto.DrSwitchPolicy toProto() {
        return switch (this) {
            case PRE_TDX -> dev.tdemu.proto.DrSwitchPolicy.DR_SWITCH_POLICY_PRE_TDX;
            case V1_SKIP_RESTORE -> dev.tdemu.proto.DrSwitchPolicy.DR_SWITCH_POLICY_V1_SKIP_RESTORE;
            case V5_AS_POSTED -> dev.tdemu.proto.DrSwitchPolicy.DR_SWITCH_POLICY_V5_AS_POSTED;
            case DR7_ONLY -> dev.tdemu.proto.DrSwitchPolicy.DR_SWITCH_POLICY_DR7_ONLY;
            case UPSTREAM -> dev.tdemu.proto.DrSwitchPolicy.DR_SWITCH_POLICY_UPSTREAM;
        };
    }
}
