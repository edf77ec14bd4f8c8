package dev.tdemu.core.kvm;

import dev.tdemu.core.invariant.Invariant;
import dev.tdemu.core.invariant.Violation;
import dev.tdemu.core.vmx.ExitReason;
import dev.tdemu.core.x86.DebugRegisters;

import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * One guest run under one policy as {@link PolicyDiff} compares it: the entry and exit sequences,
 * the hardware while the guest ran and when KVM was done with the exit, and the invariant
 * violations found. The emulator builds these from its own runs; {@link PolicyModelRun} from a
 * {@link ModelScenario}.
 *
 * @param exit              1 for the first exit
 * @param reason            why the guest exited
 * @param entrySequence     KVM's operations before the entry
 * @param exitSequence      KVM's operations after the exit
 * @param hwInGuest         DR0–3/DR6/DR7 once the guest runs
 * @param hwAfterExit       DR0–3/DR6/DR7 when KVM is done with the exit
 * @param debugctlInGuest   IA32_DEBUGCTL while the guest runs
 * @param debugctlAfterExit IA32_DEBUGCTL when KVM is done with the exit
 * @param violations        every invariant violation of this entry and exit
 */
public record ExitObservation(int exit, ExitReason reason, DrSequence entrySequence, DrSequence exitSequence,
                              DebugRegisters hwInGuest, DebugRegisters hwAfterExit, long debugctlInGuest,
                              long debugctlAfterExit, List<Violation> violations) {

    public ExitObservation {
        violations = List.copyOf(violations);
    }

    /** The invariants that failed, by name order. */
    public Set<Invariant> failed() {
        return violations.stream().map(Violation::invariant).collect(Collectors.toCollection(TreeSet::new));
    }
}
