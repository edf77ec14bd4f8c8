package dev.tdemu.core.pc;

/** The LVT timer's mode field, bits 18:17 (Linux's APIC_LVT_TIMER_*). */
public enum ApicTimerMode {
    ONE_SHOT,
    PERIODIC,
    /** IA32_TSC_DEADLINE arms the timer; only writable when CPUID.01H:ECX.TSC_Deadline is set. */
    TSC_DEADLINE,
    /** 11b: reserved; as in KVM the timer does not run in it. */
    RESERVED;

    private static final ApicTimerMode[] BY_FIELD = values();

    public static ApicTimerMode of(int lvtTimer) {
        return BY_FIELD[(lvtTimer >>> 17) & 3];
    }
}
