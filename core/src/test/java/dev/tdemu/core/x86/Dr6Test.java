package dev.tdemu.core.x86;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class Dr6Test {

    @Test
    void resetValueIs0xFFFF0FF0() {
        assertEquals(0xFFFF_0FF0L, Dr6.RESET.value());
    }

    @Test
    void bits4To11And16To31AlwaysReadOne() {
        assertEquals(0xFFFF_0FF0L, new Dr6(0).value());
    }

    @Test
    void bit12AlwaysReadsZero() {
        assertEquals(0xFFFF_0FF0L, new Dr6(1L << 12).value());
    }

    @Test
    void bit16RtmReadsOneBecauseRtmIsNotSupported() {
        assertEquals(1L << 16, new Dr6(0).value() & (1L << 16));
    }

    @Test
    void onlyB0ToB3BdBsBtAreWritable() {
        assertEquals(0xFFFF_0FF0L | 0xF | (1L << 13) | (1L << 14) | (1L << 15), new Dr6(-1L).value());
    }

    @Test
    void bBitsBdBsAccessors() {
        Dr6 d = new Dr6(0b0101 | Dr6.BD | Dr6.BS);
        assertTrue(d.b(0));
        assertTrue(d.b(2));
        assertEquals(0b0101, d.bMask());
        assertTrue(d.bd());
        assertTrue(d.bs());
    }

    @Test
    void deliveryReplacesTheSlotBitsAndKeepsTheStickyStatusBits() {
        Dr6 before = new Dr6(0b0010 | Dr6.BS);
        Dr6 after = before.deliver(PendingDebug.ofSlots(0b0001));
        assertEquals(0xFFFF_0FF0L | 0b0001 | Dr6.BS, after.value());
    }

    @Test
    void pendingDebugAcceptsOnlyBBitsBdAndBs() {
        assertThrows(IllegalArgumentException.class, () -> new PendingDebug(1L << 15));
        assertThrows(IllegalArgumentException.class, () -> new PendingDebug(1L << 4));
    }
}
