package dev.tdemu.emulator.vm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tdemu.core.vmx.ExitReason;
import dev.tdemu.emulator.elf.ElfImage;
import dev.tdemu.emulator.elf.LoadSegment;
import dev.tdemu.emulator.pc.PcKernels;
import dev.tdemu.proto.DrSwitchPolicy;
import dev.tdemu.proto.ExitRecord;
import dev.tdemu.proto.GuestMode;
import dev.tdemu.proto.Machine;
import dev.tdemu.proto.VmConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * PAUSE-loop exiting (SDM vol. 3C, "PAUSE-Loop Exiting"; KVM's handle_pause): in a VM with
 * several vCPUs, which tdemu runs one at a time, a vCPU spinning in a PAUSE loop while another
 * waits for the engine exits with PAUSE_INSTRUCTION (40), RIP on the PAUSE, and the waiting vCPU
 * runs. pc64-pause-handoff's two CPUs hand a counter back and forth 5,000 times through such
 * loops: without PAUSE-loop exits each turn would cost a scheduler quantum (2 ms), so a
 * regression shows as the VM's time limit.
 */
@Timeout(600)
class PauseLoopExitingTest {
    /** pc64-pause-handoff's ROUNDS: turns per CPU. */
    private static final int ROUNDS = 5_000;
    private static final int DR7_L0_EXECUTE = 0x401;
    private static final String KERNEL = "pc64-pause-handoff.elf";

    @TempDir
    Path dir;

    private VmConfig config(int vcpus) {
        return VmConfig.newBuilder().setGuestImage(PcKernels.file(dir, KERNEL).toString()).setMachine(Machine.MACHINE_PC)
                .setMode(GuestMode.GUEST_MODE_VMX).setPolicy(DrSwitchPolicy.DR_SWITCH_POLICY_UPSTREAM).setVcpus(vcpus)
                .setTimeoutMs(300_000).build();
    }

    @Test
    void twoVcpusSpinningOnEachOtherHandTheEngineOverThroughPauseLoopExits() throws Exception {
        Path file = dir.resolve("exits.trace");
        VmConfig config = config(2);
        TraceWriter w = TraceWriter.create(file, TraceWriter.header(config, "test"), TraceWriter.DEFAULT_LIMIT, n -> { });
        List<ExitEvent> exits = new CopyOnWriteArrayList<>();
        VmResult r = Guests.run(config, w, exits::add);
        w.finish("test");

        assertThat(r.outcome()).as(r.detail() + "\n" + r.console()).isEqualTo(VmResult.Outcome.EXITED);
        assertThat(r.console()).contains("PASS handoff.counter-went-back-and-forth", "PASS handoff.ap-took-every-turn",
                "PASS dr.dr0-kept", "PASS dr.dr7-kept").doesNotContain("FAIL");
        assertThat(r.exitStatus()).as("isa-debug-exit 0: every check passed").isEqualTo(1);
        assertThat(r.violations()).as("the DR sequences of every exit, PAUSE_INSTRUCTION's included").isEmpty();

        List<ExitEvent> pauses = exits.stream().filter(e -> e.reason() == ExitReason.PAUSE_INSTRUCTION).toList();
        Map<Integer, Long> perVcpu = pauses.stream().collect(Collectors.groupingBy(ExitEvent::vcpu, Collectors.counting()));
        assertThat(perVcpu).as("both spinning CPUs took PAUSE-loop exits").containsOnlyKeys(0, 1);
        // The yield hands the engine to the waiting vCPU, which takes its turn before the spinner
        // runs again: about one exit per turn. A yield that let the spinner take the engine back
        // would repeat the exit until the quantum ran out, many times per turn.
        assertThat(perVcpu.values()).as("PAUSE-loop exits per vCPU").allMatch(n -> n <= 2L * ROUNDS);

        ElfImage elf = ElfImage.load(PcKernels.file(dir, KERNEL));
        assertThat(pauses.stream().map(ExitEvent::rip).distinct().toList()).as("RIP on a PAUSE (F3 90) of the kernel")
                .isNotEmpty().allMatch(rip -> isPause(elf, rip));
        assertThat(pauses).filteredOn(e -> e.vcpu() == 0 && e.entry().hwInGuest().dr7().value() == DR7_L0_EXECUTE)
                .as("the BSP's PAUSE-loop exits with its execute breakpoint armed").isNotEmpty();

        List<ExitRecord> traced = new ArrayList<>();
        try (TraceReader t = TraceReader.open(file)) {
            for (ExitRecord e; (e = t.next()) != null; ) {
                traced.add(e);
            }
        }
        assertThat(traced).filteredOn(e -> e.getReasonName().equals("PAUSE_INSTRUCTION"))
                .as("the exit trace names them with their SDM number").isNotEmpty().allMatch(e -> e.getBasicReason() == 40);
    }

    /** A VM's only vCPU has nobody to hand over to: its PAUSE loop runs to its end without an exit. */
    @Test
    void aSingleVcpusPauseLoopTakesNoExit() {
        List<ExitEvent> exits = new CopyOnWriteArrayList<>();
        VmResult r = Guests.run(config(1), exits::add);
        assertThat(r.console()).contains("PASS solo.pause-loop-ran-to-its-end").doesNotContain("FAIL");
        assertThat(r.exitStatus()).isEqualTo(1);
        assertThat(exits).isNotEmpty().noneMatch(e -> e.reason() == ExitReason.PAUSE_INSTRUCTION);
    }

    private static boolean isPause(ElfImage elf, long rip) {
        for (LoadSegment s : elf.segments()) {
            if (s.contains(rip) && s.contains(rip + 1)) {
                byte[] data = s.data();
                int at = (int) (rip - s.address());
                return at + 1 < data.length && data[at] == (byte) 0xF3 && data[at + 1] == (byte) 0x90;
            }
        }
        return false;
    }
}
