package dev.tdemu.core.pc;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The APIC timer at the default 1 GHz bus: one count per ns before division. */
class LocalApicTimerTest {
    private static final int VECTOR = 0xEE;
    private static final int PERIODIC = 1 << 17;
    private static final int MASKED = 1 << 16;
    private static final int DIVIDE_BY_1 = 0xB;

    private static LocalApicFixture timer(int lvt, int divide, int count) {
        LocalApicFixture f = new LocalApicFixture().enabled();
        f.write(ApicRegister.LVT_TIMER, lvt);
        f.write(ApicRegister.TIMER_DIVIDE_CONFIG, divide);
        f.write(ApicRegister.TIMER_INITIAL_COUNT, count);
        return f;
    }

    /** What the emulator does: call expire once the clock reached the next deadline. */
    private static void runExpiredTimers(LocalApicFixture f) {
        if (f.clock.nanos() >= f.apic.nextDeadline()) {
            f.apic.expire(f.clock.nanos());
        }
    }

    @Test
    void theArmedTimerVectorIsTheLvtVectorUntilAOneShotRanOutAndNoneWhileMasked() {
        LocalApicFixture f = timer(VECTOR, DIVIDE_BY_1, 1_000);
        assertEquals(VECTOR, f.apic.armedTimerVector());
        f.clock.set(1_000);
        runExpiredTimers(f);
        assertEquals(-1, f.apic.armedTimerVector(), "a one-shot that ran out requests nothing more");
        assertEquals(-1, timer(VECTOR | MASKED, DIVIDE_BY_1, 1_000).apic.armedTimerVector());
        assertEquals(-1, timer(VECTOR, DIVIDE_BY_1, 0).apic.armedTimerVector(), "TMICT 0 stops the timer");
        assertEquals(VECTOR, timer(VECTOR | PERIODIC, DIVIDE_BY_1, 1_000).apic.armedTimerVector());
    }

    @Test
    void oneShotFiresOnceWhenTheCountReachesZeroAndStaysAtZero() {
        LocalApicFixture f = timer(VECTOR, DIVIDE_BY_1, 1_000_000);
        assertEquals(1_000_000, f.apic.nextDeadline());
        f.clock.set(999_999);
        runExpiredTimers(f);
        assertFalse(f.irr(VECTOR));
        assertEquals(1, f.read(ApicRegister.TIMER_CURRENT_COUNT));
        f.clock.set(1_000_000);
        runExpiredTimers(f);
        assertTrue(f.irr(VECTOR));
        assertEquals(0, f.read(ApicRegister.TIMER_CURRENT_COUNT));
        assertEquals(Long.MAX_VALUE, f.apic.nextDeadline());
        assertEquals(VECTOR, f.acknowledgeAndEoi());
        f.clock.advance(10_000_000);
        runExpiredTimers(f);
        assertFalse(f.irr(VECTOR));
    }

    @Test
    void theCurrentCountDecrementsOncePerDividedBusCycle() {
        LocalApicFixture f = timer(VECTOR, 0x0 /* divide by 2 */, 100);
        assertEquals(100, f.read(ApicRegister.TIMER_CURRENT_COUNT));
        f.clock.set(1);
        assertEquals(100, f.read(ApicRegister.TIMER_CURRENT_COUNT), "mid-count: not decremented yet");
        f.clock.set(2);
        assertEquals(99, f.read(ApicRegister.TIMER_CURRENT_COUNT));
        f.clock.set(150);
        assertEquals(25, f.read(ApicRegister.TIMER_CURRENT_COUNT));
        assertEquals(100, f.read(ApicRegister.TIMER_INITIAL_COUNT));
    }

    @ParameterizedTest(name = "TDCR 0x{0} divides by {1}")
    @CsvSource({"0, 2", "1, 4", "2, 8", "3, 16", "8, 32", "9, 64", "A, 128", "B, 1"})
    void theDivideConfigurationUsesBits0_1And3(String tdcr, int divisor) {
        LocalApicFixture f = timer(VECTOR, Integer.parseInt(tdcr, 16), 10);
        assertEquals(10L * divisor, f.apic.nextDeadline());
        f.clock.set(10L * divisor - 1);
        runExpiredTimers(f);
        assertFalse(f.irr(VECTOR));
        f.clock.set(10L * divisor);
        runExpiredTimers(f);
        assertTrue(f.irr(VECTOR));
    }

    @Test
    void periodicReloadsFromTheInitialCount() {
        LocalApicFixture f = timer(VECTOR | PERIODIC, DIVIDE_BY_1, 1000);
        for (int period = 1; period <= 3; period++) {
            f.clock.set(period * 1000L);
            runExpiredTimers(f);
            assertTrue(f.irr(VECTOR), "period " + period);
            assertEquals(1000, f.read(ApicRegister.TIMER_CURRENT_COUNT), "reloaded");
            assertEquals((period + 1) * 1000L, f.apic.nextDeadline());
            f.acknowledgeAndEoi();
        }
        f.clock.set(3250);
        assertEquals(750, f.read(ApicRegister.TIMER_CURRENT_COUNT));
    }

    @Test
    void aLateExpireCatchesUpWithOneInterruptNotAStorm() {
        LocalApicFixture f = timer(VECTOR | PERIODIC, DIVIDE_BY_1, 1000);
        f.clock.set(10_500);
        f.apic.expire(10_500);
        assertTrue(f.irr(VECTOR));
        assertEquals(11_000, f.apic.nextDeadline(), "the next period boundary after now, on the original grid");
        assertEquals(9, f.apic.timerCoalesced(), "ten periods ended, one interrupt");
        assertEquals(VECTOR, f.acknowledgeAndEoi());
        assertEquals(java.util.OptionalInt.empty(), f.apic.pendingVector());
    }

    @Test
    void aTimerFasterThanTheEmulatorCoalescesIntoOnePendingInterrupt() {
        LocalApicFixture f = timer(VECTOR | PERIODIC, DIVIDE_BY_1, 1);
        long previous = f.apic.nextDeadline();
        for (int check = 1; check <= 1000; check++) {
            f.clock.advance(997);
            long now = f.clock.nanos();
            f.apic.expire(now);
            long next = f.apic.nextDeadline();
            assertTrue(next > now, "the deadline is always in the future");
            assertTrue(next >= previous + 1, "it moves by at least one period");
            previous = next;
        }
        assertTrue(f.irr(VECTOR));
        assertEquals(VECTOR, f.acknowledgeAndEoi());
        assertEquals(java.util.OptionalInt.empty(), f.apic.pendingVector(), "one pending interrupt, however many periods passed");
    }

    /**
     * A guest that programs a storm with interrupts disabled must still run: every expiry used to
     * kick the core again although the vector already waited in IRR, and each kick stopped the
     * guest before it got an instruction in.
     */
    @Test
    void anExpiryWhileItsVectorWaitsInIrrCoalescesWithoutKickingTheCoreAgain() {
        LocalApicFixture f = timer(VECTOR | PERIODIC, DIVIDE_BY_1, 1000);
        f.clock.set(1000);
        runExpiredTimers(f);
        int afterFirst = f.kicks;
        assertTrue(afterFirst > 0, "the first expiry tells the core");
        for (int period = 2; period <= 5; period++) {
            f.clock.set(period * 1000L);
            runExpiredTimers(f);
        }
        assertEquals(afterFirst, f.kicks, "expiries that only coalesce into the pending vector");
        assertEquals(VECTOR, f.acknowledgeAndEoi());
        f.clock.set(6000);
        runExpiredTimers(f);
        assertTrue(f.kicks > afterFirst, "once taken, the next expiry is news again");
    }

    @Test
    void expireOnAStormTimerLongAfterItsDeadlineReturnsAtOnce() {
        LocalApicFixture f = timer(VECTOR | PERIODIC, DIVIDE_BY_1, 1);
        f.clock.set(Long.MAX_VALUE / 4);
        f.apic.expire(f.clock.nanos()); // 2^61 periods: arithmetic, not a loop
        assertEquals(Long.MAX_VALUE / 4 + 1, f.apic.nextDeadline());
    }

    @Test
    void aMaskedTimerKeepsCountingWithoutInterrupts() {
        LocalApicFixture f = timer(VECTOR | MASKED, DIVIDE_BY_1, 1000);
        assertEquals(Long.MAX_VALUE, f.apic.nextDeadline(), "nothing for the emulator to deliver");
        f.clock.set(400);
        assertEquals(600, f.read(ApicRegister.TIMER_CURRENT_COUNT));
        f.clock.set(1500);
        assertEquals(0, f.read(ApicRegister.TIMER_CURRENT_COUNT));
        f.write(ApicRegister.LVT_TIMER, VECTOR); // unmasking after the expiry does not deliver it late
        assertFalse(f.irr(VECTOR));
        assertEquals(Long.MAX_VALUE, f.apic.nextDeadline());
    }

    @Test
    void writingInitialCountZeroStopsTheTimer() {
        LocalApicFixture f = timer(VECTOR | PERIODIC, DIVIDE_BY_1, 1000);
        f.clock.set(500);
        f.write(ApicRegister.TIMER_INITIAL_COUNT, 0);
        assertEquals(0, f.read(ApicRegister.TIMER_CURRENT_COUNT));
        assertEquals(Long.MAX_VALUE, f.apic.nextDeadline());
        f.clock.set(5000);
        f.apic.expire(5000);
        assertFalse(f.irr(VECTOR));
    }

    @Test
    void rewritingTheInitialCountRestartsTheCountdown() {
        LocalApicFixture f = timer(VECTOR, DIVIDE_BY_1, 1000);
        f.clock.set(900);
        f.write(ApicRegister.TIMER_INITIAL_COUNT, 1000);
        assertEquals(1900, f.apic.nextDeadline());
        assertEquals(1000, f.read(ApicRegister.TIMER_CURRENT_COUNT));
    }

    /** The sequence of kvm-unit-tests' apic test "test_apic_change_mode". */
    @Test
    void changingModeKeepsTheCountdownAndAnExpiredOneShotStaysAtZero() {
        int tmict = 0x999999;
        LocalApicFixture f = timer(VECTOR | MASKED, DIVIDE_BY_1, tmict);
        f.write(ApicRegister.LVT_TIMER, VECTOR | MASKED | PERIODIC);
        assertEquals(tmict, f.read(ApicRegister.TIMER_INITIAL_COUNT), "a mode change leaves TMICT alone");

        f.write(ApicRegister.LVT_TIMER, VECTOR | MASKED);
        f.write(ApicRegister.TIMER_INITIAL_COUNT, tmict);
        f.clock.advance(tmict);
        assertEquals(0, f.read(ApicRegister.TIMER_CURRENT_COUNT));

        f.write(ApicRegister.TIMER_INITIAL_COUNT, tmict);
        f.clock.advance(tmict / 2 + 10);
        f.write(ApicRegister.LVT_TIMER, VECTOR | MASKED | PERIODIC);
        int count = f.read(ApicRegister.TIMER_CURRENT_COUNT);
        assertTrue(count > 0 && count < tmict / 2, "not reset to TMICT: " + count);
        f.clock.advance(count);
        assertEquals(tmict, f.read(ApicRegister.TIMER_CURRENT_COUNT), "wrapped around");

        f.clock.advance(tmict / 2 + 10);
        f.write(ApicRegister.LVT_TIMER, VECTOR | MASKED);
        count = f.read(ApicRegister.TIMER_CURRENT_COUNT);
        assertTrue(count > 0 && count < tmict / 2);
        f.clock.advance(count);
        assertEquals(0, f.read(ApicRegister.TIMER_CURRENT_COUNT));
        f.clock.advance(tmict);
        f.write(ApicRegister.LVT_TIMER, VECTOR | MASKED | PERIODIC);
        assertEquals(0, f.read(ApicRegister.TIMER_CURRENT_COUNT), "an expired one-shot does not restart as periodic");
    }

    @Test
    void changingTheDivisorScalesTheCountsLeft() {
        LocalApicFixture f = timer(VECTOR, DIVIDE_BY_1, 1000);
        f.clock.set(600);
        f.write(ApicRegister.TIMER_DIVIDE_CONFIG, 0x1); // divide by 4
        assertEquals(400, f.read(ApicRegister.TIMER_CURRENT_COUNT));
        assertEquals(600 + 400 * 4, f.apic.nextDeadline());
    }

    @Test
    void withoutCpuidSupportTheTscDeadlineModeBitIsReservedSoTheTimerStaysOneShot() {
        LocalApicFixture f = new LocalApicFixture(0, true, CpuidFeatures.UNICORN_QEMU64.withoutTscDeadline()).enabled();
        f.write(ApicRegister.LVT_TIMER, VECTOR | (2 << 17));
        f.write(ApicRegister.TIMER_DIVIDE_CONFIG, DIVIDE_BY_1);
        f.write(ApicRegister.TIMER_INITIAL_COUNT, 100);
        assertEquals(VECTOR, f.read(ApicRegister.LVT_TIMER));
        assertEquals(100, f.apic.nextDeadline());
    }

    @Test
    void anIllegalTimerVectorSetsReceiveIllegalVectorInsteadOfAnIrrBit() {
        LocalApicFixture f = timer(0x05, DIVIDE_BY_1, 10);
        f.clock.set(10);
        runExpiredTimers(f);
        assertEquals(0, f.read(ApicRegister.IRR, 0));
        assertEquals(LocalApic.ESR_RECEIVE_ILLEGAL_VECTOR, f.esr());
    }

    @Test
    void theTimerWakesAHaltedCoreThroughTheKick() {
        LocalApicFixture f = timer(VECTOR, DIVIDE_BY_1, 1_000_000);
        int before = f.kicks;
        f.clock.set(1_000_000);
        runExpiredTimers(f);
        assertTrue(f.kicks > before);
        assertTrue(f.apic.hasInterrupt());
    }

    @Test
    void aSlowerBusCountsLonger() {
        LocalApicFixture f = new LocalApicFixture();
        LocalApic apic = new LocalApic(0, true, f.clock, 10, 40, (source, icr) -> { });
        apic.write(ApicRegister.SVR.offset(), 4, 0x1FF);
        apic.write(ApicRegister.LVT_TIMER.offset(), 4, VECTOR);
        apic.write(ApicRegister.TIMER_DIVIDE_CONFIG.offset(), 4, DIVIDE_BY_1);
        apic.write(ApicRegister.TIMER_INITIAL_COUNT.offset(), 4, 100);
        assertEquals(1000, apic.nextDeadline(), "100 counts of a 10 ns bus cycle");
    }
}
