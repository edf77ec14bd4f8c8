package dev.tdemu.gdbstub;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.channel.SelectStrategy;
import org.junit.jupiter.api.Test;

class SpinThenSelectStrategyTest {
    @Test
    void pollsRightAfterActivityAndBlocksOnceTheWindowHasPassed() throws Exception {
        SpinThenSelectStrategy s = new SpinThenSelectStrategy(50_000_000, new Recorder(true)); // 50 ms window
        assertEquals(2, s.calculateStrategy(() -> 2, false), "ready keys are processed");
        assertEquals(SelectStrategy.CONTINUE, s.calculateStrategy(() -> 0, false), "just after activity: keep polling");
        Thread.sleep(80);
        assertEquals(SelectStrategy.SELECT, s.calculateStrategy(() -> 0, false), "idle past the window: block");
        assertEquals(0, s.calculateStrategy(() -> 0, true), "pending tasks count as activity");
        assertEquals(SelectStrategy.CONTINUE, s.calculateStrategy(() -> 0, false));
    }

    @Test
    void aZeroWindowBlocksWheneverNothingIsReady() throws Exception {
        SpinThenSelectStrategy s = new SpinThenSelectStrategy(0, new Recorder(true));
        assertEquals(1, s.calculateStrategy(() -> 1, false));
        assertEquals(SelectStrategy.SELECT, s.calculateStrategy(() -> 0, false));
    }

    /** Records the hints; polling allowed as set. */
    static final class Recorder implements SpinThenSelectStrategy.Hints {
        boolean mayPoll;
        int loops;
        final StringBuilder calls = new StringBuilder();

        Recorder(boolean mayPoll) {
            this.mayPoll = mayPoll;
        }

        public void looped() {
            loops++;
        }

        public void active() {
            calls.append('a');
        }

        public boolean mayPoll() {
            return mayPoll;
        }

        public void blocking() {
            calls.append('b');
        }
    }

    @Test
    void itTellsTheThreadsSchedulingOfActivityAndOfBlockingAndPollsOnlyWhenAllowed() throws Exception {
        Recorder hints = new Recorder(false);
        SpinThenSelectStrategy s = new SpinThenSelectStrategy(50_000_000, hints);
        assertEquals(1, s.calculateStrategy(() -> 1, false), "ready keys are processed");
        assertEquals(SelectStrategy.SELECT, s.calculateStrategy(() -> 0, false), "right after activity, but polling not allowed: block");
        hints.mayPoll = true;
        assertEquals(0, s.calculateStrategy(() -> 0, true));
        assertEquals(SelectStrategy.CONTINUE, s.calculateStrategy(() -> 0, false), "allowed: polling within the window");
        assertEquals("aba", hints.calls.toString());
        assertEquals(4, hints.loops, "every call counts as one time round the loop");
    }
}
