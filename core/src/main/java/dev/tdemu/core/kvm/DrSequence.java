package dev.tdemu.core.kvm;

import dev.tdemu.core.x86.DrOperation;
import dev.tdemu.core.x86.MsrOperation;

import java.util.List;

/**
 * The debug-register operations one step of vcpu_enter_guest performed, in order, and apart from
 * them the IA32_DEBUGCTL accesses of the same step (empty for policies that do not model DEBUGCTL).
 */
public record DrSequence(List<DrOperation> operations, List<MsrOperation> msrOperations) {

    /** What {@code dr} recorded. */
    public static DrSequence of(dev.tdemu.core.x86.RecordingDrAccess dr) {
        return dr.isEmpty() ? EMPTY : new DrSequence(dr.operations(), dr.msrOperations());
    }

    public DrSequence {
        operations = List.copyOf(operations);
        msrOperations = List.copyOf(msrOperations);
    }

    /** A sequence of DR operations only. */
    public DrSequence(List<DrOperation> operations) {
        this(operations, List.of());
    }

    public static final DrSequence EMPTY = new DrSequence(List.of());

    /** Only the writes, which is what changes the hardware. */
    public List<DrOperation> writes() {
        return operations.stream().filter(o -> o instanceof DrOperation.Set).toList();
    }

    /** No DR operation (MSR accesses do not count: the seed's sequences are DR-only). */
    public boolean isEmpty() {
        return operations.isEmpty();
    }

    @Override
    public String toString() {
        return msrOperations.isEmpty() ? operations.toString() : operations + " " + msrOperations;
    }
}
