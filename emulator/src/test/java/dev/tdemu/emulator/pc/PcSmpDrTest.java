package dev.tdemu.emulator.pc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tdemu.emulator.vm.Console;
import dev.tdemu.emulator.vm.Vm;
import dev.tdemu.emulator.vm.VmResult;
import dev.tdemu.emulator.vm.VmSpec;
import dev.tdemu.proto.FaultInjection;
import dev.tdemu.proto.VmConfig;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Debug registers per CPU from inside a PC kernel (pc64-smp-dr, the guest of the check scenarios
 * smp-dr and smp-dr-4): application processors started by INIT and SIPI each arm an execute and a
 * write breakpoint of their own, take IPIs and exits (CPUID, port I/O, HLT), and every CPU's #DB
 * handler and read-backs show its breakpoints stayed its own.
 */
@Timeout(120)
class PcSmpDrTest {
    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0} vCPUs")
    @ValueSource(ints = {2, 4})
    void everyCpuKeepsTheBreakpointsItProgrammedAcrossIpisAndExits(int vcpus) {
        PcKernels.Run r = PcKernels.run(dir, "pc64-smp-dr.elf", c -> c.setVcpus(vcpus)).assertAllPassed(2);
        assertThat(r.hex("smp-dr.cpus")).as("fw_cfg's CPU count").isEqualTo(vcpus);
        assertThat(r.text()).contains("PASS smp-dr.every-cpu-kept-its-own-breakpoints");
    }

    @Test
    void aCpuWhoseDebugRegistersAreWipedAfterEntryMissesItsHitsAndSaysWhich() {
        String text = runFailing(FaultInjection.FAULT_INJECTION_BREAK_GUEST_LOAD);
        assertThat(text).contains("smp-dr.cpu 0x0", "smp-dr.cpu 0x1",
                "FAIL smp-dr.execute-breakpoint-hit-every-round", "FAIL smp-dr.write-breakpoint-hit-every-round");
    }

    @Test
    void aCpuRunningWithItsNeighboursDebugRegistersSeesItsOwnBreakpointsGone() {
        String text = runFailing(FaultInjection.FAULT_INJECTION_LOAD_ANOTHER_CPUS_GUEST_STATE);
        assertThat(text).contains("FAIL smp-dr.execute-breakpoint-hit-every-round");
    }

    /** Runs the kernel on two vCPUs with {@code fault}; it must end by isa-debug-exit 1 (a check failed). */
    private String runFailing(FaultInjection fault) {
        VmConfig config = PcKernels.config(PcKernels.file(dir, "pc64-smp-dr.elf")).setVcpus(2).build();
        ByteArrayOutputStream serial = new ByteArrayOutputStream();
        VmResult r;
        try (Vm vm = new Vm(VmSpec.from(config), new Vm.Options(new Console.Sink(serial, false), List.of(), fault))) {
            r = vm.run();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        String text = serial.toString(StandardCharsets.ISO_8859_1);
        assertThat(r.outcome()).as(text).isEqualTo(VmResult.Outcome.EXITED);
        assertThat(r.exitStatus()).as("isa-debug-exit 1: a check failed (%s)", text).isEqualTo(3);
        assertThat(text).contains("FAIL smp-dr.every-cpu-kept-its-own-breakpoints");
        return text;
    }
}
