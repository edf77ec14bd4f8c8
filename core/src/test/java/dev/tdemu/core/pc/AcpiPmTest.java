package dev.tdemu.core.pc;

import dev.tdemu.core.platform.ManualClock;
import dev.tdemu.core.platform.NotModelledException;
import dev.tdemu.core.platform.PortBus;
import org.junit.jupiter.api.Test;

import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AcpiPmTest {
    private static final int PM1_STS = 0x600, PM1_EN = 0x602, PM1_CNT = 0x604, PM_TMR = 0x608;
    /** 2^23 PM timer ticks: TMR_STS's period, about 2.34 s. */
    private static final long CARRY = 1L << 23;

    private final ManualClock clock = new ManualClock();
    private final RecordingLine sci = new RecordingLine();
    private int powerOffs;
    private final AcpiPm pm = AcpiPm.piix4(clock, sci, () -> powerOffs++);
    private final PortBus bus = new PortBus();

    AcpiPmTest() {
        pm.attachTo(bus);
    }

    @Test
    void thePmTimerCounts3_579545MHzFromTheClockIn24Bits() {
        clock.set(1_000_000_000L);
        assertEquals(3_579_545, bus.in(PM_TMR, 4));
        clock.set(AcpiPm.nanosForTimerTicks((1 << 24) + 5));
        assertEquals(5, bus.in(PM_TMR, 4), "wraps at 24 bits");
        assertEquals(5, bus.in(PM_TMR, 2));
        assertEquals(0, bus.in(PM_TMR + 3, 1), "bits 31:24 read 0");
    }

    @Test
    void thePmTimerIsReadOnly() {
        clock.set(1_000_000);
        long before = bus.in(PM_TMR, 4);
        bus.out(PM_TMR, 4, 0);
        assertEquals(before, bus.in(PM_TMR, 4));
    }

    @Test
    void tmrStsSetsWhenBit23OfTheTimerChangesAndClearsWhenWrittenWith1() {
        clock.set(AcpiPm.nanosForTimerTicks(CARRY) - 1);
        assertEquals(0, bus.in(PM1_STS, 2) & 1);
        clock.set(AcpiPm.nanosForTimerTicks(CARRY));
        assertEquals(1, bus.in(PM1_STS, 2) & 1);
        bus.out(PM1_STS, 2, 0x0000);
        assertEquals(1, bus.in(PM1_STS, 2) & 1, "writing 0 leaves it");
        bus.out(PM1_STS, 2, 0x0001);
        assertEquals(0, bus.in(PM1_STS, 2) & 1);
        clock.set(AcpiPm.nanosForTimerTicks(2 * CARRY));
        assertEquals(1, bus.in(PM1_STS, 2) & 1);
    }

    @Test
    void anEnabledTimerCarryRaisesTheSciAtItsDeadline() {
        bus.out(PM1_EN, 2, 0x0001);
        assertEquals(AcpiPm.nanosForTimerTicks(CARRY), pm.nextDeadline());
        clock.set(pm.nextDeadline());
        pm.expire(clock.nanos());
        assertTrue(sci.high);
        assertEquals(Long.MAX_VALUE, pm.nextDeadline(), "the SCI stays up until TMR_STS is cleared");
        bus.out(PM1_STS, 2, 0x0001);
        assertFalse(sci.high);
        assertEquals(AcpiPm.nanosForTimerTicks(2 * CARRY), pm.nextDeadline());
    }

    @Test
    void noTimerDeadlineWhileTmrEnIsClear() {
        assertEquals(Long.MAX_VALUE, pm.nextDeadline());
    }

    @Test
    void pm1EnHoldsOnlyTheDefinedEnablesAndIsReadAsTheUpperHalfOfTheEventBlock() {
        bus.out(PM1_EN, 2, 0x0400); // kvm-unit-tests' s3 enables RTC_EN this way
        assertEquals(0x0400, bus.in(PM1_EN, 2));
        bus.out(PM1_EN, 2, 0xFFFF);
        assertEquals(0x0721, bus.in(PM1_EN, 2));
        assertEquals(0x0721_0000L, bus.in(PM1_STS, 4) & 0xFFFF_0000L);
    }

    @Test
    void thePowerButtonSetsItsStatusAndRaisesTheSciOnlyWhenEnabled() {
        pm.pressPowerButton();
        assertEquals(0x0100, bus.in(PM1_STS, 2));
        assertFalse(sci.high);
        bus.out(PM1_EN, 2, 0x0100);
        assertTrue(sci.high);
        bus.out(PM1_STS + 1, 1, 0x01); // a byte write clears bit 8
        assertFalse(sci.high);
        assertEquals(0, bus.in(PM1_STS, 2));
    }

    @Test
    void sciEnReadsOneAndStaysSet() {
        assertEquals(0x0001, bus.in(PM1_CNT, 2));
        bus.out(PM1_CNT, 2, 0x0000);
        assertEquals(0x0001, bus.in(PM1_CNT, 2));
        bus.out(PM1_CNT, 2, 0x1C02); // SLP_TYP 7 and BM_RLD, without SLP_EN
        assertEquals(0x1C03, bus.in(PM1_CNT, 2));
    }

    @Test
    void slpEnWithTheS5SleepTypeRequestsPowerOff() {
        bus.out(PM1_CNT, 2, 0x2000 | AcpiPm.SLP_TYP_S5 << 10);
        assertEquals(1, powerOffs);
        assertEquals(0, bus.in(PM1_CNT, 2) & 0x2000, "SLP_EN is write-only");
    }

    @Test
    void otherSleepStatesFailLoudly() {
        NotModelledException e = assertThrows(NotModelledException.class, () -> bus.out(PM1_CNT, 2, 0x2400)); // kvm-unit-tests' s3
        assertEquals("ACPI PM: sleep with SLP_TYP=1 (only soft-off, SLP_TYP=0, the DSDT's \\_S5) is not modelled", e.getMessage());
        assertEquals(0, powerOffs);
    }

    @Test
    void theGapBetweenControlAndTimerIsNotClaimed() {
        assertEquals(Optional.empty(), bus.claimant(0x606));
        assertEquals(Optional.empty(), bus.claimant(0x607));
        assertEquals(Optional.empty(), bus.claimant(0x60C));
    }

    @Test
    void resetClearsStatusEnablesAndControl() {
        pm.pressPowerButton();
        bus.out(PM1_EN, 2, 0x0100);
        bus.out(PM1_CNT, 2, 0x0002);
        pm.reset();
        assertFalse(sci.high);
        assertEquals(0x0000_0000L, bus.in(PM1_STS, 4));
        assertEquals(0x0001, bus.in(PM1_CNT, 2));
    }

    @Test
    void theFadtPointsAtThisDevicesPorts() {
        AcpiParser.Table fadt = new AcpiParser(AcpiTables.builder().build()).find("FACP");
        assertEquals(PM1_STS, fadt.u32(56));
        assertEquals(PM1_CNT, fadt.u32(64));
        assertEquals(PM_TMR, fadt.u32(76));
        assertEquals(AcpiTables.SCI_IRQ, fadt.u16(46));
    }
}
