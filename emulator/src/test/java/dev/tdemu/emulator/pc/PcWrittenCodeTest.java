package dev.tdemu.emulator.pc;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Code a kernel writes at run time, through the real VM: stores over code that already ran take
 * effect (pc64-smc), also when another vCPU stored them (pc64-xmc), and port I/O in written code,
 * which tdemu did not scan at load, runs once in its place (pc64-written-io).
 */
@Timeout(60)
class PcWrittenCodeTest {
    static final int SMC_CHECKS = 12, WRITTEN_IO_CHECKS = 5, XMC_CHECKS = 5;

    @TempDir
    Path dir;

    /**
     * A store over code that ran makes the next run of it run the new bytes, after stores to data
     * on the same page, through another linear mapping of the page, by REP MOVSB, when the
     * store is the instruction right before the rewritten one, and by an INS tdemu performs.
     */
    @Test
    void storesOverCodeThatRanTakeEffectWhateverTheyGoThrough() {
        PcKernels.run(dir, "pc64-smc.elf").assertAllPassed(SMC_CHECKS);
    }

    /**
     * Port I/O in written code is performed by the engine's fallback hooks, which cannot stop at
     * the instruction: the run ends at the next block, so nothing of the block runs twice, also
     * when that block is chained to the one before (a direct jump after the I/O).
     */
    @Test
    void portIoInCodeWrittenAtRunTimeRunsOnceInItsPlace() {
        PcKernels.run(dir, "pc64-written-io.elf").assertAllPassed(WRITTEN_IO_CHECKS);
    }

    /**
     * Cross-modifying code: after one vCPU rewrites code another already ran, and that one
     * serializes (CPUID), the new bytes run, in both directions between the two vCPUs.
     */
    @Test
    void codeAnotherVcpuRewroteRunsInItsNewVersion() {
        PcKernels.run(dir, "pc64-xmc.elf", c -> c.setVcpus(2)).assertAllPassed(XMC_CHECKS);
    }
}
