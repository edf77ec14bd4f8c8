package dev.tdemu.core.kvm;

import dev.tdemu.core.host.HostBreakpoint;
import dev.tdemu.core.invariant.Invariant;
import dev.tdemu.core.svm.SevFeatures;
import dev.tdemu.core.x86.BreakpointLength;
import dev.tdemu.core.x86.BreakpointType;
import dev.tdemu.core.x86.Debugctl;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The matrix beyond the seed, in the model: every built-in policy × the new columns (DEBUGCTL,
 * DR6 reset, the pre-entry DR7 clear, SEV-ES DebugSwap) × the guest kinds, with the verdict each
 * cell must have. These are the rows and columns the emulator's expected-verdicts file gains; a
 * cell is PASS unless {@link #EXPECTED} lists it, and NOT_MODELLED where the policy does not run
 * that guest kind or does not model what the column judges.
 */
class BeyondTheSeedMatrixTest {

    static final List<ModelMatrix.Column> COLUMNS = ModelMatrix.COLUMNS;

    /** Every cell that is not PASS or NOT_MODELLED: "POLICY column WORLD" → "FAIL INVARIANT@exit". */
    static final Map<String, String> EXPECTED = Map.ofEntries(
            // f85d40160691: without the else branch the host's DR7 stays armed into the entry path
            Map.entry("PRE_TDX_NO_DR7_CLEAR host-bp-entry-window VMX", "FAIL HOST_BREAKPOINTS_DISABLED_AT_ENTRY@1"),
            Map.entry("PRE_TDX_NO_DR7_CLEAR host-bp-entry-window TDX", "FAIL HOST_BREAKPOINTS_DISABLED_AT_ENTRY@1"),
            // the seed's story, seen from this column (INIT_ON_EXIT)
            Map.entry("V1_SKIP_RESTORE host-bp-entry-window TDX", "FAIL HOST_BREAKPOINTS_INTACT@1"),
            Map.entry("DR7_ONLY host-bp-entry-window TDX", "FAIL HOST_BREAKPOINTS_INTACT@1"),
            // 189ecdb3e112: the vcpu_load snapshot misses the IPI's LBR, and VM exit cleared it
            Map.entry("DEBUGCTL_AT_VCPU_LOAD host-debugctl-changed-in-irq VMX", "FAIL HOST_DEBUGCTL_INTACT@1"),
            // 7d390a9da823: TDX restores its own stale snapshot; the module kept only the preserved bits
            Map.entry("TDX_MERGED host-debugctl-changed-in-irq TDX", "FAIL HOST_DEBUGCTL_INTACT@1"),
            // 6b1dd26544d0: the VMX guest runs without the host's FREEZE_IN_SMM
            Map.entry("DEBUGCTL_AT_VCPU_LOAD host-freeze-in-smm VMX", "FAIL HOST_DEBUGCTL_INTACT@1"),
            Map.entry("TDX_MERGED host-freeze-in-smm VMX", "FAIL HOST_DEBUGCTL_INTACT@1"),
            // 5f465c148c61: the host zeroed DR6 at boot; nothing on a quiet VMX exit path writes it again
            Map.entry("DEBUGCTL_AT_VCPU_LOAD bus-lock-detector-clear-all-at-boot VMX", "FAIL DR6_RESET_VALUE@1"),
            Map.entry("TDX_MERGED bus-lock-detector-clear-all-at-boot VMX", "FAIL DR6_RESET_VALUE@1"),
            Map.entry("UPSTREAM_6_17 bus-lock-detector-clear-all-at-boot VMX", "FAIL DR6_RESET_VALUE@1"),
            // b2653cd3b75f: the AP's DebugSwap loads host DR masks KVM never saved
            Map.entry("SEV_DEBUGSWAP_6_5 sev-snp-ap-enables-debugswap SEV_ES", "FAIL HOST_BREAKPOINTS_INTACT@1"),
            // 807cb9ce2ed9: trusting DebugSwap leaves the guest's DR0 in the host
            Map.entry("SEV_TRUST_DEBUGSWAP sev-snp-ap-disables-debugswap SEV_ES", "FAIL HOST_BREAKPOINTS_INTACT@1"));

    /** The verdict of one cell, as `tdemu check` prints it. */
    static String verdict(PolicyProgram p, ModelMatrix.Column c, GuestWorld w) {
        return switch (ModelMatrix.verdict(p, c, w, ModelFault.NONE)) {
            case ModelMatrix.Verdict.Pass x -> "PASS";
            case ModelMatrix.Verdict.Fail f -> "FAIL " + f.invariant() + "@" + f.exit();
            case ModelMatrix.Verdict.NotModelled n -> "NOT_MODELLED";
        };
    }

    @Test
    void everyCellOfEveryBuiltInPolicyHasItsExpectedVerdict() {
        Map<String, String> got = new TreeMap<>();
        Map<String, String> want = new TreeMap<>();
        for (PolicyProgram p : BuiltinPolicies.all()) {
            for (ModelMatrix.Column c : COLUMNS) {
                for (GuestWorld w : c.worlds()) {
                    String key = p.name() + " " + c.name() + " " + w;
                    String v = verdict(p, c, w);
                    got.put(key, v);
                    String expected = EXPECTED.get(key);
                    want.put(key, expected != null ? expected : v.equals("NOT_MODELLED") ? v : "PASS");
                }
            }
        }
        assertEquals(want, got);
        assertEquals(13 * (6 * 2 + 3), got.size());
    }

    @Test
    void everyListedCellIsACellOfTheMatrix() {
        for (String key : EXPECTED.keySet()) {
            String[] k = key.split(" ");
            assertEquals(true, BuiltinPolicies.named(k[0]).isPresent(), key);
            assertEquals(true, COLUMNS.stream().anyMatch(c -> c.name().equals(k[1])
                    && c.worlds().contains(GuestWorld.valueOf(k[2]))), key);
        }
    }

    @Test
    void theSeedRowsAreNotJudgedOnDebugctlOrDr6AndTheSevRowsOnlyOnSev() {
        PolicyProgram upstream = DrSwitchPolicy.UPSTREAM.program();
        ModelMatrix.Column lbr = COLUMNS.get(1);
        ModelMatrix.Column sevColumn = COLUMNS.get(6);
        assertEquals("NOT_MODELLED", verdict(upstream, lbr, GuestWorld.VMX));
        assertEquals("NOT_MODELLED", verdict(upstream, sevColumn, GuestWorld.SEV_ES));
        assertEquals("NOT_MODELLED", verdict(BuiltinPolicies.named("SEV_UPSTREAM").orElseThrow(), lbr, GuestWorld.VMX));
        // what the seed's UPSTREAM would do if it were judged: VM exit cleared DEBUGCTL and nothing restores it
        assertEquals(Set.of(Invariant.HOST_DEBUGCTL_INTACT),
                PolicyModelRun.run(upstream, lbr.scenarios().get(GuestWorld.VMX), 1).getFirst().failed());
    }
}
