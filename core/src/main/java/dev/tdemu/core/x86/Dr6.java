package dev.tdemu.core.x86;

/**
 * DR6, the debug status register, holding the value software reads back.
 *
 * <p>Writable bits: B0–B3 (0–3), BD (13), BS (14), BT (15). Bits 4–11 and 16–31 read as 1 and bit
 * 12 as 0; the reset value is 0xFFFF0FF0. The active-low bits BLD (11) and RTM (16) are modelled as
 * unsupported, so they always read 1. Bits 63:32 read 0 (a 64-bit MOV that sets them is #GP, see
 * {@link #hasReservedUpperBits(long)}). Constructing a {@code Dr6} applies the fixed bits.
 */
public record Dr6(long value) {

    public static final long FIXED_ONES = 0xFFFF_0FF0L;
    public static final long B_MASK = 0xFL;
    public static final long BD = 1L << 13;
    public static final long BS = 1L << 14;
    public static final long BT = 1L << 15;
    public static final long WRITABLE = B_MASK | BD | BS | BT;

    /** The value after reset; also what the kernel writes on hw_breakpoint_restore (DR6_RESERVED). */
    public static final Dr6 RESET = new Dr6(FIXED_ONES);

    public Dr6 {
        value = (value & WRITABLE) | FIXED_ONES;
    }

    /** True when a 64-bit MOV to DR6 of {@code raw} must raise #GP(0). */
    public static boolean hasReservedUpperBits(long raw) {
        return (raw >>> 32) != 0;
    }

    /** Bn: slot n's condition was met. */
    public boolean b(int slot) {
        return (value & (1L << Dr7.checkSlot(slot))) != 0;
    }

    /** B0–B3 as a four-bit mask. */
    public int bMask() {
        return (int) (value & B_MASK);
    }

    public boolean bd() {
        return (value & BD) != 0;
    }

    public boolean bs() {
        return (value & BS) != 0;
    }

    public boolean bt() {
        return (value & BT) != 0;
    }

    /**
     * DR6 after a #DB carrying {@code pending} is delivered: B0–B3 are replaced by the slots this
     * exception reports, while BD, BS and BT are OR-ed in and never cleared.
     *
     * <p>Modelling decision: the SDM says "certain debug exceptions may clear bits 0–3" and that the
     * processor never clears the other bits. Current Intel parts rewrite B0–B3 on every #DB, and
     * KVM's payload delivery does the same for its guests (it clears the trap bits before setting
     * the new ones), so tdemu follows them. This is the one place that decides it.
     */
    public Dr6 deliver(PendingDebug pending) {
        return new Dr6((value & ~0xFL) | pending.bits());
    }

    @Override
    public String toString() {
        return String.format("Dr6[0x%x]", value);
    }
}
