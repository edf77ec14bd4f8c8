package dev.tdemu.emulator.pc;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Interrupts routed through the I/O APIC from inside a long-mode kernel (pc64-ioapic): level
 * lines from pc-testdev with their remote IRR, the local APIC's EOI broadcast and the I/O APIC's
 * EOI register, a masked level line, and the PIT's IRQ 0 on pin 2 as an edge. The kernel waits on
 * its handlers' counts, never on time.
 */
@Timeout(60)
class PcIoApicTest {
    static final int IOAPIC_CHECKS = 21;

    @TempDir
    Path dir;

    @Test
    void levelLinesHoldRemoteIrrUntilTheEoiAndAreSentAgainWhileAssertedAndThePitArrivesOnPin2AsAnEdge() {
        PcKernels.run(dir, "pc64-ioapic.elf").assertAllPassed(IOAPIC_CHECKS);
    }
}
