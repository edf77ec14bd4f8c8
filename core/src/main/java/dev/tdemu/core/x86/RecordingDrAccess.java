package dev.tdemu.core.x86;

import java.util.ArrayList;
import java.util.List;

/** A {@link DrAccess} that performs each access on the underlying registers and records it. */
public final class RecordingDrAccess implements DrAccess {

    private final DrAccess target;
    private final List<DrOperation> operations = new ArrayList<>();

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

    /** The accesses so far, in order. */
    public List<DrOperation> operations() {
        return List.copyOf(operations);
    }
}
