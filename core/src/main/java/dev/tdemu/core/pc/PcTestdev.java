package dev.tdemu.core.pc;

import dev.tdemu.core.platform.InterruptLine;
import dev.tdemu.core.platform.MmioBus;
import dev.tdemu.core.platform.MmioDevice;
import dev.tdemu.core.platform.PortBus;
import dev.tdemu.core.platform.PortDevice;
import java.util.function.IntFunction;

/**
 * QEMU's {@code pc-testdev}, which kvm-unit-tests' runner adds to every x86 test and some tests
 * drive (emulator, eventinj, ioapic, vmx): a scratch register, a page-flush port, interrupt lines
 * the guest sets itself, and a window of device memory. Every access exits to the VMM, which is
 * what the tests exercise.
 * <ul>
 * <li>0xE0-0xE3 and 0xE8-0xEB: one 32-bit scratch register; each port of either window is one of
 * its bytes, so an access of any width reads or writes the bytes it covers (little-endian).</li>
 * <li>0xE4-0xE7: "flush page": a 4-byte write of a guest-physical address makes QEMU unmap and
 * remap that page of its own memory (KVM's MMU notifiers see it). tdemu has no host mapping to
 * churn, and the guest can observe nothing either way: writes have no effect.</li>
 * <li>0x2000-0x2017: interrupt lines 0-23 by GSI: a 1-byte write of a non-zero value raises line
 * n, of zero lowers it; the interrupt controllers decide what a level means.</li>
 * <li>{@link #IOMEM_BASE}, 64 KiB: memory-mapped storage that reads back what was written.</li>
 * </ul>
 * Write-only ports read all-ones; accesses of a width the port does not take (the flush port
 * takes 4 bytes, the lines 1) are ignored, as QEMU ignores them.
 */
public final class PcTestdev implements PortDevice, MmioDevice {
    public static final int SCRATCH = 0xE0, FLUSH_PAGE = 0xE4, SCRATCH_BYTEWISE = 0xE8, IRQ_LINES = 0x2000;
    public static final int LINES = 24;
    public static final long IOMEM_BASE = 0xFF00_0000L;
    public static final int IOMEM_SIZE = 0x1_0000;

    private final InterruptLine[] lines = new InterruptLine[LINES];
    private final byte[] iomem = new byte[IOMEM_SIZE];
    private int scratch;
    private long flushes;

    /** @param gsi interrupt line n of the platform (GSI n: ISA IRQ n for n below 16, the I/O APIC pin above) */
    public PcTestdev(IntFunction<InterruptLine> gsi) {
        for (int i = 0; i < LINES; i++) {
            lines[i] = gsi.apply(i);
        }
    }

    public void attachTo(PortBus ports, MmioBus mmio) {
        ports.register("pc-testdev scratch", SCRATCH, 4, this);
        ports.register("pc-testdev flush page", FLUSH_PAGE, 4, this);
        ports.register("pc-testdev scratch (byte-wise)", SCRATCH_BYTEWISE, 4, this);
        ports.register("pc-testdev IRQ lines", IRQ_LINES, LINES, this);
        mmio.register("pc-testdev memory", IOMEM_BASE, IOMEM_SIZE, this);
    }

    /** The scratch register (tests and the monitor). */
    public int scratch() {
        return scratch;
    }

    /** How many page flushes the guest asked for. */
    public long flushes() {
        return flushes;
    }

    @Override
    public long in(int port, int size) {
        if (isScratch(port)) {
            long value = 0;
            for (int i = 0; i < size; i++) {
                int b = scratchByte(port + i);
                value |= (long) (b < 0 ? 0xFF : b) << (8 * i);
            }
            return value;
        }
        return PortBus.mask(size);
    }

    @Override
    public void out(int port, int size, long value) {
        if (isScratch(port)) {
            for (int i = 0; i < size; i++) {
                int p = port + i;
                if (isScratch(p)) { // a byte past the window is dropped (no PC code spans two devices)
                    int shift = 8 * (p & 3);
                    scratch = (scratch & ~(0xFF << shift)) | (int) ((value >>> (8 * i)) & 0xFF) << shift;
                }
            }
        } else if (port >= FLUSH_PAGE && port < FLUSH_PAGE + 4) {
            if (port == FLUSH_PAGE && size == 4) {
                flushes++;
            }
        } else if (port >= IRQ_LINES && port < IRQ_LINES + LINES && size == 1) {
            InterruptLine line = lines[port - IRQ_LINES];
            if ((value & 0xFF) != 0) {
                line.raise();
            } else {
                line.lower();
            }
        }
    }

    private static boolean isScratch(int port) {
        return (port >= SCRATCH && port < SCRATCH + 4) || (port >= SCRATCH_BYTEWISE && port < SCRATCH_BYTEWISE + 4);
    }

    /** The scratch byte a port holds, or -1 for a port past the window a wide access started in. */
    private int scratchByte(int port) {
        return isScratch(port) ? scratch >>> (8 * (port & 3)) & 0xFF : -1;
    }

    @Override
    public long read(long offset, int size) {
        long value = 0;
        for (int i = 0; i < size; i++) {
            long at = offset + i;
            long b = at < IOMEM_SIZE ? iomem[(int) at] & 0xFF : 0xFF;
            value |= b << (8 * i);
        }
        return value;
    }

    @Override
    public void write(long offset, int size, long value) {
        for (int i = 0; i < size; i++) {
            long at = offset + i;
            if (at < IOMEM_SIZE) {
                iomem[(int) at] = (byte) (value >>> (8 * i));
            }
        }
    }
}
