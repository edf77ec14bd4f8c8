package dev.tdemu.core.pc;

import dev.tdemu.core.platform.ManualClock;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The TSC-deadline timer (LVT timer mode 10b, IA32_TSC_DEADLINE) on a 2.5 GHz TSC: 5 ticks every 2 ns. */
class LocalApicTscDeadlineTest {
    private static final int VECTOR = 0xEF;
    private static final int TSC_DEADLINE = 2 << 17;
    private static final int PERIODIC = 1 << 17;
    private static final int MASKED = 1 << 16;
    private static final long HZ = 2_500_000_000L;

    private final ManualClock clock = new ManualClock();
    private final GuestTsc tsc = new GuestTsc(clock, HZ);
    private final LocalApic apic = new LocalApic(0, true, clock, LocalApic.DEFAULT_BUS_CYCLE_NS, CpuidFeatures.UNICORN_QEMU64,
            tsc, (source, icr) -> { });

    LocalApicTscDeadlineTest() {
        write(ApicRegister.SVR, 0x1FF);
    }

    private void write(ApicRegister r, int value) {
        apic.write(r.offset(), 4, Integer.toUnsignedLong(value));
    }

    private int read(ApicRegister r) {
        return (int) apic.read(r.offset(), 4);
    }

    private boolean timerPending() {
        return apic.pendingVector().equals(java.util.OptionalInt.of(VECTOR));
    }

    /** What the emulator does: deliver once the clock reached the next deadline. */
    private void runTo(long nanos) {
        clock.set(nanos);
        if (clock.nanos() >= apic.nextDeadline()) {
            apic.expire(clock.nanos());
        }
    }

    @Test
    void armingWritesADeadlineInTscTicksAndTheTimerFiresWhenTheTscReachesIt() {
        write(ApicRegister.LVT_TIMER, TSC_DEADLINE | VECTOR);
        apic.writeTscDeadline(10_000);
        assertEquals(10_000, apic.readTscDeadline());
        assertEquals(4_000, apic.nextDeadline(), "10000 ticks at 2.5 GHz are 4000 ns");
        runTo(3_999);
        assertFalse(timerPending());
        assertEquals(9_997, tsc.read());
        runTo(4_000);
        assertTrue(timerPending());
        assertEquals(0, apic.readTscDeadline(), "the MSR reads 0 once the deadline passed (kvm-unit-tests' check)");
        assertEquals(Long.MAX_VALUE, apic.nextDeadline());
    }

    @Test
    void aDeadlineAlreadyPassedFiresAtTheWrite() {
        clock.set(1_000);
        write(ApicRegister.LVT_TIMER, TSC_DEADLINE | VECTOR);
        apic.writeTscDeadline(tsc.read()); // kvm-unit-tests: wrmsr(TSC_DEADLINE, rdmsr(TSC))
        assertTrue(timerPending());
        assertEquals(0, apic.readTscDeadline());
    }

    @Test
    void writingZeroDisarms() {
        write(ApicRegister.LVT_TIMER, TSC_DEADLINE | VECTOR);
        apic.writeTscDeadline(10_000);
        apic.writeTscDeadline(0);
        assertEquals(Long.MAX_VALUE, apic.nextDeadline());
        runTo(1_000_000);
        assertFalse(timerPending());
    }

    @Test
    void aNewDeadlineReplacesTheArmedOne() {
        write(ApicRegister.LVT_TIMER, TSC_DEADLINE | VECTOR);
        apic.writeTscDeadline(10_000);
        apic.writeTscDeadline(25_000);
        runTo(4_000);
        assertFalse(timerPending());
        runTo(10_000);
        assertTrue(timerPending());
    }

    @Test
    void theInitialCountIsIgnoredAndTheCurrentCountReadsZero() {
        write(ApicRegister.LVT_TIMER, TSC_DEADLINE | VECTOR);
        write(ApicRegister.TIMER_DIVIDE_CONFIG, 0xB);
        write(ApicRegister.TIMER_INITIAL_COUNT, 100);
        assertEquals(0, read(ApicRegister.TIMER_INITIAL_COUNT));
        assertEquals(0, read(ApicRegister.TIMER_CURRENT_COUNT));
        assertEquals(Long.MAX_VALUE, apic.nextDeadline());
        runTo(1_000);
        assertFalse(timerPending());
    }

    @Test
    void switchingIntoTscDeadlineModeDisarmsACountdown() {
        write(ApicRegister.LVT_TIMER, VECTOR);
        write(ApicRegister.TIMER_DIVIDE_CONFIG, 0xB);
        write(ApicRegister.TIMER_INITIAL_COUNT, 1_000);
        write(ApicRegister.LVT_TIMER, TSC_DEADLINE | VECTOR);
        assertEquals(0, read(ApicRegister.TIMER_INITIAL_COUNT));
        assertEquals(0, apic.readTscDeadline());
        runTo(5_000);
        assertFalse(timerPending());
    }

    @Test
    void switchingOutOfTscDeadlineModeDisarmsTheDeadline() {
        write(ApicRegister.LVT_TIMER, TSC_DEADLINE | VECTOR);
        apic.writeTscDeadline(10_000);
        write(ApicRegister.LVT_TIMER, PERIODIC | VECTOR);
        assertEquals(0, apic.readTscDeadline());
        write(ApicRegister.LVT_TIMER, TSC_DEADLINE | VECTOR);
        assertEquals(0, apic.readTscDeadline(), "coming back does not re-arm the old deadline");
        runTo(10_000);
        assertFalse(timerPending());
    }

    @Test
    void rewritingTheLvtInTscDeadlineModeKeepsTheDeadline() {
        write(ApicRegister.LVT_TIMER, TSC_DEADLINE | VECTOR);
        apic.writeTscDeadline(10_000);
        write(ApicRegister.LVT_TIMER, TSC_DEADLINE | 0xEE);
        assertEquals(10_000, apic.readTscDeadline());
        runTo(4_000);
        assertTrue(apic.pendingVector().equals(java.util.OptionalInt.of(0xEE)));
    }

    @Test
    void inTheOtherTimerModesTheMsrReadsZeroAndWritesAreIgnored() {
        for (int mode : new int[] {0, PERIODIC}) {
            write(ApicRegister.LVT_TIMER, mode | VECTOR);
            apic.writeTscDeadline(10_000);
            assertEquals(0, apic.readTscDeadline());
            assertEquals(Long.MAX_VALUE, apic.nextDeadline());
        }
        write(ApicRegister.LVT_TIMER, TSC_DEADLINE | VECTOR);
        assertEquals(0, apic.readTscDeadline(), "the ignored write did not arm anything");
    }

    @Test
    void aMaskedTimerStillUsesUpTheDeadlineWithoutAnInterrupt() {
        write(ApicRegister.LVT_TIMER, MASKED | TSC_DEADLINE | VECTOR);
        apic.writeTscDeadline(10_000);
        assertEquals(Long.MAX_VALUE, apic.nextDeadline(), "nothing to deliver");
        clock.set(5_000);
        assertEquals(0, apic.readTscDeadline());
        write(ApicRegister.LVT_TIMER, TSC_DEADLINE | VECTOR);
        assertFalse(timerPending(), "unmasking after the deadline delivers nothing late");
    }

    @Test
    void aWriteToTheTscMovesWhenTheDeadlineIsReached() {
        write(ApicRegister.LVT_TIMER, TSC_DEADLINE | VECTOR);
        apic.writeTscDeadline(10_000);
        clock.set(1_000);
        tsc.write(0); // the TSC goes back 2500 ticks
        assertEquals(1_000 + 4_000, apic.nextDeadline());
        runTo(4_999);
        assertFalse(timerPending());
        runTo(5_000);
        assertTrue(timerPending());
    }

    @Test
    void aDeadlineBeyondTheClocksRangeNeverFires() {
        write(ApicRegister.LVT_TIMER, TSC_DEADLINE | VECTOR);
        apic.writeTscDeadline(-1L); // 2^64 - 1 ticks
        assertEquals(Long.MAX_VALUE, apic.nextDeadline());
        assertEquals(-1L, apic.readTscDeadline());
    }

    @Test
    void aGlobalDisableDisarmsTheDeadline() {
        write(ApicRegister.LVT_TIMER, TSC_DEADLINE | VECTOR);
        apic.writeTscDeadline(10_000);
        apic.writeApicBase(ApicBase.DEFAULT_BASE | ApicBase.BSP);
        apic.writeApicBase(ApicBase.DEFAULT_BASE | ApicBase.BSP | ApicBase.ENABLE);
        assertEquals(0, apic.readTscDeadline());
        assertEquals(Long.MAX_VALUE, apic.nextDeadline());
    }

    @Test
    void theApicAndItsTscMustShareTheClock() {
        assertThrows(IllegalArgumentException.class, () -> new LocalApic(0, true, clock, 1, CpuidFeatures.UNICORN_QEMU64,
                GuestTsc.oneGigahertz(new ManualClock()), (source, icr) -> { }));
    }

    // ---- the TSC <-> clock relation ----

    @Test
    void theTscCountsAtItsFrequencyFromTheClockPlusTheWrittenOffset() {
        clock.set(2);
        assertEquals(5, tsc.read());
        tsc.write(1_000_000);
        assertEquals(1_000_000, tsc.read());
        clock.set(4);
        assertEquals(1_000_005, tsc.read());
        assertEquals(1_000_000 - 5, tsc.offset());
        assertThrows(IllegalArgumentException.class, () -> new GuestTsc(clock, 999_999));
        assertThrows(IllegalArgumentException.class, () -> new GuestTsc(clock, 9_000_000_001L));
    }

    @Property
    void theDeadlineTimeIsTheFirstNanosecondAtWhichTheTscReachesTheDeadline(
            @ForAll @LongRange(min = 1_000_000, max = GuestTsc.MAX_HZ) long hz,
            @ForAll @LongRange(min = 0, max = 1L << 50) long now,
            @ForAll @LongRange(min = 0, max = 1L << 50) long ticksAhead,
            @ForAll long offset) {
        ManualClock c = new ManualClock();
        GuestTsc t = new GuestTsc(c, hz);
        c.set(1_000);
        t.write(offset);
        long deadline = t.at(now) + ticksAhead;
        long when = t.nanosWhen(deadline, now);
        assertTrue(when >= now);
        assertTrue(Long.compareUnsigned(t.at(when), deadline) >= 0, "the TSC has reached the deadline by then");
        if (when > now) {
            assertTrue(Long.compareUnsigned(t.at(when - 1), deadline) < 0, "and not a nanosecond earlier");
        }
    }
}
