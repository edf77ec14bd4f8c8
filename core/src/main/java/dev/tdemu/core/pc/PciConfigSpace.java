package dev.tdemu.core.pc;

/**
 * A configuration space held as bytes with a per-bit write mask, the usual way to build a
 * {@link PciFunction} (a pci-testdev later needs no more): bits outside the mask are read-only,
 * bits in the write-1-to-clear mask (status errors) clear when written with 1. Subclasses set
 * the reset contents and masks in their constructor and may intercept writes.
 */
public class PciConfigSpace implements PciFunction {
    public static final int SIZE = 256;

    public static final int PCI_VENDOR_ID = 0x00;
    public static final int PCI_DEVICE_ID = 0x02;
    public static final int PCI_COMMAND = 0x04;
    public static final int PCI_STATUS = 0x06;
    public static final int PCI_REVISION_ID = 0x08;
    public static final int PCI_CLASS_PROG = 0x09;
    public static final int PCI_CLASS_DEVICE = 0x0A;
    public static final int PCI_CACHE_LINE_SIZE = 0x0C;
    public static final int PCI_LATENCY_TIMER = 0x0D;
    public static final int PCI_HEADER_TYPE = 0x0E;
    public static final int PCI_BIST = 0x0F;
    public static final int PCI_BASE_ADDRESS_0 = 0x10;
    public static final int PCI_SUBSYSTEM_VENDOR_ID = 0x2C;
    public static final int PCI_SUBSYSTEM_ID = 0x2E;
    public static final int PCI_CAPABILITY_LIST = 0x34;
    public static final int PCI_INTERRUPT_LINE = 0x3C;
    public static final int PCI_INTERRUPT_PIN = 0x3D;
    /** Where the standard type-0 header ends and device-specific registers begin. */
    public static final int DEVICE_SPECIFIC = 0x40;

    protected final byte[] config = new byte[SIZE];
    protected final byte[] writable = new byte[SIZE];
    protected final byte[] writeOneToClear = new byte[SIZE];

    @Override
    public int configRead(int offset, int size) {
        int value = 0;
        for (int i = 0; i < size; i++) {
            value |= (config[offset + i] & 0xFF) << (8 * i);
        }
        return value;
    }

    @Override
    public void configWrite(int offset, int size, int value) {
        for (int i = 0; i < size; i++) {
            int at = offset + i;
            int b = value >>> (8 * i) & 0xFF;
            int w = writable[at] & 0xFF;
            int c = writeOneToClear[at] & 0xFF;
            config[at] = (byte) (((config[at] & ~w) | (b & w)) & ~(b & c));
        }
    }

    /** Sets {@code size} bytes at {@code offset} (reset contents; not subject to the masks). */
    protected final void set(int offset, int size, int value) {
        for (int i = 0; i < size; i++) {
            config[offset + i] = (byte) (value >>> (8 * i));
        }
    }

    /** Which bits of the {@code size} bytes at {@code offset} the guest may write. */
    protected final void setWritable(int offset, int size, int mask) {
        for (int i = 0; i < size; i++) {
            writable[offset + i] = (byte) (mask >>> (8 * i));
        }
    }

    /** Which bits of the {@code size} bytes at {@code offset} clear when the guest writes 1. */
    protected final void setWriteOneToClear(int offset, int size, int mask) {
        for (int i = 0; i < size; i++) {
            writeOneToClear[offset + i] = (byte) (mask >>> (8 * i));
        }
    }
}
