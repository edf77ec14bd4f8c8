package dev.tdemu.emulator.platform;

import java.util.concurrent.locks.LockSupport;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * The thread that lets a machine's devices act when their time comes (a timer fires, the PIT
 * counts a period): it sleeps until the earliest deadline any device names and calls the machine
 * back then. Anything that may move a deadline closer (a vCPU programming a timer) pokes it.
 */
public final class DeviceTimer implements AutoCloseable {
    private static final Logger LOG = LogManager.getLogger("dev.tdemu.emulator.platform");
    /** How long to sleep when no device has a deadline (a poke ends it sooner). */
    private static final long IDLE_NANOS = 100_000_000L;

    private final PcMachine machine;
    private final VirtualClock clock;
    private final Thread thread;
    private final java.util.function.Consumer<RuntimeException> failed;
    private volatile boolean closed;

    /** @param failed told once when a device fails on time (a feature tdemu does not model): the VM must end */
    public DeviceTimer(PcMachine machine, VirtualClock clock, java.util.function.Consumer<RuntimeException> failed) {
        this.machine = machine;
        this.clock = clock;
        this.failed = failed;
        this.thread = Thread.ofPlatform().name("device-timer").daemon().unstarted(this::run);
    }

    public void start() {
        thread.start();
    }

    /** A deadline may have moved: look again now. */
    public void poke() {
        LockSupport.unpark(thread);
    }

    private void run() {
        try {
            while (!closed) {
                long now = clock.nanos();
                long next = machine.nextDeadline();
                if (next <= now) {
                    machine.expire(now);
                    continue;
                }
                long wait = next == Long.MAX_VALUE || clock.paused() ? IDLE_NANOS : Math.min(next - now, IDLE_NANOS);
                LockSupport.parkNanos(this, wait);
            }
        } catch (RuntimeException e) {
            LOG.debug("a device failed on time", e);
            failed.accept(e);
        }
    }

    @Override
    public void close() {
        closed = true;
        poke();
        try {
            thread.join(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
