package dev.tdemu.core.pc;

import java.util.Optional;

/**
 * The registers of the local APIC's 4 KiB page in xAPIC mode (SDM vol. 3A, table "Local APIC
 * Register Address Map"), each at a 16-byte aligned offset; ISR, TMR and IRR span eight slots.
 * The Linux name ({@code apicdef.h}) is given for each. Offsets not listed are reserved.
 */
public enum ApicRegister {
    /** APIC_ID. */
    ID(0x020),
    /** APIC_LVR. */
    VERSION(0x030),
    /** APIC_TASKPRI. */
    TPR(0x080),
    /** APIC_ARBPRI. */
    APR(0x090),
    /** APIC_PROCPRI. */
    PPR(0x0A0),
    /** APIC_EOI (write-only). */
    EOI(0x0B0),
    /** APIC_RRR, the remote read register (read-only). */
    RRD(0x0C0),
    /** APIC_LDR. */
    LDR(0x0D0),
    /** APIC_DFR. */
    DFR(0x0E0),
    /** APIC_SPIV. */
    SVR(0x0F0),
    /** APIC_ISR, eight 32-bit slots. */
    ISR(0x100, 8),
    /** APIC_TMR, eight 32-bit slots. */
    TMR(0x180, 8),
    /** APIC_IRR, eight 32-bit slots. */
    IRR(0x200, 8),
    /** APIC_ESR. */
    ESR(0x280),
    /** APIC_LVTCMCI: only present when IA32_MCG_CAP advertises CMCI. */
    LVT_CMCI(0x2F0),
    /** APIC_ICR. */
    ICR_LOW(0x300),
    /** APIC_ICR2. */
    ICR_HIGH(0x310),
    /** APIC_LVTT. */
    LVT_TIMER(0x320),
    /** APIC_LVTTHMR. */
    LVT_THERMAL(0x330),
    /** APIC_LVTPC. */
    LVT_PMC(0x340),
    /** APIC_LVT0. */
    LVT_LINT0(0x350),
    /** APIC_LVT1. */
    LVT_LINT1(0x360),
    /** APIC_LVTERR. */
    LVT_ERROR(0x370),
    /** APIC_TMICT. */
    TIMER_INITIAL_COUNT(0x380),
    /** APIC_TMCCT (read-only). */
    TIMER_CURRENT_COUNT(0x390),
    /** APIC_TDCR. */
    TIMER_DIVIDE_CONFIG(0x3E0),
    /** APIC_SELF_IPI: x2APIC mode only; reserved in xAPIC mode. */
    SELF_IPI(0x3F0);

    private static final ApicRegister[] BY_SLOT = new ApicRegister[0x100];

    static {
        for (ApicRegister r : values()) {
            for (int i = 0; i < r.slots; i++) {
                BY_SLOT[(r.offset >> 4) + i] = r;
            }
        }
    }

    private final int offset;
    private final int slots;

    ApicRegister(int offset) {
        this(offset, 1);
    }

    ApicRegister(int offset, int slots) {
        this.offset = offset;
        this.slots = slots;
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
