package dev.tdemu.core.vmx;

import dev.tdemu.core.x86.PendingDebug;

/**
 * Exit qualification of a #DB exit (basic reason 0, vector 1): the pending debug conditions,
 * B0–B3 in bits 3:0, BD in bit 13, BS in bit 14. DR6 is not updated by a #DB that exits.
 */
public record DebugExitQualification(PendingDebug pending) {

    public static DebugExitQualification fromBits(long bits) {
        return new DebugExitQualification(new PendingDebug(bits));
    }

    public long bits() {
        return pending.bits();
    }

    public boolean b(int slot) {
        return pending.b(slot);
    }

    public boolean bd() {
        return pending.bd();
    }

    public boolean bs() {
        return pending.bs();
    }
}
