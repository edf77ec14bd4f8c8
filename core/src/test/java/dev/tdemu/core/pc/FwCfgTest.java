package dev.tdemu.core.pc;

import dev.tdemu.core.platform.PortBus;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class FwCfgTest {
    private final PortBus bus = new PortBus();

    private void attach(FwCfg fwCfg) {
        fwCfg.attachTo(bus);
    }

    /** What kvm-unit-tests' fwcfg_get_u does: a 16-bit OUT of the key, then byte INs, little-endian. */
    private long read(int key, int bytes) {
        bus.out(0x510, 2, key);
        long r = 0;
        for (int i = 0; i < bytes; i++) {
            r |= bus.in(0x511, 1) << (8 * i);
        }
        return r;
    }

    private byte[] readBytes(int key, int n) {
        bus.out(0x510, 2, key);
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) bus.in(0x511, 1);
        }
        return b;
    }

    private static FwCfg pc() {
        return FwCfg.builder().ramSize(512L << 20).cpus(2, 4).build();
    }

    @Test
    void theSignatureKeyReadsQemu() {
        attach(pc());
        assertArrayEquals("QEMU".getBytes(StandardCharsets.US_ASCII), readBytes(FwCfg.FW_CFG_SIGNATURE, 4));
    }

    @Test
    void theIdKeyOffersTheTraditionalInterfaceOnly() {
        attach(pc());
        assertEquals(1, read(FwCfg.FW_CFG_ID, 4));
    }

    @Test
    void ramSizeIsA64BitLittleEndianByteCount() {
        attach(FwCfg.builder().ramSize(0x1_2345_6000L).build());
        assertEquals(0x1_2345_6000L, read(FwCfg.FW_CFG_RAM_SIZE, 8));
    }

    @Test
    void nbCpusAndMaxCpusAre16BitCounts() {
        attach(pc());
        assertEquals(2, read(FwCfg.FW_CFG_NB_CPUS, 2));
        assertEquals(4, read(FwCfg.FW_CFG_MAX_CPUS, 2));
    }

    @Test
    void noGraphicBootMenuUuidAndTheIrq0OverrideHaveQemusValues() {
        attach(pc());
        assertEquals(1, read(FwCfg.FW_CFG_NOGRAPHIC, 2));
        assertEquals(0, read(FwCfg.FW_CFG_BOOT_MENU, 2));
        assertArrayEquals(new byte[16], readBytes(FwCfg.FW_CFG_UUID, 16));
        assertEquals(1, read(FwCfg.FW_CFG_IRQ0_OVERRIDE, 4));
    }

    @Test
    void selectingAKeyResetsTheDataOffset() {
        attach(pc());
        read(FwCfg.FW_CFG_SIGNATURE, 2);
        assertEquals('Q', read(FwCfg.FW_CFG_SIGNATURE, 1));
    }

    @Test
    void readsPastTheEndOfAnItemReturnZero() {
        attach(pc());
        bus.out(0x510, 2, FwCfg.FW_CFG_SIGNATURE);
        for (int i = 0; i < 4; i++) {
            bus.in(0x511, 1);
        }
        assertEquals(0, bus.in(0x511, 1));
        assertEquals(0, bus.in(0x511, 1));
    }

    @Test
    void unknownKeysReadZeros() {
        attach(pc());
        assertEquals(0, read(0x11, 8), "kvm-unit-tests' MAX_RAM: 0 means no limit");
        assertEquals(0, read(0x3FFF, 4));
        assertEquals(0, read(0x8000 + 0x123, 4));
    }

    @Test
    void theWriteChannelBitIsIgnoredForReads() {
        attach(pc());
        assertEquals(2, read(FwCfg.FW_CFG_WRITE_CHANNEL | FwCfg.FW_CFG_NB_CPUS, 2));
    }

    @Test
    void theFileDirectoryListsFilesByNameInBigEndian() {
        attach(FwCfg.builder().file("etc/zzz", new byte[]{1, 2, 3}).file("etc/e820", new byte[40]).build());
        byte[] dir = readBytes(FwCfg.FW_CFG_FILE_DIR, 4 + 2 * 64);
        assertEquals(2, java.nio.ByteBuffer.wrap(dir).getInt(0), "count");
        java.nio.ByteBuffer e = java.nio.ByteBuffer.wrap(dir, 4, 128);
        assertEquals(40, e.getInt());
        assertEquals(0x20, e.getShort());
        assertEquals(0, e.getShort());
        byte[] name = new byte[56];
        e.get(name);
        assertEquals("etc/e820", new String(name, StandardCharsets.US_ASCII).replace("\0", ""));
        assertEquals(3, e.getInt());
        assertEquals(0x21, e.getShort());
    }

    @Test
    void aFileIsReadThroughTheKeyItsDirectoryEntryNames() {
        attach(FwCfg.builder().file("opt/test", new byte[]{9, 8, 7}).build());
        assertArrayEquals(new byte[]{9, 8, 7, 0}, readBytes(FwCfg.FW_CFG_FILE_FIRST, 4));
    }

    @Test
    void anEmptyDirectoryHoldsACountOfZero() {
        attach(pc());
        assertEquals(0, read(FwCfg.FW_CFG_FILE_DIR, 4));
    }

    @Test
    void aByteReadOfTheSelectorPortReadsDataAndAWordWriteToTheDataPortSelectsAsInQemu() {
        attach(pc());
        bus.out(0x511, 2, FwCfg.FW_CFG_SIGNATURE);
        assertEquals('Q', bus.in(0x510, 1));
        assertEquals('E', bus.in(0x511, 1));
    }

    @Test
    void byteWritesAreIgnored() {
        FwCfg fwCfg = pc();
        attach(fwCfg);
        bus.out(0x510, 2, FwCfg.FW_CFG_NB_CPUS);
        bus.out(0x511, 1, 0x55);
        bus.out(0x510, 1, 0x03);
        assertEquals(FwCfg.FW_CFG_NB_CPUS, fwCfg.selector());
        assertEquals(2, bus.in(0x511, 1), "neither the item nor the offset changed");
    }

    @Test
    void accessesQemuRefusesReadAllOnesAndChangeNothing() {
        attach(pc());
        bus.out(0x510, 2, FwCfg.FW_CFG_SIGNATURE);
        assertEquals(0xFFFF, bus.in(0x511, 2));
        assertEquals(0xFFFF_FFFFL, bus.in(0x510, 4));
        bus.out(0x510, 4, FwCfg.FW_CFG_ID);
        assertEquals('Q', bus.in(0x511, 1));
    }

    @Test
    void theDmaRegisterIsLeftUnclaimed() {
        attach(pc());
        assertEquals(0xFFFF_FFFFL, bus.in(FwCfg.DMA_PORT, 4));
        assertEquals(java.util.Optional.empty(), bus.claimant(FwCfg.DMA_PORT));
    }

    @Test
    void resetSelectsTheSignature() {
        FwCfg fwCfg = pc();
        attach(fwCfg);
        read(FwCfg.FW_CFG_NB_CPUS, 1);
        fwCfg.reset();
        assertEquals('Q', bus.in(0x511, 1));
    }

    @Test
    void rawItemsCanBeAddedBelowTheFileRange() {
        attach(FwCfg.builder().item(FwCfg.FW_CFG_MACHINE_ID, new byte[]{5, 0, 0, 0}).build());
        assertEquals(5, read(FwCfg.FW_CFG_MACHINE_ID, 4));
    }

    @Test
    void badBuilderInputGetsAOneLineMessage() {
        assertEquals("fw_cfg: file name '' must be 1 to 55 ASCII characters",
                assertThrows(IllegalArgumentException.class, () -> FwCfg.builder().file("", new byte[0])).getMessage());
        assertEquals("fw_cfg: file name '" + "x".repeat(56) + "' must be 1 to 55 ASCII characters",
                assertThrows(IllegalArgumentException.class, () -> FwCfg.builder().file("x".repeat(56), new byte[0])).getMessage());
        assertEquals("fw_cfg: file 'etc/a' is added twice",
                assertThrows(IllegalArgumentException.class, () -> FwCfg.builder().file("etc/a", new byte[0]).file("etc/a", new byte[1])).getMessage());
        assertEquals("fw_cfg: 3 CPUs of at most 2 is not a CPU count",
                assertThrows(IllegalArgumentException.class, () -> FwCfg.builder().cpus(3, 2)).getMessage());
        assertEquals("fw_cfg: key 0x19 is not a plain item key (the file directory and files are built from file())",
                assertThrows(IllegalArgumentException.class, () -> FwCfg.builder().item(0x19, new byte[0])).getMessage());
        assertEquals("fw_cfg: a UUID has 16 bytes, not 3",
                assertThrows(IllegalArgumentException.class, () -> FwCfg.builder().uuid(new byte[3])).getMessage());
    }
}
