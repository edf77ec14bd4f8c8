package dev.tdemu.emulator.vm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tdemu.proto.DrSwitchPolicy;
import dev.tdemu.proto.GuestMode;
import dev.tdemu.proto.Machine;
import dev.tdemu.proto.VmConfig;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** One vCPU at a time in the engine, and what a preemption leaves behind. */
class GuestSchedulerTest {
    /** pc64-preempt's share per CPU: 4,000,000 rounds of a one-block loop. */
    static final long BLOCKS_PER_CPU = 4_000_000;

    @TempDir
    Path dir;

    /**
     * pc64-preempt: every CPU runs a long register-only loop with no exits, so the vCPUs take the
     * engine from each other only by preemption. A preemption switches the kick hook's callback on
     * to stop the holder; a vCPU that then carries on without an exit must run with it off again,
     * not with an upcall on each of its millions of blocks.
     */
    @ParameterizedTest(name = "{0} vCPUs")
    @ValueSource(ints = {2, 3})
    void aPreemptedVcpuCarriesOnWithTheKickHooksCallbackOff(int vcpus) throws Exception {
        Path kernel = dev.tdemu.emulator.pc.PcKernels.file(dir, "pc64-preempt.elf");
        VmConfig config = VmConfig.newBuilder().setGuestImage(kernel.toString()).setMachine(Machine.MACHINE_PC)
                .setMode(GuestMode.GUEST_MODE_VMX).setPolicy(DrSwitchPolicy.DR_SWITCH_POLICY_UPSTREAM).setVcpus(vcpus)
                .setTimeoutMs(120_000).build();
        ByteArrayOutputStream serial = new ByteArrayOutputStream();
        try (Vm vm = new Vm(VmSpec.from(config), new Vm.Options(new Console.Sink(serial, false), List.of()))) {
            VmResult r = vm.run();
            String text = serial.toString(StandardCharsets.ISO_8859_1);
            assertThat(r.exitStatus()).as("the kernel's verdict%n%s", text).isEqualTo(1);
            assertThat(text).contains("conformance pc64-boot-progress: 3 passed, 0 failed");
            long calls = 0;
            for (int i = 0; i < vcpus; i++) {
                calls += vm.vcpu(i).engine().kickHookCalls();
            }
            // Each kick, interrupt window and port-I/O stop costs a call or two; the loops' blocks
            // (vcpus × 4,000,000) must not.
            assertThat(calls).as("blocks run with the kick hook's callback on").isLessThan(BLOCKS_PER_CPU / 20);
        }
    }
}
