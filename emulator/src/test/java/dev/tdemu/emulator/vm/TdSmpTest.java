package dev.tdemu.emulator.vm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tdemu.proto.DrSwitchPolicy;
import dev.tdemu.proto.GuestMode;
import dev.tdemu.proto.Machine;
import dev.tdemu.proto.TdxDrBehaviour;
import dev.tdemu.proto.VmConfig;
import java.nio.file.Path;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * An SMP PC kernel in a TD (issue #17 item 6): mb-td-smp finds the ACPI Multiprocessor Wakeup
 * mailbox in the MADT, sees that INIT and SIPI start no application processor, wakes each AP
 * through the mailbox (64-bit mode, the firmware's acknowledgement), and every AP, on its own
 * breakpoint and stack, sends the BSP an IPI through TDG.VP.VMCALL&lt;Instruction.WRMSR&gt; of the
 * x2APIC ICR, which wakes the BSP from TDG.VP.VMCALL&lt;Instruction.HLT&gt; issued with RFLAGS.IF
 * clear and interrupts not blocked; then an IPI to an AP halted with its interrupts blocked
 * (R12 = 1) resumes it, as KVM resumes such a TD vCPU for a posted interrupt, and it answers.
 * Last, the BSP halts so too with every AP asleep the same way and its own APIC timer armed: the
 * VM does not end as if every vCPU slept for good, and the timer's interrupt resumes the BSP. The
 * kernel waits for each event, never for time (its timer's count is the one duration).
 */
@Timeout(120)
class TdSmpTest {
    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0} vCPUs")
    @ValueSource(ints = {2, 4})
    void applicationProcessorsStartThroughTheWakeupMailboxAndTheirIpisGoThroughTdgVpVmcall(int vcpus) {
        VmResult r = Guests.run(config(vcpus));
        assertEquals(VmResult.Outcome.EXITED, r.outcome(), r.detail() + "\n" + r.console());
        assertEquals("td-smp: MADT lists " + vcpus + " CPUs and a wakeup mailbox\n"
                + "td-smp: x2APIC enabled\n"
                + "td-smp: every AP woke through the mailbox\n"
                + "td-smp: INIT/SIPI started no AP\n"
                + "td-smp: every AP's IPI woke the BSP's HLT\n"
                + "td-smp: every CPU's breakpoint hit and read back\n"
                + "td-smp: an IPI resumed an AP's HLT with interrupts blocked\n"
                + "td-smp: the BSP's own APIC timer resumed its HLT with interrupts blocked\n", r.console());
        assertEquals((0x10 << 1) | 1, r.exitStatus(), "isa-debug-exit through Instruction.IO");
    }

    @org.junit.jupiter.api.Test
    void aMailboxCommandVersion0DoesNotDefineStopsTheVmSayingSo() {
        VmResult r = Guests.run(config("mb-td-smp-bad-command.elf", 2));
        assertEquals(VmResult.Outcome.NOT_MODELLED, r.outcome(), r.detail());
        assertEquals("vCPU 1: the ACPI wakeup mailbox at 0xf0000 holds command 2 for it, which mailbox version 0 does not "
                + "define (1 is Wakeup)", r.detail());
    }

    private VmConfig config(int vcpus) {
        return config("mb-td-smp.elf", vcpus);
    }

    private VmConfig config(String kernel, int vcpus) {
        return VmConfig.newBuilder().setGuestImage(guest(kernel).toString()).setMachine(Machine.MACHINE_PC)
                .setMode(GuestMode.GUEST_MODE_TD).setVcpus(vcpus).setTimeoutMs(60_000)
                .setPolicy(DrSwitchPolicy.DR_SWITCH_POLICY_UPSTREAM).setTdxDr(TdxDrBehaviour.TDX_DR_BEHAVIOUR_INIT_ON_EXIT).build();
    }

    private Path guest(String file) {
        return dev.tdemu.emulator.pc.PcKernels.file(dir, file);
    }
}
