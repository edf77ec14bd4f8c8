package dev.tdemu.core.invariant;

import dev.tdemu.core.host.HostBreakpoint;
import dev.tdemu.core.host.HostCpu;
import dev.tdemu.core.x86.BreakpointLength;
import dev.tdemu.core.x86.BreakpointType;
import dev.tdemu.core.x86.DebugRegisterFile;
import dev.tdemu.core.x86.DebugRegisters;
import dev.tdemu.core.x86.Debugctl;
import dev.tdemu.core.x86.Dr6;
import dev.tdemu.core.x86.Dr7;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** HOST_DEBUGCTL_INTACT, DR6_RESET_VALUE, HOST_BREAKPOINTS_DISABLED_AT_ENTRY and the AMD DR masks. */
class DebugctlDr6AndEntryInvariantsTest {

    private final DebugRegisterFile cpu = new DebugRegisterFile();
    private final HostCpu host = new HostCpu(0);

    @Test
    void hostDebugctlMustBeTheHostsWholeValueWhenTheHostRuns() {
        host.updateDebugctlmsr(Debugctl.LBR | Debugctl.BTF, cpu);
        assertEquals(List.of(), InvariantChecks.hostDebugctlIntact(host, Debugctl.LBR | Debugctl.BTF));
        assertEquals(List.of(new Violation(Invariant.HOST_DEBUGCTL_INTACT,
                        "IA32_DEBUGCTL after the exit: expected 0x3 (LBR|BTF, the host's), actual 0x2 (BTF)")),
                InvariantChecks.hostDebugctlIntact(host, Debugctl.BTF));
    }

    @Test
    void whileTheGuestRunsOnlyTheHostsFreezeInSmmMatters() {
        host.updateDebugctlmsr(Debugctl.LBR | Debugctl.FREEZE_IN_SMM, cpu);
        assertEquals(List.of(), InvariantChecks.hostDebugctlKeptInGuest(host, Debugctl.FREEZE_IN_SMM | Debugctl.BTF));
        assertEquals(Invariant.HOST_DEBUGCTL_INTACT,
                InvariantChecks.hostDebugctlKeptInGuest(host, Debugctl.LBR).getFirst().invariant());
    }

    @Test
    void dr6MustHoldItsResetValueAndAClearedBldIsCalledOut() {
        assertEquals(List.of(), InvariantChecks.dr6ResetValue(DebugRegisters.INIT));
        assertEquals(List.of(new Violation(Invariant.DR6_RESET_VALUE,
                        "DR6: expected 0xffff0ff0 (DR6_RESERVED), actual 0xffff07f0 (BLD clear: the host's next #DB reports a bus lock)")),
                InvariantChecks.dr6ResetValue(DebugRegisters.INIT.withDr6(Dr6.withBusLockDetect(0))));
        assertEquals("DR6: expected 0xffff0ff0 (DR6_RESERVED), actual 0xffff4ff0",
                InvariantChecks.dr6ResetValue(DebugRegisters.INIT.withDr6(new Dr6(Dr6.BS))).getFirst().detail());
    }

    @Test
    void hostBreakpointsMustBeDisarmedBetweenKvmsEntrySequenceAndTheHardwareEntry() {
        host.installBreakpoint(new HostBreakpoint(0x1000, BreakpointType.EXECUTE, BreakpointLength.ONE), cpu);
        assertEquals(List.of(), InvariantChecks.hostBreakpointsDisabledAtEntry(host, DebugRegisters.INIT));
        assertEquals(Invariant.HOST_BREAKPOINTS_DISABLED_AT_ENTRY,
                InvariantChecks.hostBreakpointsDisabledAtEntry(host, cpu.snapshot()).getFirst().invariant());
        assertEquals(List.of(), InvariantChecks.hostBreakpointsDisabledAtEntry(new HostCpu(1),
                DebugRegisters.INIT.withDr7(new Dr7(0x1))), "a guest's own DR7 is no concern without host breakpoints");
    }

    @Test
    void anEnabledHostSlotsAddressMaskIsPartOfTheHostsBreakpoint() {
        host.installBreakpoint(new HostBreakpoint(0x1000, BreakpointType.EXECUTE, BreakpointLength.ONE), cpu);
        host.amdSetDrAddrMask(0, 0xF, cpu);
        host.amdSetDrAddrMask(2, 0xF, cpu); // slot 2 is not enabled: its mask is no concern
        cpu.setDrAddrMask(2, 0);
        assertEquals(List.of(), InvariantChecks.hostDrAddrMasksIntact(host, cpu));
        cpu.setDrAddrMask(0, 0);
        assertEquals(List.of(new Violation(Invariant.HOST_BREAKPOINTS_INTACT,
                "DR0_ADDR_MASK: expected 0xf (amd_get_dr_addr_mask(0)), actual 0x0")), InvariantChecks.hostDrAddrMasksIntact(host, cpu));
    }
}
