package dev.tdemu.core.pc;

import dev.tdemu.core.platform.ManualClock;
import dev.tdemu.core.platform.NotModelledException;
import dev.tdemu.core.platform.PortBus;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class Pit8254Test {
    private final ManualClock clock = new ManualClock();
    private final RecordingLine irq0 = new RecordingLine();
    private final Pit8254 pit = new Pit8254(irq0, clock);
    private final NmiStatusControl portB = new NmiStatusControl(pit);
    private final PortBus bus = new PortBus();
    private long start;

    Pit8254Test() {
        pit.attachTo(bus);
        portB.attachTo(bus);
        clock.set(5_000_000); // not at 0, so that run starts are visible
    }

    private void out(int port, int value) {
        bus.out(port, 1, value);
    }

    private int in(int port) {
        return (int) bus.in(port, 1);
    }

    /** Programs {@code channel} in {@code mode} with a 16-bit binary count, LSB then MSB; the run starts now. */
    private void program(int channel, int mode, int count) {
        out(0x43, channel << 6 | 0x30 | mode << 1);
        out(0x40 + channel, count & 0xFF);
        out(0x40 + channel, count >> 8);
        start = clock.nanos();
    }

    /** Moves the clock to {@code ticks} PIT ticks after the run's start. */
    private void at(long ticks) {
        clock.set(start + Pit8254.nanosFor(ticks));
    }

    private int readCounter(int channel) {
        int lo = in(0x40 + channel);
        return lo | in(0x40 + channel) << 8;
    }

    /** Runs channel 0's deadlines up to {@code ticks} after the start, as the emulator would. */
    private void runTo(long ticks) {
        long end = start + Pit8254.nanosFor(ticks);
        while (pit.nextDeadline() <= end) {
            clock.set(pit.nextDeadline());
            pit.expire(clock.nanos());
        }
        clock.set(end);
    }

    @Test
    void ticksAndNanosecondsConvertExactlyAt1_193182MHz() {
        assertEquals(1_193_182, Pit8254.ticks(1_000_000_000L));
        assertEquals(1_000_000_000L, Pit8254.nanosFor(1_193_182));
        for (long k : new long[]{1, 2, 17, 65_536, 1_193_181, 99_999_999_999L}) {
            assertEquals(k, Pit8254.ticks(Pit8254.nanosFor(k)), "tick " + k);
            assertEquals(k - 1, Pit8254.ticks(Pit8254.nanosFor(k) - 1), "just before tick " + k);
        }
        long tenDays = 10L * 86_400 * 1_000_000_000L;
        assertEquals(10L * 86_400 * 1_193_182, Pit8254.ticks(tenDays), "no overflow over long runs");
    }

    @Test
    void mode0OutRisesNTicksAfterTheCountAndTheCounterCountsDownThenWraps() {
        program(0, 0, 100);
        assertFalse(pit.out(0));
        assertFalse(irq0.high, "a mode 0 control word drops OUT");
        at(40);
        assertEquals(60, readCounter(0));
        at(99);
        assertFalse(pit.out(0));
        at(100);
        assertTrue(pit.out(0));
        at(101);
        assertEquals(0xFFFF, readCounter(0), "the counter keeps counting past 0");
        assertTrue(pit.out(0), "OUT stays high until a new count or control word");
    }

    @Test
    void mode0RaisesIrq0AtTerminalCountThroughTheDeadline() {
        program(0, 0, 1000);
        int rises = irq0.rises;
        assertEquals(start + Pit8254.nanosFor(1000), pit.nextDeadline());
        runTo(5000);
        assertEquals(rises + 1, irq0.rises);
        assertTrue(irq0.high);
        assertEquals(Long.MAX_VALUE, pit.nextDeadline(), "a one-shot fires once");
    }

    @Test
    void mode0StopsCountingWhenTheFirstByteOfANewCountIsWritten() {
        program(0, 0, 1000);
        at(100);
        out(0x40, 0x00);
        at(500);
        assertEquals(900, readCounter(0), "held while the count is half written");
        assertFalse(pit.out(0));
        out(0x40, 0x01); // 0x100
        start = clock.nanos();
        at(0x100);
        assertTrue(pit.out(0));
    }

    @Test
    void mode2GoesLowForOneTickPerPeriodAndGivesIrq0OneRisingEdgePerPeriod() {
        program(0, 2, 1000);
        int rises = irq0.rises;
        at(998);
        assertTrue(pit.out(0));
        assertEquals(2, readCounter(0));
        at(999);
        assertFalse(pit.out(0));
        assertEquals(1, readCounter(0));
        at(1000);
        assertTrue(pit.out(0));
        assertEquals(1000, readCounter(0), "reloaded");
        runTo(10_000);
        assertEquals(rises + 10, irq0.rises);
    }

    @Test
    void aLateLookDeliversOneEdgeForManyMissedPeriods() {
        program(0, 2, 1000);
        int rises = irq0.rises;
        at(1_000_500); // a thousand periods later, mid-period
        pit.expire(clock.nanos());
        assertEquals(rises + 1, irq0.rises);
        assertTrue(irq0.high);
        assertTrue(pit.nextDeadline() > clock.nanos());
    }

    @Test
    void mode3IsASquareWaveHighForTheFirstHalfOfEachPeriod() {
        program(0, 3, 10);
        boolean[] expected = {true, true, true, true, true, false, false, false, false, false, true};
        for (int d = 0; d <= 10; d++) {
            at(d);
            assertEquals(expected[d], pit.out(0), "tick " + d);
        }
    }

    @Test
    void mode3WithAnOddCountIsHighOneTickLongerThanLow() {
        program(0, 3, 7);
        boolean[] expected = {true, true, true, true, false, false, false, true};
        for (int d = 0; d <= 7; d++) {
            at(d);
            assertEquals(expected[d], pit.out(0), "tick " + d);
        }
    }

    @Test
    void mode3CountsByTwoInEachHalf() {
        program(2, 3, 10);
        pit.setGate(2, true);
        start = clock.nanos();
        int[] even = {10, 8, 6, 4, 2, 10, 8, 6, 4, 2};
        for (int d = 0; d < 10; d++) {
            at(d);
            assertEquals(even[d], readCounter(2), "N=10, tick " + d);
        }
        program(2, 3, 7);
        pit.setGate(2, false);
        pit.setGate(2, true);
        start = clock.nanos();
        int[] odd = {7, 6, 4, 2, 7, 4, 2};
        for (int d = 0; d < 7; d++) {
            at(d);
            assertEquals(odd[d], readCounter(2), "N=7, tick " + d);
        }
    }

    @Test
    void mode4StrobesOutLowForOneTickAtTerminalCount() {
        program(0, 4, 50);
        int rises = irq0.rises;
        at(49);
        assertTrue(pit.out(0));
        at(50);
        assertFalse(pit.out(0));
        at(51);
        assertTrue(pit.out(0));
        runTo(500);
        assertEquals(rises + 1, irq0.rises);
    }

    @Test
    void mode1IsAOneShotStartedAndRestartedByARisingGate() {
        program(2, 1, 100);
        at(500);
        assertTrue(pit.out(2), "no trigger yet");
        pit.setGate(2, true);
        start = clock.nanos();
        assertFalse(pit.out(2));
        at(60);
        pit.setGate(2, false); // the gate level does not matter in mode 1
        at(99);
        assertFalse(pit.out(2));
        assertEquals(1, readCounter(2));
        at(100);
        assertTrue(pit.out(2));
        pit.setGate(2, true); // retrigger
        start = clock.nanos();
        assertFalse(pit.out(2));
        at(100);
        assertTrue(pit.out(2));
    }

    @Test
    void mode5StrobesNTicksAfterEachTrigger() {
        program(2, 5, 20);
        pit.setGate(2, true);
        start = clock.nanos();
        at(20);
        assertFalse(pit.out(2));
        at(21);
        assertTrue(pit.out(2));
    }

    @Test
    void aLowGatePausesMode0() {
        program(2, 0, 100);
        pit.setGate(2, true);
        start = clock.nanos();
        at(30);
        pit.setGate(2, false);
        at(80);
        assertEquals(70, readCounter(2), "paused at 70");
        pit.setGate(2, true);
        start = clock.nanos();
        at(69);
        assertFalse(pit.out(2));
        at(70);
        assertTrue(pit.out(2));
    }

    @Test
    void aLowGateHoldsMode2OutHighAndARisingGateReloads() {
        program(2, 2, 10);
        pit.setGate(2, true);
        start = clock.nanos();
        at(9);
        assertFalse(pit.out(2));
        pit.setGate(2, false);
        assertTrue(pit.out(2), "gate low forces OUT high");
        at(25);
        assertEquals(1, readCounter(2), "counting paused");
        pit.setGate(2, true);
        start = clock.nanos();
        assertEquals(10, readCounter(2), "reloaded from the count register");
    }

    @Test
    void aNewCountInMode2TakesEffectAtTheEndOfTheCurrentPeriod() {
        program(0, 2, 100);
        at(30);
        out(0x40, 50);
        out(0x40, 0);
        out(0x43, 0xE2); // read-back status of channel 0
        assertEquals(0x40, in(0x40) & 0x40, "NULL COUNT until the new count is loaded");
        at(99);
        assertFalse(pit.out(0), "the old period runs out");
        at(100);
        assertEquals(50, readCounter(0));
        at(149);
        assertFalse(pit.out(0));
        at(150);
        assertTrue(pit.out(0));
        out(0x43, 0xE2);
        assertEquals(0, in(0x40) & 0x40);
    }

    @Test
    void aWaitingCountIsADeadlineSoIrq0FollowsTheNewPeriod() {
        program(0, 2, 100);
        at(30);
        out(0x40, 50);
        out(0x40, 0);
        int rises = irq0.rises;
        runTo(100 + 50 * 10);
        assertEquals(rises + 11, irq0.rises, "one edge at 100, then one every 50 ticks");
    }

    @Test
    void theLatchCommandFreezesTheCountUntilItIsRead() {
        program(0, 0, 1000);
        at(10);
        out(0x43, 0x00);
        at(300);
        out(0x43, 0x00); // a second latch before the read is ignored
        assertEquals(990, readCounter(0));
        assertEquals(700, readCounter(0), "unlatched again");
    }

    @Test
    void readBackLatchesStatusThenCount() {
        program(0, 2, 0x1234);
        at(0x34);
        out(0x43, 0xC2); // latch count and status of channel 0
        assertEquals(0x80 | 0x34, in(0x40), "OUT high, count loaded, LSB-MSB, mode 2, binary");
        assertEquals(0x1200, readCounter(0));
    }

    @Test
    void readBackStatusShowsNullCountAfterAControlWordAndOutLowInMode0() {
        out(0x43, 0xB1); // channel 2, LSB-MSB, mode 0, BCD
        out(0x43, 0xE8); // status of channel 2 only
        assertEquals(0x40 | 0x31, in(0x42));
    }

    @Test
    void readBackSelectsSeveralChannelsAtOnce() {
        program(0, 2, 300);
        program(2, 0, 400);
        pit.setGate(2, true);
        at(100);
        out(0x43, 0xDA); // count only, channels 0 and 2
        assertEquals(200, readCounter(0));
        assertEquals(300, readCounter(2));
    }

    @Test
    void lsbOnlyAndMsbOnlyAccessReadAndWriteOneByte() {
        out(0x43, 0x14); // channel 0, LSB only, mode 2
        out(0x40, 0x80);
        start = clock.nanos();
        at(0x10);
        assertEquals(0x70, in(0x40));
        out(0x43, 0x24); // MSB only
        out(0x40, 0x02);
        start = clock.nanos();
        at(0x100);
        assertEquals(0x01, in(0x40), "0x200 - 0x100, MSB");
    }

    @Test
    void unlatchedLsbThenMsbReadsAlternate() {
        program(0, 0, 0x4000);
        at(0x100);
        assertEquals(0x00, in(0x40));
        at(0x101);
        assertEquals(0x3E, in(0x40), "the MSB is read live: 0x3EFF");
        assertEquals(0xFF, in(0x40), "then the LSB again");
    }

    @Test
    void bcdCountsInDecimal() {
        out(0x43, 0x31); // mode 0, BCD
        out(0x40, 0x00);
        out(0x40, 0x01); // 0100 decimal
        start = clock.nanos();
        at(1);
        assertEquals(0x0099, readCounter(0));
        at(100);
        assertTrue(pit.out(0));
        at(101);
        assertEquals(0x9999, readCounter(0), "wraps at 10000");
    }

    @Test
    void countZeroMeans65536InBinaryAnd10000InBcd() {
        program(0, 0, 0);
        at(65_535);
        assertFalse(pit.out(0));
        at(65_536);
        assertTrue(pit.out(0));
        out(0x43, 0x31);
        out(0x40, 0);
        out(0x40, 0);
        start = clock.nanos();
        at(9_999);
        assertFalse(pit.out(0));
        at(10_000);
        assertTrue(pit.out(0));
    }

    @Test
    void aCountOfOneInMode2FailsLoudly() {
        out(0x43, 0x34);
        out(0x40, 1);
        NotModelledException e = assertThrows(NotModelledException.class, () -> out(0x40, 0));
        assertEquals("8254 PIT: a count of 1 in mode 2 (illegal on the 8254) is not modelled", e.getMessage());
    }

    @Test
    void theControlWordRegisterCannotBeRead() {
        assertEquals(0xFF, in(0x43));
    }

    @Test
    void afterResetChannel0RunsInMode3At18HzLikeAPcBios() {
        pit.reset();
        start = clock.nanos();
        assertTrue(irq0.high);
        assertEquals(start + Pit8254.nanosFor(32_768), pit.nextDeadline());
        int rises = irq0.rises;
        runTo(65_536 * 18);
        assertEquals(rises + 18, irq0.rises);
    }

    @Test
    void portB61DrivesChannel2sGateAndReadsItsOut() {
        out(0x43, 0xB0); // channel 2, mode 0
        out(0x42, 100);
        out(0x42, 0);
        start = clock.nanos();
        at(200);
        assertEquals(0, in(0x61) & 0x20, "the gate is low: no count");
        out(0x61, 0x01);
        start = clock.nanos();
        at(99);
        assertEquals(0x01, in(0x61) & 0x21);
        at(100);
        assertEquals(0x21, in(0x61) & 0x21);
    }

    @Test
    void portB61KeepsItsControlBitsAndTheSpeakerEnable() {
        out(0x61, 0xFE);
        assertEquals(0x0E, in(0x61) & 0x0F);
        assertTrue(portB.speakerEnabled());
        assertFalse(pit.gate(2));
        assertEquals(0, in(0x61) & 0xC0, "no NMI source");
    }

    @Test
    void portB61RefreshBitTogglesEvery18PitTicks() {
        clock.set(Pit8254.nanosFor(18 * 1000));
        int first = in(0x61) & 0x10;
        clock.set(Pit8254.nanosFor(18 * 1000 + 17));
        assertEquals(first, in(0x61) & 0x10);
        clock.set(Pit8254.nanosFor(18 * 1001));
        assertEquals(first ^ 0x10, in(0x61) & 0x10);
    }

    @Test
    void linuxsPitCalibrationSeesChannel2ExpireAfterItsCount() {
        // pit_calibrate_tsc: gate high, speaker off; channel 2 mode 0; latch; poll port 0x61 bit 5.
        out(0x61, (in(0x61) & ~0x02) | 0x01);
        out(0x43, 0xB0);
        int latch = 1_193_182 / 20; // 50 ms
        out(0x42, latch & 0xFF);
        out(0x42, latch >> 8);
        start = clock.nanos();
        long polls = 0;
        while ((in(0x61) & 0x20) == 0) {
            clock.advance(1_000);
            polls++;
        }
        assertEquals(50_000, polls, 1);
    }
}
