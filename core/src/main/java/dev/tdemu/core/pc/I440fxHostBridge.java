package dev.tdemu.core.pc;

import dev.tdemu.core.platform.NotModelledException;

/**
 * Bus 0, device 0: an Intel 82441FX (440FX) host bridge as QEMU's {@code pc} machine shows it:
 * 8086:1237, revision 2, class 0x060000 (host bridge), header type 0 (single function), QEMU's
 * subsystem 1af4:1100. The header follows the 82441FX datasheet: PCICMD reads 0x0006 (memory
 * access and bus master hardwired on) with PERR# and SERR# enables (bits 6 and 8) writable,
 * PCISTS reads 0x0280 (fast back-to-back, medium DEVSEL), the latency timer's bits 7:3 are
 * writable, everything else in the header is read-only.
 *
 * <p>The chipset registers from 0x40 (DRAM control, PAM shadowing, SMRAM at 0x72, which reads
 * 0x02 as in QEMU) read their reset values; a guest that writes one fails loudly, because tdemu
 * maps memory without them.
 */
public final class I440fxHostBridge extends PciConfigSpace {
    public static final int VENDOR_INTEL = 0x8086;
    public static final int DEVICE_82441 = 0x1237;
    static final int SMRAM = 0x72;

    public I440fxHostBridge() {
        set(PCI_VENDOR_ID, 2, VENDOR_INTEL);
        set(PCI_DEVICE_ID, 2, DEVICE_82441);
        set(PCI_COMMAND, 2, 0x0006);
        setWritable(PCI_COMMAND, 2, 0x0140);
        set(PCI_STATUS, 2, 0x0280);
        set(PCI_REVISION_ID, 1, 0x02);
        set(PCI_CLASS_PROG, 3, 0x06_00_00);
        setWritable(PCI_LATENCY_TIMER, 1, 0xF8);
        set(PCI_HEADER_TYPE, 1, 0x00);
        set(PCI_SUBSYSTEM_VENDOR_ID, 2, 0x1AF4);
        set(PCI_SUBSYSTEM_ID, 2, 0x1100);
        set(SMRAM, 1, 0x02);
    }

    @Override
    public void configWrite(int offset, int size, int value) {
        if (offset + size > DEVICE_SPECIFIC) {
            throw new NotModelledException("i440FX host bridge",
                    String.format("a write of 0x%x to chipset register 0x%02x (DRAM, PAM shadowing, SMRAM)", value, Math.max(offset, DEVICE_SPECIFIC)));
        }
        super.configWrite(offset, size, value);
    }
}
