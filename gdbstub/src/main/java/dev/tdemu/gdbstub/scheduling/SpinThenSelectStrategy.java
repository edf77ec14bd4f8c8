package dev.tdemu.gdbstub.scheduling;

import io.netty.channel.SelectStrategy;
import io.netty.util.IntSupplier;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;

/**
 * The stub's event loop keeps polling (non-blocking) for a short while after each burst of
 * activity before it blocks in the selector again. gdb talks in tight request/reply bursts (a
 * {@code stepi} is a resume and two memory reads, with a few tens of microseconds of gdb's own
 * work in between), and on a virtual machine waking a thread that blocked on a halted CPU costs
 * about as much as serving the packet. An idle session, or a guest running without packets, costs
 * nothing: after {@code spinNanos} without activity the loop blocks as usual.
 *
 * <p>Beside a local client ({@link BesideClient}) the thread does not poll: it shares the
 * client's CPU, where polling would only take the CPU from the client it waits for, and where
 * the client's next packet wakes it without crossing CPUs.
 */
public final class SpinThenSelectStrategy implements SelectStrategy {
    private final long spinNanos;
    /** Whether polling is allowed now. */
    private final BooleanSupplier mayPoll;
    private final LongSupplier clock;
    private long lastActivity;

    public SpinThenSelectStrategy(long spinNanos, BooleanSupplier mayPoll) {
        this(spinNanos, mayPoll, System::nanoTime);
    }

    /** @param clock nanoseconds, as {@link System#nanoTime()} */
    SpinThenSelectStrategy(long spinNanos, BooleanSupplier mayPoll, LongSupplier clock) {
        this.spinNanos = spinNanos;
        this.mayPoll = mayPoll;
        this.clock = clock;
        this.lastActivity = clock.getAsLong();
    }

    @Override
    public int calculateStrategy(IntSupplier selectNow, boolean hasTasks) throws Exception {
        int ready = selectNow.get();
        long now = clock.getAsLong();
        if (ready > 0 || hasTasks) {
            lastActivity = now;
            return ready;
        }
        if (now - lastActivity < spinNanos && mayPoll.getAsBoolean()) {
            Thread.onSpinWait();
            return CONTINUE;
        }
        return SELECT;
    }
}
