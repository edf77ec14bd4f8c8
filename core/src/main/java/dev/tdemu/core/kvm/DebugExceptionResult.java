package dev.tdemu.core.kvm;

import dev.tdemu.core.x86.Dr6;

/** What the emulator does after {@link KvmVcpu#handleDebugException}. */
public sealed interface DebugExceptionResult {

    /** The debugger owns this #DB: stop the vCPU and send {@code stop} (KVM_EXIT_DEBUG). */
    record ReportToDebugger(DebugStop stop) implements DebugExceptionResult {
    }

    /**
     * The #DB is the guest's: inject vector 1 into it. Its DR6 in KVM's view (or the debug TD's
     * saved DR6) is already updated to {@code guestDr6}; the emulator must not touch the physical DR6.
     */
    record Reinject(Dr6 guestDr6) implements DebugExceptionResult {
    }
}
