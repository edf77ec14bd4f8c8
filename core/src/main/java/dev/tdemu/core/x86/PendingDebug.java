package dev.tdemu.core.x86;

/**
 * A set of debug conditions a #DB reports: B0–B3 (bits 0–3), BD (bit 13), BS (bit 14).
 *
 * <p>The layout is DR6's, and also that of the VMX #DB exit qualification and pending-debug-exceptions
 * field, so the same value travels from the matcher to DR6 or to a VM exit unchanged.
 */
public record PendingDebug(long bits) {

    public static final long B_MASK = Dr6.B_MASK;
    public static final long BD = Dr6.BD;
    public static final long BS = Dr6.BS;
    public static final long VALID = B_MASK | BD | BS;

    public static final PendingDebug NONE = new PendingDebug(0);

    public PendingDebug {
        if ((bits & ~VALID) != 0) {
            throw new IllegalArgumentException(String.format(
                    "pending debug conditions are B0-B3, BD and BS; 0x%x has other bits", bits));
        }
    }

    /** B bits for the slots in {@code mask} (bit n = slot n). */
    public static PendingDebug ofSlots(int mask) {
        return new PendingDebug(mask & B_MASK);
    }

    public static PendingDebug singleStep() {
        return new PendingDebug(BS);
    }

    public static PendingDebug generalDetect() {
        return new PendingDebug(BD);
    }

    public boolean b(int slot) {
        return (bits & (1L << Dr7.checkSlot(slot))) != 0;
    }

    public int bMask() {
        return (int) (bits & B_MASK);
    }

    public boolean bd() {
        return (bits & BD) != 0;
    }

    public boolean bs() {
        return (bits & BS) != 0;
    }

    public boolean isEmpty() {
        return bits == 0;
    }

    public PendingDebug or(PendingDebug other) {
        return new PendingDebug(bits | other.bits);
    }

    /** These conditions without the B bits of the slots in {@code mask}. */
    public PendingDebug withoutSlots(int mask) {
        return new PendingDebug(bits & ~(mask & B_MASK));
    }

    @Override
    public String toString() {
        return String.format("PendingDebug[0x%x]", bits);
    }
}
