package dev.tdemu.core.pc;

/** The LVT timer's mode field, bits 18:17 (Linux's APIC_LVT_TIMER_*). */
public enum ApicTimerMode {
    ONE_SHOT,
    PERIODIC,
    /** Reserved unless CPUID.01H:ECX.TSC_Deadline is set, which tdemu does not advertise. */
    TSC_DEADLINE,
    RESERVED;

    private static final ApicTimerMode[] BY_FIELD = values();

    public static ApicTimerMode of(int lvtTimer) {
        return BY_FIELD[(lvtTimer >>> 17) & 3];
    }
}
