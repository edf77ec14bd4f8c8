package dev.tdemu.core.x86;

/**
 * DR6, the debug status register, holding the value software reads back.
 *
 * <p>Writable bits: B0–B3 (0–3), BD (13), BS (14), BT (15), and on CPUs with bus-lock detection
 * BLD (11). Bits 4–11 and 16–31 read as 1 and bit 12 as 0; the reset value is 0xFFFF0FF0. The
 * active-low bits are "set" when they read 0: BLD (11) is cleared by a bus-lock #DB and by
 * software writing 0 to it, never by another #DB; RTM (16) is modelled as unsupported and always
 * reads 1. Bits 63:32 read 0 (a 64-bit MOV that sets them is #GP, see
 * {@link #hasReservedUpperBits(long)}).
 *
 * <p>{@code new Dr6(v)} is DR6 on a CPU without bus-lock detection (BLD reads 1 whatever was
 * written); {@link #withBusLockDetect(long)} is DR6 on one that has it.
 */
public final class Dr6 {

    public static final long FIXED_ONES = 0xFFFF_0FF0L;
    public static final long B_MASK = 0xFL;
    /** DR_BUS_LOCK: bit 11, active low; 0 means "a bus lock was detected". */
    public static final long BLD = 1L << 11;
    public static final long BD = 1L << 13;
    public static final long BS = 1L << 14;
    public static final long BT = 1L << 15;
    public static final long WRITABLE = B_MASK | BD | BS | BT;

    /**
     * The architectural reset value (the kernel's DR6_RESERVED, KVM's DR6_ACTIVE_LOW): what DR6
     * holds after power-up, RESET or INIT and what every #DB handler must leave behind.
     */
    public static final Dr6 RESET = new Dr6(FIXED_ONES);

    private final long value;

    /** DR6 on a CPU without bus-lock detection: the fixed bits are applied, BLD reads 1. */
    public Dr6(long value) {
        this.value = (value & WRITABLE) | FIXED_ONES;
    }

    private Dr6(long value, boolean busLockDetect) {
        long bld = busLockDetect ? value & BLD : BLD;
        this.value = (value & WRITABLE) | (FIXED_ONES & ~BLD) | bld;
    }

    /** DR6 on a CPU with bus-lock detection: as {@link #Dr6(long)}, but bit 11 keeps what was written. */
    public static Dr6 withBusLockDetect(long value) {
        return new Dr6(value, true);
    }

    public long value() {
        return value;
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

    /** BLD reads 0: a bus lock was detected, or software wrote 0 to it (the false positive of 5f465c148c61). */
    public boolean busLockDetected() {
        return (value & BLD) == 0;
    }

    /** Whether this is the architectural reset value, as the host's #DB handler expects to find it. */
    public boolean isResetValue() {
        return value == FIXED_ONES;
    }

    /**
     * DR6 after a #DB carrying {@code pending} is delivered: B0–B3 are replaced by the slots this
     * exception reports, while BD, BS and BT are OR-ed in and never cleared; BLD is left as it was
     * (only a bus-lock #DB clears it).
     *
     * <p>Modelling decision: the SDM says "certain debug exceptions may clear bits 0–3" and that the
     * processor never clears the other bits. Current Intel parts rewrite B0–B3 on every #DB, and
     * KVM's payload delivery does the same for its guests (it clears the trap bits before setting
     * the new ones), so tdemu follows them. This is the one place that decides it.
     */
    public Dr6 deliver(PendingDebug pending) {
        return new Dr6((value & ~0xFL) | pending.bits(), true);
    }

    /** DR6 after a bus-lock #DB: BLD cleared, everything else as it was. */
    public Dr6 busLockTrap() {
        return new Dr6(value & ~BLD, true);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Dr6 d && d.value == value;
    }

    @Override
    public int hashCode() {
        return Long.hashCode(value);
    }

    @Override
    public String toString() {
        return String.format("Dr6[0x%x]", value);
    }
}
