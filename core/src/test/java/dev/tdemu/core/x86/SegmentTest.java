package dev.tdemu.core.x86;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class SegmentTest {
    @Test
    void aFlatLongModeCodeDescriptorLoadsAsSixtyFourBitCode() {
        Segment cs = Segment.fromDescriptor(0x08, 0x00AF9A000000FFFFL);
        assertEquals(0, cs.base());
        assertEquals(0xFFFF_FFFFL, cs.limit(), "4 KiB granular");
        assertTrue(cs.code() && cs.longMode() && cs.present());
        assertFalse(cs.defaultBig() || cs.conforming());
        assertEquals(0, cs.dpl());
        assertEquals(Segment.flatCode64(0x08, 0).accessRights() & ~Segment.TYPE_ACCESSED, cs.accessRights(), "the descriptor is not yet accessed");
    }

    @Test
    void baseAndByteGranularLimitComeFromTheirSplitFields() {
        Segment s = Segment.fromDescriptor(0x2b, 0x12CF_F234_5678_0FFFL & ~(1L << 55));
        assertEquals(0x12345678L, s.base());
        assertEquals(0xF0FFFL, s.limit());
        assertEquals(3, s.dpl());
        assertEquals(3, s.rpl());
        assertTrue(s.writableData());
    }

    @Test
    void aRealModeSegmentIsSixteenTimesItsSelector() {
        Segment s = Segment.real(0xF000);
        assertEquals(0xF0000L, s.base());
        assertEquals(0xFFFF, s.limit());
        assertTrue(s.present() && s.writableData());
    }

    @Test
    void expandDownAndSystemTypesAreTold() {
        assertTrue(Segment.fromDescriptor(0x10, 0x0000_9600_0000_0000L).expandDown());
        assertTrue(Segment.fromDescriptor(0x28, 0x0000_8900_0000_0067L).system());
    }
}
