package dev.tdemu.core.pc;

import dev.tdemu.core.platform.Clock;

/**
 * One vCPU's time-stamp counter as the guest reads it: an invariant TSC counting at a fixed
 * frequency from the machine's {@link Clock}, plus the offset a WRMSR to IA32_TIME_STAMP_COUNTER
 * sets (KVM's l1_tsc_offset). {@code TSC(t) = floor(t × hz / 10^9) + offset}, modulo 2^64 like the
 * counter itself.
 *
 * <p>The local APIC's TSC-deadline timer compares IA32_TSC_DEADLINE with this counter and asks
 * {@link #nanosWhen} when to fire; {@link MsrFile} reads and writes IA32_TIME_STAMP_COUNTER
 * through it; the emulator answers RDTSC with {@link #read()}. Both conversions are computed
 * here, so the time the timer reports for a deadline is exactly the first nanosecond at which
 * the counter reads it. Thread-safe: the offset is written by its vCPU and read by whoever delivers the timer.
 */
public final class GuestTsc {

    public static final long NANOS_PER_SECOND = 1_000_000_000L;
    /** 1 GHz: one tick per virtual nanosecond, the APIC timer's default bus rate too. */
    public static final long DEFAULT_HZ = NANOS_PER_SECOND;
    /** The arithmetic below stays within 64 bits up to this rate. */
    public static final long MAX_HZ = 9_000_000_000L;

    private final Clock clock;
    private final long hz;
    private volatile long offset;

    /** A TSC counting at {@code hz} (1 MHz to 9 GHz) from the clock's zero, with offset 0. */
    public GuestTsc(Clock clock, long hz) {
        if (hz < 1_000_000 || hz > MAX_HZ) {
            throw new IllegalArgumentException("a TSC frequency must be 1 MHz to 9 GHz: " + hz + " Hz");
        }
        this.clock = clock;
        this.hz = hz;
    }

    /** A 1 GHz TSC (kvm-unit-tests' one-shot APIC timer test needs a TSC at least as fast as the 1 GHz APIC bus). */
    public static GuestTsc oneGigahertz(Clock clock) {
        return new GuestTsc(clock, DEFAULT_HZ);
    }

    public long hz() {
        return hz;
    }

    public Clock clock() {
        return clock;
    }

    /** RDTSC now. */
    public long read() {
        return at(clock.nanos());
    }

    /** The counter at virtual time {@code nanos} (≥ 0). */
    public long at(long nanos) {
        return ticks(nanos) + offset;
    }

    /** WRMSR IA32_TIME_STAMP_COUNTER: the counter reads {@code value} now and counts on from there. */
    public void write(long value) {
        offset = value - ticks(clock.nanos());
    }

    /** RESET: the offset goes back to 0 (the counter reads the clock's ticks). */
    public void reset() {
        offset = 0;
    }

    /** What IA32_TIME_STAMP_COUNTER writes added to the counter (the emulator adds it if RDTSC reaches the engine's TSC). */
    public long offset() {
        return offset;
    }

    /**
     * The earliest virtual time, not before {@code now}, at which the counter reads {@code tsc} or
     * more (unsigned, as the TSC-deadline comparison): {@code now} if it already does,
     * {@link Long#MAX_VALUE} if that is beyond 2^63 ns.
     */
    public long nanosWhen(long tsc, long now) {
        long current = at(now);
        if (Long.compareUnsigned(current, tsc) >= 0) {
            return now;
        }
        long target = ticks(now) + (tsc - current); // the clock's ticks at the deadline
        if (tsc - current < 0 || target < 0) {
            return Long.MAX_VALUE; // more than 2^63 ticks away
        }
        // The least n with floor(n × hz / 10^9) >= target is ceil(target × 10^9 / hz), split to stay in 64 bits.
        long whole = target / hz;
        if (whole >= Long.MAX_VALUE / NANOS_PER_SECOND) {
            return Long.MAX_VALUE;
        }
        return whole * NANOS_PER_SECOND + Math.ceilDiv((target % hz) * NANOS_PER_SECOND, hz);
    }

    /** floor(nanos × hz / 10^9), wrapping like the counter (a 64-bit counter, never reached in practice). */
    private long ticks(long nanos) {
        return nanos / NANOS_PER_SECOND * hz + (nanos % NANOS_PER_SECOND) * hz / NANOS_PER_SECOND;
    }

    @Override
    public String toString() {
        return String.format("GuestTsc[%d Hz offset=%d]", hz, offset);
    }
}
