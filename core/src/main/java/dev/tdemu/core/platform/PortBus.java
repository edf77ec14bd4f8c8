package dev.tdemu.core.platform;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The 64 KiB port-I/O space of a PC: devices registered by port range. A port no device claims
 * reads all-ones and ignores writes, as on a PC's ISA bus; each such port is reported once to the
 * {@link Unclaimed} listener (the emulator logs it at debug level).
 */
public final class PortBus {
    /** The size of the x86 I/O address space. */
    public static final int PORTS = 0x1_0000;

    /** Told once per port the first time an access reaches a port nobody claims. */
    @FunctionalInterface
    public interface Unclaimed {
        void access(int port, int size, boolean write);
    }

    /** A device's claim on {@code [first, first + count)}. */
    public record Claim(String name, int first, int count, PortDevice device) {
        public boolean covers(int port) {
            return port >= first && port < first + count;
        }
    }

    private final PortDevice[] byPort = new PortDevice[PORTS];
    private final List<Claim> claims = new ArrayList<>();
    private final boolean[] reported = new boolean[PORTS];
    private final Unclaimed unclaimed;

    public PortBus(Unclaimed unclaimed) {
        this.unclaimed = unclaimed;
    }

    public PortBus() {
        this((port, size, write) -> { });
    }

    /** Claims {@code count} ports from {@code first} for {@code device}; an overlap with another claim is refused. */
    public void register(String name, int first, int count, PortDevice device) {
        if (first < 0 || count <= 0 || first + count > PORTS) {
            throw new IllegalArgumentException(String.format("%s: ports 0x%x+%d are outside the I/O space", name, first, count));
        }
        for (int p = first; p < first + count; p++) {
            if (byPort[p] != null) {
                throw new IllegalArgumentException(String.format("%s: port 0x%x is already claimed by %s", name, p,
                        claimant(p).map(Claim::name).orElse("?")));
            }
        }
        for (int p = first; p < first + count; p++) {
            byPort[p] = device;
        }
        claims.add(new Claim(name, first, count, device));
    }

    public Optional<Claim> claimant(int port) {
        return claims.stream().filter(c -> c.covers(port)).findFirst();
    }

    public List<Claim> claims() {
        return List.copyOf(claims);
    }

    /** An IN of {@code size} (1, 2, 4) bytes: the device's answer masked to the size, all-ones when unclaimed. */
    public long in(int port, int size) {
        port &= 0xFFFF;
        PortDevice d = byPort[port];
        if (d == null) {
            report(port, size, false);
            return mask(size);
        }
        return d.in(port, size) & mask(size);
    }

    /** An OUT of the low {@code size} bytes of {@code value}; ignored when unclaimed. */
    public void out(int port, int size, long value) {
        port &= 0xFFFF;
        PortDevice d = byPort[port];
        if (d == null) {
            report(port, size, true);
            return;
        }
        d.out(port, size, value & mask(size));
    }

    private void report(int port, int size, boolean write) {
        if (!reported[port]) {
            reported[port] = true;
            unclaimed.access(port, size, write);
        }
    }

    /** The all-ones value of an access of {@code size} bytes (1, 2, 4 or 8). */
    public static long mask(int size) {
        return size >= 8 ? -1L : (1L << (8 * size)) - 1;
    }
}
