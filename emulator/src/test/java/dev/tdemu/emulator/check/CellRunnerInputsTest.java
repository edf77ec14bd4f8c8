package dev.tdemu.emulator.check;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tdemu.proto.DrSwitchPolicy;
import dev.tdemu.proto.FaultInjection;
import dev.tdemu.proto.GuestMode;
import dev.tdemu.proto.Scenario;
import dev.tdemu.proto.TdxDrBehaviour;
import dev.tdemu.proto.Verdict;
import org.junit.jupiter.api.Test;

class CellRunnerInputsTest {
    @Test
    void aDebuggerBreakpointOnASymbolTheGuestLacksIsAnErrorBeforeTheGuestRuns() throws Exception {
        Scenario s = Scenarios.parse("mine.textproto", """
                name: "mine"
                guest_image: "builtin:debugger-target"
                modes: GUEST_MODE_VMX
                checks: "DEBUGGER_BREAKPOINTS_EXACT"
                debugger { breakpoints { symbol: "no_such_symbol" kind: BREAKPOINT_KIND_EXECUTE expected_hits: 1 } }
                """);
        var o = CellRunner.run(new Cell(s, GuestMode.GUEST_MODE_VMX, dev.tdemu.core.kvm.DrSwitchPolicy.UPSTREAM.program(),
                TdxDrBehaviour.TDX_DR_BEHAVIOUR_UNSPECIFIED), FaultInjection.FAULT_INJECTION_NONE);
        assertThat(o.result().getVerdict()).isEqualTo(Verdict.ERROR);
        assertThat(o.result().getDetail()).isEqualTo("cannot run: scenario mine: the debugger breakpoint on symbol "
                + "'no_such_symbol' cannot be set: builtin:debugger-target has no such symbol");
        assertThat(o.vm()).as("no VM ran").isNull();
    }

    @Test
    void aVcpuCountBeyondTheLimitIsNotQuietlyOne() throws Exception {
        Scenario s = Scenario.newBuilder().setName("raw").setGuestImage("builtin:hello").addModes(GuestMode.GUEST_MODE_VMX)
                .addChecks("HOST_BREAKPOINTS_INTACT").setVcpus(-1).build(); // 4294967295, not through the parser
        var o = CellRunner.run(new Cell(s, GuestMode.GUEST_MODE_VMX, dev.tdemu.core.kvm.DrSwitchPolicy.UPSTREAM.program(),
                TdxDrBehaviour.TDX_DR_BEHAVIOUR_UNSPECIFIED), FaultInjection.FAULT_INJECTION_NONE);
        assertThat(o.result().getVerdict()).isEqualTo(Verdict.ERROR);
        assertThat(o.result().getDetail()).isEqualTo("cannot run: vCPU count must be 1..16, not 4294967295");
    }
}
