package dev.tdemu.emulator.platform;

import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Feeds a byte stream (stdin, for {@code --serial stdio}) to a UART's receiver on a thread of its
 * own, so a vCPU never waits for input. Bytes go in only as far as the receiver has room (its
 * FIFO, or the one holding register with FIFOs off); the rest waits until the guest reads and
 * the receiver says it has room again, so no byte is lost to an overrun and the stream is read
 * no faster than the guest takes it. At the stream's end the thread ends and the line stays quiet,
 * as a serial line does when the terminal on it closes.
 */
public final class SerialInputPump implements AutoCloseable {
    private static final Logger LOG = LogManager.getLogger("dev.tdemu.emulator.platform");
    private static final int CHUNK = 4096;

    /** The receiving side of a UART. */
    public interface Receiver {
        /** Takes what fits of {@code length} bytes at {@code offset}; returns how many it took. */
        int offer(byte[] bytes, int offset, int length);

        /** Calls {@code listener} whenever the receiver's room goes from none to some; it must not block. */
        void onRoom(Runnable listener);
    }

    /** COM1 of a PC as a {@link Receiver}. */
    public static Receiver com1(PcMachine pc) {
        return new Receiver() {
            @Override
            public int offer(byte[] bytes, int offset, int length) {
                return pc.serialInput(bytes, offset, length);
            }

            @Override
            public void onRoom(Runnable listener) {
                synchronized (pc.lock()) {
                    pc.com1().onReceiveRoom(listener);
                }
            }
        };
    }

    private final InputStream in;
    private final Receiver receiver;
    /** Released when the receiver has room again (from the vCPU's thread, under the platform lock: never block there). */
    private final Semaphore room = new Semaphore(0);
    private final CompletableFuture<Long> delivered = new CompletableFuture<>();
    private Thread thread;
    private volatile boolean closed;

    public SerialInputPump(InputStream in, Receiver receiver) {
        this.in = in;
        this.receiver = receiver;
        receiver.onRoom(room::release);
    }

    /** Starts reading the stream. */
    public synchronized void start() {
        if (thread == null && !closed) {
            thread = Thread.ofPlatform().name("serial-input").daemon().start(this::pump);
        }
    }

    /** Completes with the number of bytes the receiver took once the stream ended (or the pump was closed). */
    public CompletableFuture<Long> delivered() {
        return delivered;
    }

    private void pump() {
        byte[] buffer = new byte[CHUNK];
        long total = 0;
        try {
            while (!closed) {
                int n = in.read(buffer);
                if (n < 0) {
                    LOG.debug("serial input ended after {} byte(s)", total);
                    break;
                }
                int taken = 0;
                while (taken < n) {
                    room.drainPermits(); // room that appears from here on is seen below
                    int now = receiver.offer(buffer, taken, n - taken);
                    taken += now;
                    total += now;
                    if (taken < n) {
                        room.acquire();
                    }
                }
            }
        } catch (InterruptedException e) {
            LOG.debug("serial input stopped with the VM after {} byte(s)", total);
        } catch (IOException e) {
            LOG.warn("reading the serial input failed after {} byte(s): {}; the guest receives nothing more", total, e.toString());
        }
        delivered.complete(total);
    }

    /** Stops feeding (the VM ended); a thread blocked reading the stream stays until the stream yields, as a daemon. */
    @Override
    public synchronized void close() {
        closed = true;
        if (thread != null) {
            thread.interrupt();
        } else {
            delivered.complete(0L);
        }
    }
}
