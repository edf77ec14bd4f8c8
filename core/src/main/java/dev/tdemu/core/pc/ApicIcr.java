package dev.tdemu.core.pc;

/**
 * The interrupt command register as one 64-bit value: ICR low (0x300) in bits 31:0, ICR high
 * (0x310) in bits 63:32. In xAPIC mode the destination is bits 63:56; in x2APIC mode (part 2) it
 * is the whole high half.
 */
public record ApicIcr(long value) {

    /** Bits of ICR low software can write: vector, delivery mode, destination mode, level, trigger, shorthand. */
    public static final int LOW_WRITABLE = 0xFF | 0x700 | (1 << 11) | (1 << 14) | (1 << 15) | (3 << 18);
    /** ICR high in xAPIC mode: only the destination field, bits 31:24. */
    public static final int HIGH_WRITABLE_XAPIC = 0xFF00_0000;
    /** The physical destination that means every APIC. */
    public static final int BROADCAST = 0xFF;

    /** Destination shorthand, bits 19:18 (Linux's APIC_DEST_NOSHORT, SELF, ALLINC, ALLBUT). */
    public enum Shorthand {
        NONE,
        SELF,
        ALL_INCLUDING_SELF,
        ALL_EXCLUDING_SELF
    }

    /** An ICR built from its fields with an xAPIC destination: what a guest writes to ICR high then ICR low. */
    public static ApicIcr of(int vector, ApicDeliveryMode mode, boolean logical, Shorthand shorthand, int destination) {
        long low = (vector & 0xFF) | ((long) mode.field() << 8) | (logical ? 1L << 11 : 0) | (1L << 14)
                | ((long) shorthand.ordinal() << 18);
        return new ApicIcr(low | ((long) (destination & 0xFF) << 56));
    }

    public int low() {
        return (int) value;
    }

    public int high() {
        return (int) (value >>> 32);
    }

    public int vector() {
        return (int) value & 0xFF;
    }

    public ApicDeliveryMode deliveryMode() {
        return ApicDeliveryMode.of(value);
    }

    /** Destination mode, bit 11: logical (LDR/DFR matching) rather than physical (APIC ID). */
    public boolean logical() {
        return (value & (1L << 11)) != 0;
    }

    /** Level, bit 14: assert (1) or de-assert; only INIT level de-assert uses 0. */
    public boolean assertLevel() {
        return (value & (1L << 14)) != 0;
    }

    public ApicTriggerMode triggerMode() {
        return ApicTriggerMode.of((value & (1L << 15)) != 0);
    }

    public Shorthand shorthand() {
        return Shorthand.values()[(int) (value >>> 18) & 3];
    }

    /** The 8-bit xAPIC destination, bits 63:56. */
    public int xapicDestination() {
        return (int) (value >>> 56) & 0xFF;
    }

    /** INIT with trigger level and level de-assert: only synchronises arbitration IDs, no INIT is delivered. */
    public boolean initLevelDeassert() {
        return deliveryMode() == ApicDeliveryMode.INIT && triggerMode() == ApicTriggerMode.LEVEL && !assertLevel();
    }

    @Override
    public String toString() {
        return String.format("ApicIcr[0x%016x vector=0x%02x %s %s %s dest=0x%02x]", value, vector(), deliveryMode(),
                logical() ? "logical" : "physical", shorthand(), xapicDestination());
    }
}
