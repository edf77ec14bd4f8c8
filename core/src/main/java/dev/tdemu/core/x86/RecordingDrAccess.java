package dev.tdemu.core.x86;

import java.util.ArrayList;
import java.util.List;

/** A {@link DrAccess} that performs each access on the underlying registers and records it. */
public final class RecordingDrAccess implements DrAccess {

    private final DrAccess target;
    private final List<DrOperation> operations = new ArrayList<>();
    private final List<MsrOperation> msrOperations = new ArrayList<>();

    public RecordingDrAccess(DrAccess target) {
        this.target = target;
    }

    @Override
    public long getDebugreg(int reg) {
        long value = target.getDebugreg(reg);
        operations.add(DrOperation.get(reg, value));
        return value;
    }

    @Override
    public void setDebugreg(int reg, long value) {
        target.setDebugreg(reg, value);
        operations.add(DrOperation.set(reg, value));
    }

    @Override
    public long getDebugctlmsr() {
        long value = target.getDebugctlmsr();
        msrOperations.add(new MsrOperation.Rdmsr(Debugctl.MSR_IA32_DEBUGCTLMSR, value));
        return value;
    }

    @Override
    public void updateDebugctlmsr(long value) {
        target.updateDebugctlmsr(value);
        msrOperations.add(new MsrOperation.Wrmsr(Debugctl.MSR_IA32_DEBUGCTLMSR, value));
    }

    /** The DR accesses so far, in order. */
    public List<DrOperation> operations() {
        return List.copyOf(operations);
    }

    /** The MSR accesses so far, in order. */
    public List<MsrOperation> msrOperations() {
        return List.copyOf(msrOperations);
    }
}
