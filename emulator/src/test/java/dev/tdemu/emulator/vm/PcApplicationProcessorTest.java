package dev.tdemu.emulator.vm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tdemu.proto.DrSwitchPolicy;
import dev.tdemu.proto.GuestMode;
import dev.tdemu.proto.Machine;
import dev.tdemu.proto.VmConfig;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A PC's application processors wait for a start-up IPI from power-up: a kernel that never sends
 * one runs on the BSP alone, its APs never enter the guest, and the VM ends as the kernel says.
 */
@Timeout(60)
class PcApplicationProcessorTest {
    @TempDir
    Path dir;

    @Test
    void applicationProcessorsThatGetNoStartupIpiNeverEnterTheGuest() throws Exception {
        VmConfig config = VmConfig.newBuilder().setGuestImage(guest("mb-exit-pass.elf").toString()).setMachine(Machine.MACHINE_PC)
                .setMode(GuestMode.GUEST_MODE_VMX).setPolicy(DrSwitchPolicy.DR_SWITCH_POLICY_UPSTREAM).setVcpus(3)
                .setTimeoutMs(30_000).build();
        try (Vm vm = new Vm(VmSpec.from(config), new Vm.Options(null, List.of()))) {
            VmResult r = vm.run();
            assertThat(r.outcome()).as(r.detail()).isEqualTo(VmResult.Outcome.EXITED);
            assertThat(r.exitStatus()).isEqualTo(1);
            assertThat(r.console()).isEqualTo("PASS: mb-exit-pass\nSUMMARY: 1 tests\n");
            assertThat(vm.vcpu(0).exits()).isPositive();
            for (int ap = 1; ap < 3; ap++) {
                assertThat(vm.vcpu(ap).waitsForStartup()).as("vCPU %d waits for SIPI", ap).isTrue();
                assertThat(vm.vcpu(ap).exits()).as("vCPU %d never entered the guest", ap).isZero();
            }
        }
    }

    @Test
    void aTdsApplicationProcessorsWaitInTheFirmwareForTheWakeupMailboxAndNeverEnterTheTdWithoutIt() throws Exception {
        // mb-td-ghci is TD-aware but never writes the wakeup mailbox: it runs on the BSP alone.
        VmConfig config = VmConfig.newBuilder().setGuestImage(guest("mb-td-ghci.elf").toString()).setMachine(Machine.MACHINE_PC)
                .setMode(GuestMode.GUEST_MODE_TD).setPolicy(DrSwitchPolicy.DR_SWITCH_POLICY_UPSTREAM)
                .setTdxDr(dev.tdemu.proto.TdxDrBehaviour.TDX_DR_BEHAVIOUR_INIT_ON_EXIT).setVcpus(3).setTimeoutMs(30_000).build();
        try (Vm vm = new Vm(VmSpec.from(config), new Vm.Options(null, List.of()))) {
            VmResult r = vm.run();
            assertThat(r.outcome()).as(r.detail()).isEqualTo(VmResult.Outcome.EXITED);
            assertThat(r.exitStatus()).isEqualTo((0x10 << 1) | 1);
            for (int ap = 1; ap < 3; ap++) {
                assertThat(vm.vcpu(ap).waitsForStartup()).as("vCPU %d waits", ap).isTrue();
                assertThat(vm.vcpu(ap).startupWait()).isEqualTo("wait-for-wakeup");
                assertThat(vm.vcpu(ap).exits()).as("vCPU %d never entered the TD", ap).isZero();
            }
        }
    }

    @Test
    void aPcKernelMayHave64VcpusAndNoMore() throws Exception {
        Path kernel = guest("mb-exit-pass.elf");
        VmConfig.Builder c = VmConfig.newBuilder().setGuestImage(kernel.toString()).setMachine(Machine.MACHINE_PC)
                .setMode(GuestMode.GUEST_MODE_VMX);
        assertThat(VmSpec.from(c.setVcpus(64).build()).vcpus()).isEqualTo(64);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> VmSpec.from(c.setVcpus(65).build()))
                .hasMessage("vCPU count must be 1..64 for a PC kernel, not 65");
    }

    private Path guest(String file) {
        return dev.tdemu.emulator.pc.PcKernels.file(dir, file);
    }
}
