package dev.tdemu.gdbstub.scheduling;

import static dev.tdemu.gdbstub.scheduling.SchedulingTests.allowedCpus;
import static dev.tdemu.gdbstub.scheduling.SchedulingTests.assumeFollowingPossible;
import static dev.tdemu.gdbstub.scheduling.SchedulingTests.at;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.Timeout;

/** {@link BesideClient}'s watchdog sees every write at idle priority from before the priority drops. */
@Timeout(120)
class BesideClientTest {
    @RegisterExtension
    final TestThreadAffinity affinity = new TestThreadAffinity();


    /**
     * The thread may lose its CPU on the way back from the very call that gives it idle priority,
     * and on a busy machine not get it back for seconds: the watchdog must count it as inside a
     * write at idle priority from before its priority drops until after it is ordinary again.
     * (Set after the call, the flag left such a thread starved and the watchdog asleep: stepi
     * stalls of 5 s beside four busy loops, and gdb's "Ignoring packet error".)
     */
    @Test
    void theWatchdogSeesAWriteFromBeforeThePriorityDropsUntilAfterItRisesAgain() throws Exception {
        assumeFollowingPossible();
        int cpu = allowedCpus(affinity.mask()).getFirst();
        List<String> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
        BesideClient[] beside = new BesideClient[1];
        beside[0] = new BesideClient(Duration.ofMillis(100), Duration.ofSeconds(1), LinuxScheduling::socketFd, policy -> {
            seen.add((policy == LinuxScheduling.SCHED_IDLE ? "to idle" : "to ordinary") + ", watchdog sees a write: "
                    + beside[0].idleForWatchdog());
            return true;
        });
        try {
            Thread loop = Thread.ofPlatform().start(() -> { // stands in for the event loop (it gets pinned)
                beside[0].attach(LinuxScheduling.threadMask());
                seen.add("followed: " + beside[0].follow(cpu));
                beside[0].beforeWrite();
                beside[0].afterWrite();
                beside[0].release();
            });
            loop.join();
            assertEquals(List.of("followed: true", "to idle, watchdog sees a write: true",
                    "to ordinary, watchdog sees a write: true"), seen);
            assertFalse(beside[0].idleForWatchdog(), "after the write");
            assertEquals(1, beside[0].idleWrites());
        } finally {
            beside[0].close();
        }
    }
}
