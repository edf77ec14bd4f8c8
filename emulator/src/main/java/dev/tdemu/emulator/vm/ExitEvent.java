package dev.tdemu.emulator.vm;

import dev.tdemu.core.invariant.Invariant;
import dev.tdemu.core.invariant.InvariantChecks;
import dev.tdemu.core.invariant.Violation;
import dev.tdemu.core.kvm.KvmWarning;
import dev.tdemu.core.kvm.VcpuEnterGuest;
import dev.tdemu.core.vmx.ExitReason;
import dev.tdemu.core.x86.DebugRegisters;
import dev.tdemu.proto.ExitRecord;
import java.util.List;

/**
 * One VM exit as the run loop saw it: what the guest did, the physical debug registers around
 * the DR sequences, and the invariant verdicts. Observers (the trace writer, the check matrix,
 * the debugger) receive one per exit.
 *
 * @param sequence   exit number within the VM, from 1
 * @param tdcallLeaf for TDG.VP.VMCALL exits, the subfunction (R11), else 0
 * @param hostHits   #DB hits per slot the host workload saw after this exit (null: not run)
 * @param violations every invariant that failed at this exit
 * @param warnings   WARN_ON conditions KVM recorded during this exit
 */
public record ExitEvent(int vcpu, int physicalCpu, long sequence, ExitReason reason, long qualification, long rip,
                        long tdcallLeaf, VcpuEnterGuest.EntryTrace entry, VcpuEnterGuest.ExitTrace exit, int switchDbRegs,
                        DebugRegisters hostExpected, boolean hostBreakpointsActive, int[] hostHits,
                        List<Violation> violations, List<KvmWarning> warnings) {
    public ExitEvent {
        violations = List.copyOf(violations);
        warnings = List.copyOf(warnings);
        hostHits = hostHits == null ? null : hostHits.clone();
    }

    public boolean clean() {
        return violations.isEmpty();
    }

    /** The trace record of this exit (trace.proto). */
    public ExitRecord toProto() {
        ExitRecord.Builder b = ExitRecord.newBuilder().setSequence(sequence).setVcpu(vcpu).setPhysicalCpu(physicalCpu)
                .setBasicReason(reason.basic()).setReasonName(reason.name()).setQualification(qualification).setGuestRip(rip)
                .setHwBeforeEntry(entry.hwInGuest().toProto()).setHwAtExit(exit.hwAtExit().toProto())
                .setHwAfterDrSequence(exit.hwAfterSequence().toProto()).setSwitchDbRegs(switchDbRegs)
                .setHostExpected(hostExpected.toProto()).setHostBreakpointsActive(hostBreakpointsActive)
                .setTdcallLeaf((int) tdcallLeaf);
        warnings.forEach(w -> b.addWarnings(w.toString()));
        for (Invariant inv : Invariant.values()) {
            b.addVerdicts(InvariantChecks.verdict(inv, violations.stream().filter(v -> v.invariant() == inv).toList()));
        }
        return b.build();
    }
}
