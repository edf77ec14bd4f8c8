package dev.tdemu.core.pc;

/**
 * The interrupt command register as one 64-bit value, which is also the message format on the
 * APIC bus: ICR low (0x300) in bits 31:0, ICR high (0x310) in bits 63:32. An xAPIC ICR (and an
 * I/O APIC redirection entry) has an 8-bit destination in bits 63:56; an x2APIC ICR (MSR 0x830,
 * {@code x2apic} true) has a 32-bit destination in bits 63:32.
 */
public record ApicIcr(long value, boolean x2apic) {

    /** Bits of ICR low software can write: vector, delivery mode, destination mode, level, trigger, shorthand. */
    public static final int LOW_WRITABLE = 0xFF | 0x700 | (1 << 11) | (1 << 14) | (1 << 15) | (3 << 18);
    /** ICR high in xAPIC mode: only the destination field, bits 31:24. */
    public static final int HIGH_WRITABLE_XAPIC = 0xFF00_0000;
    /** The physical destination that means every APIC. */
    public static final int BROADCAST = 0xFF;
    /** The x2APIC broadcast destination. */
    public static final int X2APIC_BROADCAST = 0xFFFF_FFFF;
    /**
     * Bits of an x2APIC ICR write that raise #GP: 13, 17:16, 31:20 (KVM's X2APIC_ICR_RESERVED_BITS).
     * Bit 12 (delivery status) is reserved too but ignored, as Intel CPUs ignore it.
     */
    public static final long X2APIC_RESERVED = (1L << 13) | (3L << 16) | (0xFFFL << 20);

    /** An ICR in xAPIC format (destination in bits 63:56). */
    public ApicIcr(long value) {
        this(value, false);
    }

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

    /** The destination field: the whole high half of an x2APIC ICR, bits 63:56 otherwise (KVM's dest_id). */
    public int destination() {
        return x2apic ? high() : xapicDestination();
    }

    /** The broadcast destination in this message's format. */
    public int broadcast() {
        return x2apic ? X2APIC_BROADCAST : BROADCAST;
    }

    /** INIT with trigger level and level de-assert: only synchronises arbitration IDs, no INIT is delivered. */
    public boolean initLevelDeassert() {
        return deliveryMode() == ApicDeliveryMode.INIT && triggerMode() == ApicTriggerMode.LEVEL && !assertLevel();
    }

    @Override
    public String toString() {
        return String.format("ApicIcr[0x%016x vector=0x%02x %s %s %s %s dest=0x%x]", value, vector(), deliveryMode(),
                triggerMode(), logical() ? "logical" : "physical", shorthand(), destination());
    }
}
