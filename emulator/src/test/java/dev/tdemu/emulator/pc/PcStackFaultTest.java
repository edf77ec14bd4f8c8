package dev.tdemu.emulator.pc;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Which fault a non-canonical address raises, from inside a long-mode kernel (pc64-noncanonical-ss lists its checks). */
@Timeout(60)
class PcStackFaultTest {
    static final int NONCANONICAL_CHECKS = 9;

    @TempDir
    Path dir;

    /** A non-canonical operand through SS (base RSP or RBP) is #SS(0); through DS it stays #GP(0). */
    @Test
    void aNonCanonicalAddressThroughSsIsAStackFault() {
        PcKernels.run(dir, "pc64-noncanonical-ss.elf").assertAllPassed(NONCANONICAL_CHECKS);
    }
}
