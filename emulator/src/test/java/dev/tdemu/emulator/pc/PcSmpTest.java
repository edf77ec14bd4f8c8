package dev.tdemu.emulator.pc;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Several CPUs from inside a long-mode kernel (pc64-smp): the BSP starts the application
 * processors with INIT and a start-up IPI to all-excluding-self, each comes up through its own
 * real-mode trampoline at the SIPI page and reports its APIC ID; then fixed IPIs with physical,
 * flat and cluster logical destinations and every shorthand, an absent APIC ID, a start-up IPI to
 * running APs (ignored), INIT to a running AP (back to wait-for-SIPI, started again), an AP
 * halted after CLI, which an NMI still reaches and INIT and a start-up IPI restart, and, with
 * every CPU in x2APIC mode, IPIs through the ICR MSR by 32-bit physical ID, cluster and member
 * bitmap, and the x2APIC broadcast. The
 * kernel waits for each IPI's handler, never for time.
 */
@Timeout(120)
class PcSmpTest {
    /** The kernel's checks besides one per AP ("fixed.each-ap-took-its-own-once") and the BSP's. */
    static final int FIXED_CHECKS = 32;

    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0} vCPUs")
    @ValueSource(ints = {2, 4})
    void applicationProcessorsStartByInitAndSipiAndTakeIpisByEveryDestinationMode(int vcpus) {
        PcKernels.Run r = PcKernels.run(dir, "pc64-smp.elf", c -> c.setVcpus(vcpus)).assertAllPassed(FIXED_CHECKS + vcpus);
        assertThat(r.hex("smp.cpus")).as("fw_cfg's CPU count").isEqualTo(vcpus);
    }
}
