package dev.tdemu.core.pc;

/**
 * The local APIC timer's counter: it counts down from the initial count at the APIC bus
 * frequency divided by the divide configuration, and is computed from virtual time rather than
 * ticked. One-shot stops at 0; periodic reloads. {@link #expire} reports at most one expiry
 * however late it is called, and always moves the next deadline past {@code now}, so a timer
 * faster than the emulator can deliver costs one interrupt per check, never a loop.
 */
final class LocalApicTimer {
    private final long busCycleNs;

    private int initialCount;
    private int divideConfiguration;
    private boolean periodic;
    private boolean armed;
    private long deadline;
    private long period;
    private long coalesced;

    LocalApicTimer(long busCycleNs) {
        if (busCycleNs < 1 || busCycleNs > (1L << 20)) {
            throw new IllegalArgumentException("APIC bus cycle must be 1 ns to 1 ms in ns: " + busCycleNs);
        }
        this.busCycleNs = busCycleNs;
    }

    void reset() {
        initialCount = 0;
        divideConfiguration = 0;
        periodic = false;
        armed = false;
        deadline = 0;
        period = 0;
    }

    /** TDCR bits 1:0 and 3 form a 3-bit code: 111 is divide by 1, n otherwise divides by 2^(n+1). */
    static int divisor(int divideConfiguration) {
        int code = (divideConfiguration & 3) | ((divideConfiguration & 8) >> 1);
        return 1 << ((code + 1) & 7);
    }

    /** Nanoseconds per count at the current divide configuration. */
    long countNs() {
        return busCycleNs * divisor(divideConfiguration);
    }

    int initialCount() {
        return initialCount;
    }

    int divideConfiguration() {
        return divideConfiguration;
    }

    /** Writing the initial count restarts the countdown; 0 stops the timer. */
    void setInitialCount(int count, long now) {
        initialCount = count;
        period = Integer.toUnsignedLong(count) * countNs();
        armed = count != 0;
        deadline = armed ? now + period : 0;
    }

    /** A new divisor applies to the counts left: the remaining time scales with it (as KVM). */
    void setDivideConfiguration(int value, long now) {
        int oldDivisor = divisor(divideConfiguration);
        divideConfiguration = value & 0xB;
        int newDivisor = divisor(divideConfiguration);
        period = Integer.toUnsignedLong(initialCount) * countNs();
        if (armed && newDivisor != oldDivisor && now < deadline) {
            deadline = now + (deadline - now) * newDivisor / oldDivisor;
        }
    }

    /** Switching one-shot/periodic keeps the countdown where it is; an expired one-shot stays at 0. */
    void setPeriodic(boolean periodic) {
        this.periodic = periodic;
    }

    boolean periodic() {
        return periodic;
    }

    /** TMCCT: counts left, rounded up so that the value changes at count boundaries. */
    int currentCount(long now) {
        if (!armed) {
            return 0;
        }
        long remaining;
        if (now < deadline) {
            remaining = deadline - now;
        } else if (periodic) {
            remaining = period - (now - deadline) % period;
        } else {
            return 0;
        }
        return (int) Math.min(Math.ceilDiv(remaining, countNs()), Integer.toUnsignedLong(initialCount));
    }

    /** When the countdown next reaches 0; {@link Long#MAX_VALUE} when it is stopped or expired. */
    long deadline() {
        return armed ? deadline : Long.MAX_VALUE;
    }

    /**
     * Brings the counter to {@code now}: true when it reached 0 since the last call (one expiry,
     * however many periods passed; the extra ones are counted in {@link #coalesced()}).
     */
    boolean expire(long now) {
        if (!armed || now < deadline) {
            return false;
        }
        if (periodic) {
            long missed = (now - deadline) / period;
            deadline += (missed + 1) * period;
            coalesced += missed;
        } else {
            armed = false;
        }
        return true;
    }

    /** Periods that ended while an earlier expiry was still being caught up, folded into one interrupt. */
    long coalesced() {
        return coalesced;
    }
}
