package dev.tdemu.emulator.vm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tdemu.proto.DrSwitchPolicy;
import dev.tdemu.proto.GuestMode;
import dev.tdemu.proto.Machine;
import dev.tdemu.proto.TdxDrBehaviour;
import dev.tdemu.proto.VmConfig;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A PC vCPU runs without its kick hook while nothing can interrupt it, and has it on as soon as
 * the guest touches device memory: an interrupt then reaches a guest that spins without a single
 * VM exit, at an instruction boundary, never by stopping the engine from outside.
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
            assertEquals(0, vm.vcpu(0).stopsFromOutside(), "the timer's kick found the hook on");
        }
    }

    private Path guest(String file) throws IOException {
        try (InputStream in = PcInterruptKickTest.class.getResourceAsStream("/guests/multiboot/" + file)) {
            if (in == null) {
                throw new IllegalStateException("test guest guests/multiboot/" + file + " missing: build testguests");
            }
            Path p = dir.resolve(file);
            Files.write(p, in.readAllBytes());
            return p;
        }
    }
}
