package dev.tdemu.core.pc;

import dev.tdemu.core.platform.PortDevice;

/**
 * An 8-bit ISA device on a range of ports. The chipset splits a wider access into byte cycles
 * at consecutive ports, low byte first, as QEMU does for these devices; a byte that falls past
 * the device's last port reads all-ones and a write to it is dropped (no PC code spans two
 * devices with one access).
 */
abstract class ByteWidePortDevice implements PortDevice {
    private final int first;
    private final int count;

    ByteWidePortDevice(int first, int count) {
        this.first = first;
        this.count = count;
    }

    /** The first port the device answers. */
    public final int firstPort() {
        return first;
    }

    /** How many ports the device answers. */
    public final int portCount() {
        return count;
    }

    @Override
    public final long in(int port, int size) {
        long value = 0;
        for (int i = 0; i < size; i++) {
            int p = port + i;
            long b = covers(p) ? readByte(p) & 0xFF : 0xFF;
            value |= b << (8 * i);
        }
        return value;
    }

    @Override
    public final void out(int port, int size, long value) {
        for (int i = 0; i < size; i++) {
            int p = port + i;
            if (covers(p)) {
                writeByte(p, (int) (value >>> (8 * i)) & 0xFF);
            }
        }
    }

    private boolean covers(int port) {
        return port >= first && port < first + count;
    }

    /** An 8-bit IN from {@code port} (one of the device's own). */
    abstract int readByte(int port);

    /** An 8-bit OUT of {@code value} (0-255) to {@code port} (one of the device's own). */
    abstract void writeByte(int port, int value);
}
