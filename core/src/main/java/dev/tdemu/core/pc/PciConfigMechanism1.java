package dev.tdemu.core.pc;

import dev.tdemu.core.platform.PortBus;
import dev.tdemu.core.platform.PortDevice;

/**
 * PCI configuration mechanism 1: the 32-bit CONFIG_ADDRESS register at 0xCF8 (bit 31 enable, bus
 * in 23:16, device in 15:11, function in 10:8, register in 7:0) and the data window 0xCFC-0xCFF,
 * any width, each port reaching its byte lane. Functions are attached to bus 0; every other
 * bus, device and function reads all-ones and ignores writes, and so does the data window while
 * bit 31 is clear.
 *
 * <p>As in QEMU, CONFIG_ADDRESS keeps all 32 bits as written and its bits 1:0 are ORed into the
 * register offset with the data port's lane: kvm-unit-tests reads byte registers by putting the
 * offset's low bits there and reading 0xCFC. Only dword accesses reach CONFIG_ADDRESS; a byte or
 * word access to 0xCF8 reads all-ones and is dropped, as PCI leaves it to the ISA bus. Only 0xCF8
 * itself is claimed, so 0xCF9 (the reset control register) stays free for its own device.
 */
public final class PciConfigMechanism1 {
    public static final int CONFIG_ADDRESS = 0xCF8;
    public static final int CONFIG_DATA = 0xCFC;
    static final int ENABLE = 0x8000_0000;

    private final PciFunction[] bus0 = new PciFunction[32 * 8];
    private int configAddress;

    /** A PC's bus 0 with the 440FX host bridge at device 0. */
    public static PciConfigMechanism1 withI440fx() {
        PciConfigMechanism1 pci = new PciConfigMechanism1();
        pci.attach(0, 0, new I440fxHostBridge());
        return pci;
    }

    /** Puts {@code function} at bus 0, {@code device}, {@code fn}. */
    public void attach(int device, int fn, PciFunction function) {
        if (device < 0 || device > 31 || fn < 0 || fn > 7) {
            throw new IllegalArgumentException("PCI: 00:" + device + "." + fn + " is not a device (0-31) and function (0-7)");
        }
        if (bus0[device * 8 + fn] != null) {
            throw new IllegalArgumentException(String.format("PCI: 00:%02x.%d is already taken", device, fn));
        }
        bus0[device * 8 + fn] = function;
    }

    public void attachTo(PortBus bus) {
        bus.register("pci-config-address", CONFIG_ADDRESS, 1, addressPort);
        bus.register("pci-config-data", CONFIG_DATA, 4, dataPort);
    }

    /** CONFIG_ADDRESS as last written. */
    public int configAddress() {
        return configAddress;
    }

    private final PortDevice addressPort = new PortDevice() {
        @Override
        public long in(int port, int size) {
            return size == 4 ? configAddress & 0xFFFF_FFFFL : PortBus.mask(size);
        }

        @Override
        public void out(int port, int size, long value) {
            if (size == 4) {
                configAddress = (int) value;
            }
        }
    };

    private final PortDevice dataPort = new PortDevice() {
        @Override
        public long in(int port, int size) {
            PciFunction f = selected();
            if (f == null) {
                return PortBus.mask(size);
            }
            int offset = configAddress & 0xFF | (port & 3);
            int inside = Math.min(size, PciConfigSpace.SIZE - offset);
            long value = f.configRead(offset, inside) & PortBus.mask(inside);
            return value | (PortBus.mask(size) & ~PortBus.mask(inside)); // past the 256 bytes: all-ones
        }

        @Override
        public void out(int port, int size, long value) {
            PciFunction f = selected();
            if (f == null) {
                return;
            }
            int offset = configAddress & 0xFF | (port & 3);
            f.configWrite(offset, Math.min(size, PciConfigSpace.SIZE - offset), (int) value);
        }
    };

    private PciFunction selected() {
        if ((configAddress & ENABLE) == 0 || (configAddress >>> 16 & 0xFF) != 0) {
            return null;
        }
        return bus0[configAddress >>> 8 & 0xFF];
    }
}
