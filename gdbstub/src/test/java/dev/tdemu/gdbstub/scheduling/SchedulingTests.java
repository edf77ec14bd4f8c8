package dev.tdemu.gdbstub.scheduling;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

/** What the tests of following gdb's CPU share: CPUs, pinning, and whether following is possible here. */
public final class SchedulingTests {
    private SchedulingTests() {
    }

    public static InetSocketAddress at(String host, int port) throws Exception {
        return new InetSocketAddress(InetAddress.getByName(host), port);
    }

    /** The CPUs in {@code mask}, lowest first. */
    public static List<Integer> allowedCpus(long[] mask) {
        List<Integer> cpus = new ArrayList<>();
        for (int cpu = 0; cpu < LinuxScheduling.MASK_LONGS * 64; cpu++) {
            if ((mask[cpu >>> 6] & (1L << (cpu & 63))) != 0) {
                cpus.add(cpu);
            }
        }
        return cpus;
    }

    /** Pins the calling thread to {@code cpu} (one of {@code allowed}). */
    public static void runOn(int cpu, long[] allowed) {
        assertTrue(LinuxScheduling.setThreadMask(LinuxScheduling.only(cpu, allowed)), "pin to CPU " + cpu);
    }

    /** Skips (with the reason) where the stub cannot follow clients at all. */
    public static void assumeFollowingPossible() {
        assumeTrue(LinuxScheduling.AVAILABLE, "needs Linux: " + LinuxScheduling.UNAVAILABLE_BECAUSE);
        assumeTrue(LinuxScheduling.canLeaveIdlePolicy(),
                "this process may not leave SCHED_IDLE (no CAP_SYS_NICE, RLIMIT_NICE < 20), so the stub does not follow clients");
    }
}
