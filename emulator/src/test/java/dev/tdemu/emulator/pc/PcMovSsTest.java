package dev.tdemu.emulator.pc;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Which selectors MOV to SS takes in 64-bit mode, from inside a long-mode kernel (pc64-movss-null lists its checks). */
@Timeout(60)
class PcMovSsTest {
    static final int MOVSS_CHECKS = 16;

    @TempDir
    Path dir;

    /** A null selector whose RPL is not the CPL is #GP(0) with SS and RIP unchanged; RPL 0 at CPL 0 is loaded. */
    @Test
    void aNullStackSelectorWithAnotherRplIsRefused() {
        PcKernels.run(dir, "pc64-movss-null.elf").assertAllPassed(MOVSS_CHECKS);
    }
}
