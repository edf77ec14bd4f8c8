package dev.tdemu.gdbstub;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.channel.SelectStrategy;
import org.junit.jupiter.api.Test;

class SpinThenSelectStrategyTest {
    @Test
    void pollsRightAfterActivityAndBlocksOnceTheWindowHasPassed() throws Exception {
        SpinThenSelectStrategy s = new SpinThenSelectStrategy(50_000_000); // 50 ms window
        assertEquals(2, s.calculateStrategy(() -> 2, false), "ready keys are processed");
        assertEquals(SelectStrategy.CONTINUE, s.calculateStrategy(() -> 0, false), "just after activity: keep polling");
        Thread.sleep(80);
        assertEquals(SelectStrategy.SELECT, s.calculateStrategy(() -> 0, false), "idle past the window: block");
        assertEquals(0, s.calculateStrategy(() -> 0, true), "pending tasks count as activity");
        assertEquals(SelectStrategy.CONTINUE, s.calculateStrategy(() -> 0, false));
    }

    @Test
    void aZeroWindowBlocksWheneverNothingIsReady() throws Exception {
        SpinThenSelectStrategy s = new SpinThenSelectStrategy(0);
        assertEquals(1, s.calculateStrategy(() -> 1, false));
        assertEquals(SelectStrategy.SELECT, s.calculateStrategy(() -> 0, false));
    }
}
