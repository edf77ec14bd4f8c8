package dev.tdemu.emulator.pc;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A kernel's own mode switches after the Multiboot entry (pc32-modes.S lists its checks): its
 * GDT and IDT in 32-bit protected mode, a 16-bit segment, real mode and back, long mode through
 * CR4.PAE, WRMSR to EFER.LME, CR0.PG and a far jump, and compatibility mode; a hardware breakpoint
 * (guest MOV DR) fires in each of them and the #DB reaches the kernel's handler through that
 * mode's IDT or IVT.
 */
@Timeout(60)
class PcModeSwitchTest {
    static final int MODES_CHECKS = 26;

    @TempDir
    Path dir;

    @Test
    void aKernelEntersRealModeAndLongModeItselfAndHardwareBreakpointsFireInEveryMode() {
        PcKernels.Run r = PcKernels.run(dir, "pc32-modes.elf").assertAllPassed(MODES_CHECKS);
        assertThat(r.text()).as("port I/O from real mode").contains("\nhello from real mode\n");
    }
}
