package dev.tdemu.core.pc;

import java.util.Optional;

/**
 * The registers of the local APIC's 4 KiB page in xAPIC mode (SDM vol. 3A, table "Local APIC
 * Register Address Map"), each at a 16-byte aligned offset; ISR, TMR and IRR span eight slots.
 * The Linux name ({@code apicdef.h}) is given for each. Offsets not listed are reserved.
 *
 * <p>In x2APIC mode each register is MSR 0x800 + offset / 16 (SDM table "Local APIC Register
 * Address Map Supported by x2APIC"), named IA32_X2APIC_* in SDM vol. 4; APR, RRD, DFR and ICR
 * high have no MSR (the ICR is one 64-bit MSR at 0x830).
 */
public enum ApicRegister {
    /** APIC_ID. */
    ID(0x020, "APICID"),
    /** APIC_LVR. */
    VERSION(0x030, "VERSION"),
    /** APIC_TASKPRI. */
    TPR(0x080, "TPR"),
    /** APIC_ARBPRI. */
    APR(0x090, null),
    /** APIC_PROCPRI. */
    PPR(0x0A0, "PPR"),
    /** APIC_EOI (write-only). */
    EOI(0x0B0, "EOI"),
    /** APIC_RRR, the remote read register (read-only). */
    RRD(0x0C0, null),
    /** APIC_LDR. */
    LDR(0x0D0, "LDR"),
    /** APIC_DFR. */
    DFR(0x0E0, null),
    /** APIC_SPIV. */
    SVR(0x0F0, "SIVR"),
    /** APIC_ISR, eight 32-bit slots. */
    ISR(0x100, 8, "ISR"),
    /** APIC_TMR, eight 32-bit slots. */
    TMR(0x180, 8, "TMR"),
    /** APIC_IRR, eight 32-bit slots. */
    IRR(0x200, 8, "IRR"),
    /** APIC_ESR. */
    ESR(0x280, "ESR"),
    /** APIC_LVTCMCI: only present when IA32_MCG_CAP advertises CMCI. */
    LVT_CMCI(0x2F0, "LVT_CMCI"),
    /** APIC_ICR. */
    ICR_LOW(0x300, "ICR"),
    /** APIC_ICR2. */
    ICR_HIGH(0x310, null),
    /** APIC_LVTT. */
    LVT_TIMER(0x320, "LVT_TIMER"),
    /** APIC_LVTTHMR. */
    LVT_THERMAL(0x330, "LVT_THERMAL"),
    /** APIC_LVTPC. */
    LVT_PMC(0x340, "LVT_PMI"),
    /** APIC_LVT0. */
    LVT_LINT0(0x350, "LVT_LINT0"),
    /** APIC_LVT1. */
    LVT_LINT1(0x360, "LVT_LINT1"),
    /** APIC_LVTERR. */
    LVT_ERROR(0x370, "LVT_ERROR"),
    /** APIC_TMICT. */
    TIMER_INITIAL_COUNT(0x380, "INIT_COUNT"),
    /** APIC_TMCCT (read-only). */
    TIMER_CURRENT_COUNT(0x390, "CUR_COUNT"),
    /** APIC_TDCR. */
    TIMER_DIVIDE_CONFIG(0x3E0, "DIV_CONF"),
    /** APIC_SELF_IPI: x2APIC mode only; reserved in xAPIC mode. */
    SELF_IPI(0x3F0, "SELF_IPI");

    private static final ApicRegister[] BY_SLOT = new ApicRegister[0x100];

    static {
        for (ApicRegister r : values()) {
            for (int i = 0; i < r.slots; i++) {
                BY_SLOT[(r.offset >> 4) + i] = r;
            }
        }
    }

    /** The first x2APIC register MSR (SDM's APIC base MSR for x2APIC, Linux's APIC_BASE_MSR). */
    public static final int X2APIC_MSR_BASE = 0x800;

    private static final ApicRegister[] BY_MSR = new ApicRegister[0x100];

    static {
        for (ApicRegister r : values()) {
            if (r.x2apicName != null) {
                for (int i = 0; i < r.slots; i++) {
                    BY_MSR[(r.offset >> 4) + i] = r;
                }
            }
        }
    }

    private final int offset;
    private final int slots;
    private final String x2apicName;

    ApicRegister(int offset, String x2apicName) {
        this(offset, 1, x2apicName);
    }

    ApicRegister(int offset, int slots, String x2apicName) {
        this.offset = offset;
        this.slots = slots;
        this.x2apicName = x2apicName;
    }

    /**
     * The register an x2APIC MSR index (0x800-0x8FF) addresses; empty for the indices the SDM
     * leaves reserved (APR, RRD, DFR and ICR high included). Whether LVT CMCI exists is the APIC's
     * decision.
     */
    public static Optional<ApicRegister> atMsr(int index) {
        int slot = index - X2APIC_MSR_BASE;
        if (slot < 0 || slot >= BY_MSR.length) {
            return Optional.empty();
        }
        return Optional.ofNullable(BY_MSR[slot]);
    }

    /** The x2APIC MSR of the register's first slot; throws for registers x2APIC mode does not have. */
    public int msr() {
        if (x2apicName == null) {
            throw new IllegalStateException(this + " has no x2APIC MSR");
        }
        return X2APIC_MSR_BASE + (offset >> 4);
    }

    /** SDM vol. 4's name for x2APIC MSR {@code index} (IA32_X2APIC_ICR, IA32_X2APIC_ISR3, ...), empty if it is reserved. */
    public static Optional<String> msrName(int index) {
        return atMsr(index).map(r -> "IA32_X2APIC_" + r.x2apicName + (r.slots > 1 ? Integer.toString(index - r.msr()) : ""));
    }

    /** Offset of the (first) slot from the APIC base. */
    public int offset() {
        return offset;
    }

    /** The register whose slot holds the 16-byte aligned {@code offset}; empty for a reserved offset. */
    public static Optional<ApicRegister> at(int offset) {
        if (offset < 0 || offset >= 0x1000) {
            return Optional.empty();
        }
        return Optional.ofNullable(BY_SLOT[offset >> 4]);
    }

    /** Which of the register's 32-bit slots {@code offset} addresses (0 except for ISR, TMR and IRR). */
    public int slot(int offset) {
        return (offset - this.offset) >> 4;
    }
}
