package dev.tdemu.gdbstub;

import io.netty.channel.SelectStrategy;
import io.netty.util.IntSupplier;


/**
 * The stub's event loop keeps polling (non-blocking) for a short while after each burst of
 * activity before it blocks in the selector again. gdb talks in tight request/reply bursts (a
 * {@code stepi} is a resume and two memory reads, with a few tens of microseconds of gdb's own
 * work in between), and on a virtual machine waking a thread that blocked costs about as much as
 * serving the packet. An idle session, or a guest running without packets, costs nothing: after
 * {@code spinNanos} without activity the loop blocks as usual.
 *
 * <p>Beside a local client ({@link BesideClient}) the thread polls only at idle priority, which
 * it takes when there is activity and leaves before it blocks; at ordinary priority there, polling
 * would only take the CPU from the client it waits for.
 */
final class SpinThenSelectStrategy implements SelectStrategy {
    /** What the strategy tells, and asks, the thread's scheduling ({@link BesideClient}). */
    interface Hints {
        /** The loop came round once more (every call, before any other hint). */
        void looped();

        /** Packets or tasks to handle. */
        void active();

        /** Whether polling is allowed now. */
        boolean mayPoll();

        /** The loop is about to block in the selector. */
        void blocking();
    }

    private final long spinNanos;
    private final Hints hints;
    private long lastActivity = System.nanoTime();

    SpinThenSelectStrategy(long spinNanos, Hints hints) {
        this.spinNanos = spinNanos;
        this.hints = hints;
    }

    @Override
    public int calculateStrategy(IntSupplier selectNow, boolean hasTasks) throws Exception {
        hints.looped();
        int ready = selectNow.get();
        long now = System.nanoTime();
        if (ready > 0 || hasTasks) {
            lastActivity = now;
            hints.active();
            return ready;
        }
        if (now - lastActivity < spinNanos && hints.mayPoll()) {
            Thread.onSpinWait();
            return CONTINUE;
        }
        hints.blocking();
        return SELECT;
    }
}
