package dev.tdemu.gdbstub;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * With following on, the stub's thread follows a local gdb to its CPU and writes its replies at
 * idle priority ({@link ClientCpuFollower}, {@link BesideClient}, {@link LinuxScheduling}). The
 * tests pin their own thread, which is the client's sending thread, to chosen CPUs. They assert
 * what the stub decides (affinity, policy, back-offs), never how fast it is: that is
 * GdbBenchmark's, and the tests pass on a busy machine.
 */
@Timeout(120)
class ClientCpuFollowerTest {
    private long[] testThreadMask;

    @BeforeEach
    void rememberAffinity() {
        testThreadMask = LinuxScheduling.AVAILABLE ? LinuxScheduling.threadMask() : null;
    }

    @AfterEach
    void restoreAffinity() {
        if (testThreadMask != null) {
            LinuxScheduling.setThreadMask(testThreadMask);
        }
    }

    static InetSocketAddress at(String host, int port) throws Exception {
        return new InetSocketAddress(InetAddress.getByName(host), port);
    }

    @Test
    void tableEntriesAreReadAsTheKernelPrintsThem() throws Exception {
        // Each 32-bit word of the address in little-endian order, the port in plain hex.
        assertTrue(LinuxScheduling.endpoint("0100007F:3039", at("127.0.0.1", 12345)));
        assertFalse(LinuxScheduling.endpoint("0100007F:3039", at("127.0.0.1", 12346)));
        assertFalse(LinuxScheduling.endpoint("0100007F:3039", at("127.0.0.2", 12345)));
        assertTrue(LinuxScheduling.endpoint("00000000000000000000000001000000:0016", at("::1", 22)));
        assertTrue(LinuxScheduling.endpoint("0000000000000000FFFF00000100007F:3039", at("127.0.0.1", 12345)), "IPv4-mapped in the IPv6 table");
        assertFalse(LinuxScheduling.endpoint("0000000000000000FFFF00000100007F:3039", at("127.0.0.2", 12345)));
        for (String bad : List.of("", "0100007F", "0100007F:", "0100007F:zz", "GG00007F:3039", "01007F:3039")) {
            assertFalse(LinuxScheduling.endpoint(bad, at("127.0.0.1", 12345)), bad);
        }
    }

    @Test
    void theSocketsInodeIsFoundInATable(@TempDir Path dir) throws Exception {
        Path table = dir.resolve("tcp");
        Files.writeString(table, """
                  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
                   0: 0100007F:3039 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1111 1 0000000000000000 100 0 0 10 0
                   1: 0100007F:D3C2 0100007F:3039 01 00000000:00000000 00:00000000 00000000     0        0 2222 1 0000000000000000 20 4 30 10 -1
                   2: 0100007F:3039 0100007F:D3C2 01 00000000:00000000 00:00000000 00000000     0        0 3333 1 0000000000000000 20 4 30 10 -1
                garbage line
                """);
        assertEquals(3333, LinuxScheduling.findInode(table, at("127.0.0.1", 12345), at("127.0.0.1", 0xD3C2)));
        assertEquals(2222, LinuxScheduling.findInode(table, at("127.0.0.1", 0xD3C2), at("127.0.0.1", 12345)));
        assertEquals(-1, LinuxScheduling.findInode(table, at("127.0.0.1", 12345), at("127.0.0.1", 1)));
        assertEquals(-1, LinuxScheduling.findInode(dir.resolve("missing"), at("127.0.0.1", 1), at("127.0.0.1", 2)));
    }

    @Test
    void onlyClientsOnThisMachineAreFollowed() throws Exception {
        assertTrue(ClientCpuFollower.onThisMachine(at("127.0.0.1", 1)));
        assertTrue(ClientCpuFollower.onThisMachine(at("::1", 1)));
        assertFalse(ClientCpuFollower.onThisMachine(at("192.0.2.1", 1)), "TEST-NET-1, never local");
    }

    /** The CPUs this test may run on, lowest first. */
    static List<Integer> allowedCpus(long[] mask) {
        List<Integer> cpus = new ArrayList<>();
        for (int cpu = 0; cpu < LinuxScheduling.MASK_LONGS * 64; cpu++) {
            if ((mask[cpu >>> 6] & (1L << (cpu & 63))) != 0) {
                cpus.add(cpu);
            }
        }
        return cpus;
    }

    /** Skips (with the reason) where the stub cannot follow clients at all. */
    static void assumeFollowingPossible() {
        assumeTrue(LinuxScheduling.AVAILABLE, "needs Linux: " + LinuxScheduling.UNAVAILABLE_BECAUSE);
        assumeTrue(LinuxScheduling.canLeaveIdlePolicy(),
                "this process may not leave SCHED_IDLE (no CAP_SYS_NICE, RLIMIT_NICE < 20), so the stub does not follow clients");
    }

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
        runOn(cpu);
        RspClient c = s.attach(StubFixture.GDB_FEATURES);
        c.readTimeout(Duration.ofSeconds(30));
        awaitFollowing(s, c, cpu, s.server().eventLoopAffinity());
        return c;
    }

    void runOn(int cpu) {
        assertTrue(LinuxScheduling.setThreadMask(LinuxScheduling.only(cpu, testThreadMask)), "pin to CPU " + cpu);
    }

    @Test
    void aLoopbackSocketIsFoundInProcAndReportsTheSendersCpu() throws Exception {
        assumeTrue(LinuxScheduling.AVAILABLE, "needs Linux: " + LinuxScheduling.UNAVAILABLE_BECAUSE);
        List<Integer> cpus = allowedCpus(testThreadMask);
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
             Socket client = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort());
             Socket accepted = server.accept()) {
            OptionalInt fd = LinuxScheduling.socketFd((InetSocketAddress) accepted.getLocalSocketAddress(),
                    (InetSocketAddress) accepted.getRemoteSocketAddress());
            assertTrue(fd.isPresent(), "the accepted socket in /proc/self/fd");
            java.lang.foreign.MemorySegment scratch = java.lang.foreign.Arena.ofAuto().allocate(8);
            OutputStream out = client.getOutputStream();
            InputStream in = accepted.getInputStream();
            for (int cpu : List.of(cpus.getFirst(), cpus.getLast(), cpus.getFirst())) {
                runOn(cpu);
                out.write('x');
                out.flush();
                assertEquals('x', in.read());
                assertEquals(cpu, LinuxScheduling.incomingCpu(fd.getAsInt(), scratch), "sent from CPU " + cpu);
            }
        }
    }

    @Test
    void thePolicyProbeLeavesIdlePriorityAgain() throws Exception {
        assumeFollowingPossible();
        int[] seen = new int[3];
        Thread t = Thread.ofPlatform().start(() -> {
            seen[0] = LinuxScheduling.policy();
            LinuxScheduling.setPolicy(LinuxScheduling.SCHED_IDLE);
            seen[1] = LinuxScheduling.policy();
            LinuxScheduling.setPolicy(LinuxScheduling.SCHED_OTHER);
            seen[2] = LinuxScheduling.policy();
        });
        t.join();
        assertArrayEquals(new int[] {LinuxScheduling.SCHED_OTHER, LinuxScheduling.SCHED_IDLE, LinuxScheduling.SCHED_OTHER}, seen);
    }

    @Test
    void theStubsThreadFollowsALocalClientWritesItsRepliesAtIdlePriorityAndGivesEverythingBackWhenTheClientLeaves()
            throws Exception {
        assumeFollowingPossible();
        List<Integer> cpus = allowedCpus(testThreadMask);
        try (StubFixture s = followingStub()) {
            GdbServer server = s.server();
            long[] loopMask = server.eventLoopAffinity();
            assertEquals(-1, server.followedCpu());
            assertEquals(LinuxScheduling.SCHED_OTHER, server.eventLoopPolicy());

            RspClient c = followedClient(s, cpus.getFirst());
            runOn(cpus.getLast());
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
        int cpu = allowedCpus(testThreadMask).getFirst();
        try (StubFixture s = followingStub(Duration.ofMillis(5), Duration.ofMillis(5), slow)) {
            runOn(cpu);
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
        int cpu = allowedCpus(testThreadMask).getFirst();
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

    /** A thread that never blocks, pinned to {@code cpu}, until {@code stop}. */
    Thread hog(int cpu, AtomicBoolean stop) {
        return Thread.ofPlatform().daemon().name("busy-on-cpu-" + cpu).start(() -> {
            LinuxScheduling.setThreadMask(LinuxScheduling.only(cpu, testThreadMask));
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
        int cpu = allowedCpus(testThreadMask).getFirst();
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
        int cpu = allowedCpus(testThreadMask).getFirst();
        try (StubFixture s = followingStub(starvingWrites(Duration.ofMillis(5), Duration.ofMillis(5)))) {
            long[] loopMask = s.server().eventLoopAffinity();
            runOn(cpu);
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
        int cpu = allowedCpus(testThreadMask).getFirst();
        try (StubFixture s = followingStub(starvingWrites(Duration.ofMillis(20), Duration.ofMillis(160)))) {
            runOn(cpu);
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
            runOn(allowedCpus(testThreadMask).getFirst());
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
