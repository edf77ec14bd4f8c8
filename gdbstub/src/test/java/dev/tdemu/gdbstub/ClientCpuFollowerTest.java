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
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The stub's thread follows a local gdb to its CPU and polls at idle priority while gdb waits for
 * it ({@link ClientCpuFollower}, {@link BesideClient}, {@link LinuxScheduling}). The tests pin
 * their own thread, which is the client's sending thread, to chosen CPUs.
 */
@Timeout(60)
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

    /** Pins this thread to {@code cpu}, connects like gdb and waits until the stub follows it there. */
    RspClient followedClient(StubFixture s, int cpu) throws Exception {
        runOn(cpu);
        RspClient c = s.attach(StubFixture.GDB_FEATURES);
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
    void theStubsThreadFollowsALocalClientIdlesWhileItWaitsAndGivesEverythingBackWhenTheClientLeaves() throws Exception {
        assumeFollowingPossible();
        List<Integer> cpus = allowedCpus(testThreadMask);
        try (StubFixture s = new StubFixture()) {
            GdbServer server = s.server();
            long[] loopMask = server.eventLoopAffinity();
            assertEquals(-1, server.followedCpu());
            assertEquals(LinuxScheduling.SCHED_OTHER, server.eventLoopPolicy());

            runOn(cpus.getFirst());
            RspClient c = s.attach(StubFixture.GDB_FEATURES);
            awaitFollowing(s, c, cpus.getFirst(), loopMask);

            runOn(cpus.getLast());
            awaitFollowing(s, c, cpus.getLast(), loopMask); // the client moved

            // A lone step runs on the stub's thread and keeps the policy.
            assertTrue(c.request("vCont;s:p1.1").startsWith("T05"));
            awaitFollowing(s, c, cpus.getLast(), loopMask);

            // A continue lets the guest run on the target's threads: ordinary priority until it stops.
            c.send("vCont;c");
            StubFixture.await("the target runs", Duration.ofSeconds(5), s.target()::isRunning);
            assertEquals(LinuxScheduling.SCHED_OTHER, server.eventLoopPolicy(), "while the guest runs");
            c.interrupt();
            assertTrue(c.receive().startsWith("T02"));
            awaitFollowing(s, c, cpus.getLast(), loopMask); // stopped again: idle priority again

            // A range step runs on the stub's thread for an unknown time: ordinary priority too.
            s.target().stepsAtOnce = true;
            c.send("vCont;r401000,10401000:p1.1"); // 256 M steps: ended by the Ctrl-C below
            StubFixture.await("range stepping at ordinary priority", Duration.ofSeconds(5), () -> {
                try {
                    return s.target().resumes.size() > 2 && server.eventLoopPolicy() == LinuxScheduling.SCHED_OTHER;
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            });
            c.interrupt();
            assertTrue(c.receive().startsWith("T02"));
            s.target().stepsAtOnce = false;
            awaitFollowing(s, c, cpus.getLast(), loopMask);

            c.close();
            StubFixture.await("the client is gone", Duration.ofSeconds(5), () -> server.followedCpu() == -1);
            assertArrayEquals(loopMask, server.eventLoopAffinity(), "affinity given back");
            assertEquals(LinuxScheduling.SCHED_OTHER, server.eventLoopPolicy());
        }
    }

    @Test
    void aBusyThreadOnTheClientsCpuDoesNotStarveTheStub() throws Exception {
        assumeFollowingPossible();
        int cpu = allowedCpus(testThreadMask).getFirst();
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        try (StubFixture s = new StubFixture()) {
            runOn(cpu);
            RspClient c = s.attach(StubFixture.GDB_FEATURES);
            c.readTimeout(Duration.ofSeconds(5));
            assertTrue(c.request("qC").startsWith("QC"));
            // (a cold JVM may make the watchdog back off once here: the first packets' code loads)
            awaitFollowing(s, c, cpu, s.server().eventLoopAffinity());
            long backOffsBefore = s.server().followBackOffs();
            // An ordinary-priority thread that never blocks, on the CPU the stub followed the client to.
            Thread hog = Thread.ofPlatform().daemon().start(() -> {
                LinuxScheduling.setThreadMask(LinuxScheduling.only(cpu, testThreadMask));
                long x = 0;
                while (!stop.get()) {
                    x++;
                }
                assertTrue(x > 0);
            });
            long start = System.nanoTime();
            for (int i = 0; i < 50; i++) {
                assertTrue(c.request("qC").startsWith("QC"), "request " + i);
            }
            long millis = (System.nanoTime() - start) / 1_000_000;
            stop.set(true);
            hog.join();
            assertTrue(s.server().followBackOffs() > backOffsBefore, "the watchdog found the polling thread starved");
            assertTrue(millis < 3_000, "50 requests beside a busy thread took " + millis + " ms");
            c.close();
        } finally {
            stop.set(true);
        }
    }

    /**
     * gdb keeps its CPU a while after it sends a request, and computes between requests: the stub's
     * thread then waits for the CPU with a request unread, briefly, all the time. That is no
     * starvation (the request is read as soon as the client blocks), and backing off for it would
     * cost every session round trips at the slow, cross-CPU speed. Here the client spins 0.3 ms
     * after every request for a second (after a second of warm-up): the watchdog may give up
     * following at most twice (the JVM's own threads may really take the CPU for a moment; 0 or 1
     * in 8 runs here); the watchdog that counted time spent waiting for the CPU backed off 4 or 5
     * times in that second (3 runs).
     */
    @Test
    void aClientThatKeepsItsCpuAfterEachRequestIsNoStarvation() throws Exception {
        assumeFollowingPossible();
        int cpu = allowedCpus(testThreadMask).getFirst();
        try (StubFixture s = new StubFixture()) {
            RspClient c = followedClient(s, cpu);
            // A first second lets the JIT compile this loop and the stub's paths: its compiler
            // threads may really hold the CPU for a while, which is a back-off worth taking.
            requestsSpinningAfterEach(c, 1_000_000_000L);
            long backOffsBefore = s.server().followBackOffs();
            int requests = requestsSpinningAfterEach(c, 1_000_000_000L);
            long backOffs = s.server().followBackOffs() - backOffsBefore;
            assertTrue(backOffs <= 2, backOffs + " back-offs in " + requests + " requests from a client that only kept its CPU");
            awaitFollowing(s, c, cpu, s.server().eventLoopAffinity());
            c.close();
        }
    }

    /**
     * A request that keeps the stub's thread busy for longer than a watchdog period (here a memory
     * read that takes 20 ms) must not go on at idle priority, where a busy thread on the CPU would
     * leave it almost nothing: the watchdog backs off (SCHED_OTHER), and after the back-off the
     * stub follows its client at idle priority again.
     */
    @Test
    void aLongTaskDoesNotStayAtIdlePriority() throws Exception {
        assumeFollowingPossible();
        int cpu = allowedCpus(testThreadMask).getFirst();
        try (StubFixture s = new StubFixture()) {
            RspClient c = followedClient(s, cpu);
            long[] loopMask = s.server().eventLoopAffinity();
            s.target().stepsAtOnce = true; // the read runs on the stub's thread, as in the emulator
            int[] policyAtEnd = {-1};
            s.target().onMemoryRead = () -> {
                for (long end = System.nanoTime() + 20_000_000; System.nanoTime() < end; ) {
                    Thread.onSpinWait();
                }
                policyAtEnd[0] = LinuxScheduling.policy();
            };
            assertEquals(16, c.request("m" + Long.toHexString(FakeTarget.DATA) + ",8").length());
            assertEquals(LinuxScheduling.SCHED_OTHER, policyAtEnd[0], "the end of a 20 ms task");
            assertTrue(s.server().followBackOffs() >= 1, "the watchdog backed off");
            s.target().stepsAtOnce = false;
            awaitFollowing(s, c, cpu, loopMask); // short requests: idle priority again
            c.close();
        }
    }

    /** Sends requests for {@code nanos}, each time spinning 0.3 ms before reading the reply; returns how many. */
    static int requestsSpinningAfterEach(RspClient c, long nanos) throws Exception {
        int requests = 0;
        for (long end = System.nanoTime() + nanos; System.nanoTime() < end; requests++) {
            c.send("qC");
            for (long busy = System.nanoTime() + 300_000; System.nanoTime() < busy; ) {
                Thread.onSpinWait();
            }
            assertTrue(c.receive().startsWith("QC"), "reply " + requests);
        }
        return requests;
    }

    /**
     * Requests until the stub's thread is pinned to {@code cpu} and at idle priority while it serves
     * the client's packets (a memory read records the policy of the thread that serves it). Other threads of this JVM (the JIT's, say) may make it back off for a second
     * now and then (see {@link BesideClient}), so this allows three.
     */
    static void awaitFollowing(StubFixture s, RspClient c, int cpu, long[] loopMask) throws Exception {
        int[] policy = {-1};
        s.target().onMemoryRead = () -> policy[0] = LinuxScheduling.policy();
        long deadline = System.nanoTime() + 3_000_000_000L;
        String last = "";
        while (System.nanoTime() < deadline) {
            assertEquals(16, c.request("m" + Long.toHexString(FakeTarget.DATA) + ",8").length());
            int followed = s.server().followedCpu();
            long[] mask = s.server().eventLoopAffinity();
            if (followed == cpu && java.util.Arrays.equals(mask, LinuxScheduling.only(cpu, loopMask))
                    && policy[0] == LinuxScheduling.SCHED_IDLE) {
                return;
            }
            last = "followed CPU " + followed + ", mask " + java.util.Arrays.toString(mask) + ", policy while serving "
                    + policy[0] + ", back-offs " + s.server().followBackOffs();
            Thread.sleep(20);
        }
        throw new AssertionError("the stub's thread did not follow the client to CPU " + cpu + " at idle priority: " + last);
    }

    @Test
    void withFollowingOffTheStubsThreadStaysAsItWas() throws Exception {
        assumeTrue(LinuxScheduling.AVAILABLE, "needs Linux: " + LinuxScheduling.UNAVAILABLE_BECAUSE);
        try (StubFixture s = new StubFixture(new FakeTarget(), GdbServerOptions.defaults().withFollowClientCpu(false))) {
            long[] loopMask = s.server().eventLoopAffinity();
            runOn(allowedCpus(testThreadMask).getFirst());
            try (RspClient c = s.attach(StubFixture.GDB_FEATURES)) {
                assertTrue(c.request("qC").startsWith("QC"));
                assertEquals(-1, s.server().followedCpu());
                assertArrayEquals(loopMask, s.server().eventLoopAffinity());
                assertEquals(LinuxScheduling.SCHED_OTHER, s.server().eventLoopPolicy());
            }
        }
    }
}
