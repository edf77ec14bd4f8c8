package dev.tdemu.emulator.pc;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Faults raised while the CPU delivers an interrupt, from inside a long-mode kernel (pc64-np-gate lists its checks). */
@Timeout(60)
class PcInterruptDeliveryTest {
    static final int NP_GATE_CHECKS = 10, COMPAT_EXCEPTION_CHECKS = 3;

    @TempDir
    Path dir;

    /**
     * INT n through a gate naming a not-present code segment, or through a not-present gate, is a
     * #NP fault on the INT itself with EXT clear, so the mended gate is taken when IRET re-runs
     * it; an external interrupt's #NP has EXT set.
     */
    @Test
    void aNotPresentGateOrCodeSegmentRaisesNpOnTheIntWhichReRunsOnceTheGateIsMended() {
        PcKernels.run(dir, "pc64-np-gate.elf").assertAllPassed(NP_GATE_CHECKS);
    }

    /** An exception in compatibility mode at CPL3 reaches its 64-bit handler, which runs as 64-bit code. */
    @Test
    void anExceptionInCompatibilityModeRunsItsHandlerAs64BitCode() {
        PcKernels.run(dir, "pc64-compat-exception.elf").assertAllPassed(COMPAT_EXCEPTION_CHECKS);
    }
}
