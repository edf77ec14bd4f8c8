package dev.tdemu.emulator.unicorn;

import static dev.tdemu.emulator.unicorn.BindingGuests.BASE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Unicorn.stop(): a cross-thread stop that is never lost. */
class StopTest {
    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void aThousandCrossThreadStopsOfAnInfiniteLoopAreAllHonoured() throws Exception {
        try (BareMachine m = BindingGuests.machine("binding-loop");
             ExecutorService runner = Executors.newSingleThreadExecutor()) {
            Unicorn uc = m.engine();
            Random random = new Random(20261125);
            int lost = 0;
            long worstNanos = 0;
            long start = System.nanoTime();
            for (int i = 0; i < 1000; i++) {
                Future<EmuResult> run = runner.submit(() -> uc.emuStart(BASE));
                // Vary the moment of the stop: before the runner enters, while uc_emu_start sets up,
                // and well inside the loop.
                switch (random.nextInt(4)) {
                    case 0 -> { }
                    case 1 -> busyWaitNanos(random.nextInt(20_000));
                    case 2 -> {
                        while (!uc.isRunning() && !run.isDone()) {
                            Thread.onSpinWait();
                        }
                    }
                    default -> LockSupport.parkNanos(random.nextInt(500_000));
                }
                long t0 = System.nanoTime();
                assertThat(uc.stop(Duration.ofSeconds(10))).isTrue();
                try {
                    assertThat(run.get(5, TimeUnit.SECONDS)).isEqualTo(EmuResult.STOPPED);
                } catch (TimeoutException e) {
                    lost++;
                    uc.stop(); // free the runner for the next round
                    run.get(5, TimeUnit.SECONDS);
                }
                worstNanos = Math.max(worstNanos, System.nanoTime() - t0);
                assertThat(uc.isRunning()).isFalse();
            }
            System.out.printf("1000 stops in %d ms, slowest stop-to-return %.3f ms, lost %d%n",
                    (System.nanoTime() - start) / 1_000_000, worstNanos / 1e6, lost);
            assertThat(lost).as("stops lost").isZero();
            assertThat(uc.clearStopRequests()).as("no request left over").isFalse();
        }
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void underAStormOfStopsEveryRunEitherFinishesOrReportsStopped() throws Exception {
        try (BareMachine m = BindingGuests.machine("binding-regloop")) {
            Unicorn uc = m.engine();
            uc.writeReg(X86Reg.RDI, 20_000); // ~100k instructions per run
            java.util.concurrent.atomic.AtomicBoolean done = new java.util.concurrent.atomic.AtomicBoolean();
            Thread stopper = Thread.ofPlatform().start(() -> {
                Random random = new Random(7);
                while (!done.get()) {
                    uc.stop(Duration.ofSeconds(10));
                    LockSupport.parkNanos(random.nextInt(100_000));
                }
            });
            int finished = 0;
            int stopped = 0;
            try {
                for (int i = 0; i < 3000; i++) {
                    EmuResult r = uc.emuStart(BASE);
                    if (r == EmuResult.COMPLETED) {
                        // A run that was cut short by a stop must never look like a finished one.
                        assertThat(uc.readReg(X86Reg.RCX)).as("run %d ended early without STOPPED (RIP 0x%x)", i, uc.readReg(X86Reg.RIP)).isZero();
                        assertThat(uc.readReg(X86Reg.RIP)).isEqualTo(BASE + 0x13);
                        finished++;
                    } else {
                        assertThat(r).isEqualTo(EmuResult.STOPPED);
                        stopped++;
                    }
                }
            } finally {
                done.set(true);
                stopper.join();
            }
            System.out.printf("stop storm: %d runs finished, %d stopped%n", finished, stopped);
            assertThat(stopped).isPositive();
        }
    }

    /**
     * Characterises the engine (see docs/unicorn-binding.md, "Cross-thread stops are not
     * precise"): Unicorn checks for an exit request after every guest load and store, not only at
     * block starts, and leaves RIP at the start of the block, so a stop from another thread can
     * make the next run repeat instructions that already ran. tdemu therefore never resumes a run
     * it stopped from outside; it kicks (GuestEngine.kick, a block hook). If this test fails, the
     * engine stops precisely now and the kick machinery could go.
     */
    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void aCrossThreadStopCanEndARunInsideABlockWithRipAtTheBlockStart() throws Exception {
        try (BareMachine m = BindingGuests.machine("binding-countloop");
             ExecutorService runner = Executors.newSingleThreadExecutor()) {
            Unicorn uc = m.engine();
            uc.emuStart(BASE, 0, 3); // past the set-up: RCX and the counter start consistent
            long n = 1L << 40;
            Random random = new Random(11);
            int torn = 0;
            for (int i = 0; i < 200 && torn == 0; i++) {
                long rip = uc.readReg(X86Reg.RIP);
                Future<EmuResult> run = runner.submit(() -> uc.emuStart(rip));
                while (!uc.isRunning() && !run.isDone()) {
                    Thread.onSpinWait();
                }
                LockSupport.parkNanos(20_000 + random.nextInt(200_000));
                assertThat(uc.stop(Duration.ofSeconds(10))).isTrue();
                assertThat(run.get(5, TimeUnit.SECONDS)).isEqualTo(EmuResult.STOPPED);
                long counter = m.ram().get(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, 0x200000);
                long rcx = uc.readReg(X86Reg.RCX);
                // Whole iterations keep counter + RCX == 2^40; between the DEC and the INC it is one less
                // and RIP must then be on the INC. Anything else: the DEC ran and RIP went back before it.
                if (!(counter + rcx == n || counter + rcx == n - 1 && uc.readReg(X86Reg.RIP) == BASE + 0x1b)) {
                    torn++;
                }
            }
            assertThat(torn).as("a stop that left the block's DEC done with RIP rewound to it").isPositive();
        }
    }

    /**
     * A uc_emu_stop that lands just as a run ends on its own stays pending in the engine and would
     * end the next run before its first instruction (about once in 300,000 short runs under a
     * storm of stops, measured here); emuStart absorbs such phantom stops, so a run nobody
     * stopped always runs to its end.
     */
    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void aStopArrivingAsARunEndsOnItsOwnNeverEndsALaterRunNobodyStopped() throws Exception {
        try (BareMachine m = BindingGuests.machine("binding-regloop")) {
            Unicorn uc = m.engine();
            uc.writeReg(X86Reg.RDI, 50);
            java.util.concurrent.atomic.AtomicBoolean done = new java.util.concurrent.atomic.AtomicBoolean();
            Thread stopper = Thread.ofPlatform().start(() -> {
                Random random = new Random(7);
                while (!done.get()) {
                    uc.stop(Duration.ofSeconds(10));
                    if (random.nextBoolean()) {
                        Thread.onSpinWait();
                    }
                }
            });
            int cutShort = 0;
            int stopped = 0;
            try {
                for (int i = 0; i < 300_000; i++) {
                    if (uc.emuStart(BASE) == EmuResult.STOPPED) {
                        stopped++;
                    } else if (uc.readReg(X86Reg.RCX) != 0) {
                        cutShort++;
                    }
                }
            } finally {
                done.set(true);
                stopper.join();
            }
            System.out.printf("phantom stops: %d runs stopped, %d phantom stops absorbed%n", stopped, uc.phantomStops());
            assertThat(stopped).as("the storm did stop runs").isPositive();
            assertThat(cutShort).as("COMPLETED runs that did not reach their end").isZero();
        }
    }

    private static void busyWaitNanos(long nanos) {
        long end = System.nanoTime() + nanos;
        while (System.nanoTime() < end) {
            Thread.onSpinWait();
        }
    }

    @Test
    @Timeout(10)
    void aStopRequestedBeforeTheRunBeginsEndsItBeforeAnyInstruction() {
        try (BareMachine m = BindingGuests.machine("binding-regloop")) {
            Unicorn uc = m.engine();
            uc.writeReg(X86Reg.RDI, 1);
            uc.writeReg(X86Reg.RAX, 0);
            uc.stop();
            assertThat(uc.emuStart(BASE)).isEqualTo(EmuResult.STOPPED);
            assertThat(uc.readReg(X86Reg.RAX)).as("nothing executed").isZero();
            assertThat(uc.readReg(X86Reg.RIP)).as("resumable from where it would have started").isEqualTo(BASE);
            assertThat(uc.emuStart(BASE)).as("the request was consumed").isEqualTo(EmuResult.COMPLETED);
            assertThat(uc.readReg(X86Reg.RAX)).isEqualTo(1);
        }
    }

    @Test
    @Timeout(10)
    void aStopAfterARunEndedCarriesOverToTheNextRunUnlessCleared() {
        try (BareMachine m = BindingGuests.machine("binding-hltloop")) {
            Unicorn uc = m.engine();
            assertThat(uc.emuStart(BASE)).isEqualTo(EmuResult.COMPLETED);
            uc.stop();
            assertThat(uc.emuStart(BASE)).isEqualTo(EmuResult.STOPPED);
            uc.stop();
            uc.stop();
            assertThat(uc.clearStopRequests()).isTrue();
            assertThat(uc.emuStart(BASE)).isEqualTo(EmuResult.COMPLETED);
        }
    }

    @Test
    @Timeout(10)
    void stopFromAHookOnTheRunningThreadEndsTheCurrentRun() {
        try (BareMachine m = BindingGuests.machine("binding-hooks")) {
            Unicorn uc = m.engine();
            uc.addCodeHook(BindingGuests.NOPS + 1, BindingGuests.NOPS + 1, (u, address, size) -> u.stop());
            assertThat(uc.emuStart(BindingGuests.NOPS)).isEqualTo(EmuResult.STOPPED);
            assertThat(uc.readReg(X86Reg.RIP)).isEqualTo(BindingGuests.NOPS + 1);
            assertThat(uc.clearStopRequests()).isFalse();
        }
    }

    @Test
    @Timeout(20)
    void aStopWithATimeoutGivesUpWhileAHookBlocksAndTheRequestStaysPending() throws Exception {
        try (BareMachine m = BindingGuests.machine("binding-loop");
             ExecutorService runner = Executors.newSingleThreadExecutor()) {
            Unicorn uc = m.engine();
            CountDownLatch inHook = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            uc.addCodeHook(BASE, BASE, (u, address, size) -> {
                inHook.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            Future<EmuResult> run = runner.submit(() -> uc.emuStart(BASE));
            inHook.await();
            assertThat(uc.stop(Duration.ofMillis(50))).isFalse();
            release.countDown();
            assertThat(run.get(5, TimeUnit.SECONDS)).isEqualTo(EmuResult.STOPPED);
        }
    }

    @Test
    @Timeout(10)
    void runsDoNotNestAndTheEngineCannotBeClosedFromAHook() {
        try (BareMachine m = BindingGuests.machine("binding-hooks")) {
            Unicorn uc = m.engine();
            List<String> refused = new ArrayList<>();
            uc.addCodeHook(BindingGuests.NOPS, BindingGuests.NOPS, (u, address, size) -> {
                try {
                    u.emuStart(BindingGuests.NOPS);
                } catch (IllegalStateException e) {
                    refused.add("emuStart");
                }
                try {
                    u.close();
                } catch (IllegalStateException e) {
                    refused.add("close");
                }
            });
            uc.emuStart(BindingGuests.NOPS);
            assertThat(refused).containsExactly("emuStart", "close");
        }
    }

    @Test
    void stopAfterCloseDoesNothing() {
        Unicorn uc = Unicorn.open();
        uc.close();
        assertThat(uc.stop(Duration.ofSeconds(1))).isTrue();
        assertThatThrownBy(() -> uc.emuStart(BASE)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    @Timeout(10)
    void aTimeoutGivenToEmuStartIsReportedAsSuch() {
        try (BareMachine m = BindingGuests.machine("binding-loop")) {
            assertThat(m.engine().emuStart(BASE, 20_000, 0)).isEqualTo(EmuResult.TIMED_OUT);
        }
    }
}
