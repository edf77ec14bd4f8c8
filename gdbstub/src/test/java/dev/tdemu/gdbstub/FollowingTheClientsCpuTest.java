package dev.tdemu.gdbstub;

import static dev.tdemu.gdbstub.scheduling.SchedulingTests.allowedCpus;
import static dev.tdemu.gdbstub.scheduling.SchedulingTests.assumeFollowingPossible;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.tdemu.gdbstub.scheduling.BesideClient;
import dev.tdemu.gdbstub.scheduling.LinuxScheduling;
import dev.tdemu.gdbstub.scheduling.SchedulingTests;
import dev.tdemu.gdbstub.scheduling.TestThreadAffinity;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.Timeout;

/**
 * With following on, the stub's thread follows a local gdb to its CPU and writes its replies at
 * idle priority (the {@code scheduling} package, through {@link GdbServer}). The
 * tests pin their own thread, which is the client's sending thread, to chosen CPUs. They assert
 * what the stub decides (affinity, policy, back-offs), never how fast it is: that is
 * GdbBenchmark's, and the tests pass on a busy machine.
 */
@Timeout(120)
class FollowingTheClientsCpuTest {
    @RegisterExtension
    final TestThreadAffinity affinity = new TestThreadAffinity();

    /** Following on, with back-offs short enough that a busy machine only delays it (and a socket lookup of its own). */
    static StubFixture followingStub(Duration firstBackOff, Duration maxBackOff, BesideClient.SocketLookup lookup)
            throws Exception {
        return followingStub(new BesideClient(firstBackOff, maxBackOff, lookup, LinuxScheduling::setPolicy));
    }

    static StubFixture followingStub(BesideClient beside) throws Exception {
        return new StubFixture(new FakeTarget(), GdbServerOptions.defaults().withFollowClientCpu(true), beside);
    }

    /**
     * Scheduling beside the client in which every write at idle priority starves: the call that
     * would lower the thread's priority returns only once the watchdog has backed off, as when a
     * busy thread holds the CPU (a real busy thread does that only now and then).
     */
    static BesideClient starvingWrites(Duration firstBackOff, Duration maxBackOff) {
        BesideClient[] beside = new BesideClient[1];
        beside[0] = new BesideClient(firstBackOff, maxBackOff, LinuxScheduling::socketFd, policy -> {
            if (policy == LinuxScheduling.SCHED_IDLE) {
                long before = beside[0].starvations();
                long deadline = System.nanoTime() + 30_000_000_000L;
                while (beside[0].starvations() == before && System.nanoTime() < deadline) {
                    java.util.concurrent.locks.LockSupport.parkNanos(100_000);
                }
                return true;
            }
            return LinuxScheduling.setPolicy(policy);
        });
        return beside[0];
    }

    static StubFixture followingStub() throws Exception {
        return followingStub(Duration.ofMillis(5), Duration.ofMillis(5), LinuxScheduling::socketFd);
    }

    /** Pins this thread to {@code cpu}, connects like gdb and waits until the stub follows it there. */
    RspClient followedClient(StubFixture s, int cpu) throws Exception {
        affinity.runOn(cpu);
        RspClient c = s.attach(StubFixture.GDB_FEATURES);
        c.readTimeout(Duration.ofSeconds(30));
        awaitFollowing(s, c, cpu, s.server().eventLoopAffinity());
        return c;
    }


    @Test
    void theStubsThreadFollowsALocalClientWritesItsRepliesAtIdlePriorityAndGivesEverythingBackWhenTheClientLeaves()
            throws Exception {
        assumeFollowingPossible();
        List<Integer> cpus = allowedCpus(affinity.mask());
        try (StubFixture s = followingStub()) {
            GdbServer server = s.server();
            long[] loopMask = server.eventLoopAffinity();
            assertEquals(-1, server.followedCpu());
            assertEquals(LinuxScheduling.SCHED_OTHER, server.eventLoopPolicy());

            RspClient c = followedClient(s, cpus.getFirst());
            affinity.runOn(cpus.getLast());
            awaitFollowing(s, c, cpus.getLast(), loopMask); // the client moved

            // A lone step runs on the stub's thread, at ordinary priority like every request.
            assertTrue(c.request("vCont;s:p1.1").startsWith("T05"));
            awaitFollowing(s, c, cpus.getLast(), loopMask);

            // A continue lets the guest run on the target's threads; the stub's thread is ordinary meanwhile.
            c.send("vCont;c");
            StubFixture.await("the target runs", Duration.ofSeconds(30), s.target()::isRunning);
            assertEquals(LinuxScheduling.SCHED_OTHER, server.eventLoopPolicy(), "while the guest runs");
            c.interrupt();
            assertTrue(c.receive().startsWith("T02"));
            awaitFollowing(s, c, cpus.getLast(), loopMask);

            c.close();
            StubFixture.await("the client is gone", Duration.ofSeconds(30), () -> server.followedCpu() == -1);
            assertArrayEquals(loopMask, server.eventLoopAffinity(), "affinity given back");
            assertEquals(LinuxScheduling.SCHED_OTHER, server.eventLoopPolicy());
        }
    }

    /**
     * Finding the socket in /proc takes milliseconds: it happens on another thread, and the first
     * packets are answered meanwhile; following starts once it is known.
     */
    @Test
    void theFirstRepliesDoNotWaitForTheSocketLookup() throws Exception {
        assumeFollowingPossible();
        CountDownLatch lookupMayEnd = new CountDownLatch(1);
        BesideClient.SocketLookup slow = (local, remote) -> {
            try {
                lookupMayEnd.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return LinuxScheduling.socketFd(local, remote);
        };
        int cpu = allowedCpus(affinity.mask()).getFirst();
        try (StubFixture s = followingStub(Duration.ofMillis(5), Duration.ofMillis(5), slow)) {
            affinity.runOn(cpu);
            RspClient c = s.attach(StubFixture.GDB_FEATURES); // qSupported and ? answered while the lookup waits
            assertEquals("QCp1.1", c.request("qC"));
            assertEquals(-1, s.server().followedCpu(), "no following before the socket is known");
            assertEquals(0, s.server().idleWrites());
            lookupMayEnd.countDown();
            awaitFollowing(s, c, cpu, s.server().eventLoopAffinity());
            c.close();
        } finally {
            lookupMayEnd.countDown();
        }
    }

    /** A thread that never blocks, pinned to {@code cpu}, until {@code stop}. */
    Thread hog(int cpu, AtomicBoolean stop) {
        return Thread.ofPlatform().daemon().name("busy-on-cpu-" + cpu).start(() -> {
            LinuxScheduling.setThreadMask(LinuxScheduling.only(cpu, affinity.mask()));
            long x = 0;
            while (!stop.get()) {
                x++;
            }
            assertTrue(x > 0);
        });
    }

    /**
     * An ordinary-priority thread that never blocks, on the CPU the stub followed the client to:
     * every request is answered. (How fast, beside a busy thread, is GdbBenchmark's business; a
     * real busy thread starves the writes at idle priority only now and then, so the watchdog's
     * part is shown with writes that always starve, below.)
     */
    @Test
    void aBusyThreadOnTheClientsCpuDoesNotStarveTheStub() throws Exception {
        assumeFollowingPossible();
        int cpu = allowedCpus(affinity.mask()).getFirst();
        AtomicBoolean stop = new AtomicBoolean();
        try (StubFixture s = followingStub(Duration.ofMillis(100), Duration.ofSeconds(10), LinuxScheduling::socketFd)) {
            RspClient c = followedClient(s, cpu);
            Thread hog = hog(cpu, stop);
            for (int i = 0; i < 200; i++) {
                assertTrue(c.request("qC").startsWith("QC"), "request " + i);
            }
            assertEquals(16, c.request("m" + Long.toHexString(FakeTarget.DATA) + ",8").length());
            stop.set(true);
            hog.join();
            c.close();
        } finally {
            stop.set(true);
        }
    }

    /**
     * A write at idle priority that does not get its CPU back: the watchdog gives the thread
     * ordinary priority and its affinity back, the reply goes out, and the stub follows again
     * after the back-off.
     */
    @Test
    void aWriteThatDoesNotGetItsCpuBackMakesTheWatchdogBackOff() throws Exception {
        assumeFollowingPossible();
        int cpu = allowedCpus(affinity.mask()).getFirst();
        try (StubFixture s = followingStub(starvingWrites(Duration.ofMillis(5), Duration.ofMillis(5)))) {
            long[] loopMask = s.server().eventLoopAffinity();
            affinity.runOn(cpu);
            RspClient c = s.attach(StubFixture.GDB_FEATURES);
            StubFixture.await("following", Duration.ofSeconds(30), () -> {
                try {
                    assertTrue(c.request("qC").startsWith("QC")); // each answered, starved or not
                } catch (java.io.IOException e) {
                    throw new AssertionError(e);
                }
                return s.server().followBackOffs() >= 1;
            });
            assertEquals(LinuxScheduling.SCHED_OTHER, s.server().eventLoopPolicy());
            StubFixture.await("following again after the back-off", Duration.ofSeconds(30), () -> {
                try {
                    c.request("qC");
                    return s.server().followBackOffs() >= 2;
                } catch (java.io.IOException e) {
                    throw new AssertionError(e);
                }
            });
            c.close();
            s.server().lastSessionFinished().get(30, java.util.concurrent.TimeUnit.SECONDS);
            StubFixture.await("the client is gone", Duration.ofSeconds(30), () -> s.server().followedCpu() == -1);
            assertArrayEquals(loopMask, s.server().eventLoopAffinity(), "affinity given back");
        }
    }

    /**
     * While every write at idle priority starves, each try to follow again ends in another
     * back-off within a reply or two, and each such back-off lasts twice as long as the last (up
     * to a limit): on a busy machine the stub soon stays where it is, as with following off.
     */
    @Test
    void whileTheWritesKeepStarvingFollowingStaysOffLonger() throws Exception {
        assumeFollowingPossible();
        int cpu = allowedCpus(affinity.mask()).getFirst();
        try (StubFixture s = followingStub(starvingWrites(Duration.ofMillis(20), Duration.ofMillis(160)))) {
            affinity.runOn(cpu);
            RspClient c = s.attach(StubFixture.GDB_FEATURES);
            while (s.server().followBackOffs() < 5) { // 20, 40, 80, 160, 160 ms
                assertTrue(c.request("qC").startsWith("QC"));
            }
            assertEquals(Duration.ofMillis(160), s.server().lastFollowBackOff());
            c.close();
        }
    }

    /**
     * Requests until the stub's thread is pinned to {@code cpu} and the reply to a request went out
     * at idle priority, while every request is served at ordinary priority (a memory read records
     * the policy of the thread that serves it). On a busy machine the watchdog may back off on the
     * way; this waits for the next try.
     */
    static void awaitFollowing(StubFixture s, RspClient c, int cpu, long[] loopMask) throws Exception {
        int[] policy = {-1};
        s.target().onMemoryRead = () -> policy[0] = LinuxScheduling.policy();
        long deadline = System.nanoTime() + 30_000_000_000L;
        String last = "";
        while (System.nanoTime() < deadline) {
            long idleWrites = s.server().idleWrites();
            assertEquals(16, c.request("m" + Long.toHexString(FakeTarget.DATA) + ",8").length());
            assertEquals(LinuxScheduling.SCHED_OTHER, policy[0], "requests are served at ordinary priority");
            int followed = s.server().followedCpu();
            long[] mask = s.server().eventLoopAffinity();
            boolean wroteAtIdle = s.server().idleWrites() > idleWrites;
            if (followed == cpu && java.util.Arrays.equals(mask, LinuxScheduling.only(cpu, loopMask)) && wroteAtIdle) {
                return;
            }
            last = "followed CPU " + followed + ", mask " + java.util.Arrays.toString(mask) + ", reply at idle priority "
                    + wroteAtIdle + ", back-offs " + s.server().followBackOffs();
        }
        throw new AssertionError("the stub's thread did not follow the client to CPU " + cpu + ": " + last);
    }

    @Test
    void byDefaultTheStubsThreadStaysAsItWas() throws Exception {
        assumeTrue(LinuxScheduling.AVAILABLE, "needs Linux: " + LinuxScheduling.UNAVAILABLE_BECAUSE);
        assertFalse(GdbServerOptions.defaults().followClientCpu());
        try (StubFixture s = new StubFixture()) {
            long[] loopMask = s.server().eventLoopAffinity();
            affinity.runOn(allowedCpus(affinity.mask()).getFirst());
            try (RspClient c = s.attach(StubFixture.GDB_FEATURES)) {
                for (int i = 0; i < 10; i++) {
                    assertTrue(c.request("qC").startsWith("QC"));
                }
                assertEquals(-1, s.server().followedCpu());
                assertArrayEquals(loopMask, s.server().eventLoopAffinity());
                assertEquals(LinuxScheduling.SCHED_OTHER, s.server().eventLoopPolicy());
                assertEquals(0, s.server().idleWrites());
            }
        }
    }
}
