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
 * The check scenario td-smp-dr (a TD-aware kernel whose AP is woken through the ACPI wakeup
 * mailbox, each CPU with its own breakpoint across TD exits) runs as a TD on two vCPUs and fails
 * by both of its sides: the host's breakpoints not restored after an exit, and a CPU entering
 * without its own debug registers. CheckMatrixTest asserts its cells' verdicts.
 */
@Timeout(120)
class TdSmpDrScenarioTest {
    private static Cell upstreamTd() {
        Scenario s = Scenarios.builtin("td-smp-dr");
        return new Cell(s, GuestMode.GUEST_MODE_TD, DrSwitchPolicy.UPSTREAM.program(), TdxDrBehaviour.TDX_DR_BEHAVIOUR_INIT_ON_EXIT);
    }

    @Test
    void aTdAwareSmpKernelRunsAsABuiltInScenarioOnTwoVcpusAndPasses() {
        Cell cell = upstreamTd();
        assertThat(cell.scenario().getVcpus()).isEqualTo(2);
        CellResult r = CellRunner.run(cell, FaultInjection.FAULT_INJECTION_NONE).result();
        assertThat(r.getVerdict()).as(r.getDetail()).isEqualTo(Verdict.PASS);
        assertThat(r.getExits()).as("the TDG.VP.VMCALLs of both vCPUs").isGreaterThan(100);
    }

    @Test
    void hostBreakpointsNotRestoredAfterATdExitFailTheCell() {
        CellResult r = CellRunner.run(upstreamTd(), FaultInjection.FAULT_INJECTION_BREAK_HOST_RESTORE).result();
        assertThat(r.getVerdict()).as(r.getDetail()).isEqualTo(Verdict.FAIL);
        assertThat(r.getInvariant()).isEqualTo("HOST_BREAKPOINTS_INTACT");
        assertThat(r.getFirstFailingExit()).isPositive();
    }

    @Test
    void aCpuEnteringWithoutItsOwnDebugRegistersFailsTheCell() {
        CellResult r = CellRunner.run(upstreamTd(), FaultInjection.FAULT_INJECTION_BREAK_GUEST_LOAD).result();
        assertThat(r.getVerdict()).as(r.getDetail()).isEqualTo(Verdict.FAIL);
        assertThat(r.getInvariant()).isEqualTo("GUEST_BREAKPOINTS_INTACT");
    }
}
