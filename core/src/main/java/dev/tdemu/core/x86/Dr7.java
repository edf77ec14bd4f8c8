package dev.tdemu.core.x86;

/**
 * DR7, the debug control register, holding the value software reads back.
 *
 * <p>Layout: bits 0–7 are L0,G0..L3,G3; bit 8 LE, bit 9 GE; bit 10 always 1; bits 11, 12, 14, 15
 * always 0; bit 13 GD; for slot n the R/W field is at bits 16+4n..17+4n and LEN at 18+4n..19+4n;
 * bits 63:32 are reserved and 0. Constructing a {@code Dr7} applies the fixed bits, exactly what a
 * MOV to DR7 does with an accepted value (rejecting 1s in bits 63:32 is the MOV's job, see
 * {@link #hasReservedUpperBits(long)}).
 */
public record Dr7(long value) {

    /** Bit 10 reads as 1. */
    public static final long FIXED_ONES = 0x400L;
    /** Bits 11, 12, 14 and 15 read as 0. */
    public static final long FIXED_ZEROS = (1L << 11) | (1L << 12) | (1L << 14) | (1L << 15);
    /** L0..G3: a slot is armed when either its local or its global bit is set (the kernel's DR7_BP_EN_MASK). */
    public static final long ENABLE_MASK = 0xFFL;
    /** G0..G3 only (the kernel's DR_GLOBAL_ENABLE_MASK). */
    public static final long GLOBAL_ENABLE_MASK = 0xAAL;
    public static final long LE = 1L << 8;
    public static final long GE = 1L << 9;
    public static final long GD = 1L << 13;

    /** The value after reset and after every VM exit. */
    public static final Dr7 RESET = new Dr7(FIXED_ONES);

    public Dr7 {
        value = (value & 0xFFFF_FFFFL & ~FIXED_ZEROS) | FIXED_ONES;
    }

    /** True when a 64-bit MOV to DR7 of {@code raw} must raise #GP(0). */
    public static boolean hasReservedUpperBits(long raw) {
        return (raw >>> 32) != 0;
    }

    public boolean localEnable(int slot) {
        return bit(2 * checkSlot(slot));
    }

    public boolean globalEnable(int slot) {
        return bit(2 * checkSlot(slot) + 1);
    }

    /** Whether the slot is armed (L or G set); the CPU treats both alike since it has no task switches here. */
    public boolean enabled(int slot) {
        return localEnable(slot) || globalEnable(slot);
    }

    /** Bit n set for each armed slot n. */
    public int enabledSlots() {
        int mask = 0;
        for (int n = 0; n < 4; n++) {
            if (enabled(n)) {
                mask |= 1 << n;
            }
        }
        return mask;
    }

    /** Any L or G bit set: KVM's condition for KVM_DEBUGREG_BP_ENABLED. */
    public boolean anyEnabled() {
        return (value & ENABLE_MASK) != 0;
    }

    /** Any G bit set: the kernel's hw_breakpoint_active() test on cpu_dr7. */
    public boolean anyGlobalEnabled() {
        return (value & GLOBAL_ENABLE_MASK) != 0;
    }

    public BreakpointType type(int slot) {
        return BreakpointType.fromField((int) (value >>> (16 + 4 * checkSlot(slot))));
    }

    public BreakpointLength length(int slot) {
        return BreakpointLength.fromField((int) (value >>> (18 + 4 * checkSlot(slot))));
    }

    public boolean le() {
        return (value & LE) != 0;
    }

    public boolean ge() {
        return (value & GE) != 0;
    }

    /** General detect: the next MOV DR faults with #DB/BD. */
    public boolean gd() {
        return (value & GD) != 0;
    }

    /** This DR7 with slot {@code slot} programmed: R/W, LEN, and the given enables. */
    public Dr7 withSlot(int slot, BreakpointType type, BreakpointLength length, boolean local, boolean global) {
        long v = withoutSlot(slot).value;
        v |= (long) type.field() << (16 + 4 * slot);
        v |= (long) length.field() << (18 + 4 * slot);
        if (local) {
            v |= 1L << (2 * slot);
        }
        if (global) {
            v |= 1L << (2 * slot + 1);
        }
        return new Dr7(v);
    }

    /** This DR7 with the slot's enables and R/W/LEN cleared. */
    public Dr7 withoutSlot(int slot) {
        checkSlot(slot);
        long clear = (0b11L << (2 * slot)) | (0xFL << (16 + 4 * slot));
        return new Dr7(value & ~clear);
    }

    public Dr7 withGd(boolean gd) {
        return new Dr7(gd ? value | GD : value & ~GD);
    }

    public Dr7 withGe(boolean ge) {
        return new Dr7(ge ? value | GE : value & ~GE);
    }

    static int checkSlot(int slot) {
        if (slot < 0 || slot > 3) {
            throw new IllegalArgumentException("breakpoint slot is 0..3, not " + slot);
        }
        return slot;
    }

    private boolean bit(int n) {
        return (value & (1L << n)) != 0;
    }

    @Override
    public String toString() {
        return String.format("Dr7[0x%x]", value);
    }
}
