package dev.tdemu.emulator.pc;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Which SSE moves check their operand's alignment, from inside a long-mode kernel (pc64-sse-align lists its checks). */
@Timeout(60)
class PcSseAlignmentTest {
    static final int SSE_CHECKS = 23;

    @TempDir
    Path dir;

    /** MOVAPS, MOVAPD, MOVDQA and MOVNTDQ on a misaligned operand are #GP(0) before any access; MOVUPS is not. */
    @Test
    void anAlignedMoveToAMisalignedOperandIsAGeneralProtectionFault() {
        PcKernels.run(dir, "pc64-sse-align.elf").assertAllPassed(SSE_CHECKS);
    }
}
