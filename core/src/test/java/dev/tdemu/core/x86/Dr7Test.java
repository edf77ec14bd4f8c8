package dev.tdemu.core.x86;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class Dr7Test {

    @Test
    void resetValueIs0x400() {
        assertEquals(0x400L, Dr7.RESET.value());
    }

    @Test
    void bit10AlwaysReadsOne() {
        assertEquals(0x401L, new Dr7(0x1).value());
        assertEquals(0x400L, new Dr7(0).value());
    }

    @Test
    void bits11_12_14_15AlwaysReadZero() {
        assertEquals(0x400L | (1L << 13), new Dr7(0xFC00L).value());
    }

    @Test
    void bits63to32ReadZero() {
        assertEquals(0x400L, new Dr7(0xFFFF_FFFF_0000_0000L).value());
        assertTrue(Dr7.hasReservedUpperBits(1L << 32));
        assertFalse(Dr7.hasReservedUpperBits(0xFFFF_FFFFL));
    }

    @Test
    void evenBitsAreLocalEnablesAndOddBitsGlobalEnables() {
        Dr7 d = new Dr7(0b0110_0001);
        assertTrue(d.localEnable(0));
        assertFalse(d.globalEnable(0));
        assertFalse(d.localEnable(1));
        assertFalse(d.globalEnable(1));
        assertFalse(d.localEnable(2));
        assertTrue(d.globalEnable(2));
        assertTrue(d.localEnable(3));
        assertEquals(0b1101, d.enabledSlots());
    }

    @Test
    void slotIsEnabledByEitherLocalOrGlobalBit() {
        assertTrue(new Dr7(1L << 4).enabled(2));
        assertTrue(new Dr7(1L << 5).enabled(2));
        assertFalse(new Dr7(1L << 4).enabled(1));
    }

    @Test
    void anyEnabledLooksOnlyAtBits0To7() {
        assertFalse(new Dr7(Dr7.LE | Dr7.GE | Dr7.GD | 0xFFFF_0000L).anyEnabled());
        assertTrue(new Dr7(1L << 7).anyEnabled());
    }

    @Test
    void anyGlobalEnabledIgnoresLocalBits() {
        assertFalse(new Dr7(0x55).anyGlobalEnabled());
        assertTrue(new Dr7(0x02).anyGlobalEnabled());
    }

    @Test
    void rwFieldOfSlotNIsAtBits16Plus4n() {
        Dr7 d = new Dr7((0b01L << 16) | (0b10L << 20) | (0b11L << 24) | (0b00L << 28));
        assertEquals(BreakpointType.WRITE, d.type(0));
        assertEquals(BreakpointType.IO, d.type(1));
        assertEquals(BreakpointType.READ_WRITE, d.type(2));
        assertEquals(BreakpointType.EXECUTE, d.type(3));
    }

    @Test
    void lenFieldOfSlotNIsAtBits18Plus4nAndEncodes1_2_8_4() {
        Dr7 d = new Dr7((0b00L << 18) | (0b01L << 22) | (0b10L << 26) | (0b11L << 30));
        assertEquals(1, d.length(0).bytes());
        assertEquals(2, d.length(1).bytes());
        assertEquals(8, d.length(2).bytes());
        assertEquals(4, d.length(3).bytes());
    }

    @Test
    void gdIsBit13() {
        assertTrue(new Dr7(1L << 13).gd());
        assertFalse(new Dr7(1L << 13).withGd(false).gd());
    }

    @Test
    void withSlotProgramsTypeLengthAndEnablesOfOnlyThatSlot() {
        Dr7 d = Dr7.RESET.withSlot(0, BreakpointType.EXECUTE, BreakpointLength.ONE, true, false)
                .withSlot(3, BreakpointType.WRITE, BreakpointLength.EIGHT, false, true);
        assertEquals(0x400L | 0x1 | 0x80 | (0b01L << 28) | (0b10L << 30), d.value());
        assertEquals(d.withoutSlot(3).value(), Dr7.RESET.withSlot(0, BreakpointType.EXECUTE, BreakpointLength.ONE, true, false).value());
    }

    @Test
    void slotOutsideZeroToThreeIsRejected() {
        assertThrows(IllegalArgumentException.class, () -> Dr7.RESET.enabled(4));
    }
}
