package dev.tdemu.gdbstub;

import java.time.Duration;
import java.util.Objects;

/**
 * Tunables of the stub.
 *
 * @param packetSize        the {@code PacketSize} advertised to gdb and the largest inbound payload
 *                          accepted; gdb reads memory in chunks of half of it
 * @param runLengthEncoding whether replies are run-length encoded
 * @param requestTimeout    how long a target request (other than resume) may take before gdb gets
 *                          an error reply; the session then goes on serving
 * @param cleanupTimeout    how long each step of the disconnect cleanup (stop, remove breakpoints,
 *                          detach) may take before the stub gives up on it
 * @param followClientCpu   whether the stub's thread runs on the CPU of a debugger on this machine
 *                          (see {@link dev.tdemu.gdbstub.scheduling.ClientCpuFollower}); off (the default), it is scheduled like
 *                          any thread and polls for a moment after each packet
 * @param secondClientGrace how long a client that connects while another is attached waits for
 *                          that one to go (gdb's {@code disconnect} then {@code target remote}
 *                          reconnects before the stub sees the old socket close) before it is refused
 */
public record GdbServerOptions(int packetSize, boolean runLengthEncoding, Duration requestTimeout,
                               Duration cleanupTimeout, boolean followClientCpu, Duration secondClientGrace) {
    /** 128 KiB: memory reads of 64 KiB per round trip. */
    public static final int DEFAULT_PACKET_SIZE = 0x20000;

    public GdbServerOptions {
        if (packetSize < 0x1000 || packetSize > 0x1000000) {
            throw new IllegalArgumentException("packet size must be 4 KiB .. 16 MiB, got " + packetSize);
        }
        Objects.requireNonNull(requestTimeout, "requestTimeout");
        Objects.requireNonNull(cleanupTimeout, "cleanupTimeout");
        Objects.requireNonNull(secondClientGrace, "secondClientGrace");
    }

    /**
     * How many bytes of replies may wait for a client before the stub stops serving it (and
     * reading from it) until it has read them down to a quarter of that: twice the packet size,
     * at least 64 KiB. gdb reads every reply before it sends the next request, so it never gets
     * near this; a client that sends requests and never reads is held to it.
     */
    public int outputHighWaterMark() {
        return Math.max(0x10000, 2 * packetSize);
    }

    public static GdbServerOptions defaults() {
        return new GdbServerOptions(DEFAULT_PACKET_SIZE, true, Duration.ofSeconds(30), Duration.ofSeconds(5), false,
                Duration.ofSeconds(1));
    }

    public GdbServerOptions withPacketSize(int size) {
        return new GdbServerOptions(size, runLengthEncoding, requestTimeout, cleanupTimeout, followClientCpu, secondClientGrace);
    }

    public GdbServerOptions withRunLengthEncoding(boolean enabled) {
        return new GdbServerOptions(packetSize, enabled, requestTimeout, cleanupTimeout, followClientCpu, secondClientGrace);
    }

    public GdbServerOptions withRequestTimeout(Duration timeout) {
        return new GdbServerOptions(packetSize, runLengthEncoding, timeout, cleanupTimeout, followClientCpu, secondClientGrace);
    }

    public GdbServerOptions withCleanupTimeout(Duration timeout) {
        return new GdbServerOptions(packetSize, runLengthEncoding, requestTimeout, timeout, followClientCpu,
                secondClientGrace);
    }

    public GdbServerOptions withFollowClientCpu(boolean follow) {
        return new GdbServerOptions(packetSize, runLengthEncoding, requestTimeout, cleanupTimeout, follow,
                secondClientGrace);
    }

    public GdbServerOptions withSecondClientGrace(Duration grace) {
        return new GdbServerOptions(packetSize, runLengthEncoding, requestTimeout, cleanupTimeout, followClientCpu, grace);
    }
}
