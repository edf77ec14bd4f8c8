package dev.tdemu.core.platform;

/** A clock that moves only when told to: device tests, and deterministic replays. */
public final class ManualClock implements Clock {
    private long now;

    @Override
    public long nanos() {
        return now;
    }

    /** Moves time forward by {@code delta} ns (never backwards). */
    public void advance(long delta) {
        if (delta < 0) {
            throw new IllegalArgumentException("time never goes backwards: " + delta);
        }
        now += delta;
    }

    public void set(long nanos) {
        if (nanos < now) {
            throw new IllegalArgumentException("time never goes backwards: " + nanos + " < " + now);
        }
        now = nanos;
    }
}
