package dev.tdemu.emulator.check;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tdemu.core.kvm.DrSwitchPolicy;
import dev.tdemu.proto.CellResult;
import dev.tdemu.proto.FaultInjection;
import dev.tdemu.proto.GuestMode;
import dev.tdemu.proto.Scenario;
import dev.tdemu.proto.TdxDrBehaviour;
import dev.tdemu.proto.Verdict;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The check scenario smp-dr (a PC kernel whose CPUs, the APs started by INIT and SIPI, program their
 * own debug registers) fails by both of its sides: the guest's (a CPU's breakpoints lost, or a CPU
 * entering with another CPU's) and the host's (the host's breakpoints on either physical CPU not
 * restored after an exit).
 * CheckMatrixTest asserts its cells' verdicts and its own proving fault; this adds the host side.
 */
@Timeout(120)
class SmpDrScenarioTest {
    static Cell upstreamVmx(String scenario) {
        Scenario s = Scenarios.builtin(scenario);
        return new Cell(s, GuestMode.GUEST_MODE_VMX, DrSwitchPolicy.UPSTREAM.program(), TdxDrBehaviour.TDX_DR_BEHAVIOUR_UNSPECIFIED);
    }

    @Test
    void aPcKernelOnTwoVcpusRunsAsABuiltInScenarioAndPasses() {
        Cell cell = upstreamVmx("smp-dr");
        assertThat(cell.scenario().getVcpus()).isEqualTo(2);
        CellResult r = CellRunner.run(cell, FaultInjection.FAULT_INJECTION_NONE).result();
        assertThat(r.getVerdict()).as(r.getDetail()).isEqualTo(Verdict.PASS);
        assertThat(r.getExits()).as("CPUID, port I/O, HLT and MOV DR exits on both vCPUs").isGreaterThan(100);
    }

    @Test
    void hostBreakpointsNotRestoredAfterAnExitFailTheCellAtThatExit() {
        CellResult r = CellRunner.run(upstreamVmx("smp-dr"), FaultInjection.FAULT_INJECTION_BREAK_HOST_RESTORE).result();
        assertThat(r.getVerdict()).as(r.getDetail()).isEqualTo(Verdict.FAIL);
        assertThat(r.getInvariant()).isEqualTo("HOST_BREAKPOINTS_INTACT");
        assertThat(r.getFirstFailingExit()).isPositive();
    }

    @Test
    void aCpuEnteringWithItsNeighboursDebugRegistersFailsTheCell() {
        CellResult r = CellRunner.run(upstreamVmx("smp-dr"), FaultInjection.FAULT_INJECTION_LOAD_ANOTHER_CPUS_GUEST_STATE).result();
        assertThat(r.getVerdict()).as(r.getDetail()).isEqualTo(Verdict.FAIL);
        assertThat(r.getInvariant()).isEqualTo("GUEST_BREAKPOINTS_INTACT");
        assertThat(r.getFirstFailingExit()).isPositive();
    }

    @Test
    void guestBreakpointsWipedAfterEntryFailTheFourVcpuCellAtTheFirstEntry() {
        CellResult r = CellRunner.run(upstreamVmx("smp-dr-4"), FaultInjection.FAULT_INJECTION_BREAK_GUEST_LOAD).result();
        assertThat(r.getVerdict()).as(r.getDetail()).isEqualTo(Verdict.FAIL);
        assertThat(r.getInvariant()).isEqualTo("GUEST_BREAKPOINTS_INTACT");
        // the model sees the wiped DR0 at the first entry, before the guest's own count (PcSmpDrTest) does
        assertThat(r.getFirstFailingExit()).isPositive();
        assertThat(r.getDetail()).contains("DR0 at guest entry");
    }
}
