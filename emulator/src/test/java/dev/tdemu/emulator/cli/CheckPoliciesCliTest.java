package dev.tdemu.emulator.cli;

import static dev.tdemu.emulator.cli.CliTest.tdemu;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tdemu.emulator.cli.CliTest.Run;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `tdemu check` beyond the seed: the model's tables, a user's policy file as a row (--policy-file),
 * two policies compared over the matrix (--diff), and --mode sev-es refused.
 */
class CheckPoliciesCliTest {
    /** The example README shows (docs/examples/my-variant.textproto: UPSTREAM_6_17 without the host restore for TDs). */
    static final Path EXAMPLE = Path.of("..", "docs", "examples", "my-variant.textproto");

    @Test
    void theModelTablesShowTheDebugctlColumnsWithTheSeedRowsNotModelled() {
        Run r = tdemu("check", "--scenario", "host-freeze-in-smm");
        assertThat(r.out()).contains("VMX guests, in the model (no guest code)")
                .contains("TD guests, TDX module INIT_ON_EXIT, in the model")
                .containsPattern("\\n  UPSTREAM +n/m\\n").containsPattern("\\n  DEBUGCTL_AT_VCPU_LOAD +FAIL debugctl@1\\n")
                .containsPattern("\\n  UPSTREAM_6_17 +PASS\\n").contains("n/m: the row's policy file does not model")
                .doesNotContain("SEV_UPSTREAM").contains("17 cells, every one as expected");
        assertThat(r.exit()).isZero();
    }

    @Test
    void theSevEsTableShowsBothDebugSwapFixesBeforeAndAfter() {
        Run enables = tdemu("check", "--scenario", "sev-snp-ap-enables-debugswap");
        assertThat(enables.out()).contains("SEV-ES/SEV-SNP guests, in the model")
                .containsPattern("\\n  SEV_DEBUGSWAP_6_5 +FAIL host@1\\n").containsPattern("\\n  SEV_HOST_DR_MASKS +PASS\\n")
                .doesNotContain("VMX guests").contains("4 cells, every one as expected");
        assertThat(enables.exit()).isZero();
        Run disables = tdemu("check", "--scenario", "sev-snp-ap-disables-debugswap", "--policy", "sev-trust-debugswap");
        assertThat(disables.out()).startsWith("sev-snp-ap-disables-debugswap SEV-ES SEV_TRUST_DEBUGSWAP (model): FAIL host@1, as expected")
                .contains("807cb9ce2ed9").contains("DR0: expected 0xffffffff81000000");
        assertThat(disables.exit()).isZero();
    }

    @Test
    void aPolicyFileIsARowBesideTheBuiltInOnesShownButNotJudged() {
        assertThat(EXAMPLE).exists();
        Run r = tdemu("check", "--scenario", "host-bp-survives", "--policy-file", EXAMPLE.toString());
        assertThat(r.out()).containsPattern("VMX guests\\n(.*\\n)*  MY_SKIP_TD_RESTORE +PASS\\n")
                .containsPattern("TD guests, TDX module INIT_ON_EXIT\\n(.*\\n)*  MY_SKIP_TD_RESTORE +FAIL host@1\\n")
                .containsPattern("\\n  UPSTREAM_6_17 +PASS\\n")
                .contains("Your policies (shown, not judged").contains("fail 3 cell(s)")
                .contains("host-bp-survives TD MY_SKIP_TD_RESTORE INIT_ON_EXIT: FAIL host@1")
                .contains("37 cells, every one as expected");
        assertThat(r.exit()).as("a user's row does not change the exit status").isZero();
    }

    @Test
    void policySelectsAPolicyFilesRowByItsName() {
        Run r = tdemu("check", "--scenario", "host-bp-survives", "--policy-file", EXAMPLE.toString(), "--policy",
                "my-skip-td-restore", "--mode", "td", "--tdx-dr", "init-on-exit");
        assertThat(r.out()).startsWith("host-bp-survives TD MY_SKIP_TD_RESTORE INIT_ON_EXIT: FAIL host@1, not judged")
                .contains("exits around the first violation (#1)");
        assertThat(r.exit()).isZero();
    }

    @Test
    void aPolicyFileNamedLikeABuiltInOneIsRefused(@TempDir Path tmp) throws Exception {
        Path copy = Files.writeString(tmp.resolve("copy.textproto"),
                Files.readString(EXAMPLE).replace("name: \"MY_SKIP_TD_RESTORE\"", "name: \"UPSTREAM_6_17\""));
        Run r = tdemu("check", "--policy-file", copy.toString());
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).isEqualTo("tdemu: " + copy + ": its policy is called UPSTREAM_6_17, as a built-in one; give it "
                + "its own name (name: \"...\") so that its row can be told apart\n");
        assertThat(r.out()).isEmpty();
    }

    /** Each malformed file: its text, and the line the refusal must name. */
    record Malformed(String what, String text, int line, String says) {}

    static List<Malformed> malformed() throws Exception {
        List<String> lines = Files.readAllLines(EXAMPLE);
        int restore = lines.indexOf(lines.stream().filter(l -> l.contains("do: \"hw_breakpoint_restore()\"")).findFirst().orElseThrow()) + 1;
        int beforeEntry = lines.indexOf("  kind: POLICY_PHASE_BEFORE_ENTRY") + 1;
        String text = String.join("\n", lines) + "\n";
        return List.of(
                new Malformed("an unknown step", text.replace("do: \"hw_breakpoint_restore()\"", "do: \"hw_breakpoint_restroe()\""),
                        restore, "unknown step 'hw_breakpoint_restroe()'"),
                new Malformed("a step in the wrong phase", text.replace("  kind: POLICY_PHASE_BEFORE_ENTRY\n",
                        "  kind: POLICY_PHASE_BEFORE_ENTRY\n  step { do: \"hw_breakpoint_restore()\" }\n"),
                        beforeEntry + 1, "does not belong in phase BEFORE_ENTRY"),
                new Malformed("a missing phase", text.substring(0, text.indexOf("phase {\n  kind: POLICY_PHASE_AFTER_EXIT")), -1,
                        "phase AFTER_EXIT is missing"));
    }

    @Test
    void aMalformedPolicyFileIsRefusedWithOneLineNamingFileAndLine(@TempDir Path tmp) throws Exception {
        for (Malformed m : malformed()) {
            Path f = Files.writeString(tmp.resolve("bad.textproto"), m.text());
            for (Run r : List.of(tdemu("check", "--policy-file", f.toString()), tdemu("check", "--diff", "upstream", f.toString()))) {
                assertThat(r.exit()).as(m.what()).isEqualTo(2);
                assertThat(r.out()).as(m.what()).isEmpty();
                assertThat(r.err()).as(m.what()).startsWith("tdemu: " + f + ":" + (m.line() > 0 ? m.line() + ":" : ""))
                        .contains(m.says()).endsWith("\n").hasLineCount(1);
            }
        }
    }

    @Test
    void diffOfV1AndV5ShowsOnlyTheTdCellsV5FixesWithTheExitWhereTheyPart() {
        Run r = tdemu("check", "--diff", "v1-skip-restore", "v5-as-posted", "--scenario", "host-bp-survives");
        assertThat(r.out().lines().toList()).hasSize(4);
        assertThat(r.out()).startsWith("V1_SKIP_RESTORE (builtin:v1-skip-restore.textproto) vs V5_AS_POSTED "
                        + "(builtin:v5-as-posted.textproto): 3 of 4 cells change:")
                .contains("  host-bp-survives TD INIT_ON_EXIT: FAIL host@1 -> PASS; first at exit 1: exit DR sequence [] vs "
                        + "[set_debugreg(DR0, 0x200040)")
                .contains("host-bp-survives TD RESTORE_HOST_EXCEPT_DR7: FAIL host@1 -> PASS")
                .doesNotContain("host-bp-survives VMX");
        assertThat(r.exit()).as("cells change").isEqualTo(1);
    }

    @Test
    void diffOfV5AndMergedShowsTheSameVerdictsReachedByADifferentEntrySequence() {
        Run r = tdemu("check", "--diff", "v5-as-posted", "upstream", "--scenario", "debugger-bp", "--mode", "td");
        assertThat(r.out()).contains("3 of 3 cells change")
                .contains("  debugger-bp TD INIT_ON_EXIT: both PASS; first at exit 1: entry DR sequence [set_debugreg(DR7, 0x400), "
                        + "set_debugreg(DR0, ");
        assertThat(r.exit()).isEqualTo(1);
    }

    @Test
    void diffOfAPolicyWithItselfChangesNothingEvenWithManyVcpus() {
        Run r = tdemu("check", "--diff", "upstream", "upstream", "--scenario", "multi-vcpu");
        assertThat(r.out()).isEqualTo("UPSTREAM (builtin:upstream.textproto) vs UPSTREAM (builtin:upstream.textproto): "
                + "0 of 4 cells change\n");
        assertThat(r.exit()).isZero();
    }

    @Test
    void diffTakesAPolicyFileAndModelColumns() {
        Run file = tdemu("check", "--diff", "upstream-6-17", EXAMPLE.toString(), "--scenario", "host-bp-entry-window");
        assertThat(file.out()).contains("1 of 2 cells change")
                .contains("host-bp-entry-window TD INIT_ON_EXIT (model): PASS -> FAIL host@1; first at exit 1: exit DR sequence");
        assertThat(file.exit()).isEqualTo(1);
        Run sev = tdemu("check", "--diff", "sev-debugswap-6-5", "sev-host-dr-masks", "--scenario", "sev-snp-ap-enables-debugswap");
        assertThat(sev.out()).contains("sev-snp-ap-enables-debugswap SEV-ES (model): FAIL host@1 -> PASS; first at exit 1:");
        assertThat(sev.exit()).isEqualTo(1);
    }

    @Test
    void diffRefusesWhatIsNeitherABuiltInPolicyNorAFile() {
        Run r = tdemu("check", "--diff", "upstream", "no-such-policy");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).startsWith("tdemu: --diff: 'no-such-policy' is neither a built-in policy (pre-tdx, ")
                .contains("upstream-6-17").hasLineCount(1);
    }

    @Test
    void diffTakesExactlyTwoPolicies() {
        Run r = tdemu("check", "--diff", "upstream", "v1-skip-restore", "--diff", "v5-as-posted", "dr7-only");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).isEqualTo("tdemu: --diff compares two policies, once: --diff A B\n");
        assertThat(tdemu("check", "--diff", "upstream").exit()).isEqualTo(2);
    }

    @Test
    void runTakesAnyBuiltInPolicyOrAPolicyFileAndTheTraceNamesIt(@TempDir Path tmp) throws Exception {
        Path trace = tmp.resolve("t.trace");
        Run r = tdemu("run", "--mode", "td", "--policy-file", EXAMPLE.toString(), "--host-watch", "0x300100:8:w",
                "--trace", trace.toString(), "-v", "builtin:hello");
        assertThat(r.out()).contains("Hello from a tdemu guest!");
        assertThat(r.err()).as("the variant loses the host's watchpoint after a TD exit")
                .contains("HOST_BREAKPOINTS_INTACT: DR0: expected 0x300100 (cpu_debugreg[0]), actual 0x0");
        assertThat(tdemu("trace", "show", trace.toString()).out().lines().findFirst().orElseThrow())
                .isEqualTo("trace of builtin:hello: GUEST_MODE_TD, policy MY_SKIP_TD_RESTORE, TDX DR behaviour "
                        + "TDX_DR_BEHAVIOUR_INIT_ON_EXIT, 1 vCPU(s)");
        Run merged = tdemu("run", "--mode", "td", "--policy", "upstream-6-17", "--host-watch", "0x300100:8:w", "-v", "builtin:hello");
        assertThat(merged.exit()).isZero();
        assertThat(merged.err()).doesNotContain("HOST_BREAKPOINTS_INTACT");
    }

    @Test
    void runRefusesAPolicyThatCannotRunTheGuestOrTwoPolicies() {
        Run sev = tdemu("run", "--policy", "sev-upstream", "builtin:hello");
        assertThat(sev.exit()).isEqualTo(2);
        assertThat(sev.err()).isEqualTo("tdemu: policy SEV_UPSTREAM (builtin:sev-upstream.textproto) does not run VMX guests; "
                + "it describes [SEV_ES]\n");
        Run vmxOnly = tdemu("run", "--mode", "td", "--policy", "debugctl-at-vcpu-load", "builtin:hello");
        assertThat(vmxOnly.err()).contains("does not run TD guests");
        Run both = tdemu("run", "--policy", "upstream", "--policy-file", EXAMPLE.toString(), "builtin:hello");
        assertThat(both.err()).isEqualTo("tdemu: --policy and --policy-file: give one\n");
        assertThat(tdemu("run", "--policy", "nonsense", "builtin:hello").err())
                .startsWith("tdemu: --policy must be one of pre-tdx, ").contains("upstream-6-17").contains("(or --policy-file FILE)");
    }

    @Test
    void checkModeSevEsFailsLoudlyAsNotImplemented() {
        Run r = tdemu("check", "--mode", "sev-es");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).startsWith("tdemu: --mode sev-es is not implemented for `tdemu check`");
    }

    @Test
    void runModeSevEsRunsTheSevEsGuestUnderSevUpstreamByDefaultAndRefusesAVmxPolicy() {
        Run ok = tdemu("run", "--mode", "sev-es", "builtin:sev-es-dr");
        assertThat(ok.exit()).as(ok.err()).isZero();
        assertThat(new String(ok.stdout(), java.nio.charset.StandardCharsets.UTF_8)).endsWith("sev-es-dr: ok\n");
        Run vmxPolicy = tdemu("run", "--mode", "sev-es", "--policy", "upstream", "builtin:sev-es-dr");
        assertThat(vmxPolicy.exit()).isEqualTo(2);
        assertThat(vmxPolicy.err()).startsWith("tdemu: policy UPSTREAM").contains("does not run SEV-ES guests");
        Run gdb = tdemu("run", "--mode", "sev-es", "--gdb", "0", "builtin:sev-es-dr");
        assertThat(gdb.exit()).isEqualTo(2);
        assertThat(gdb.err()).isEqualTo("tdemu: a debugger cannot attach to an SEV-ES guest: KVM can neither read nor set "
                + "its registers (they are in the encrypted VMSA)\n");
        Run pc = tdemu("run", "--mode", "sev-es", "--machine", "pc", "builtin:sev-es-dr");
        assertThat(pc.exit()).isEqualTo(2);
        assertThat(pc.err()).startsWith("tdemu: a PC kernel as an SEV-ES guest is not implemented");
    }

    @Test
    void runModeSevEsReportsTheHostBreakpointsAKvmTrustingDebugSwapLoses() {
        Run trusting = tdemu("run", "--mode", "sev-es", "--policy", "sev-trust-debugswap", "--host-break", "0x200000",
                "builtin:sev-snp-ap-debugswap-off");
        assertThat(trusting.exit()).as("the guest itself completes").isZero();
        assertThat(trusting.err()).contains("tdemu: invariant violations at").contains("HOST_BREAKPOINTS_INTACT");
        Run upstream = tdemu("run", "--mode", "sev-es", "--policy", "sev-upstream", "--host-break", "0x200000",
                "builtin:sev-snp-ap-debugswap-off");
        assertThat(upstream.exit()).isZero();
        assertThat(upstream.err()).doesNotContain("invariant violations");
    }
}
