package dev.tdemu.core.pc;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class AcpiTablesTest {
    private static final int ACPI_APIC_PROCESSOR = 0, ACPI_APIC_IO = 1, ACPI_APIC_XRUPT_OVERRIDE = 2, ACPI_APIC_LOCAL_NMI = 4;

    private final AcpiTables.Image image = AcpiTables.builder().cpus(4).build();
    private final AcpiParser acpi = new AcpiParser(image);

    @Test
    void theRsdpIsFoundOnA16ByteBoundaryOfTheBiosAreaWithBothChecksums() {
        AcpiParser.Rsdp rsdp = acpi.findRsdp();
        assertEquals(0xE0000, rsdp.address());
        assertEquals(2, rsdp.revision());
        assertEquals("TDEMU ", rsdp.oemId());
        assertEquals(image.rsdt(), rsdp.rsdt());
        assertEquals(image.xsdt(), rsdp.xsdt());
    }

    @Test
    void theRsdtAndXsdtListTheFadtAndMadt() {
        AcpiParser.Rsdp rsdp = acpi.findRsdp();
        AcpiParser.Table rsdt = acpi.table(rsdp.rsdt());
        AcpiParser.Table xsdt = acpi.table(rsdp.xsdt());
        assertEquals("RSDT", rsdt.signature());
        assertEquals("XSDT", xsdt.signature());
        assertEquals(List.of("FACP", "APIC"), acpi.entries(rsdt, 4).stream().map(AcpiParser.Table::signature).toList());
        assertEquals(List.of(image.fadt(), image.madt()), acpi.entries(xsdt, 8).stream().map(AcpiParser.Table::address).toList());
        assertEquals(List.of(image.fadt(), image.madt()), acpi.entries(rsdt, 4).stream().map(AcpiParser.Table::address).toList());
    }

    @Test
    void everyTableHasAValidHeaderAndTheImageStaysInTheBiosArea() {
        for (long at : new long[]{image.rsdt(), image.xsdt(), image.fadt(), image.dsdt(), image.madt()}) {
            AcpiParser.Table t = acpi.table(at); // checks the checksum and length
            assertEquals(0, at % 16, t.signature() + " alignment");
            assertEquals("TDEMU ", new String(t.data().array(), t.data().arrayOffset() + 10, 6, StandardCharsets.US_ASCII));
        }
        assertEquals(true, image.address() + image.bytes().length <= 0x100000);
    }

    @Test
    void theFadtIsRevision1WithThePiix4PmBlocksAndTheSci() {
        AcpiParser.Table fadt = acpi.find("FACP");
        assertEquals(1, fadt.revision());
        assertEquals(116, fadt.length());
        assertEquals(image.facs(), fadt.u32(36), "FIRMWARE_CTRL");
        assertEquals(image.dsdt(), fadt.u32(40), "DSDT");
        assertEquals(9, fadt.u16(46), "SCI_INT");
        assertEquals(0, fadt.u32(48), "SMI_CMD: no SMM");
        assertEquals(0x600, fadt.u32(56), "PM1a_EVT_BLK");
        assertEquals(0x604, fadt.u32(64), "PM1a_CNT_BLK");
        assertEquals(0x608, fadt.u32(76), "PM_TMR_BLK");
        assertEquals(0, fadt.u32(80), "no GPE0 block");
        assertEquals(4, fadt.u8(88), "PM1_EVT_LEN");
        assertEquals(2, fadt.u8(89), "PM1_CNT_LEN");
        assertEquals(4, fadt.u8(91), "PM_TMR_LEN");
        assertEquals(0xFFF, fadt.u16(96), "no C2");
        assertEquals(0xFFF, fadt.u16(98), "no C3");
        assertEquals(0x32, fadt.u8(108), "CENTURY");
        assertEquals(0x0000_80A5L, fadt.u32(112), "WBINVD, PROC_C1, SLP_BUTTON, RTC_S4, USE_PLATFORM_CLOCK; no TMR_VAL_EXT");
    }

    @Test
    void beyondEightCpusTheFadtForcesTheClusterModel() {
        AcpiParser.Table fadt = new AcpiParser(AcpiTables.builder().cpus(9).build()).find("FACP");
        assertEquals(0x0004_80A5L, fadt.u32(112));
    }

    @Test
    void theFacsIs64BytesAnd64ByteAligned() {
        assertEquals(0, image.facs() % 64);
        ByteBuffer facs = acpi.facs(image.facs());
        byte[] sig = new byte[4];
        facs.get(0, sig);
        assertEquals("FACS", new String(sig, StandardCharsets.US_ASCII));
        assertEquals(64, facs.getInt(4));
        assertEquals(0, facs.getInt(12), "waking vector");
    }

    @Test
    void theDsdtHoldsTheS5PackageForSoftOff() {
        AcpiParser.Table dsdt = acpi.table(image.dsdt());
        assertEquals("DSDT", dsdt.signature());
        byte[] aml = new byte[dsdt.length() - 36];
        dsdt.data().get(36, aml);
        assertArrayEquals(new byte[]{0x08, '\\', '_', 'S', '5', '_', 0x12, 0x06, 0x04, 0, 0, 0, 0}, aml);
    }

    @Test
    void theMadtHasOneEnabledLocalApicPerCpuTheIoApicQemusOverridesAndLint1Nmi() {
        AcpiParser.Table madt = acpi.find("APIC");
        assertEquals(0xFEE0_0000L, madt.u32(36), "local APIC address");
        assertEquals(1, madt.u32(40), "PCAT_COMPAT");
        List<AcpiParser.MadtEntry> entries = AcpiParser.madtEntries(madt);
        List<AcpiParser.MadtEntry> lapics = entries.stream().filter(e -> e.type() == ACPI_APIC_PROCESSOR).toList();
        assertEquals(4, lapics.size());
        for (int i = 0; i < 4; i++) {
            assertEquals(i, lapics.get(i).u8(2), "UID");
            assertEquals(i, lapics.get(i).u8(3), "APIC ID");
            assertEquals(1, lapics.get(i).u32(4), "enabled");
        }
        AcpiParser.MadtEntry ioapic = entries.stream().filter(e -> e.type() == ACPI_APIC_IO).findFirst().orElseThrow();
        assertEquals(0, ioapic.u8(2), "IO-APIC ID");
        assertEquals(0xFEC0_0000L, ioapic.u32(4));
        assertEquals(0, ioapic.u32(8), "GSI base");
        List<String> overrides = entries.stream().filter(e -> e.type() == ACPI_APIC_XRUPT_OVERRIDE)
                .map(e -> "bus" + e.u8(2) + " irq" + e.u8(3) + "->gsi" + e.u32(4) + " flags" + e.u16(8)).toList();
        assertEquals(List.of("bus0 irq0->gsi2 flags0", "bus0 irq5->gsi5 flags13", "bus0 irq9->gsi9 flags13",
                "bus0 irq10->gsi10 flags13", "bus0 irq11->gsi11 flags13"), overrides);
        AcpiParser.MadtEntry nmi = entries.stream().filter(e -> e.type() == ACPI_APIC_LOCAL_NMI).findFirst().orElseThrow();
        assertEquals(0xFF, nmi.u8(2), "all processors");
        assertEquals(1, nmi.u8(5), "LINT1");
    }

    @Test
    void theIoApicIdAndLevelOverridesAndPmBaseCanBeChosen() {
        AcpiTables.Image other = AcpiTables.builder().cpus(2).ioApicId(2).levelTriggeredIrqs(Set.of(9)).pmBase(0xB000).build();
        AcpiParser p = new AcpiParser(other);
        List<AcpiParser.MadtEntry> entries = AcpiParser.madtEntries(p.find("APIC"));
        assertEquals(2, entries.stream().filter(e -> e.type() == ACPI_APIC_IO).findFirst().orElseThrow().u8(2));
        assertEquals(2, entries.stream().filter(e -> e.type() == ACPI_APIC_XRUPT_OVERRIDE).count());
        assertEquals(0xB008, p.find("FACP").u32(76));
    }

    @Test
    void theImageCanSitElsewhereInTheBiosArea() {
        AcpiTables.Image high = AcpiTables.builder().address(0xF5A40).build();
        AcpiParser p = new AcpiParser(high);
        assertEquals(0xF5A40, p.findRsdp().address());
        assertEquals("FACP", p.find("FACP").signature());
    }

    @Test
    void aTdsMadtIsRevision5AndNamesTheWakeupMailboxInAMultiprocessorWakeupStructure() {
        AcpiParser p = new AcpiParser(AcpiTables.builder().cpus(4).mpWakeupMailbox(0xF0000).build());
        AcpiParser.Table madt = p.find("APIC");
        assertEquals(5, madt.revision());
        List<AcpiParser.MadtEntry> wakeup = AcpiParser.madtEntries(madt).stream().filter(e -> e.type() == 0x10).toList();
        assertEquals(1, wakeup.size());
        assertEquals(16, wakeup.get(0).u8(1), "length");
        assertEquals(0, wakeup.get(0).u16(2), "MailBoxVersion");
        assertEquals(0, wakeup.get(0).u32(4), "reserved");
        assertEquals(0xF0000, wakeup.get(0).u32(8), "MailBoxAddress, low half");
        assertEquals(0, wakeup.get(0).u32(12), "MailBoxAddress, high half");
        assertEquals(4, AcpiParser.madtEntries(madt).stream().filter(e -> e.type() == ACPI_APIC_PROCESSOR).count());
    }

    @Test
    void aPcsMadtHasNoWakeupStructure() {
        AcpiParser.Table madt = acpi.find("APIC");
        assertEquals(1, madt.revision());
        assertEquals(0, AcpiParser.madtEntries(madt).stream().filter(e -> e.type() == 0x10).count());
    }

    @Test
    void aWakeupMailboxMustBeAPageBelow4GiB() {
        assertEquals("ACPI: the wakeup mailbox at 0xf0010 must be 4 KiB aligned, above 0 and below 4 GiB",
                assertThrows(IllegalArgumentException.class, () -> AcpiTables.builder().mpWakeupMailbox(0xF0010)).getMessage());
        assertThrows(IllegalArgumentException.class, () -> AcpiTables.builder().mpWakeupMailbox(1L << 32));
    }

    @Test
    void badPlacementsAndCountsGetAOneLineMessage() {
        assertEquals("ACPI: the RSDP at 0xe0008 must be 16-byte aligned in 0xe0000-0xfffff",
                assertThrows(IllegalArgumentException.class, () -> AcpiTables.builder().address(0xE0008).build()).getMessage());
        assertEquals("ACPI: the RSDP at 0x100000 must be 16-byte aligned in 0xe0000-0xfffff",
                assertThrows(IllegalArgumentException.class, () -> AcpiTables.builder().address(0x100000).build()).getMessage());
        assertEquals("ACPI: 256 CPUs is outside 1-255 (xAPIC IDs)",
                assertThrows(IllegalArgumentException.class, () -> AcpiTables.builder().cpus(256)).getMessage());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> AcpiTables.builder().address(0xFFF00).cpus(100).build());
        assertEquals(true, e.getMessage().endsWith("past the BIOS area"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> AcpiTables.builder().levelTriggeredIrqs(Set.of(2)));
    }
}
