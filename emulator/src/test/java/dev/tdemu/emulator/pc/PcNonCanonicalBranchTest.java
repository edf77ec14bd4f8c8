package dev.tdemu.emulator.pc;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Where a near branch to a non-canonical address faults, from inside a long-mode kernel (pc64-noncanonical-branch lists its checks). */
@Timeout(60)
class PcNonCanonicalBranchTest {
    static final int BRANCH_CHECKS = 31;

    @TempDir
    Path dir;

    /** JMP, CALL and RET to a non-canonical address raise #GP(0) on themselves: RIP and RSP as before the branch, CR2 untouched. */
    @Test
    void aBranchToANonCanonicalAddressFaultsOnTheBranch() {
        PcKernels.run(dir, "pc64-noncanonical-branch.elf").assertAllPassed(BRANCH_CHECKS);
    }
}
