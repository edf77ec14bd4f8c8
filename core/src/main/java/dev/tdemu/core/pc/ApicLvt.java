package dev.tdemu.core.pc;

/**
 * The local vector table entries the local APIC has. CMCI is absent: it exists only when
 * IA32_MCG_CAP.MCG_CMCI_P is set, and tdemu's MCG_CAP (as QEMU's default) does not set it, so
 * the version register reports entry 5 as the last one.
 */
public enum ApicLvt {
    TIMER(ApicRegister.LVT_TIMER, ApicLvtEntry.TIMER_MODE_PERIODIC),
    THERMAL(ApicRegister.LVT_THERMAL, ApicLvtEntry.DELIVERY_MODE),
    PERFORMANCE_COUNTER(ApicRegister.LVT_PMC, ApicLvtEntry.DELIVERY_MODE),
    LINT0(ApicRegister.LVT_LINT0, ApicLvtEntry.LINT_FIELDS),
    LINT1(ApicRegister.LVT_LINT1, ApicLvtEntry.LINT_FIELDS),
    ERROR(ApicRegister.LVT_ERROR, 0);

    private final ApicRegister register;
    private final int writable;

    ApicLvt(ApicRegister register, int extraWritable) {
        this.register = register;
        // Every entry has a vector and a mask; the delivery status (bit 12) and remote IRR (bit 14) are read-only.
        this.writable = ApicLvtEntry.VECTOR | ApicLvtEntry.MASKED | extraWritable;
    }

    /** The read-only status bits: delivery status everywhere, remote IRR on LINT0/LINT1 (a write may carry them back). */
    public int readOnlyMask() {
        return ApicLvtEntry.DELIVERY_STATUS | (this == LINT0 || this == LINT1 ? ApicLvtEntry.REMOTE_IRR : 0);
    }

    public ApicRegister register() {
        return register;
    }

    /**
     * The bits software can set; the rest read 0. The timer's TSC-deadline bit 18 is not included:
     * the local APIC adds it when CPUID offers the TSC-deadline timer.
     */
    public int writableMask() {
        return writable;
    }

    /** The entry that owns {@code register}, if it is an LVT register. */
    public static java.util.Optional<ApicLvt> of(ApicRegister register) {
        for (ApicLvt l : values()) {
            if (l.register == register) {
                return java.util.Optional.of(l);
            }
        }
        return java.util.Optional.empty();
    }
}
