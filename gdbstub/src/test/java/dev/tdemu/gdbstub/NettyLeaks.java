package dev.tdemu.gdbstub;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.logging.log4j.Level;

/**
 * Netty's buffer leak detector at {@code PARANOID} (every buffer tracked) while open, with its
 * reports (logged through Log4j 2) collected. {@link #leaks()} makes the detector look: it leaks
 * one marked buffer of its own after whatever the test did, and collects garbage until that one
 * is reported; a buffer the test leaked earlier is unreachable by then too, and reported with it.
 */
public final class NettyLeaks implements AutoCloseable {
    private static final AtomicInteger CANARIES = new AtomicInteger();

    private final ResourceLeakDetector.Level previous = ResourceLeakDetector.getLevel();
    private final LogCapture reports = new LogCapture(ResourceLeakDetector.class.getName(), Level.ERROR);

    public NettyLeaks() {
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
    }

    /** The leak reports for buffers that became unreachable before this call (the canary's excluded). */
    public List<String> leaks() throws InterruptedException {
        String canary = "tdemu-leak-canary-" + CANARIES.incrementAndGet();
        ByteBuf leaked = ByteBufAllocator.DEFAULT.directBuffer(8);
        leaked.touch(canary);
        leaked = null; // never released: the detector must report it
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (reports.lines().stream().noneMatch(r -> r.contains(canary))) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("Netty's leak detector did not report a deliberately leaked buffer: "
                        + "leaks cannot be checked here (reports so far: " + reports.lines() + ")");
            }
            System.gc();
            // The detector looks for collected buffers whenever it tracks a new one.
            ByteBufAllocator.DEFAULT.directBuffer(1).release();
            Thread.sleep(10);
        }
        return reports.lines().stream().filter(r -> r.contains("LEAK") && !r.contains("tdemu-leak-canary-")).toList();
    }

    @Override
    public void close() {
        ResourceLeakDetector.setLevel(previous);
        reports.close();
    }
}
