package dev.tdemu.emulator.vm;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * The console device (port 0xE9 / TDEMU_HC_WRITE): a byte stream. Every byte the guest writes
 * goes unchanged to the sink (stdout for `tdemu run`), without limit, through a small bounded
 * buffer that is drained at each newline when the sink is line-buffered (a terminal), whenever
 * it fills, and on {@link #flush()}. The first {@link #KEPT_LIMIT} bytes are also kept for the
 * VM's result (reports, tests); what comes after is only streamed.
 */
public final class Console {
    private static final Logger LOG = LogManager.getLogger("dev.tdemu.emulator.vm");
    /** How much of the output is kept in memory for {@link #text()}. */
    public static final int KEPT_LIMIT = 16 << 20;
    /** Bytes buffered before they go to the sink. */
    static final int BUFFER_SIZE = 8 << 10;

    /**
     * Where the console goes.
     *
     * @param lineBuffered drain the buffer at every newline (for a terminal); otherwise only when
     *                     it is full and on {@link #flush()}
     */
    public record Sink(OutputStream out, boolean lineBuffered) {}

    private final Sink sink;
    private final byte[] buffer;
    private int buffered;
    private boolean sinkFailed;
    private byte[] kept = new byte[256];
    private int keptLength;
    private long notKept;

    public Console(Sink sink) {
        this.sink = sink;
        this.buffer = sink != null ? new byte[BUFFER_SIZE] : null;
    }

    public synchronized void write(byte b) {
        keep(b);
        if (sink == null || sinkFailed) {
            return;
        }
        buffer[buffered++] = b;
        if (buffered == buffer.length || (b == '\n' && sink.lineBuffered())) {
            drain();
        }
    }

    private void keep(byte b) {
        if (keptLength == KEPT_LIMIT) {
            notKept++;
            return;
        }
        if (keptLength == kept.length) {
            kept = Arrays.copyOf(kept, Math.min(KEPT_LIMIT, kept.length * 2));
        }
        kept[keptLength++] = b;
    }

    private void drain() {
        try {
            sink.out().write(buffer, 0, buffered);
            sink.out().flush();
        } catch (IOException e) {
            // stdout went away (a closed pipe): the guest runs on, its output is still kept
            sinkFailed = true;
            LOG.debug("console output stopped: {}", e.toString());
        }
        buffered = 0;
    }

    /** The kept output (the first {@link #KEPT_LIMIT} bytes), decoded as UTF-8. */
    public synchronized String text() {
        return new String(kept, 0, keptLength, StandardCharsets.UTF_8);
    }

    /** The kept output as the guest wrote it. */
    public synchronized byte[] bytes() {
        return Arrays.copyOf(kept, keptLength);
    }

    /** Bytes the guest wrote beyond {@link #KEPT_LIMIT}: streamed, not kept. */
    public synchronized long bytesNotKept() {
        return notKept;
    }

    /** Sends whatever is buffered to the sink. */
    public synchronized void flush() {
        if (sink != null && !sinkFailed && buffered > 0) {
            drain();
        }
    }
}
