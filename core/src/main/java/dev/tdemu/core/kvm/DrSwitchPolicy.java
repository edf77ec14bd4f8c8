package dev.tdemu.core.kvm;

import dev.tdemu.core.host.HostBreakpoint;
import dev.tdemu.core.host.HostCpu;
import dev.tdemu.core.x86.BreakpointLength;
import dev.tdemu.core.x86.BreakpointType;
import dev.tdemu.core.x86.DebugRegisterFile;
import dev.tdemu.core.x86.DrOperation;

import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The five variants of vcpu_enter_guest's DR handling of the seed review. Each is a policy file
 * under core/src/main/resources/policies ({@link #program()}), which {@link VcpuEnterGuest} runs;
 * the table below is what those files do, and {@link #loadsGuestDebugRegisters} /
 * {@link #hostRestoreAfterExit} read it back from the files.
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
 * Further policies (DEBUGCTL, DR6, SEV-ES) are in {@link BuiltinPolicies} by name.
 */
public enum DrSwitchPolicy {
    /** Before AUTO_SWITCH existed: a TD vCPU has no such flag (switchDbRegs starts at 0). */
    PRE_TDX,
    /** 2020 RFC: skip the host restore entirely when AUTO_SWITCH. */
    V1_SKIP_RESTORE,
    /** The seed patch: the entry side ignores AUTO_SWITCH, the exit path is unchanged from PRE_TDX. */
    V5_AS_POSTED,
    /** The review's proposal: with AUTO_SWITCH restore only DR7 ← cpu_dr7. */
    DR7_ONLY,
    /** Merged: never load guest DRs with AUTO_SWITCH, always fully restore active host breakpoints. */
    UPSTREAM;

    /** What KVM writes back to the physical DRs after the exit when host breakpoints are active. */
    public enum HostRestore {
        /** Nothing. */
        NONE,
        /** DR7 ← cpu_dr7 only. */
        DR7,
        /** hw_breakpoint_restore(): DR0–3 ← cpu_debugreg, DR6 ← 0xFFFF0FF0, DR7 ← cpu_dr7. */
        FULL
    }

    /** The policy file this value stands for (builtin:NAME.textproto). */
    public PolicyProgram program() {
        return BuiltinPolicies.require(name());
    }

    /** Whether this kernel has KVM_DEBUGREG_AUTO_SWITCH at all (so TD vCPUs start with it). */
    public boolean hasAutoSwitchFlag() {
        return program().hasAutoSwitchFlag();
    }

    private static final long MARK = 0x7E57_0000L;
    private static final long HOST_ADDRESS = 0xFFFF_FFFF_8100_0000L;

    /** Before entry: does the program load the guest's DRs (effDb) for this switch_db_regs? */
    public boolean loadsGuestDebugRegisters(SwitchDbRegs s) {
        KvmVcpu v = KvmVcpu.vmx(program());
        v.kvmSetDr(0, MARK);
        v.forceSwitchDbRegs(s);
        DrSequence seq = VcpuEnterGuest.beforeEntry(v, new HostCpu(0), new DebugRegisterFile());
        return seq.writes().contains(DrOperation.set(0, MARK));
    }

    /** After exit (and after the WONT_EXIT sync): what the program restores for the host. */
    public HostRestore hostRestoreAfterExit(SwitchDbRegs s, boolean hwBreakpointActive) {
        DebugRegisterFile cpu = new DebugRegisterFile();
        HostCpu host = new HostCpu(0);
        if (hwBreakpointActive) {
            host.installBreakpoint(new HostBreakpoint(HOST_ADDRESS, BreakpointType.EXECUTE, BreakpointLength.ONE), cpu);
        }
        KvmVcpu v = KvmVcpu.vmx(program());
        v.forceSwitchDbRegs(s.without(SwitchDbRegs.WONT_EXIT));
        List<DrOperation> writes = VcpuEnterGuest.afterExit(v, host, cpu).writes();
        Set<Integer> regs = writes.stream().map(DrOperation::reg).collect(Collectors.toSet());
        if (writes.isEmpty()) {
            return HostRestore.NONE;
        }
        if (writes.equals(List.of(DrOperation.set(7, host.cpuDr7().value())))) {
            return HostRestore.DR7;
        }
        if (regs.equals(Set.of(0, 1, 2, 3, 6, 7))) {
            return HostRestore.FULL;
        }
        throw new IllegalStateException("policy " + this + " restores " + writes + ", which is none of " + List.of(HostRestore.values()));
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
