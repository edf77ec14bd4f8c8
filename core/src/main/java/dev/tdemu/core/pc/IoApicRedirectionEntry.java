package dev.tdemu.core.pc;

/**
 * One 64-bit I/O APIC redirection table entry (82093AA datasheet, IOREDTBL[0:23]; Linux's
 * {@code struct IO_APIC_route_entry}). Bits 17-55 are reserved: kept as written and read back, as
 * QEMU and KVM keep them.
 */
public record IoApicRedirectionEntry(long value) {

    public static final long VECTOR = 0xFF;
    /** Bits 10:8, encoded as {@link ApicDeliveryMode}; 011 and 110 are reserved for an I/O APIC. */
    public static final long DELIVERY_MODE = 0x700;
    /** Bit 11: logical destination mode. */
    public static final long DESTINATION_MODE_LOGICAL = 1L << 11;
    /** Bit 12, read-only: a message waits for the APIC bus; always idle here (delivery is instantaneous). */
    public static final long DELIVERY_STATUS = 1L << 12;
    /** Bit 13: the input pin is active low. */
    public static final long POLARITY_LOW = 1L << 13;
    /** Bit 14, read-only: a level-triggered interrupt was accepted and its EOI has not come yet. */
    public static final long REMOTE_IRR = 1L << 14;
    /** Bit 15: level triggered. */
    public static final long LEVEL_TRIGGERED = 1L << 15;
    public static final long MASKED = 1L << 16;
    /** Bits 63:56: the APIC ID (physical) or a set of processors (logical). */
    public static final int DESTINATION_SHIFT = 56;
    /** The bits a write cannot change. */
    public static final long READ_ONLY = DELIVERY_STATUS | REMOTE_IRR;

    /** Every entry after reset: masked, all else 0 (QEMU's and KVM's reset). */
    public static final IoApicRedirectionEntry RESET = new IoApicRedirectionEntry(MASKED);

    public int vector() {
        return (int) (value & VECTOR);
    }

    public ApicDeliveryMode deliveryMode() {
        return ApicDeliveryMode.of(value);
    }

    /** 011 and 110 are reserved in a redirection entry (the local APIC's remote read and start-up). */
    public boolean reservedDeliveryMode() {
        return deliveryMode() == ApicDeliveryMode.REMOTE_READ || deliveryMode() == ApicDeliveryMode.STARTUP;
    }

    public boolean logical() {
        return (value & DESTINATION_MODE_LOGICAL) != 0;
    }

    public boolean activeLow() {
        return (value & POLARITY_LOW) != 0;
    }

    public boolean remoteIrr() {
        return (value & REMOTE_IRR) != 0;
    }

    public ApicTriggerMode triggerMode() {
        return ApicTriggerMode.of((value & LEVEL_TRIGGERED) != 0);
    }

    public boolean masked() {
        return (value & MASKED) != 0;
    }

    public int destination() {
        return (int) (value >>> DESTINATION_SHIFT) & 0xFF;
    }

    /**
     * Whether the pin is level-sensitive: level trigger with fixed or lowest-priority delivery.
     * SMI, NMI, INIT and ExtINT are edge-sensitive whatever bit 15 says (the datasheet requires
     * edge for them; no EOI ever comes for them), so they never set the remote IRR.
     */
    public boolean levelSensitive() {
        return triggerMode() == ApicTriggerMode.LEVEL
                && (deliveryMode() == ApicDeliveryMode.FIXED || deliveryMode() == ApicDeliveryMode.LOWEST_PRIORITY);
    }

    /** The interrupt message this entry sends on the APIC bus: xAPIC format, asserted, no shorthand. */
    public ApicIcr message() {
        long low = vector() | (value & (DELIVERY_MODE | DESTINATION_MODE_LOGICAL)) | (1L << 14)
                | (levelSensitive() ? 1L << 15 : 0);
        return new ApicIcr(low | ((long) destination() << DESTINATION_SHIFT));
    }

    @Override
    public String toString() {
        return String.format("IoApicRedirectionEntry[0x%016x vector=0x%02x %s %s %s dest=0x%02x%s%s%s]", value, vector(),
                deliveryMode(), triggerMode(), logical() ? "logical" : "physical", destination(), activeLow() ? " active-low" : "",
                remoteIrr() ? " remote-irr" : "", masked() ? " masked" : "");
    }
}
