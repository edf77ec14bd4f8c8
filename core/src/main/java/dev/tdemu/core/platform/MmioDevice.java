package dev.tdemu.core.platform;

/**
 * A device answering memory-mapped I/O. {@code offset} is relative to the base the device was
 * registered at; accesses are 1, 2, 4 or 8 bytes wide; values are zero-extended.
 */
public interface MmioDevice {
    long read(long offset, int size);

    void write(long offset, int size, long value);
}
