package dev.tdemu.emulator.vm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tdemu.core.invariant.Invariant;
import dev.tdemu.core.kvm.BuiltinPolicies;
import dev.tdemu.proto.GuestMode;
import dev.tdemu.proto.VmConfig;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * SEV-ES guests run by the engine: #VC for CPUID and port I/O, VMGEXIT through the GHCB, and the
 * DR state swapped at VMRUN/#VMEXIT as core.svm's model says, under the SEV policies.
 */
class SevEsVmTest {

    private static VmResult run(String guest, String policy, boolean hostBreakpoints) {
        return run(guest, policy, hostBreakpoints, dev.tdemu.proto.FaultInjection.FAULT_INJECTION_NONE);
    }

    private static VmResult run(String guest, String policy, boolean hostBreakpoints, dev.tdemu.proto.FaultInjection fault) {
        VmConfig.Builder c = Guests.config(guest, GuestMode.GUEST_MODE_SEV_ES);
        if (hostBreakpoints) {
            c.addHostBreakpoints(Guests.HOST_EXEC).addHostBreakpoints(Guests.HOST_WATCH);
        }
        try (Vm vm = new Vm(VmSpec.from(c.build()), new Vm.Options(null, List.of(), fault)
                .withPolicy(BuiltinPolicies.named(policy).orElseThrow()))) {
            return vm.run();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"SEV_DEBUGSWAP_6_5", "SEV_HOST_DR_MASKS", "SEV_UPSTREAM", "SEV_TRUST_DEBUGSWAP"})
    void aGuestWithDebugSwapTakesVcForCpuidAndIoAndKeepsItsBreakpointsAcrossExitsWhileTheHostKeepsItsOwn(String policy) {
        VmResult r = run("sev-es-dr", policy, true);
        assertThat(r.outcome()).as(r.detail()).isEqualTo(VmResult.Outcome.EXITED);
        assertThat(r.exitStatus()).as(r.console()).isZero();
        assertThat(r.console()).startsWith("sev-es-dr: an SEV-ES guest\nCPUID vendor through #VC: GenuineIntel\n")
                .endsWith("sev-es-dr: ok\n");
        assertThat(r.violations()).isEmpty();
        assertThat(r.hostBreakpointHits()).as("both host breakpoints fire after every exit").isEqualTo(2 * r.exits());
    }

    /**
     * 807cb9ce2ed9: the guest turns DebugSwap off through AP Creation while KVM believes it is on.
     * #VMEXIT then leaves the guest's DR0-3 in the hardware; a KVM that trusts DebugSwap to bring
     * the host's back loses the host's breakpoints, as core's model says (sev-snp-ap-disables-debugswap).
     */
    @ParameterizedTest(name = "{0}: host breakpoints intact = {1}")
    @CsvSource({"SEV_DEBUGSWAP_6_5, true", "SEV_HOST_DR_MASKS, true", "SEV_UPSTREAM, true", "SEV_TRUST_DEBUGSWAP, false"})
    void aGuestThatTurnsDebugSwapOffBehindKvmsBackCostsTheHostItsBreakpointsOnlyWhereKvmTrustsDebugSwap(String policy,
                                                                                                   boolean intact) {
        VmResult r = run("sev-snp-ap-debugswap-off", policy, true);
        assertThat(r.outcome()).as(r.detail()).isEqualTo(VmResult.Outcome.EXITED);
        assertThat(r.exitStatus()).as(r.console()).isZero();
        assertThat(r.console()).contains("AP Creation: new SEV_FEATURES\n");
        if (intact) {
            assertThat(r.violations()).isEmpty();
        } else {
            assertThat(r.violations()).isNotEmpty().allMatch(v -> v.invariant() == Invariant.HOST_BREAKPOINTS_INTACT);
            assertThat(r.firstViolation().violations()).anyMatch(v -> v.detail().contains("did not fire"));
        }
    }

    @org.junit.jupiter.api.Test
    void hardwareThatDoesNotLoadTheVmsasDebugRegistersAtVmrunIsReportedAtEntry() {
        VmResult r = run("sev-es-dr", "SEV_UPSTREAM", false, dev.tdemu.proto.FaultInjection.FAULT_INJECTION_BREAK_GUEST_LOAD);
        assertThat(r.violations()).isNotEmpty().allMatch(v -> v.invariant() == Invariant.GUEST_BREAKPOINTS_INTACT);
        assertThat(r.firstViolation().violations()).anyMatch(v -> v.detail().contains("VMSA vs hardware"));
        assertThat(r.console()).as("the guest sees its breakpoints gone").contains("sev-es-dr: DR0 or DR7 read back wrong");
    }
}
