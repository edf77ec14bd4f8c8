package dev.tdemu.core.pc;

/**
 * One PCI function's 256-byte configuration space as configuration mechanism 1 reaches it.
 * {@code offset} is 0-255 and an access of {@code size} (1, 2 or 4) bytes may start anywhere
 * (QEMU lets the address register's low bits shift it); bytes past 255 are the caller's business.
 * Values are little-endian.
 */
public interface PciFunction {
    int configRead(int offset, int size);

    void configWrite(int offset, int size, int value);
}
