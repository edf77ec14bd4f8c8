package dev.tdemu.core.invariant;

import dev.tdemu.proto.InvariantVerdict;

/**
 * One way an invariant failed.
 *
 * @param detail human-readable: the register, the expected and the actual value
 */
public record Violation(Invariant invariant, String detail) {

    public InvariantVerdict toVerdict() {
        return InvariantVerdict.newBuilder().setInvariant(invariant.name()).setHolds(false).setDetail(detail).build();
    }

    @Override
    public String toString() {
        return invariant + ": " + detail;
    }
}
