package dev.tdemu.emulator.vm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tdemu.core.vmx.ExitReason;
import dev.tdemu.emulator.elf.ElfImage;

import dev.tdemu.proto.DrSwitchPolicy;
import dev.tdemu.proto.GuestMode;
import dev.tdemu.proto.Machine;
import dev.tdemu.proto.TdxDrBehaviour;
import dev.tdemu.proto.VmConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A PC vCPU runs with its kick hook's callback off while nothing asked for it; a device's
 * interrupt (the APIC timer, armed by MMIO without a VM exit) kicks the vCPU, which switches the
 * callback on, so the interrupt reaches a guest that spins without a single VM exit. A kick that
 * finds its vCPU outside the guest (halted, waiting for SIPI, in an exit) only wakes it, as KVM's
 * kvm_vcpu_kick does: the entry looks at what it was for, and no exit follows.
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

    /**
     * pc64-smp's APs wait for each IPI in HLT, and the BSP sends the next only once the handler of
     * the last one ran: the entry after the wake-up injects the interrupt and the handler's first
     * instruction runs, with no EXTERNAL_INTERRUPT exit there (the kick that woke the AP was for
     * that interrupt). Nor does an AP restarted by INIT and a start-up IPI stop at the first
     * instruction of its trampoline (IP 0 of the start-up page).
     */
    @Test
    void aKickThatWokeAHaltedVcpuEndsNoRunAfterTheEntryTookItsEvent() throws Exception {
        Path kernel = guest("pc64-smp.elf");
        VmConfig config = VmConfig.newBuilder().setGuestImage(kernel.toString()).setMachine(Machine.MACHINE_PC)
                .setMode(GuestMode.GUEST_MODE_VMX).setPolicy(DrSwitchPolicy.DR_SWITCH_POLICY_UPSTREAM).setVcpus(2)
                .setTimeoutMs(60_000).build();
        List<ExitEvent> exits = new CopyOnWriteArrayList<>();
        VmResult r = Guests.run(config, exits::add);
        assertThat(r.exitStatus()).as("isa-debug-exit 0: every check passed\n" + r.console()).isEqualTo(1);
        Map<Long, String> handlers = ElfImage.load(kernel).symbols().entrySet().stream()
                .filter(s -> s.getKey().startsWith("isr_"))
                .collect(Collectors.toMap(Map.Entry::getValue, Map.Entry::getKey));
        assertThat(handlers).as("the kernel's interrupt handlers").hasSizeGreaterThan(10);
        List<ExitEvent> ap = exits.stream().filter(e -> e.vcpu() == 1).toList();
        assertThat(ap).as("the AP ran its handlers (each EOI is an APIC_ACCESS exit)")
                .anyMatch(e -> e.reason() == ExitReason.APIC_ACCESS);
        List<String> atFirstInstruction = ap.stream()
                .filter(e -> e.reason() == ExitReason.EXTERNAL_INTERRUPT && (handlers.containsKey(e.rip()) || e.rip() == 0))
                .map(e -> String.format("#%d at %s", e.sequence(), e.rip() == 0 ? "IP 0 of the start-up page" : handlers.get(e.rip())))
                .toList();
        assertThat(atFirstInstruction).as("EXTERNAL_INTERRUPT exits of the AP at a handler's first instruction or its trampoline's")
                .isEmpty();
    }

    private Path guest(String file) {
        return dev.tdemu.emulator.pc.PcKernels.file(dir, file);
    }
}
