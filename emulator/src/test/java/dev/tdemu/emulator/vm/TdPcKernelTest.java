package dev.tdemu.emulator.vm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tdemu.proto.DrSwitchPolicy;
import dev.tdemu.proto.GuestMode;
import dev.tdemu.proto.Machine;
import dev.tdemu.proto.TdxDrBehaviour;
import dev.tdemu.proto.VmConfig;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Multiboot kernel on the PC platform in a TD (issue #16 item 7): a TD-aware kernel reaches the
 * devices through TDG.VP.VMCALL (GHCI), MSRs the TD's MSR bitmap passes through run natively,
 * and a kernel that is not TD-aware dies of its first #VE with a report that says so.
 */
class TdPcKernelTest {
    @TempDir
    Path dir;

    @Test
    void aTdAwareKernelReachesSerialMsrsMmioAndDebugExitThroughTdgVpVmcall() {
        VmResult r = Guests.run(config("mb-td-ghci.elf", GuestMode.GUEST_MODE_TD));
        assertEquals(VmResult.Outcome.EXITED, r.outcome(), r.detail());
        assertEquals("td-ghci: long mode\n"
                + "td-ghci: Instruction.RDMSR IA32_APIC_BASE ok\n"
                + "td-ghci: #VE.RequestMMIO I/O APIC version ok\n"
                + "td-ghci: native IA32_GS_BASE ok\n", r.console());
        assertEquals((0x10 << 1) | 1, r.exitStatus(), "isa-debug-exit reached through Instruction.IO");
    }

    @Test
    void outsideATdTheSameKernelsTdcallIsAnInvalidOpcode() {
        VmResult r = Guests.run(config("mb-td-ghci.elf", GuestMode.GUEST_MODE_VMX));
        assertEquals(VmResult.Outcome.TRIPLE_FAULT, r.outcome(), r.detail());
        assertTrue(r.detail().contains("delivering #UD"), r.detail());
        assertEquals("", r.console(), "its first TDCALL comes before any output");
    }

    @Test
    void aKernelThatIsNotTdAwareDiesOfItsFirstVirtualizationExceptionAndTheReportNamesIt() {
        // mb-elf32 halts with HLT, which a TD may not execute: #VE, no IDT, triple fault.
        VmResult r = Guests.run(config("mb-elf32.elf", GuestMode.GUEST_MODE_TD));
        assertEquals(VmResult.Outcome.TRIPLE_FAULT, r.outcome(), r.detail());
        assertTrue(r.detail().contains("the TD's last #VE was for HLT at RIP 0x"), r.detail());
        assertTrue(r.detail().contains("TDG.VP.VMCALL"), r.detail());
    }

    private VmConfig config(String kernel, GuestMode mode) {
        return VmConfig.newBuilder().setGuestImage(guest(kernel).toString()).setMachine(Machine.MACHINE_PC).setMode(mode)
                .setTimeoutMs(60_000).setPolicy(DrSwitchPolicy.DR_SWITCH_POLICY_UPSTREAM)
                .setTdxDr(TdxDrBehaviour.TDX_DR_BEHAVIOUR_INIT_ON_EXIT).build();
    }

    private Path guest(String file) {
        return dev.tdemu.emulator.pc.PcKernels.file(dir, file);
    }
}
