package dev.tdemu.core.platform;

/**
 * A device answering port I/O. Accesses are 1, 2 or 4 bytes wide and start at {@code port}
 * (a wide access is dispatched by its first port, as the device registered it); values are
 * zero-extended to 64 bits and only the low {@code 8 * size} bits count.
 */
public interface PortDevice {
    long in(int port, int size);

    void out(int port, int size, long value);
}
