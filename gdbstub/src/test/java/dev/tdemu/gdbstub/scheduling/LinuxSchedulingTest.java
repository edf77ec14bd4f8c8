package dev.tdemu.gdbstub.scheduling;

import static dev.tdemu.gdbstub.scheduling.SchedulingTests.allowedCpus;
import static dev.tdemu.gdbstub.scheduling.SchedulingTests.assumeFollowingPossible;
import static dev.tdemu.gdbstub.scheduling.SchedulingTests.at;
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
import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Linux calls behind following gdb's CPU ({@link LinuxScheduling}): {@code /proc/net/tcp}
 * entries, the accepted socket found in {@code /proc/self/fd} with {@code SO_INCOMING_CPU} naming
 * the sender's CPU, and the {@code SCHED_IDLE} round trip. The Linux-only ones are skipped with a
 * reason elsewhere.
 */
@Timeout(120)
class LinuxSchedulingTest {
    @RegisterExtension
    final TestThreadAffinity affinity = new TestThreadAffinity();


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
    void aLoopbackSocketIsFoundInProcAndReportsTheSendersCpu() throws Exception {
        assumeTrue(LinuxScheduling.AVAILABLE, "needs Linux: " + LinuxScheduling.UNAVAILABLE_BECAUSE);
        List<Integer> cpus = allowedCpus(affinity.mask());
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
                affinity.runOn(cpu);
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
}
