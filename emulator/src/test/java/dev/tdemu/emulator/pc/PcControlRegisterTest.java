package dev.tdemu.emulator.pc;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Control-register writes as the PC's CPU checks them, from inside a long-mode kernel (pc64-cr4 lists its checks). */
@Timeout(60)
class PcControlRegisterTest {
    static final int CR4_CHECKS = 29;

    @TempDir
    Path dir;

    /** A CR4 bit whose feature CPUID does not offer, a reserved bit, or PAE cleared in long mode is #GP(0); offered bits stick. */
    @Test
    void movToCr4RefusesBitsTheCpuidModelDoesNotOfferWithGp0() {
        PcKernels.run(dir, "pc64-cr4.elf").assertAllPassed(CR4_CHECKS);
    }
}
