package dev.tdemu.emulator.vm;

import dev.tdemu.core.invariant.Violation;
import dev.tdemu.core.kvm.KvmWarning;
import java.util.List;

/**
 * How a VM ended.
 *
 * @param exitStatus     the guest's exit status (0..255), or -1 when it did not exit by itself
 * @param firstViolation the first invariant violation and the exit where it happened, if any
 */
public record VmResult(Outcome outcome, String detail, int exitStatus, String console, long exits,
                       List<Violation> violations, long violatingExits, ExitEvent firstViolation, List<KvmWarning> warnings,
                       long hostBreakpointHits) {
    public enum Outcome {
        /** The guest exited with a status (exit port or hypercall). */
        EXITED,
        /** Every vCPU halted without an exit status. */
        HALTED,
        TRIPLE_FAULT,
        /** An access outside guest RAM. */
        MEMORY_FAULT,
        /** A TD reported a fatal error (TDG.VP.VMCALL<ReportFatalError>). */
        FATAL_ERROR,
        TIMEOUT,
        /** A debugger killed the VM. */
        KILLED,
        /** The VMM was told to stop (SIGINT, SIGTERM); the detail names the signal. */
        INTERRUPTED,
        /** The guest used something tdemu does not model (a TDCALL leaf, a device feature); the detail says what. */
        NOT_MODELLED,
        /** A bug in tdemu; the detail says what. */
        INTERNAL_ERROR
    }

    public VmResult {
        violations = List.copyOf(violations);
        warnings = List.copyOf(warnings);
    }

    /** The process exit status `tdemu run` reports: the guest's, or 1 when it did not exit cleanly. */
    public int processExitStatus() {
        return outcome == Outcome.EXITED ? exitStatus : 1;
    }
}
