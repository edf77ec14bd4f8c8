package dev.tdemu.core.invariant;

import dev.tdemu.core.host.HostCpu;
import dev.tdemu.core.kvm.DebugStop;
import dev.tdemu.core.kvm.KvmVcpu;
import dev.tdemu.core.tdx.TdVcpu;
import dev.tdemu.core.x86.Access;
import dev.tdemu.core.x86.BreakpointMatcher;
import dev.tdemu.core.x86.CpuMode;
import dev.tdemu.core.x86.DebugException;
import dev.tdemu.core.x86.DebugRegisterFile;
import dev.tdemu.core.x86.Debugctl;
import dev.tdemu.core.x86.DebugRegisters;
import dev.tdemu.core.x86.Dr6;
import dev.tdemu.core.x86.Dr7;
import dev.tdemu.core.x86.ExceptionVector;
import dev.tdemu.proto.InvariantVerdict;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/** The invariant checks. Every method is pure and returns the violations found. */
public final class InvariantChecks {

    private InvariantChecks() {
    }

    /**
     * HOST_BREAKPOINTS_INTACT, at each return to the host: when hwBreakpointActive(), physical DR7
     * equals cpu_dr7 and DRn equals cpu_debugreg[n] for every slot n enabled in cpu_dr7. Without
     * active host breakpoints there is nothing to keep.
     */
    public static List<Violation> hostBreakpointsIntact(HostCpu host, DebugRegisters physical) {
        if (!host.hwBreakpointActive()) {
            return List.of(); // checked at every exit: nothing to allocate when there is nothing to keep
        }
        List<Violation> v = new ArrayList<>();
        Dr7 want = host.cpuDr7();
        for (int n = 0; n < 4; n++) {
            if (want.enabled(n) && physical.dr(n) != host.cpuDebugreg(n)) {
                v.add(new Violation(Invariant.HOST_BREAKPOINTS_INTACT, String.format(
                        "DR%d: expected 0x%x (cpu_debugreg[%d]), actual 0x%x", n, host.cpuDebugreg(n), n, physical.dr(n))));
            }
        }
        if (!physical.dr7().equals(want)) {
            v.add(new Violation(Invariant.HOST_BREAKPOINTS_INTACT, String.format(
                    "DR7: expected 0x%x (cpu_dr7), actual 0x%x", want.value(), physical.dr7().value())));
        }
        return v;
    }

    /**
     * GUEST_BREAKPOINTS_INTACT, the guest's view: for a VMX vCPU KVM's db/dr6/dr7, for a TD vCPU the
     * TD's saved DRs, equal {@code expected}, what the guest last wrote (the caller folds delivered
     * #DBs into the expected DR6 with {@link Dr6#deliver}).
     */
    public static List<Violation> guestViewIntact(KvmVcpu vcpu, DebugRegisters expected) {
        DebugRegisters actual = vcpu.isTd() ? vcpu.tdVcpu().savedDebugRegisters() : vcpu.guestView();
        String whose = vcpu.isTd() ? "TD saved" : "guest view";
        return compareAll(Invariant.GUEST_BREAKPOINTS_INTACT, whose, expected, actual);
    }

    /**
     * GUEST_BREAKPOINTS_INTACT at guest entry ({@code physicalInGuest} taken after VM entry or
     * TDH.VP.ENTER): for VMX, DRn equals effDb[n] for each slot n enabled in the effective DR7 and
     * DR7 equals the effective DR7; for a TD, all six registers equal the TD's saved state.
     */
    public static List<Violation> guestBreakpointsLoaded(KvmVcpu vcpu, DebugRegisters physicalInGuest) {
        if (vcpu.isTd()) {
            return compareAll(Invariant.GUEST_BREAKPOINTS_INTACT, "TD saved state vs hardware",
                    vcpu.tdVcpu().savedDebugRegisters(), physicalInGuest);
        }
        if (vcpu.backing() instanceof dev.tdemu.core.kvm.VcpuBacking.SevEs e) {
            // KVM loads nothing for an SEV-ES guest: with DebugSwap VMRUN loads the VMSA's DRs, without it
            // the guest runs on the host's DR0-3 (only DR6/DR7 are the VMSA's).
            return e.vmsa().sevFeatures().debugSwap() ? compareAll(Invariant.GUEST_BREAKPOINTS_INTACT,
                    "VMSA vs hardware", e.vmsa().debugRegisters(), physicalInGuest) : List.of();
        }
        Dr7 eff = vcpu.effectiveDr7();
        if (!eff.anyEnabled() && physicalInGuest.dr7().equals(eff)) {
            return List.of(); // checked at every entry: the common clean case allocates nothing
        }
        List<Violation> v = new ArrayList<>();
        for (int n = 0; n < 4; n++) {
            if (eff.enabled(n) && physicalInGuest.dr(n) != vcpu.effDb(n)) {
                v.add(new Violation(Invariant.GUEST_BREAKPOINTS_INTACT, String.format(
                        "DR%d at guest entry: expected 0x%x (effDb[%d]), actual 0x%x", n, vcpu.effDb(n), n,
                        physicalInGuest.dr(n))));
            }
        }
        if (!physicalInGuest.dr7().equals(eff)) {
            v.add(new Violation(Invariant.GUEST_BREAKPOINTS_INTACT, String.format(
                    "DR7 at guest entry: expected 0x%x (effective DR7), actual 0x%x", eff.value(),
                    physicalInGuest.dr7().value())));
        }
        return v;
    }

    /**
     * NO_LEAK after a TD exit and KVM's exit path, for a non-debug TD (a debug TD's DRs are the
     * host's to see): no physical DRn holds the TD's DRn value unless that value is 0 (INIT) or the
     * host's own cpu_debugreg[n]; and physical DR7 has no L/G enable bit that cpu_dr7 lacks.
     */
    public static List<Violation> noLeakAfterExit(TdVcpu td, HostCpu host, DebugRegisters physical) {
        List<Violation> v = new ArrayList<>();
        if (td.attributes().debug()) {
            return v;
        }
        DebugRegisters tdRegs = td.savedDebugRegisters();
        for (int n = 0; n < 4; n++) {
            long t = tdRegs.dr(n);
            if (physical.dr(n) == t && t != 0 && t != host.cpuDebugreg(n)) {
                v.add(new Violation(Invariant.NO_LEAK, String.format(
                        "DR%d after TD exit: holds the TD's value 0x%x; expected 0 or the host's 0x%x",
                        n, t, host.cpuDebugreg(n))));
            }
        }
        long foreign = physical.dr7().value() & Dr7.ENABLE_MASK & ~host.cpuDr7().value();
        if (foreign != 0) {
            v.add(new Violation(Invariant.NO_LEAK, String.format(
                    "DR7 after TD exit: 0x%x has enable bits 0x%x the host did not set (cpu_dr7 0x%x)",
                    physical.dr7().value(), foreign, host.cpuDr7().value())));
        }
        return v;
    }

    /**
     * NO_LEAK at TD entry ({@code physicalInGuest} after TDH.VP.ENTER), for a non-debug TD: the
     * hardware holds exactly the TD's state, so no host DR value is visible inside it.
     */
    public static List<Violation> noLeakAtEntry(TdVcpu td, DebugRegisters physicalInGuest) {
        if (td.attributes().debug()) {
            return List.of();
        }
        return compareAll(Invariant.NO_LEAK, "TD state vs hardware at TD entry", td.savedDebugRegisters(),
                physicalInGuest);
    }

    /**
     * DEBUGGER_BREAKPOINTS_EXACT for one guest access {@code hit}: against the debugger's
     * registers ({@code debugger}: its DR0–3 and DR7), if the access meets an enabled slot, exactly
     * one stop must have been reported, a #DB at {@code expectedRip} with DR6 = reset value plus
     * the B bits of every matching slot (nothing else) and DR7 = the debugger's; if it meets none,
     * no stop may have been reported. Instruction hits are checked without RF.
     */
    public static List<Violation> debuggerBreakpointsExact(DebugRegisters debugger, Access hit, CpuMode mode,
                                                           long expectedRip, List<DebugStop> stops) {
        Optional<DebugException> expected = switch (hit) {
            case Access.InstructionFetch f -> BreakpointMatcher.instructionFetch(debugger, f.linearAddress(), false, mode);
            default -> BreakpointMatcher.afterInstruction(debugger, List.of(hit), false, mode);
        };
        List<Violation> v = new ArrayList<>();
        if (expected.isEmpty()) {
            if (!stops.isEmpty()) {
                v.add(new Violation(Invariant.DEBUGGER_BREAKPOINTS_EXACT,
                        hit + " meets no debugger breakpoint but " + stops.size() + " stop(s) were reported: " + stops));
            }
            return v;
        }
        if (stops.size() != 1) {
            v.add(new Violation(Invariant.DEBUGGER_BREAKPOINTS_EXACT,
                    hit + ": expected exactly one stop, got " + stops.size() + ": " + stops));
            return v;
        }
        DebugStop stop = stops.getFirst();
        if (stop.exception() != ExceptionVector.DB) {
            v.add(new Violation(Invariant.DEBUGGER_BREAKPOINTS_EXACT, "stop: expected #DB, actual " + stop.exception()));
        }
        if (stop.rip() != expectedRip) {
            v.add(new Violation(Invariant.DEBUGGER_BREAKPOINTS_EXACT, String.format(
                    "RIP: expected 0x%x, actual 0x%x", expectedRip, stop.rip())));
        }
        long wantDr6 = expected.get().pending().bits() | Dr6.RESET.value();
        if (stop.dr6().value() != wantDr6) {
            v.add(new Violation(Invariant.DEBUGGER_BREAKPOINTS_EXACT, String.format(
                    "DR6: expected 0x%x, actual 0x%x", wantDr6, stop.dr6().value())));
        }
        if (!stop.dr7().equals(debugger.dr7())) {
            v.add(new Violation(Invariant.DEBUGGER_BREAKPOINTS_EXACT, String.format(
                    "DR7: expected 0x%x (the debugger's), actual 0x%x", debugger.dr7().value(), stop.dr7().value())));
        }
        return v;
    }

    /**
     * HOST_BREAKPOINTS_INTACT for AMD's breakpoint address masks, at each return to the host: for
     * every slot enabled in cpu_dr7, DRn_ADDR_MASK is the host's (amd_get_dr_addr_mask), since a
     * mask of 0 turns a range breakpoint into an exact one (what SEV-ES DebugSwap does when #VMEXIT
     * loads masks KVM never saved).
     */
    public static List<Violation> hostDrAddrMasksIntact(HostCpu host, DebugRegisterFile cpu) {
        List<Violation> v = new ArrayList<>();
        if (!host.hwBreakpointActive()) {
            return v;
        }
        for (int n = 0; n < 4; n++) {
            if (host.cpuDr7().enabled(n) && cpu.drAddrMask(n) != host.amdGetDrAddrMask(n)) {
                v.add(new Violation(Invariant.HOST_BREAKPOINTS_INTACT, String.format(
                        "DR%d_ADDR_MASK: expected 0x%x (amd_get_dr_addr_mask(%d)), actual 0x%x", n,
                        host.amdGetDrAddrMask(n), n, cpu.drAddrMask(n))));
            }
        }
        return v;
    }

    /**
     * HOST_DEBUGCTL_INTACT at each return to the host: IA32_DEBUGCTL is the host's own value (LBR,
     * BTF, FREEZE_IN_SMM ...), whatever the VM exit or the TDX module left.
     */
    public static List<Violation> hostDebugctlIntact(HostCpu host, long physicalDebugctl) {
        if (physicalDebugctl == host.debugctl()) {
            return List.of();
        }
        return List.of(new Violation(Invariant.HOST_DEBUGCTL_INTACT, String.format(
                "IA32_DEBUGCTL after the exit: expected 0x%x (%s, the host's), actual 0x%x (%s)", host.debugctl(),
                Debugctl.describe(host.debugctl()), physicalDebugctl, Debugctl.describe(physicalDebugctl))));
    }

    /**
     * HOST_DEBUGCTL_INTACT while the guest runs ({@code debugctlInGuest} after the hardware entry):
     * FREEZE_IN_SMM is the host's, because an SMI during the guest runs SMM with whatever DEBUGCTL
     * is loaded and the host's counters must stay frozen there.
     */
    public static List<Violation> hostDebugctlKeptInGuest(HostCpu host, long debugctlInGuest) {
        long want = host.debugctl() & Debugctl.FREEZE_IN_SMM;
        if ((debugctlInGuest & Debugctl.FREEZE_IN_SMM) == want) {
            return List.of();
        }
        return List.of(new Violation(Invariant.HOST_DEBUGCTL_INTACT, String.format(
                "IA32_DEBUGCTL in the guest: FREEZE_IN_SMM is %d, the host's is %d (an SMI now counts SMM in the host's PMU)",
                (debugctlInGuest & Debugctl.FREEZE_IN_SMM) != 0 ? 1 : 0, want != 0 ? 1 : 0)));
    }

    /**
     * DR6_RESET_VALUE at each return to the host: physical DR6 is 0xFFFF0FF0. A stale status bit
     * would be reported by the host's next #DB; BLD (bit 11) read as 0 is reported as a bus lock.
     */
    public static List<Violation> dr6ResetValue(DebugRegisters physical) {
        Dr6 dr6 = physical.dr6();
        if (dr6.isResetValue()) {
            return List.of();
        }
        return List.of(new Violation(Invariant.DR6_RESET_VALUE, String.format(
                "DR6: expected 0x%x (DR6_RESERVED), actual 0x%x%s", Dr6.FIXED_ONES, dr6.value(),
                dr6.busLockDetected() ? " (BLD clear: the host's next #DB reports a bus lock)" : "")));
    }

    /**
     * HOST_BREAKPOINTS_DISABLED_AT_ENTRY after KVM's entry sequence and before the hardware entry
     * ({@code afterSequence}): while the host has breakpoints, DR7 enables none.
     */
    public static List<Violation> hostBreakpointsDisabledAtEntry(HostCpu host, DebugRegisters afterSequence) {
        if (!host.hwBreakpointActive() || !afterSequence.dr7().anyEnabled()) {
            return List.of();
        }
        return List.of(new Violation(Invariant.HOST_BREAKPOINTS_DISABLED_AT_ENTRY, String.format(
                "DR7 before the hardware entry: 0x%x still arms breakpoints (cpu_dr7 0x%x); expected 0x400",
                afterSequence.dr7().value(), host.cpuDr7().value())));
    }

    /** One trace verdict for {@code invariant}: holds when {@code violations} is empty. */
    public static InvariantVerdict verdict(Invariant invariant, List<Violation> violations) {
        InvariantVerdict.Builder b = InvariantVerdict.newBuilder().setInvariant(invariant.name()).setHolds(true);
        List<Violation> mine = violations.stream().filter(x -> x.invariant() == invariant).toList();
        if (!mine.isEmpty()) {
            b.setHolds(false).setDetail(mine.stream().map(Violation::detail).collect(Collectors.joining("; ")));
        }
        return b.build();
    }

    private static List<Violation> compareAll(Invariant inv, String what, DebugRegisters expected, DebugRegisters actual) {
        List<Violation> v = new ArrayList<>();
        for (int reg : new int[] {0, 1, 2, 3, 6, 7}) {
            if (expected.read(reg) != actual.read(reg)) {
                v.add(new Violation(inv, String.format("DR%d (%s): expected 0x%x, actual 0x%x", reg, what,
                        expected.read(reg), actual.read(reg))));
            }
        }
        return v;
    }
}
