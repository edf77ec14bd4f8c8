package dev.tdemu.core.pc;

/** The 3-bit delivery mode of an LVT entry or the ICR (bits 10:8); Linux's APIC_DM_*. */
public enum ApicDeliveryMode {
    FIXED,
    /** Not supported for IPIs by current processors (ESR "redirectable IPI"); used by I/O APIC messages. */
    LOWEST_PRIORITY,
    SMI,
    /** Remote read: reserved on the xAPIC. */
    REMOTE_READ,
    NMI,
    INIT,
    /** Start-up (SIPI). */
    STARTUP,
    /** External interrupt: the vector comes from the 8259 PIC's INTA cycle. */
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
