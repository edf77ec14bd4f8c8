package dev.tdemu.core.pc;

/**
 * The IA32_APIC_BASE MSR (0x1B): BSP flag (bit 8), x2APIC enable EXTD (bit 10), global enable EN
 * (bit 11), and the 4 KiB aligned physical base of the APIC page (bits MAXPHYADDR-1:12).
 */
public record ApicBase(long value) {

    public static final long BSP = 1L << 8;
    public static final long X2APIC_ENABLE = 1L << 10;
    public static final long ENABLE = 1L << 11;
    public static final long DEFAULT_BASE = 0xFEE0_0000L;
    /** Bits 7:0 and 9 are reserved whatever MAXPHYADDR is. */
    public static final long RESERVED_LOW = 0x2FFL;

    /** KVM's lapic_mode: EN and EXTD together; EXTD without EN is invalid. */
    public enum Mode {
        DISABLED,
        XAPIC,
        X2APIC,
        INVALID
    }

    /** The value after RESET: default base, enabled, BSP flag per processor. */
    public static ApicBase atReset(boolean bsp) {
        return new ApicBase(DEFAULT_BASE | ENABLE | (bsp ? BSP : 0));
    }

    public boolean bsp() {
        return (value & BSP) != 0;
    }

    public boolean enabled() {
        return (value & ENABLE) != 0;
    }

    public boolean x2apic() {
        return (value & X2APIC_ENABLE) != 0;
    }

    /**
     * Whether the register page answers at {@link #base()}: only in xAPIC mode. Disabled and
     * x2APIC mode both leave the page undecoded (SDM: x2APIC mode's MMIO behaves as a globally
     * disabled xAPIC's).
     */
    public boolean mmioDecoded() {
        return mode() == Mode.XAPIC;
    }

    /** The physical address of the APIC page. */
    public long base() {
        return value & ~0xFFFL;
    }

    public Mode mode() {
        if (enabled()) {
            return x2apic() ? Mode.X2APIC : Mode.XAPIC;
        }
        return x2apic() ? Mode.INVALID : Mode.DISABLED;
    }

    /** Bits that must be 0 for a CPU with {@code physicalAddressBits} of physical address. */
    public static long reservedBits(int physicalAddressBits) {
        return RESERVED_LOW | (-1L << physicalAddressBits);
    }

    @Override
    public String toString() {
        return String.format("ApicBase[0x%x base=0x%x %s%s]", value, base(), mode(), bsp() ? " BSP" : "");
    }
}
