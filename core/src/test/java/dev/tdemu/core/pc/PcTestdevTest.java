package dev.tdemu.core.pc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tdemu.core.platform.MmioBus;
import dev.tdemu.core.platform.PortBus;
import org.junit.jupiter.api.Test;

class PcTestdevTest {
    private final PortBus ports = new PortBus();
    private final MmioBus mmio = new MmioBus();
    private final RecordingLine[] lines = new RecordingLine[PcTestdev.LINES];
    private final PcTestdev dev;

    PcTestdevTest() {
        for (int i = 0; i < lines.length; i++) {
            lines[i] = new RecordingLine();
        }
        dev = new PcTestdev(gsi -> lines[gsi]);
        dev.attachTo(ports, mmio);
    }

    @Test
    void theScratchRegisterReadsBackWhatWasWrittenAtEveryWidth() {
        ports.out(0xE0, 4, 0x1234_5678L);
        assertEquals(0x1234_5678L, ports.in(0xE0, 4));
        assertEquals(0x5678, ports.in(0xE0, 2));
        assertEquals(0x34, ports.in(0xE2, 1));
        assertEquals(0x12, ports.in(0xE3, 1));
    }

    @Test
    void aNarrowWriteReplacesOnlyTheBytesItCovers() {
        ports.out(0xE0, 4, 0xAABB_CCDDL);
        ports.out(0xE1, 1, 0x11);
        assertEquals(0xAABB_11DDL, ports.in(0xE0, 4));
        ports.out(0xE2, 2, 0x2233);
        assertEquals(0x2233_11DDL, ports.in(0xE0, 4));
    }

    @Test
    void theByteWiseWindowIsTheSameRegister() {
        ports.out(0xE8, 4, 0xCAFE_F00DL);
        assertEquals(0xCAFE_F00DL, ports.in(0xE0, 4));
        ports.out(0xE0, 1, 0x42);
        assertEquals(0x42, ports.in(0xE8, 1));
        assertEquals(0xCAFE_F042L, dev.scratch() & 0xFFFF_FFFFL);
    }

    @Test
    void aWideAccessPastTheWindowStopsAtItsEnd() {
        ports.out(0xE0, 4, 0);
        ports.out(0xE2, 4, 0x5566_7788L);
        assertEquals(0x7788_0000L, ports.in(0xE0, 4));
        assertEquals(0, dev.flushes(), "the bytes past the window are not a flush request");
        assertEquals(0xFFFF_7788L, ports.in(0xE2, 4), "bytes past the window read all-ones");
    }

    @Test
    void aFourByteWriteToTheFlushPortIsCountedAndChangesNothingElse() {
        ports.out(0xE0, 4, 0x0102_0304L);
        ports.out(0xE4, 4, 0x0040_1000L);
        ports.out(0xE4, 2, 0x1000);
        assertEquals(1, dev.flushes());
        assertEquals(0x0102_0304L, ports.in(0xE0, 4));
        assertEquals(0xFFFF_FFFFL, ports.in(0xE4, 4), "write-only: reads all-ones");
    }

    @Test
    void aByteWriteSetsTheLevelOfTheLineItAddresses() {
        ports.out(0x2000 + 14, 1, 1);
        assertTrue(lines[14].high);
        ports.out(0x2000 + 14, 1, 0);
        assertFalse(lines[14].high);
        ports.out(0x2000 + 23, 1, 0x80);
        assertTrue(lines[23].high, "any non-zero value raises");
        assertEquals(1, lines[14].rises);
        assertEquals(1, lines[14].falls);
    }

    @Test
    void aWiderWriteToTheLinesIsIgnored() {
        ports.out(0x2000 + 3, 2, 0x0101);
        assertFalse(lines[3].high);
        assertFalse(lines[4].high);
    }

    @Test
    void theMemoryWindowKeepsWhatIsWrittenAtEveryWidth() {
        long base = PcTestdev.IOMEM_BASE;
        mmio.write(base, 8, 0x0123_4567_89AB_CDEFL);
        assertEquals(0x0123_4567_89AB_CDEFL, mmio.read(base, 8));
        assertEquals(0x89AB, mmio.read(base + 2, 2));
        mmio.write(base + 0xFFFF, 1, 0x5A);
        assertEquals(0x5A, mmio.read(base + 0xFFFF, 1));
        assertEquals(0xEF, mmio.read(base, 1));
    }

    @Test
    void theMemoryWindowEndsAfterSixtyFourKibibytes() {
        assertTrue(mmio.region(PcTestdev.IOMEM_BASE + 0xFFFF).isPresent());
        assertFalse(mmio.region(PcTestdev.IOMEM_BASE + 0x1_0000).isPresent());
    }
}
