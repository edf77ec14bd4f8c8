package dev.tdemu.core.kvm;

import dev.tdemu.core.host.HostBreakpoint;
import dev.tdemu.core.tdx.TdxDrBehaviour;
import dev.tdemu.core.x86.BreakpointLength;
import dev.tdemu.core.x86.BreakpointType;
import dev.tdemu.core.x86.Debugctl;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** `tdemu check --diff A B`: the first exit where two policies part. */
class PolicyDiffTest {

    private static final ModelScenario TD_WITH_HOST_BREAKPOINTS = ModelScenario.builder(GuestWorld.TDX)
            .tdxDr(TdxDrBehaviour.INIT_ON_EXIT)
            .hostBreakpoint(new HostBreakpoint(0xFFFF_FFFF_8100_0000L, BreakpointType.EXECUTE, BreakpointLength.ONE))
            .build();

    @Test
    void upstreamAndDr7OnlyPartAtTheFirstTdExitOverTheHostRestore() {
        PolicyDiff.Difference d = PolicyDiff.compare(DrSwitchPolicy.UPSTREAM.program(), DrSwitchPolicy.DR7_ONLY.program(),
                TD_WITH_HOST_BREAKPOINTS, 5).orElseThrow();
        assertEquals(1, d.exit());
        assertEquals("exit DR sequence", d.what());
        assertTrue(d.a().contains("set_debugreg(DR0, 0xffffffff81000000)"), d.a());
        assertEquals("[set_debugreg(DR7, 0x602)]", d.b());
        assertTrue(d.toString().startsWith("exit 1: exit DR sequence differs: "));
    }

    @Test
    void policiesThatAgreeOnEveryExitHaveNoDifference() {
        assertEquals(Optional.empty(), PolicyDiff.compare(DrSwitchPolicy.UPSTREAM.program(),
                DrSwitchPolicy.V5_AS_POSTED.program(), TD_WITH_HOST_BREAKPOINTS, 5));
        assertEquals(Optional.empty(), PolicyDiff.compare(DrSwitchPolicy.UPSTREAM.program(),
                DrSwitchPolicy.UPSTREAM.program(), TD_WITH_HOST_BREAKPOINTS, 5));
    }

    @Test
    void aDifferenceOnlyInDebugctlIsReportedAsSuch() {
        ModelScenario s = ModelScenario.builder(GuestWorld.TDX).hostDebugctlInIrq(Debugctl.LBR).build();
        PolicyDiff.Difference d = PolicyDiff.compare(BuiltinPolicies.named("TDX_MERGED").orElseThrow(),
                BuiltinPolicies.named("UPSTREAM_6_17").orElseThrow(), s, 3).orElseThrow();
        assertEquals(1, d.exit());
        assertEquals("exit DEBUGCTL accesses", d.what(), d.toString());
        assertEquals("[]", d.a(), "TDX_MERGED tests its stale vt->host_debugctlmsr and writes nothing");
        assertEquals("[update_debugctlmsr(0x1)]", d.b());
    }

    @Test
    void theFirstDifferingExitIsFoundInObservationsFromElsewhere() {
        List<ExitObservation> a = PolicyModelRun.run(DrSwitchPolicy.UPSTREAM.program(), TD_WITH_HOST_BREAKPOINTS, 3);
        List<ExitObservation> b = new java.util.ArrayList<>(a);
        ExitObservation third = a.get(2);
        b.set(2, new ExitObservation(3, third.reason(), third.entrySequence(), third.exitSequence(), third.hwInGuest(),
                third.hwAfterExit(), third.debugctlInGuest(), third.debugctlAfterExit() | 1, third.violations()));
        PolicyDiff.Difference d = PolicyDiff.firstDifference(a, b).orElseThrow();
        assertEquals(3, d.exit());
        assertEquals("IA32_DEBUGCTL after the exit", d.what());
        assertEquals(new PolicyDiff.Difference(3, "number of exits", "3", "2"),
                PolicyDiff.firstDifference(a, a.subList(0, 2)).orElseThrow());
    }

    @Test
    void aModelRunIsDeterministic() {
        PolicyProgram p = BuiltinPolicies.named("UPSTREAM_6_17").orElseThrow();
        ModelScenario s = ModelScenario.builder(GuestWorld.VMX).guestBreakpoint(0x1000, 0x1).guestZeroesDr6()
                .hostDebugctl(Debugctl.FREEZE_IN_SMM).build();
        assertEquals(PolicyModelRun.run(p, s, 6), PolicyModelRun.run(p, s, 6));
    }
}
