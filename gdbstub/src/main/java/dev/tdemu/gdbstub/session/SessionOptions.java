package dev.tdemu.gdbstub.session;

import java.time.Duration;
import java.util.Objects;

/**
 * What one session needs of the stub's options.
 *
 * @param packetSize     the {@code PacketSize} offered to gdb; memory reads are capped at half of it
 * @param requestTimeout how long a target request (other than resume) may take before gdb gets an error
 * @param cleanupTimeout how long each step of the cleanup after a disconnect may take
 */
public record SessionOptions(int packetSize, Duration requestTimeout, Duration cleanupTimeout) {
    public SessionOptions {
        Objects.requireNonNull(requestTimeout, "requestTimeout");
        Objects.requireNonNull(cleanupTimeout, "cleanupTimeout");
    }
}
