package dev.tdemu.core.pc;

/** The 3-bit delivery mode of an LVT entry or the ICR (bits 10:8); Linux's APIC_DM_*. */
public enum ApicDeliveryMode {
    FIXED,
    /** To one of the destinations, chosen by {@link ApicBus}'s arbitration (IPIs and I/O APIC messages). */
    LOWEST_PRIORITY,
    SMI,
    /** Remote read: reserved on the xAPIC; 011 is reserved in an I/O APIC entry too. */
    REMOTE_READ,
    NMI,
    INIT,
    /** Start-up (SIPI); 110 is reserved in an I/O APIC entry. */
    STARTUP,
    /** External interrupt: the vector comes from the 8259 PIC's INTA cycle (LINT0, or an I/O APIC entry; reserved for IPIs). */
    EXTINT;

    private static final ApicDeliveryMode[] BY_FIELD = values();

    /** The mode encoded in bits 10:8 of {@code register}. */
    public static ApicDeliveryMode of(long register) {
        return BY_FIELD[(int) (register >>> 8) & 7];
    }

    public int field() {
        return ordinal();
    }
}
