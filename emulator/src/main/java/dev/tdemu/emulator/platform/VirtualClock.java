package dev.tdemu.emulator.platform;

import dev.tdemu.core.platform.Clock;

/**
 * A machine's virtual time: the host's monotonic clock since the machine was made, less every
 * interval during which the machine was paused (a debugger holding every vCPU), so a guest stopped
 * in a debugger sees no time pass. The guests' TSCs, the APIC timers, the PIT, the RTC and the PM
 * timer all count on it, so they agree with each other whatever the host does.
 */
public final class VirtualClock implements Clock {
    private final long origin = System.nanoTime();
    private long pausedTotal;
    private long pausedSince = -1;

    @Override
    public synchronized long nanos() {
        long now = pausedSince >= 0 ? pausedSince : System.nanoTime();
        return now - origin - pausedTotal;
    }

    /** Time stops (nested pauses are not counted twice). */
    public synchronized void pause() {
        if (pausedSince < 0) {
            pausedSince = System.nanoTime();
        }
    }

    /** Time runs again from where it stopped. */
    public synchronized void resume() {
        if (pausedSince >= 0) {
            pausedTotal += System.nanoTime() - pausedSince;
            pausedSince = -1;
        }
    }

    public synchronized boolean paused() {
        return pausedSince >= 0;
    }
}
