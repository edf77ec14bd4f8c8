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
 */
final class SpinThenSelectStrategy implements SelectStrategy {
    private final long spinNanos;
    private long lastActivity = System.nanoTime();

    SpinThenSelectStrategy(long spinNanos) {
        this.spinNanos = spinNanos;
    }

    @Override
    public int calculateStrategy(IntSupplier selectNow, boolean hasTasks) throws Exception {
        int ready = selectNow.get();
        long now = System.nanoTime();
        if (ready > 0 || hasTasks) {
            lastActivity = now;
            return ready;
        }
        if (now - lastActivity < spinNanos) {
            Thread.onSpinWait();
            return CONTINUE;
        }
        return SELECT;
    }
}
