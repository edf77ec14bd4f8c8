package dev.tdemu.core.kvm;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every column of the model matrix can fail: a cell that passes under a built-in policy fails, on a
 * judged invariant, once the column's fault is injected after the exit sequence. Without this a
 * column whose check was blind would pass every row.
 */
class ModelMatrixFaultTest {

    @Test
    void everyColumnFailsInEveryGuestKindWhenItsFaultIsInjected() {
        for (ModelMatrix.Column c : ModelMatrix.COLUMNS) {
            for (GuestWorld w : c.worlds()) {
                PolicyProgram passing = BuiltinPolicies.all().stream()
                        .filter(p -> ModelMatrix.verdict(p, c, w, ModelFault.NONE) instanceof ModelMatrix.Verdict.Pass)
                        .findFirst().orElse(null);
                if (passing == null) {
                    // no KVM fixes it (the VMX side of the boot-time DR6 clear is the host's 5f465c148c61):
                    // every modelled row already fails there
                    assertTrue(BuiltinPolicies.all().stream().anyMatch(p ->
                            ModelMatrix.verdict(p, c, w, ModelFault.NONE) instanceof ModelMatrix.Verdict.Fail f
                                    && c.judged().contains(f.invariant())), c.name() + " " + w);
                    continue;
                }
                ModelMatrix.Verdict faulted = ModelMatrix.verdict(passing, c, w, c.provenBy());
                ModelMatrix.Verdict.Fail f = assertInstanceOf(ModelMatrix.Verdict.Fail.class, faulted,
                        c.name() + " " + w + " under " + passing.name() + " with " + c.provenBy());
                assertTrue(c.judged().contains(f.invariant()), c.name() + " failed on " + f.invariant());
            }
        }
    }

    @Test
    void noFaultMeansTheVerdictOfANormalRun() {
        ModelMatrix.Column lbr = ModelMatrix.column("host-lbr-survives").orElseThrow();
        PolicyProgram merged = BuiltinPolicies.named("UPSTREAM_6_17").orElseThrow();
        assertInstanceOf(ModelMatrix.Verdict.Pass.class, ModelMatrix.verdict(merged, lbr, GuestWorld.VMX, ModelFault.NONE));
        assertInstanceOf(ModelMatrix.Verdict.Fail.class,
                ModelMatrix.verdict(merged, lbr, GuestWorld.VMX, ModelFault.CLEAR_HOST_DEBUGCTL));
    }
}
