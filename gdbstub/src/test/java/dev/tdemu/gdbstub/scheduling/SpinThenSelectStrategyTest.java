package dev.tdemu.gdbstub.scheduling;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.channel.SelectStrategy;
import org.junit.jupiter.api.Test;

/** The polling window after activity, on a clock the test moves. */
class SpinThenSelectStrategyTest {
    private long now = 1_000_000_000L;

    @Test
    void pollsRightAfterActivityAndBlocksOnceTheWindowHasPassed() throws Exception {
        SpinThenSelectStrategy s = new SpinThenSelectStrategy(300_000, () -> true, () -> now);
        assertEquals(2, s.calculateStrategy(() -> 2, false), "ready keys are processed");
        now += 299_999;
        assertEquals(SelectStrategy.CONTINUE, s.calculateStrategy(() -> 0, false), "within the window: keep polling");
        now += 1;
        assertEquals(SelectStrategy.SELECT, s.calculateStrategy(() -> 0, false), "idle for the whole window: block");
        assertEquals(0, s.calculateStrategy(() -> 0, true), "pending tasks count as activity");
        now += 100_000;
        assertEquals(SelectStrategy.CONTINUE, s.calculateStrategy(() -> 0, false), "a new window from the tasks");
    }

    @Test
    void aZeroWindowBlocksWheneverNothingIsReady() throws Exception {
        SpinThenSelectStrategy s = new SpinThenSelectStrategy(0, () -> true, () -> now);
        assertEquals(1, s.calculateStrategy(() -> 1, false));
        assertEquals(SelectStrategy.SELECT, s.calculateStrategy(() -> 0, false));
    }

    @Test
    void itPollsOnlyWhileAllowed() throws Exception {
        boolean[] allowed = {false};
        SpinThenSelectStrategy s = new SpinThenSelectStrategy(300_000, () -> allowed[0], () -> now);
        assertEquals(1, s.calculateStrategy(() -> 1, false), "ready keys are processed");
        assertEquals(SelectStrategy.SELECT, s.calculateStrategy(() -> 0, false), "right after activity, but not allowed: block");
        allowed[0] = true;
        assertEquals(SelectStrategy.CONTINUE, s.calculateStrategy(() -> 0, false), "allowed: polling within the window");
    }
}
