package dev.tdemu.emulator.unicorn;

import static dev.tdemu.emulator.unicorn.BindingGuests.BASE;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A block hook switched on and off by rewriting its callback pointer, from any thread, during a run. */
class SwitchableBlockHookTest {
    @Test
    void theHookCanBeSwitchedAndStartsOff() {
        try (BareMachine m = BindingGuests.machine("binding-loop")) {
            SwitchableBlockHook h = m.engine().addSwitchableBlockHook((u, a, s) -> { });
            assertThat(h.switchable()).as("its trampoline was mapped").isTrue();
            assertThat(h.isOn()).as("starts off").isFalse();
        }
    }

    /**
     * Alone, the hook is called directly from each block; beside another block hook the engine
     * calls it through its hook dispatcher instead. Switching works either way.
     */
    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void besideAnotherBlockHookItIsSwitchedAsWell() throws Exception {
        try (BareMachine m = BindingGuests.machine("binding-countloop");
             ExecutorService runner = Executors.newSingleThreadExecutor()) {
            Unicorn uc = m.engine();
            AtomicLong calls = new AtomicLong();
            SwitchableBlockHook h = countingStopper(uc, calls);
            AtomicLong otherCalls = new AtomicLong();
            uc.addBlockHook(BASE, BASE, (u, address, size) -> otherCalls.incrementAndGet()); // the set-up block only
            Future<EmuResult> run = runPastAHundredThousandBlocks(m, runner);
            assertThat(calls.get()).isZero();
            h.on();
            run.get(30, TimeUnit.SECONDS);
            assertThat(calls.get()).isEqualTo(1);
            assertThat(otherCalls.get()).as("the other hook's own block").isEqualTo(1);
        }
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void offItsCallbackNeverRunsAndSwitchedOnFromAnotherThreadItStopsTheRunningGuest() throws Exception {
        try (BareMachine m = BindingGuests.machine("binding-countloop");
             ExecutorService runner = Executors.newSingleThreadExecutor()) {
            AtomicLong calls = new AtomicLong();
            SwitchableBlockHook h = countingStopper(m.engine(), calls);
            for (int round = 0; round < 50; round++) {
                h.off();
                long before = calls.get();
                Future<EmuResult> run = runPastAHundredThousandBlocks(m, runner);
                // A hundred thousand blocks ran: none of them may have called Java.
                assertThat(calls.get()).isEqualTo(before);
                h.on();
                run.get(30, TimeUnit.SECONDS); // the callback stopped it
                assertThat(calls.get()).isEqualTo(before + 1);
            }
        }
    }

    /**
     * Switched off, the trampoline still records each block's address: after binding-countloop ran
     * a hundred thousand blocks and was stopped from outside (no Java block callback ever ran), the
     * last block started is the loop's, which begins with its DEC RCX; forgetting it reads NO_BLOCK.
     */
    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void offTheTrampolineStillRecordsTheLastBlockStarted() throws Exception {
        try (BareMachine m = BindingGuests.machine("binding-countloop");
             ExecutorService runner = Executors.newSingleThreadExecutor()) {
            AtomicLong calls = new AtomicLong();
            SwitchableBlockHook h = countingStopper(m.engine(), calls);
            h.forgetLastBlock();
            assertThat(h.lastBlockStart()).isEqualTo(SwitchableBlockHook.NO_BLOCK);
            Future<EmuResult> run = runPastAHundredThousandBlocks(m, runner);
            m.engine().stop();
            run.get(30, TimeUnit.SECONDS);
            assertThat(calls.get()).as("the callback stayed off").isZero();
            long block = h.lastBlockStart();
            assertThat(block).as("the loop's block, not the entry's").isGreaterThan(BASE);
            byte[] dec = new byte[3];
            java.lang.foreign.MemorySegment.copy(m.ram(), java.lang.foreign.ValueLayout.JAVA_BYTE, block,
                    dec, 0, 3);
            assertThat(dec).as("DEC RCX at 0x%x", block).containsExactly(0x48, 0xFF, 0xC9);
            h.forgetLastBlock();
            assertThat(h.lastBlockStart()).isEqualTo(SwitchableBlockHook.NO_BLOCK);
        }
    }

    /** A switchable block hook whose callback counts its calls in {@code calls} and stops the run. */
    private static SwitchableBlockHook countingStopper(Unicorn uc, AtomicLong calls) {
        return uc.addSwitchableBlockHook((u, address, size) -> {
            calls.incrementAndGet();
            u.emuStop();
        });
    }

    /**
     * Starts binding-countloop on {@code runner} with its count (of iterations, one block each, at
     * 0x200000) from 0 and returns once a hundred thousand blocks ran, asserting it still runs.
     */
    private static Future<EmuResult> runPastAHundredThousandBlocks(BareMachine m, ExecutorService runner) {
        m.ram().set(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, 0x200000, -1L);
        Future<EmuResult> run = runner.submit(() -> m.engine().emuStart(BASE));
        while (iterations(m) < 100_000 && !run.isDone()) {
            Thread.onSpinWait();
        }
        assertThat(run.isDone()).as("an infinite loop with the callback off").isFalse();
        return run;
    }

    private static long iterations(BareMachine m) {
        long v = m.ram().get(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, 0x200000);
        return v < 0 ? 0 : v;
    }

    @Test
    void switchingAfterTheEngineClosedTouchesNothing() {
        SwitchableBlockHook h;
        try (BareMachine m = BindingGuests.machine("binding-loop")) {
            h = m.engine().addSwitchableBlockHook((u, a, s) -> { });
        }
        h.on();
        h.off();
        assertThat(h.isOn()).isFalse();
    }
}
