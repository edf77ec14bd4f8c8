package dev.tdemu.emulator.pc;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Code a kernel writes at run time, through the real VM: stores over code that already ran take
 * effect (pc64-smc).
 */
@Timeout(60)
class PcWrittenCodeTest {
    static final int SMC_CHECKS = 10;

    @TempDir
    Path dir;

    /**
     * A store over code that ran makes the next run of it run the new bytes, after stores to data
     * on the same page, through another linear mapping of the page, by REP MOVSB, and when the
     * store is the instruction right before the rewritten one.
     */
    @Test
    void storesOverCodeThatRanTakeEffectWhateverTheyGoThrough() {
        PcKernels.run(dir, "pc64-smc.elf").assertAllPassed(SMC_CHECKS);
    }
}
