package dev.tdemu.core.kvm;

import dev.tdemu.core.host.HostBreakpoint;
import dev.tdemu.core.invariant.Invariant;
import dev.tdemu.core.invariant.Violation;
import dev.tdemu.core.svm.SevFeatures;
import dev.tdemu.core.x86.BreakpointLength;
import dev.tdemu.core.x86.BreakpointType;
import dev.tdemu.core.x86.DrOperation;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** KVM's SVM DR handling for SEV-ES/SNP guests before and after b2653cd3b75f and 807cb9ce2ed9. */
class SevEsDebugSwapTest {

    static final long HOST_DR0 = 0xFFFF_FFFF_8100_0000L;
    static final long HOST_DR1 = 0xFFFF_8880_0000_1000L;
    static final long HOST_DR1_MASK = 0xFF;  // a 256-byte range watch through AMD's address masking
    static final long GUEST_DR0 = 0x7F00_0000_1000L;

    private static PolicyProgram policy(String name) {
        return BuiltinPolicies.named(name).orElseThrow();
    }

    private static ModelScenario.Builder host() {
        return ModelScenario.builder(GuestWorld.SEV_ES)
                .hostBreakpoint(new HostBreakpoint(HOST_DR0, BreakpointType.EXECUTE, BreakpointLength.ONE))
                .hostBreakpoint(new HostBreakpoint(HOST_DR1, BreakpointType.WRITE, BreakpointLength.EIGHT), HOST_DR1_MASK);
    }

    /** An SNP guest that turns DebugSwap on for an AP although KVM created the VM without it. */
    private static final ModelScenario AP_ENABLES_DEBUGSWAP = host().sev(false, true, true)
            .apCreate(SevFeatures.of(SevFeatures.SNP_ACTIVE, SevFeatures.DEBUG_SWAP)).build();

    /** An SNP guest that turns DebugSwap off for an AP although KVM enabled it, and sets its own DR0. */
    private static final ModelScenario AP_DISABLES_DEBUGSWAP = host().sev(true, true, true)
            .apCreate(SevFeatures.of(SevFeatures.SNP_ACTIVE)).guestBreakpoint(GUEST_DR0, 0x1).build();

    private static List<String> details(ExitObservation o) {
        return o.violations().stream().map(Violation::detail).toList();
    }

    @Test
    void beforeB2653cd3b75fAnApThatEnablesDebugSwapMakesVmexitLoadTheHostsDrMasksAsZero() {
        ExitObservation first = PolicyModelRun.run(policy("SEV_DEBUGSWAP_6_5"), AP_ENABLES_DEBUGSWAP, 1).getFirst();
        assertEquals(List.of("DR1_ADDR_MASK: expected 0xff (amd_get_dr_addr_mask(1)), actual 0x0"), details(first));
    }

    @Test
    void afterB2653cd3b75fKvmSavesTheHostsDrMasksForEverySnpGuestOnADebugSwapCpu() {
        for (String fixed : List.of("SEV_HOST_DR_MASKS", "SEV_UPSTREAM")) {
            for (ExitObservation o : PolicyModelRun.run(policy(fixed), AP_ENABLES_DEBUGSWAP, 3)) {
                assertEquals(List.of(), o.violations(), fixed + " exit " + o.exit());
            }
        }
    }

    @Test
    void trustingDebugSwapToRestoreHostDr0To3LeavesTheGuestsDr0InTheHostWhenTheApTurnedItOff() {
        ExitObservation first = PolicyModelRun.run(policy("SEV_TRUST_DEBUGSWAP"), AP_DISABLES_DEBUGSWAP, 1).getFirst();
        assertEquals(List.of(String.format("DR0: expected 0x%x (cpu_debugreg[0]), actual 0x%x", HOST_DR0, GUEST_DR0)),
                details(first));
        assertEquals(GUEST_DR0, first.hwAfterExit().dr0());
    }

    @Test
    void after807cb9ce2ed9HwBreakpointRestorePutsTheHostsDr0To3BackWhateverTheApDid() {
        ExitObservation first = PolicyModelRun.run(policy("SEV_UPSTREAM"), AP_DISABLES_DEBUGSWAP, 1).getFirst();
        assertEquals(List.of(), first.violations());
        assertEquals(HOST_DR0, first.hwAfterExit().dr0());
        assertTrue(first.exitSequence().writes().contains(DrOperation.set(0, HOST_DR0)));
    }

    @Test
    void after807cb9ce2ed9OnlyTheDrMasksGoToTheHostSaveAreaNotDr0To3() {
        List<DrOperation> loadReads = VcpuLoadProbe.vcpuLoad(policy("SEV_UPSTREAM"), AP_DISABLES_DEBUGSWAP);
        assertEquals(List.of(), loadReads, "native_get_debugreg(0..3) is gone from sev_es_prepare_switch_to_guest");
        assertEquals(4, VcpuLoadProbe.vcpuLoad(policy("SEV_HOST_DR_MASKS"), AP_DISABLES_DEBUGSWAP).size());
    }

    @Test
    void withDebugSwapAsKvmSetItTheGuestsOwnBreakpointSurvivesInItsVmsaUnderEveryPolicy() {
        ModelScenario s = host().sev(true, false, true).guestBreakpoint(GUEST_DR0, 0x1).build();
        for (String name : List.of("SEV_DEBUGSWAP_6_5", "SEV_HOST_DR_MASKS", "SEV_UPSTREAM", "SEV_TRUST_DEBUGSWAP")) {
            List<ExitObservation> runs = PolicyModelRun.run(policy(name), s, 3);
            assertTrue(runs.stream().allMatch(o -> o.violations().isEmpty()), name);
            assertEquals(GUEST_DR0, runs.get(2).hwInGuest().dr0(), name + ": VMRUN loads the guest's DR0 again");
        }
    }

    @Test
    void aVmxOrTdVcpuCannotRunAnSevPolicyAndAnSevVcpuCannotRunASeedPolicy() {
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> KvmVcpu.vmx(policy("SEV_UPSTREAM")));
        assertTrue(e.getMessage().contains("cannot run a VMX vCPU"), e.getMessage());
        assertTrue(PolicyModelRunFails.sev(DrSwitchPolicy.UPSTREAM.program()).contains("cannot run a SEV_ES vCPU"));
    }

    /** Reaches the VCPU_LOAD phase of a model vCPU. */
    static final class VcpuLoadProbe {
        static List<DrOperation> vcpuLoad(PolicyProgram p, ModelScenario s) {
            SevFeatures kvmView = SevFeatures.of(SevFeatures.SNP_ACTIVE, SevFeatures.DEBUG_SWAP);
            KvmVcpu v = KvmVcpu.sevEs(p, new dev.tdemu.core.svm.Vmsa(kvmView),
                    new dev.tdemu.core.svm.SevGuest(kvmView, s.snp(), s.cpuDebugSwap()));
            return VcpuEnterGuest.vcpuLoad(v, new dev.tdemu.core.host.HostCpu(0), new dev.tdemu.core.x86.DebugRegisterFile())
                    .operations();
        }
    }

    static final class PolicyModelRunFails {
        static String sev(PolicyProgram p) {
            try {
                PolicyModelRun.run(p, host().sev(true, false, true).build(), 1);
                return "ran";
            } catch (IllegalArgumentException e) {
                return e.getMessage();
            }
        }
    }

    @Test
    void invariantNamesOfTheSevColumnsAreTheHostBreakpointOnes() {
        assertEquals(java.util.Set.of(Invariant.HOST_BREAKPOINTS_INTACT),
                PolicyModelRun.run(policy("SEV_DEBUGSWAP_6_5"), AP_ENABLES_DEBUGSWAP, 1).getFirst().failed());
    }
}
