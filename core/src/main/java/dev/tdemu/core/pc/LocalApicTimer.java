package dev.tdemu.core.pc;

/**
 * The local APIC timer, computed from virtual time rather than ticked. In one-shot and periodic
 * mode it counts down from the initial count at the APIC bus frequency divided by the divide
 * configuration; one-shot stops at 0, periodic reloads. In TSC-deadline mode it fires when the
 * guest's {@link GuestTsc} reaches IA32_TSC_DEADLINE, which then reads 0 again; the initial count
 * is ignored there. {@link #expire} reports at most one expiry however late it is called, and
 * always moves the next deadline past {@code now}, so a timer faster than the emulator can
 * deliver costs one interrupt per check, never a loop.
 */
final class LocalApicTimer {
    private final long busCycleNs;
    private final GuestTsc tsc;

    private ApicTimerMode mode;
    private int initialCount;
    private int divideConfiguration;
    private boolean armed;
    private long deadline;
    private long period;
    private long coalesced;
    /** IA32_TSC_DEADLINE: 0 is disarmed. */
    private long tscDeadline;

    LocalApicTimer(long busCycleNs, GuestTsc tsc) {
        if (busCycleNs < 1 || busCycleNs > (1L << 20)) {
            throw new IllegalArgumentException("APIC bus cycle must be 1 ns to 1 ms in ns: " + busCycleNs);
        }
        this.busCycleNs = busCycleNs;
        this.tsc = tsc;
        reset();
    }

    void reset() {
        mode = ApicTimerMode.ONE_SHOT;
        initialCount = 0;
        divideConfiguration = 0;
        armed = false;
        deadline = 0;
        period = 0;
        tscDeadline = 0;
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

    ApicTimerMode mode() {
        return mode;
    }

    /** One-shot and periodic count down from TMICT; TSC-deadline and the reserved mode do not (KVM). */
    private boolean countsDown() {
        return mode == ApicTimerMode.ONE_SHOT || mode == ApicTimerMode.PERIODIC;
    }

    /**
     * The LVT timer's mode field changed. One-shot ⇄ periodic keeps the countdown where it is (an
     * expired one-shot stays at 0). Entering or leaving TSC-deadline mode disarms the timer: the
     * initial count and IA32_TSC_DEADLINE become 0 (SDM; KVM's apic_update_lvtt).
     */
    void setMode(ApicTimerMode next) {
        if ((mode == ApicTimerMode.TSC_DEADLINE) != (next == ApicTimerMode.TSC_DEADLINE)) {
            initialCount = 0;
            period = 0;
            armed = false;
            deadline = 0;
            tscDeadline = 0;
        }
        mode = next;
    }

    /** Writing the initial count restarts the countdown; 0 stops the timer. Ignored in TSC-deadline mode (SDM). */
    void setInitialCount(int count, long now) {
        if (mode == ApicTimerMode.TSC_DEADLINE) {
            return;
        }
        initialCount = count;
        period = Integer.toUnsignedLong(count) * countNs();
        armed = count != 0 && countsDown();
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

    /** TMCCT: counts left, rounded up so that the value changes at count boundaries; 0 in TSC-deadline mode. */
    int currentCount(long now) {
        if (!armed) {
            return 0;
        }
        long remaining;
        if (now < deadline) {
            remaining = deadline - now;
        } else if (mode == ApicTimerMode.PERIODIC) {
            remaining = period - (now - deadline) % period;
        } else {
            return 0;
        }
        return (int) Math.min(Math.ceilDiv(remaining, countNs()), Integer.toUnsignedLong(initialCount));
    }

    /** RDMSR IA32_TSC_DEADLINE: the armed deadline in TSC-deadline mode (0 once it fired), 0 in other modes. */
    long tscDeadline() {
        return mode == ApicTimerMode.TSC_DEADLINE ? tscDeadline : 0;
    }

    /** WRMSR IA32_TSC_DEADLINE: arms (0 disarms) in TSC-deadline mode; ignored in other modes (SDM). */
    void setTscDeadline(long value) {
        if (mode == ApicTimerMode.TSC_DEADLINE) {
            tscDeadline = value;
        }
    }

    /** When the timer next fires (virtual ns, asked at {@code now}); {@link Long#MAX_VALUE} when it is stopped or expired. */
    long deadline(long now) {
        if (mode == ApicTimerMode.TSC_DEADLINE) {
            return tscDeadline == 0 ? Long.MAX_VALUE : tsc.nanosWhen(tscDeadline, now);
        }
        return armed ? deadline : Long.MAX_VALUE;
    }

    /**
     * Brings the timer to {@code now}: true when it fired since the last call (one expiry, however
     * many periods passed; the extra ones are counted in {@link #coalesced()}).
     */
    boolean expire(long now) {
        if (mode == ApicTimerMode.TSC_DEADLINE) {
            if (tscDeadline == 0 || Long.compareUnsigned(tsc.at(now), tscDeadline) < 0) {
                return false;
            }
            tscDeadline = 0; // the MSR reads 0 once the deadline passed (kvm-unit-tests checks it)
            return true;
        }
        if (!armed || now < deadline) {
            return false;
        }
        if (mode == ApicTimerMode.PERIODIC) {
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
