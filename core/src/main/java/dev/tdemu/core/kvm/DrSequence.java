package dev.tdemu.core.kvm;

import dev.tdemu.core.x86.DrOperation;

import java.util.List;

/** The debug-register operations one step of vcpu_enter_guest performed, in order. */
public record DrSequence(List<DrOperation> operations) {

    public DrSequence {
        operations = List.copyOf(operations);
    }

    public static final DrSequence EMPTY = new DrSequence(List.of());

    /** Only the writes, which is what changes the hardware. */
    public List<DrOperation> writes() {
        return operations.stream().filter(o -> o instanceof DrOperation.Set).toList();
    }

    public boolean isEmpty() {
        return operations.isEmpty();
    }

    @Override
    public String toString() {
        return operations.toString();
    }
}
