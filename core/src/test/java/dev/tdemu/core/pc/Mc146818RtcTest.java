package dev.tdemu.core.pc;

import dev.tdemu.core.platform.ManualClock;
import dev.tdemu.core.platform.NotModelledException;
import dev.tdemu.core.platform.PortBus;
import org.junit.jupiter.api.Test;

import java.time.LocalDateTime;
import java.time.ZoneOffset;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class Mc146818RtcTest {
    private static final long SECOND = 1_000_000_000L;
    /** 2024-02-29 (a Thursday) 23:59:58 UTC. */
    private static final long START = LocalDateTime.of(2024, 2, 29, 23, 59, 58).toEpochSecond(ZoneOffset.UTC);

    private final ManualClock clock = new ManualClock();
    private final RecordingLine irq8 = new RecordingLine();
    private final Mc146818Rtc rtc;
    private final PortBus bus = new PortBus();

    Mc146818RtcTest() {
        clock.set(7 * SECOND);
        rtc = new Mc146818Rtc(irq8, clock, START);
        rtc.attachTo(bus);
    }

    private int read(int reg) {
        bus.out(0x70, 1, reg);
        return (int) bus.in(0x71, 1);
    }

    private void write(int reg, int value) {
        bus.out(0x70, 1, reg);
        bus.out(0x71, 1, value);
    }

    /** The clock {@code nanos} after the RTC was created. */
    private void after(long nanos) {
        clock.set(7 * SECOND + nanos);
    }

    private void runDeadlinesUntil(long nanos) {
        long end = 7 * SECOND + nanos;
        while (rtc.nextDeadline() <= end) {
            clock.set(rtc.nextDeadline());
            rtc.expire(clock.nanos());
        }
        clock.set(end);
    }

    @Test
    void theTimeRegistersReadTheStartTimeInBcdWith24Hours() {
        assertEquals(0x58, read(0x00));
        assertEquals(0x59, read(0x02));
        assertEquals(0x23, read(0x04));
        assertEquals(0x05, read(0x06), "Thursday (Sunday is 1)");
        assertEquals(0x29, read(0x07));
        assertEquals(0x02, read(0x08));
        assertEquals(0x24, read(0x09));
        assertEquals(0x20, read(0x32));
        assertEquals(0x20, read(0x37), "the PS/2 century byte aliases 0x32");
    }

    @Test
    void theTimeAdvancesWithTheClockAcrossALeapDayAtMidnight() {
        after(2 * SECOND - 1);
        assertEquals(0x59, read(0x00), "a second is whole");
        after(2 * SECOND);
        assertEquals(0x00, read(0x00));
        assertEquals(0x00, read(0x04));
        assertEquals(0x01, read(0x07));
        assertEquals(0x03, read(0x08));
        assertEquals(0x06, read(0x06), "Friday");
    }

    @Test
    void registerBSelectsBinaryAnd12HourFormats() {
        write(0x0B, 0x04); // binary, 12 hours
        assertEquals(0x8B, read(0x04), "11 PM");
        assertEquals(59, read(0x02));
        write(0x0B, 0x06); // binary, 24 hours
        assertEquals(23, read(0x04));
        write(0x0B, 0x00); // BCD, 12 hours
        assertEquals(0x91, read(0x04), "11 PM in BCD");
        after(2 * SECOND);
        assertEquals(0x12, read(0x04), "12 AM");
    }

    @Test
    void setFreezesTheTimeAndTheWrittenTimeRunsWhenSetIsCleared() {
        write(0x0B, 0x82);
        write(0x00, 0x30);
        write(0x02, 0x15);
        write(0x04, 0x08);
        write(0x07, 0x31);
        write(0x08, 0x12);
        write(0x09, 0x99);
        write(0x32, 0x19);
        after(5 * SECOND);
        assertEquals(0x30, read(0x00), "frozen while SET");
        write(0x0B, 0x02);
        assertEquals(LocalDateTime.of(1999, 12, 31, 8, 15, 30).toEpochSecond(ZoneOffset.UTC), rtc.epochSecond());
        assertEquals(0x06, read(0x06), "the day of the week follows the date: Friday");
        after(7 * SECOND);
        assertEquals(0x32, read(0x00));
    }

    @Test
    void fieldsWrittenOneByOneAreOnlyNormalisedWhenTheClockRunsAgain() {
        write(0x0B, 0x82);
        write(0x07, 0x31); // day 31 while the month is still February
        write(0x08, 0x01);
        assertEquals(0x31, read(0x07));
        write(0x0B, 0x02);
        assertEquals(0x31, read(0x07));
        assertEquals(0x01, read(0x08));
    }

    @Test
    void anOutOfRangeSecondCarriesIntoTheNextMinute() {
        write(0x0B, 0x82);
        write(0x00, 0x61);
        write(0x0B, 0x02);
        assertEquals(0x01, read(0x00));
        assertEquals(0x00, read(0x02));
        assertEquals(0x01, read(0x07), "and on into the next day");
    }

    @Test
    void aTimeRegisterWrittenWhileTheClockRunsTakesEffectAtOnce() {
        write(0x02, 0x10);
        assertEquals(0x10, read(0x02));
        assertEquals(0x58, read(0x00));
        after(SECOND);
        assertEquals(0x59, read(0x00));
        assertEquals(0x10, read(0x02));
    }

    @Test
    void setClearsTheUpdateInterruptEnable() {
        write(0x0B, 0x12);
        write(0x0B, 0x92);
        assertEquals(0x82, read(0x0B));
    }

    @Test
    void uipIsHighInTheLast244MicrosecondsBeforeEachUpdate() {
        long uipStart = (32_760 * SECOND + 32_767) / 32_768; // divider tick 32760
        after(uipStart - 1);
        assertEquals(0, read(0x0A) & 0x80);
        after(uipStart);
        assertEquals(0x80, read(0x0A) & 0x80);
        assertEquals(0x58, read(0x00), "not updated yet");
        after(SECOND);
        assertEquals(0, read(0x0A) & 0x80);
        assertEquals(0x59, read(0x00));
        assertEquals(0x26, read(0x0A), "32.768 kHz, 1024 Hz: the BIOS's value");
    }

    @Test
    void theUpdateEndedInterruptComesEachSecondUntilRegisterCIsRead() {
        write(0x0B, 0x12);
        assertEquals(7 * SECOND + SECOND, rtc.nextDeadline());
        runDeadlinesUntil(SECOND);
        assertTrue(irq8.high);
        assertEquals(Long.MAX_VALUE, rtc.nextDeadline(), "the line stays up until C is read");
        assertEquals(0xD0, read(0x0C), "IRQF, UF, and PF of the 1024 Hz rate");
        assertFalse(irq8.high);
        assertEquals(0x00, read(0x0C), "flags clear on read");
        runDeadlinesUntil(3 * SECOND);
        assertEquals(2, irq8.rises);
    }

    @Test
    void thePeriodicInterruptComesAtTheRateInRegisterA() {
        write(0x0B, 0x42);
        assertEquals(7 * SECOND + 976_563, rtc.nextDeadline(), "1024 Hz: 976,562.5 ns, rounded up");
        runDeadlinesUntil(976_563);
        assertTrue(irq8.high);
        assertEquals(0xC0, read(0x0C));
        write(0x0A, 0x2F); // 2 Hz
        runDeadlinesUntil(SECOND / 2 - 1);
        assertFalse(irq8.high);
        runDeadlinesUntil(SECOND / 2);
        assertTrue(irq8.high);
    }

    @Test
    void rateSelect1And2Repeat256And128Hz() {
        write(0x0A, 0x21);
        write(0x0B, 0x42);
        assertEquals(7 * SECOND + SECOND / 256, rtc.nextDeadline());
        write(0x0A, 0x22);
        assertEquals(7 * SECOND + SECOND / 128, rtc.nextDeadline());
    }

    @Test
    void thePeriodicFlagIsSetWithoutPieButRaisesNothing() {
        after(SECOND / 100);
        assertFalse(irq8.high);
        assertEquals(0x40, read(0x0C), "PF, no IRQF");
        write(0x0A, 0x20); // rate 0: no periodic events
        after(SECOND / 50);
        assertEquals(0x00, read(0x0C) & 0x40);
    }

    @Test
    void enablingAnInterruptWhoseFlagIsSetRaisesTheLine() {
        after(SECOND / 100);
        write(0x0B, 0x42);
        assertTrue(irq8.high);
        write(0x0B, 0x02);
        assertFalse(irq8.high, "IRQF follows the enables");
    }

    @Test
    void theAlarmInterruptComesAtTheMatchingSecond() {
        write(0x01, 0x01); // 00:00:01, hour and minute "don't care"
        write(0x03, 0xC0);
        write(0x05, 0xFF);
        write(0x0B, 0x22);
        assertEquals(7 * SECOND + 3 * SECOND, rtc.nextDeadline());
        runDeadlinesUntil(3 * SECOND - 1);
        assertFalse(irq8.high);
        runDeadlinesUntil(3 * SECOND);
        assertTrue(irq8.high);
        assertEquals(0xF0, read(0x0C), "IRQF, AF, UF and PF");
    }

    @Test
    void anAlarmOfDontCaresMatchesEveryUpdateAsKvmUnitTestsS3Uses() {
        write(0x01, 0xC0);
        write(0x03, 0xC0);
        write(0x05, 0xC0);
        write(0x0B, 0x22);
        runDeadlinesUntil(SECOND);
        assertTrue(irq8.high);
    }

    @Test
    void anAlarmNoTimeMatchesNeverFires() {
        write(0x01, 0x61);
        write(0x0B, 0x22);
        assertEquals(Long.MAX_VALUE, rtc.nextDeadline());
        after(100 * SECOND);
        assertEquals(0, read(0x0C) & 0x20);
    }

    @Test
    void aLateLookStillFindsAnAlarmThatPassed() {
        write(0x01, 0x05);
        write(0x03, 0xC0);
        write(0x05, 0xC0);
        after(3600 * SECOND);
        assertEquals(0x20, read(0x0C) & 0x20);
    }

    @Test
    void aDividerResetStopsTheClockAndTheFirstUpdateComesHalfASecondAfterRelease() {
        write(0x0A, 0x70);
        after(10 * SECOND);
        assertEquals(0x58, read(0x00));
        assertEquals(0, read(0x0C), "no periodic or update events");
        write(0x0A, 0x26);
        after(10 * SECOND + SECOND / 2 - 1);
        assertEquals(0x58, read(0x00));
        after(10 * SECOND + SECOND / 2);
        assertEquals(0x59, read(0x00));
    }

    @Test
    void dividersForOtherCrystalsAndDaylightSavingFailLoudly() {
        NotModelledException e = assertThrows(NotModelledException.class, () -> write(0x0A, 0x06));
        assertEquals("MC146818 RTC: divider control DV=000 (only 010, 32.768 kHz, and 11x, reset) is not modelled", e.getMessage());
        assertThrows(NotModelledException.class, () -> write(0x0B, 0x03));
    }

    @Test
    void registersCAndDAreReadOnlyAndDSaysTheTimeIsValid() {
        write(0x0C, 0xFF);
        write(0x0D, 0x00);
        assertEquals(0x00, read(0x0C));
        assertEquals(0x80, read(0x0D));
    }

    @Test
    void bit7OfTheIndexPortDisablesNmiAndTheIndexPortReadsAllOnes() {
        bus.out(0x70, 1, 0x8D);
        assertTrue(rtc.nmiDisabled());
        assertEquals(0x80, bus.in(0x71, 1), "index 0x0D");
        bus.out(0x70, 1, 0x0D);
        assertFalse(rtc.nmiDisabled());
        assertEquals(0xFF, bus.in(0x70, 1));
    }

    @Test
    void cmosBytesAreBatteryBackedMemory() {
        write(0x40, 0xA5);
        write(0x7F, 0x5A);
        assertEquals(0xA5, read(0x40));
        assertEquals(0x5A, read(0x7F));
        rtc.reset();
        assertEquals(0xA5, read(0x40));
    }

    @Test
    void pcConfigurationSetsTheMemoryAndCpuBytesAsQemusPcMachine() {
        rtc.setPcConfiguration(512L << 20, 2L << 30, 4);
        assertEquals(640, read(0x15) | read(0x16) << 8);
        assertEquals(0xFFFF, read(0x17) | read(0x18) << 8, "511 MiB in KiB, capped");
        assertEquals(0xFFFF, read(0x30) | read(0x31) << 8);
        assertEquals(7936, read(0x34) | read(0x35) << 8, "496 MiB in 64 KiB units");
        assertEquals(0x8000, read(0x5B) | read(0x5C) << 8 | read(0x5D) << 16, "2 GiB in 64 KiB units");
        assertEquals(3, read(0x5F));
        assertEquals(0x06, read(0x14));
        rtc.setPcConfiguration(8L << 20, 0, 1);
        assertEquals(7168, read(0x17) | read(0x18) << 8);
        assertEquals(0, read(0x34) | read(0x35) << 8);
    }

    @Test
    void theTimeRegistersAreNotPlainCmosBytes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> rtc.setCmosByte(0x09, 1));
        assertEquals("CMOS: 0x9 is not a plain memory byte (0x0e-0x7f without the century)", e.getMessage());
    }

    @Test
    void resetClearsTheEnablesAndFlagsButKeepsTheTime() {
        write(0x0B, 0x7A);
        runDeadlinesUntil(SECOND);
        assertTrue(irq8.high);
        rtc.reset();
        assertFalse(irq8.high);
        assertEquals(0x02, read(0x0B), "PIE, AIE, UIE, SQWE cleared");
        assertEquals(0x59, read(0x00));
    }
}
