package dev.tdemu.core.pc;

import dev.tdemu.core.platform.NotModelledException;
import dev.tdemu.core.platform.PortBus;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PciConfigMechanism1Test {
    private final PciConfigMechanism1 pci = PciConfigMechanism1.withI440fx();
    private final PortBus bus = new PortBus();

    PciConfigMechanism1Test() {
        pci.attachTo(bus);
    }

    /** kvm-unit-tests' PCI_CONF1_ADDRESS: enable, devfn << 8, register. */
    private void select(int bus, int device, int fn, int reg) {
        this.bus.out(0xCF8, 4, 0x8000_0000L | bus << 16 | device << 11 | fn << 8 | reg);
    }

    private long readl(int device, int reg) {
        select(0, device, 0, reg);
        return bus.in(0xCFC, 4);
    }

    @Test
    void device0IsAnI440fxHostBridge() {
        assertEquals(0x1237_8086L, readl(0, 0x00));
        assertEquals(0x0600_0002L, readl(0, 0x08), "class 06/00/00, revision 2");
        assertEquals(0x1100_1AF4L, readl(0, 0x2C), "QEMU's subsystem IDs");
        assertEquals(0x0280_0006L, readl(0, 0x04), "status, command");
    }

    @Test
    void itsHeaderTypeIs0ReadTheWayKvmUnitTestsReadsBytes() {
        select(0, 0, 0, 0x0E); // the register's low bits in CONFIG_ADDRESS, then a byte read at 0xCFC
        assertEquals(0x00, bus.in(0xCFC, 1));
        select(0, 0, 0, 0x02);
        assertEquals(0x1237, bus.in(0xCFC, 2));
    }

    @Test
    void eachDataPortReachesItsByteLane() {
        select(0, 0, 0, 0x00);
        assertEquals(0x86, bus.in(0xCFC, 1));
        assertEquals(0x80, bus.in(0xCFD, 1));
        assertEquals(0x37, bus.in(0xCFE, 1));
        assertEquals(0x12, bus.in(0xCFF, 1));
        assertEquals(0x1237, bus.in(0xCFE, 2));
        assertEquals(0x3780, bus.in(0xCFD, 2));
    }

    @Test
    void everyOtherDeviceFunctionAndBusReadsAllOnes() {
        List<Integer> present = new ArrayList<>();
        for (int dev = 0; dev < 32; dev++) {
            select(0, dev, 0, 0);
            if (bus.in(0xCFC, 2) != 0xFFFF) {
                present.add(dev);
            }
        }
        assertEquals(List.of(0), present);
        select(0, 0, 1, 0);
        assertEquals(0xFFFF_FFFFL, bus.in(0xCFC, 4));
        select(1, 0, 0, 0);
        assertEquals(0xFFFF_FFFFL, bus.in(0xCFC, 4));
    }

    @Test
    void withTheEnableBitClearTheDataWindowReadsAllOnesAndIgnoresWrites() {
        bus.out(0xCF8, 4, 0x0000_0004);
        assertEquals(0xFFFF_FFFFL, bus.in(0xCFC, 4));
        bus.out(0xCFC, 2, 0x0140);
        assertEquals(0x0006, readl(0, 0x04) & 0xFFFF);
    }

    @Test
    void theIdsAndClassAreReadOnly() {
        select(0, 0, 0, 0x00);
        bus.out(0xCFC, 4, 0xFFFF_FFFFL);
        select(0, 0, 0, 0x08);
        bus.out(0xCFC, 4, 0);
        assertEquals(0x1237_8086L, readl(0, 0x00));
        assertEquals(0x0600_0002L, readl(0, 0x08));
    }

    @Test
    void onlyTheParityAndSerrEnablesOfCommandAreWritable() {
        select(0, 0, 0, 0x04);
        bus.out(0xCFC, 2, 0xFFFF);
        assertEquals(0x0146, readl(0, 0x04) & 0xFFFF);
        select(0, 0, 0, 0x04);
        bus.out(0xCFC, 2, 0x0000);
        assertEquals(0x0006, readl(0, 0x04) & 0xFFFF, "memory and bus master stay on");
        assertEquals(0x0280, readl(0, 0x04) >>> 16, "status is untouched by the command write");
    }

    @Test
    void theLatencyTimerKeepsItsTopFiveBits() {
        select(0, 0, 0, 0x0C);
        bus.out(0xCFD, 1, 0xFF);
        assertEquals(0xF8, readl(0, 0x0C) >>> 8 & 0xFF);
    }

    @Test
    void configAddressIsADwordRegisterThatReadsBackWhatWasWritten() {
        bus.out(0xCF8, 4, 0x8000_0802L);
        assertEquals(0x8000_0802L, bus.in(0xCF8, 4));
        bus.out(0xCF8, 1, 0x00);
        bus.out(0xCF8, 2, 0x0000);
        assertEquals(0x8000_0802L, bus.in(0xCF8, 4), "byte and word writes do not reach it");
        assertEquals(0xFF, bus.in(0xCF8, 1));
        assertEquals(Optional.empty(), bus.claimant(0xCF9), "the reset control register is left free");
    }

    @Test
    void anAttachedFunctionAppearsAtItsAddress() {
        PciConfigSpace testdev = new PciConfigSpace() {
            {
                set(PCI_VENDOR_ID, 4, 0x0005_1B36);
                set(PCI_INTERRUPT_LINE, 1, 0x0A);
                setWritable(PCI_INTERRUPT_LINE, 1, 0xFF);
            }
        };
        pci.attach(3, 0, testdev);
        assertEquals(0x0005_1B36L, readl(3, 0x00));
        select(0, 3, 0, 0x3C);
        bus.out(0xCFC, 1, 0x0B);
        assertEquals(0x0B, readl(3, 0x3C) & 0xFF);
    }

    @Test
    void writeOneToClearBitsClearOnlyWhereOnesAreWritten() {
        PciConfigSpace dev = new PciConfigSpace() {
            {
                set(PCI_STATUS, 2, 0xF900);
                setWriteOneToClear(PCI_STATUS, 2, 0xF900);
            }
        };
        pci.attach(4, 0, dev);
        select(0, 4, 0, 0x06);
        bus.out(0xCFE, 2, 0x8100);
        assertEquals(0x7800, readl(4, 0x04) >>> 16);
    }

    @Test
    void readsPastTheEndOfConfigSpaceAreAllOnes() {
        select(0, 0, 0, 0xFC);
        assertEquals(0xFFFF_FF00L, bus.in(0xCFF, 4), "one byte of register 0xFF, then nothing");
    }

    @Test
    void aSecondFunctionAtTheSameAddressIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> pci.attach(0, 0, new I440fxHostBridge()));
        assertEquals("PCI: 00:00.0 is already taken", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> pci.attach(32, 0, new I440fxHostBridge()));
    }

    @Test
    void writingAChipsetRegisterFailsLoudly() {
        assertEquals(0x02, readl(0, 0x70) >>> 16 & 0xFF, "SMRAM reads its reset value");
        select(0, 0, 0, 0x59);
        NotModelledException e = assertThrows(NotModelledException.class, () -> bus.out(0xCFD, 1, 0x30));
        assertTrue(e.getMessage().contains("0x59"), e.getMessage());
    }
}
