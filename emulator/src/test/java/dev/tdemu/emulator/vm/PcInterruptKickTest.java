package dev.tdemu.emulator.vm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tdemu.proto.DrSwitchPolicy;
import dev.tdemu.proto.GuestMode;
import dev.tdemu.proto.Machine;
import dev.tdemu.proto.TdxDrBehaviour;
import dev.tdemu.proto.VmConfig;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A PC vCPU runs with its kick hook's callback off while nothing asked for it; a device's
 * interrupt (the APIC timer, armed by MMIO without a VM exit) kicks the vCPU, which switches the
 * callback on, so the interrupt reaches a guest that spins without a single VM exit.
 */
class PcInterruptKickTest {
    @TempDir
    Path dir;

    @Test
    void theApicTimerInterruptsAGuestSpinningWithoutExitsAtAnInstructionBoundary() throws Exception {
        VmConfig config = VmConfig.newBuilder().setGuestImage(guest("mb-apic-spin.elf").toString())
                .setMachine(Machine.MACHINE_PC).setMode(GuestMode.GUEST_MODE_VMX).setTimeoutMs(60_000)
                .setPolicy(DrSwitchPolicy.DR_SWITCH_POLICY_UPSTREAM).setTdxDr(TdxDrBehaviour.TDX_DR_BEHAVIOUR_INIT_ON_EXIT).build();
        try (Vm vm = new Vm(VmSpec.from(config), new Vm.Options(null, List.of()))) {
            VmResult r = vm.run();
            assertEquals(VmResult.Outcome.EXITED, r.outcome(), r.detail());
            assertEquals("apic-spin: spinning with IF=1\napic-spin: timer interrupt taken\n", r.console());
            assertEquals(33, r.exitStatus());
        }
    }

    private Path guest(String file) {
        return dev.tdemu.emulator.pc.PcKernels.file(dir, file);
    }
}
