package dev.tdemu.core.x86;

import java.util.ArrayList;
import java.util.List;

/** A {@link DrAccess} that performs each access on the underlying registers and records it. */
public final class RecordingDrAccess implements DrAccess {

    private final DrAccess target;
    // Made at the first access: most phases of most exits access nothing.
    private List<DrOperation> operations;
    private List<MsrOperation> msrOperations;

    public RecordingDrAccess(DrAccess target) {
        this.target = target;
    }

    @Override
    public long getDebugreg(int reg) {
        long value = target.getDebugreg(reg);
        dr().add(DrOperation.get(reg, value));
        return value;
    }

    @Override
    public void setDebugreg(int reg, long value) {
        target.setDebugreg(reg, value);
        dr().add(DrOperation.set(reg, value));
    }

    @Override
    public long getDebugctlmsr() {
        long value = target.getDebugctlmsr();
        msr().add(new MsrOperation.Rdmsr(Debugctl.MSR_IA32_DEBUGCTLMSR, value));
        return value;
    }

    @Override
    public void updateDebugctlmsr(long value) {
        target.updateDebugctlmsr(value);
        msr().add(new MsrOperation.Wrmsr(Debugctl.MSR_IA32_DEBUGCTLMSR, value));
    }

    private List<DrOperation> dr() {
        if (operations == null) {
            operations = new ArrayList<>();
        }
        return operations;
    }

    private List<MsrOperation> msr() {
        if (msrOperations == null) {
            msrOperations = new ArrayList<>();
        }
        return msrOperations;
    }

    /** Whether no access was made yet. */
    public boolean isEmpty() {
        return operations == null && msrOperations == null;
    }

    /** The DR accesses so far, in order. */
    public List<DrOperation> operations() {
        return operations == null ? List.of() : List.copyOf(operations);
    }

    /** The MSR accesses so far, in order. */
    public List<MsrOperation> msrOperations() {
        return msrOperations == null ? List.of() : List.copyOf(msrOperations);
    }
}
