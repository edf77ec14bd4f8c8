package dev.tdemu.core.pc;

/** The value of one local vector table register, with the SDM's field names. */
public record ApicLvtEntry(int value) {

    public static final int VECTOR = 0xFF;
    /** Bits 10:8, LINT0/LINT1, thermal, performance counter and CMCI entries only. */
    public static final int DELIVERY_MODE = 0x700;
    /** Bit 12: read-only; always idle here because delivery into IRR is instantaneous. */
    public static final int DELIVERY_STATUS = 1 << 12;
    /** Bit 13, LINT0/LINT1 only: 1 = active low. */
    public static final int POLARITY_LOW = 1 << 13;
    /** Bit 14, LINT0/LINT1 only, read-only: a level-triggered fixed interrupt is in service. */
    public static final int REMOTE_IRR = 1 << 14;
    /** Bit 15, LINT0/LINT1 only: 1 = level (only meaningful with fixed delivery). */
    public static final int LEVEL_TRIGGERED = 1 << 15;
    public static final int MASKED = 1 << 16;
    /** Bit 17 of the timer entry: periodic. */
    public static final int TIMER_MODE_PERIODIC = 1 << 17;
    /** Bit 18 of the timer entry: TSC-deadline; writable only when CPUID.01H:ECX.TSC_Deadline is set. */
    public static final int TIMER_MODE_TSC_DEADLINE = 1 << 18;
    static final int LINT_FIELDS = DELIVERY_MODE | POLARITY_LOW | LEVEL_TRIGGERED;

    /** Every LVT register after reset: masked, vector 0. */
    public static final ApicLvtEntry RESET = new ApicLvtEntry(MASKED);

    public int vector() {
        return value & VECTOR;
    }

    public ApicDeliveryMode deliveryMode() {
        return ApicDeliveryMode.of(value);
    }

    public boolean masked() {
        return (value & MASKED) != 0;
    }

    public boolean remoteIrr() {
        return (value & REMOTE_IRR) != 0;
    }

    /** LINT trigger mode; NMI, SMI and INIT are always edge, ExtINT always level (SDM). */
    public ApicTriggerMode triggerMode() {
        return ApicTriggerMode.of((value & LEVEL_TRIGGERED) != 0);
    }

    public boolean activeLow() {
        return (value & POLARITY_LOW) != 0;
    }

    public ApicTimerMode timerMode() {
        return ApicTimerMode.of(value);
    }

    /** Fixed delivery with level trigger: the only kind that uses the remote IRR flag. */
    public boolean fixedLevel() {
        return deliveryMode() == ApicDeliveryMode.FIXED && triggerMode() == ApicTriggerMode.LEVEL;
    }

    @Override
    public String toString() {
        return String.format("ApicLvtEntry[0x%08x vector=0x%02x %s%s%s]", value, vector(), deliveryMode(),
                masked() ? " masked" : "", remoteIrr() ? " remote-irr" : "");
    }
}
