package dev.tdemu.gdbstub.scheduling;

import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The test thread's CPU affinity, remembered before each test and given back after it, so that a
 * test pinning itself to one CPU (to stand where gdb's thread would) leaves the next test the whole
 * machine. Registered with {@code @RegisterExtension}; {@link #mask()} is null off Linux.
 */
public final class TestThreadAffinity implements BeforeEachCallback, AfterEachCallback {
    private long[] mask;

    @Override
    public void beforeEach(ExtensionContext context) {
        mask = LinuxScheduling.AVAILABLE ? LinuxScheduling.threadMask() : null;
    }

    @Override
    public void afterEach(ExtensionContext context) {
        if (mask != null) {
            LinuxScheduling.setThreadMask(mask);
        }
    }

    /** The CPUs the test thread could run on when the test began. */
    public long[] mask() {
        return mask;
    }

    /** Pins the calling thread to {@code cpu}, one of {@link #mask()}'s. */
    public void runOn(int cpu) {
        SchedulingTests.runOn(cpu, mask);
    }
}
