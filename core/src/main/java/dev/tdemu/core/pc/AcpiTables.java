package dev.tdemu.core.pc;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * The ACPI tables of a PC as one byte image to copy into guest memory at a given guest-physical
 * address in the BIOS area (0xE0000-0xFFFFF), where a kernel scans for the RSDP on 16-byte
 * boundaries: the RSDP (revision 2, both checksums), RSDT and XSDT (each listing the FADT and the
 * MADT), the FADT, FACS, DSDT and MADT, laid out in that order.
 *
 * <p>Contents follow QEMU's {@code pc} machine (PIIX4 power management) without SMM:
 * <ul>
 * <li>FADT revision 1, as QEMU gives the PIIX4 (it keeps Windows 2000 booting; Linux and
 * kvm-unit-tests read the 1.0 fields): SCI on IRQ 9, PM1a event block at the PM base (4 bytes),
 * PM1a control at base + 4 (2 bytes), the 24-bit PM timer at base + 8 (4 bytes), with QEMU's
 * PIIX4 base 0x600 (the port SeaBIOS programs into PIIX4's PMBA; QEMU's DSDT and FADT name it),
 * no GPE block, C2/C3 latencies 0xFFF (unsupported), century at CMOS 0x32, flags WBINVD, PROC_C1,
 * SLP_BUTTON, RTC_S4, USE_PLATFORM_CLOCK and, beyond 8 CPUs, FORCE_APIC_CLUSTER_MODEL. SMI_CMD,
 * ACPI_ENABLE and ACPI_DISABLE are 0: with no SMM there is no legacy mode to leave, so SCI_EN
 * reads 1 from reset ({@link AcpiPm}), as QEMU does when SMM is off.</li>
 * <li>MADT: local APIC address 0xFEE00000, PCAT_COMPAT; one enabled Processor Local APIC per
 * vCPU (UID and APIC ID 0..N-1); the IO-APIC (ID 0 as in QEMU, 0xFEC00000, GSI base 0); interrupt
 * source overrides IRQ 0 to GSI 2 and, active-high level, for QEMU's PCI interrupt lines 5, 9 (the
 * SCI), 10 and 11; a Local APIC NMI on LINT1 for all processors; for a TD
 * ({@link Builder#mpWakeupMailbox}) a Multiprocessor Wakeup structure too, in a revision 5 MADT.</li>
 * <li>DSDT: a valid header and one object, {@code \_S5} (SLP_TYP 0 for soft-off, as QEMU's), so
 * that an OS can power off through PM1a_CNT; no devices (nothing is described beyond the fixed
 * hardware).</li>
 * <li>FACS: 64 bytes, 64-byte aligned, version 0 as QEMU's.</li>
 * </ul>
 * QEMU's own {@code pc} RSDP is revision 0 with an RSDT only; this image adds the XSDT because
 * kernels prefer it when the RSDP offers it, and both list the same tables.
 */
public final class AcpiTables {
    public static final long BIOS_AREA_START = 0xE0000;
    public static final long BIOS_AREA_END = 0x100000;
    public static final long LOCAL_APIC_ADDRESS = 0xFEE0_0000L;
    public static final long IO_APIC_ADDRESS = 0xFEC0_0000L;
    /** QEMU's PIIX4 PM I/O base (SeaBIOS's PORT_ACPI_PM_BASE). */
    public static final int PIIX4_PM_BASE = 0x600;
    public static final int SCI_IRQ = 9;
    /** CMOS index of the century byte. */
    public static final int RTC_CENTURY = 0x32;

    static final String OEM_ID = "TDEMU ";
    static final String OEM_TABLE_ID = "TDEMU PC";
    static final String CREATOR_ID = "TDMU";
    static final int HEADER_SIZE = 36;
    static final int RSDP_SIZE = 36;
    static final int FADT_REV1_SIZE = 116;
    static final int FACS_SIZE = 64;

    // FADT flags.
    static final int ACPI_FADT_F_WBINVD = 1 << 0;
    static final int ACPI_FADT_F_PROC_C1 = 1 << 2;
    static final int ACPI_FADT_F_SLP_BUTTON = 1 << 5;
    static final int ACPI_FADT_F_RTC_S4 = 1 << 7;
    static final int ACPI_FADT_F_USE_PLATFORM_CLOCK = 1 << 15;
    static final int ACPI_FADT_F_FORCE_APIC_CLUSTER_MODEL = 1 << 18;

    // MADT structure types.
    static final int ACPI_APIC_PROCESSOR = 0;
    static final int ACPI_APIC_IO = 1;
    static final int ACPI_APIC_XRUPT_OVERRIDE = 2;
    static final int ACPI_APIC_LOCAL_NMI = 4;
    static final int ACPI_APIC_MULTIPROC_WAKEUP = 0x10;
    static final int MP_WAKEUP_LENGTH = 16;
    /** The MADT revision of ACPI 6.3/6.4, which the Multiprocessor Wakeup structure belongs to. */
    static final int MADT_REVISION_MP_WAKEUP = 5;
    /** MPS INTI flags: active high (01), level triggered (11). */
    static final int ACTIVE_HIGH_LEVEL = 0x000D;

    /** Where each table landed. */
    public record Image(long address, byte[] bytes, long rsdp, long rsdt, long xsdt, long fadt, long facs, long dsdt, long madt) {
        public Image {
            bytes = bytes.clone();
        }

        @Override
        public byte[] bytes() {
            return bytes.clone();
        }
    }

    private AcpiTables() {
    }

    public static Builder builder() {
        return new Builder();
    }

    /** What the tables describe. */
    public static final class Builder {
        private long address = BIOS_AREA_START;
        private int cpus = 1;
        private int ioApicId = 0;
        private int pmBase = PIIX4_PM_BASE;
        private Set<Integer> levelTriggeredIrqs = new TreeSet<>(List.of(5, 9, 10, 11));
        /** The Multiprocessor Wakeup mailbox's address, or -1 for none. */
        private long mpWakeupMailbox = -1;

        private Builder() {
        }

        /** Guest-physical address of the image (and the RSDP at its start): 16-byte aligned, inside 0xE0000-0xFFFFF. */
        public Builder address(long address) {
            this.address = address;
            return this;
        }

        /** vCPUs: local APIC IDs 0..cpus-1 (1-255, the xAPIC ID range). */
        public Builder cpus(int cpus) {
            if (cpus < 1 || cpus > 255) {
                throw new IllegalArgumentException("ACPI: " + cpus + " CPUs is outside 1-255 (xAPIC IDs)");
            }
            this.cpus = cpus;
            return this;
        }

        /**
         * Adds a Multiprocessor Wakeup structure (ACPI 6.4 section 5.2.12.19, MADT type 0x10, mailbox
         * version 0) for the mailbox at {@code address} (4 KiB aligned, below 4 GiB), and makes the
         * MADT revision 5: the way a TD's application processors are started ({@link MpWakeupMailbox}).
         */
        public Builder mpWakeupMailbox(long address) {
            if ((address & (MpWakeupMailbox.SIZE - 1)) != 0 || address <= 0 || address >= 1L << 32) {
                throw new IllegalArgumentException(String.format("ACPI: the wakeup mailbox at 0x%x must be 4 KiB aligned, "
                        + "above 0 and below 4 GiB", address));
            }
            this.mpWakeupMailbox = address;
            return this;
        }

        /** The IO-APIC's ID in the MADT (0, QEMU's, by default; the IO-APIC's ID register must agree). */
        public Builder ioApicId(int id) {
            if (id < 0 || id > 255) {
                throw new IllegalArgumentException("ACPI: IO-APIC ID " + id + " is outside 0-255");
            }
            this.ioApicId = id;
            return this;
        }

        /** The PM I/O base: PM1a_EVT at base, PM1a_CNT at base + 4, PM_TMR at base + 8. */
        public Builder pmBase(int base) {
            if (base <= 0 || base + 12 > 0x10000) {
                throw new IllegalArgumentException(String.format("ACPI: PM base 0x%x is outside the I/O space", base));
            }
            this.pmBase = base;
            return this;
        }

        /** ISA IRQs given an active-high level override (QEMU's PCI lines 5, 9, 10, 11 by default). */
        public Builder levelTriggeredIrqs(Set<Integer> irqs) {
            for (int irq : irqs) {
                if (irq < 1 || irq > 15 || irq == 2) {
                    throw new IllegalArgumentException("ACPI: IRQ " + irq + " cannot be level-triggered by an override");
                }
            }
            this.levelTriggeredIrqs = new TreeSet<>(irqs);
            return this;
        }

        public Image build() {
            if ((address & 0xF) != 0 || address < BIOS_AREA_START || address >= BIOS_AREA_END) {
                throw new IllegalArgumentException(String.format("ACPI: the RSDP at 0x%x must be 16-byte aligned in 0xe0000-0xfffff", address));
            }
            byte[] dsdt = table("DSDT", 1, s5Aml());
            byte[] facs = facs();
            byte[] madt = table("APIC", mpWakeupMailbox >= 0 ? MADT_REVISION_MP_WAKEUP : 1, madtBody());

            long rsdp = address;
            long rsdt = align(rsdp + RSDP_SIZE, 16);
            long xsdt = align(rsdt + HEADER_SIZE + 4 * 2, 16);
            long fadt = align(xsdt + HEADER_SIZE + 8 * 2, 16);
            long facsAt = align(fadt + FADT_REV1_SIZE, 64);
            long dsdtAt = align(facsAt + FACS_SIZE, 16);
            long madtAt = align(dsdtAt + dsdt.length, 16);
            long end = madtAt + madt.length;
            if (end > BIOS_AREA_END) {
                throw new IllegalArgumentException(String.format("ACPI: the tables end at 0x%x, past the BIOS area", end));
            }

            ByteBuffer image = ByteBuffer.allocate((int) (end - address)).order(ByteOrder.LITTLE_ENDIAN);
            put(image, rsdp, rsdp(rsdt, xsdt));
            put(image, rsdt, table("RSDT", 1, pointers(4, fadt, madtAt)));
            put(image, xsdt, table("XSDT", 1, pointers(8, fadt, madtAt)));
            put(image, fadt, table("FACP", 1, fadtBody(facsAt, dsdtAt)));
            put(image, facsAt, facs);
            put(image, dsdtAt, dsdt);
            put(image, madtAt, madt);
            return new Image(address, image.array(), rsdp, rsdt, xsdt, fadt, facsAt, dsdtAt, madtAt);
        }

        private void put(ByteBuffer image, long at, byte[] bytes) {
            image.put((int) (at - address), bytes);
        }

        private byte[] fadtBody(long facs, long dsdt) {
            ByteBuffer b = le(FADT_REV1_SIZE - HEADER_SIZE);
            b.putInt((int) facs); // FIRMWARE_CTRL
            b.putInt((int) dsdt); // DSDT
            b.put((byte) 1); // INT_MODEL (ACPI 1.0): multiple APIC
            b.put((byte) 0); // Preferred_PM_Profile: unspecified
            b.putShort((short) SCI_IRQ); // SCI_INT
            b.putInt(0); // SMI_CMD: no SMM, ACPI mode only
            b.put((byte) 0); // ACPI_ENABLE
            b.put((byte) 0); // ACPI_DISABLE
            b.put((byte) 0); // S4BIOS_REQ
            b.put((byte) 0); // PSTATE_CNT
            b.putInt(pmBase); // PM1a_EVT_BLK
            b.putInt(0); // PM1b_EVT_BLK
            b.putInt(pmBase + 4); // PM1a_CNT_BLK
            b.putInt(0); // PM1b_CNT_BLK
            b.putInt(0); // PM2_CNT_BLK
            b.putInt(pmBase + 8); // PM_TMR_BLK
            b.putInt(0); // GPE0_BLK
            b.putInt(0); // GPE1_BLK
            b.put((byte) 4); // PM1_EVT_LEN
            b.put((byte) 2); // PM1_CNT_LEN
            b.put((byte) 0); // PM2_CNT_LEN
            b.put((byte) 4); // PM_TMR_LEN
            b.put((byte) 0); // GPE0_BLK_LEN
            b.put((byte) 0); // GPE1_BLK_LEN
            b.put((byte) 0); // GPE1_BASE
            b.put((byte) 0); // CST_CNT
            b.putShort((short) 0xFFF); // P_LVL2_LAT: C2 not supported
            b.putShort((short) 0xFFF); // P_LVL3_LAT: C3 not supported
            b.putShort((short) 0); // FLUSH_SIZE
            b.putShort((short) 0); // FLUSH_STRIDE
            b.put((byte) 0); // DUTY_OFFSET
            b.put((byte) 0); // DUTY_WIDTH
            b.put((byte) 0); // DAY_ALRM
            b.put((byte) 0); // MON_ALRM
            b.put((byte) RTC_CENTURY); // CENTURY
            b.putShort((short) 0); // IAPC_BOOT_ARCH: reserved in revision 1
            b.put((byte) 0); // reserved
            b.putInt(ACPI_FADT_F_WBINVD | ACPI_FADT_F_PROC_C1 | ACPI_FADT_F_SLP_BUTTON | ACPI_FADT_F_RTC_S4
                    | ACPI_FADT_F_USE_PLATFORM_CLOCK | (cpus > 8 ? ACPI_FADT_F_FORCE_APIC_CLUSTER_MODEL : 0));
            return b.array();
        }

        private byte[] madtBody() {
            int wakeup = mpWakeupMailbox >= 0 ? MP_WAKEUP_LENGTH : 0;
            ByteBuffer b = le(8 + 8 * cpus + 12 + 10 * (1 + levelTriggeredIrqs.size()) + 6 + wakeup);
            b.putInt((int) LOCAL_APIC_ADDRESS);
            b.putInt(1); // PCAT_COMPAT: dual 8259s present
            for (int i = 0; i < cpus; i++) {
                b.put((byte) ACPI_APIC_PROCESSOR).put((byte) 8).put((byte) i).put((byte) i).putInt(1); // enabled
            }
            b.put((byte) ACPI_APIC_IO).put((byte) 12).put((byte) ioApicId).put((byte) 0).putInt((int) IO_APIC_ADDRESS).putInt(0);
            b.put((byte) ACPI_APIC_XRUPT_OVERRIDE).put((byte) 10).put((byte) 0).put((byte) 0).putInt(2).putShort((short) 0);
            for (int irq : levelTriggeredIrqs) {
                b.put((byte) ACPI_APIC_XRUPT_OVERRIDE).put((byte) 10).put((byte) 0).put((byte) irq).putInt(irq).putShort((short) ACTIVE_HIGH_LEVEL);
            }
            b.put((byte) ACPI_APIC_LOCAL_NMI).put((byte) 6).put((byte) 0xFF).putShort((short) 0).put((byte) 1); // all CPUs, LINT1
            if (mpWakeupMailbox >= 0) {
                // MailBoxVersion 0 (ACPI 6.4: no reset vector, no TEST command), reserved, MailBoxAddress.
                b.put((byte) ACPI_APIC_MULTIPROC_WAKEUP).put((byte) MP_WAKEUP_LENGTH).putShort((short) 0).putInt(0)
                        .putLong(mpWakeupMailbox);
            }
            return b.array();
        }

        private byte[] rsdp(long rsdt, long xsdt) {
            ByteBuffer b = le(RSDP_SIZE);
            b.put(ascii("RSD PTR ", 8));
            b.put((byte) 0); // checksum of the first 20 bytes
            b.put(ascii(OEM_ID, 6));
            b.put((byte) 2); // revision: ACPI 2.0+
            b.putInt((int) rsdt);
            b.putInt(RSDP_SIZE);
            b.putLong(xsdt);
            b.put((byte) 0); // extended checksum
            byte[] r = b.array();
            r[8] = checksum(r, 0, 20);
            r[32] = checksum(r, 0, RSDP_SIZE);
            return r;
        }

        private static byte[] facs() {
            ByteBuffer b = le(FACS_SIZE);
            b.put(ascii("FACS", 4));
            b.putInt(FACS_SIZE);
            // Hardware signature, waking vector, global lock, flags and the reserved rest: 0.
            return b.array();
        }

        /** {@code Name (\_S5, Package (0x04) {Zero, Zero, Zero, Zero})}: soft-off is SLP_TYP 0. */
        private static byte[] s5Aml() {
            return new byte[]{0x08, '\\', '_', 'S', '5', '_', 0x12, 0x06, 0x04, 0x00, 0x00, 0x00, 0x00};
        }

        private static byte[] pointers(int size, long... addresses) {
            ByteBuffer b = le(size * addresses.length);
            for (long a : addresses) {
                if (size == 4) {
                    b.putInt((int) a);
                } else {
                    b.putLong(a);
                }
            }
            return b.array();
        }

        /** A system description table: the common header (checksum filled in) and {@code body}. */
        private static byte[] table(String signature, int revision, byte[] body) {
            ByteBuffer b = le(HEADER_SIZE + body.length);
            b.put(ascii(signature, 4));
            b.putInt(HEADER_SIZE + body.length);
            b.put((byte) revision);
            b.put((byte) 0); // checksum
            b.put(ascii(OEM_ID, 6));
            b.put(ascii(OEM_TABLE_ID, 8));
            b.putInt(1); // OEM revision
            b.put(ascii(CREATOR_ID, 4));
            b.putInt(1); // creator revision
            b.put(body);
            byte[] t = b.array();
            t[9] = checksum(t, 0, t.length);
            return t;
        }
    }

    /** The byte that makes {@code bytes[from, from + length)} sum to 0 (mod 256), given that it is 0 now. */
    static byte checksum(byte[] bytes, int from, int length) {
        int sum = 0;
        for (int i = from; i < from + length; i++) {
            sum += bytes[i];
        }
        return (byte) -sum;
    }

    private static long align(long value, long alignment) {
        return (value + alignment - 1) & -alignment;
    }

    private static ByteBuffer le(int size) {
        return ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static byte[] ascii(String s, int length) {
        byte[] b = s.getBytes(StandardCharsets.US_ASCII);
        if (b.length != length) {
            throw new IllegalStateException("'" + s + "' is not " + length + " characters");
        }
        return b;
    }
}
