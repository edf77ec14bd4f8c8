package dev.tdemu.core.kvm;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A policy file tdemu cannot run exactly is refused with one line naming the file and the line. */
class PolicyFileErrorsTest {

    private static final String HEADER = """
            name: "MINE"
            description: "a test policy"
            worlds: POLICY_WORLD_VMX
            aspects: POLICY_ASPECT_DR_SWITCH
            """;

    private static String phases(String beforeEntry, String afterExit) {
        return """
                phase { kind: POLICY_PHASE_VCPU_LOAD }
                phase {
                  kind: POLICY_PHASE_BEFORE_ENTRY
                %s
                }
                phase { kind: POLICY_PHASE_VCPU_RUN_AFTER_EXIT }
                phase { kind: POLICY_PHASE_WONT_EXIT_SYNC }
                phase {
                  kind: POLICY_PHASE_AFTER_EXIT
                %s
                }
                """.formatted(beforeEntry, afterExit);
    }

    private static PolicyFileException refused(String text) {
        return assertThrows(PolicyFileException.class, () -> PolicyLoader.parse(text, "mine.textproto"));
    }

    @Test
    void aWellFormedFileParsesAndRuns() {
        PolicyProgram p = PolicyLoader.parse(HEADER + phases(
                "  step { when: \"hw_breakpoint_active()\" do: \"set_debugreg(DR7_FIXED_1, 7)\" }",
                "  step { when: \"hw_breakpoint_active()\" do: \"hw_breakpoint_restore()\" }"), "mine.textproto");
        assertEquals("MINE", p.name());
        assertEquals("mine.textproto", p.source());
        assertTrue(KvmVcpu.vmx(p).program() == p);
    }

    @Test
    void aTextFormatErrorNamesFileLineAndColumn() {
        PolicyFileException e = refused(HEADER + "phase { kind: POLICY_PHASE_VCPU_LOAD \n");
        assertEquals("mine.textproto", e.file());
        assertEquals(6, e.line());
        assertTrue(e.getMessage().startsWith("mine.textproto:6:"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }

    @Test
    void anUnknownStepIsRefusedAtItsLine() {
        PolicyFileException e = refused(HEADER + phases("  step { do: \"set_debugreg(42, 7)\" }", ""));
        assertEquals(8, e.line(), e.getMessage());
        assertTrue(e.getMessage().contains("unknown step 'set_debugreg(42, 7)'"), e.getMessage());
        assertTrue(e.getMessage().contains("'hw_breakpoint_restore()'"), "lists the vocabulary: " + e.getMessage());
    }

    @Test
    void aStepInTheWrongPhaseIsRefusedNamingThePhasesItBelongsTo() {
        PolicyFileException e = refused(HEADER + phases("  step { do: \"hw_breakpoint_restore()\" }", ""));
        assertEquals(8, e.line());
        assertTrue(e.getMessage().endsWith("step 'hw_breakpoint_restore()' does not belong in phase BEFORE_ENTRY; it runs in [AFTER_EXIT]"),
                e.getMessage());
    }

    @Test
    void aNestedStepInTheWrongPhaseIsRefusedAtItsOwnLine() {
        PolicyFileException e = refused(HEADER + phases("""
                  step {
                    when: "switch_db_regs"
                    then { do: "set_debugreg(DR7_FIXED_1, 7)" }
                    otherwise { do: "sync_dirty_debug_regs()" }
                  }""", ""));
        assertEquals(11, e.line(), e.getMessage());
        assertTrue(e.getMessage().contains("'sync_dirty_debug_regs()' does not belong in phase BEFORE_ENTRY"));
    }

    @Test
    void anUnknownConditionIsRefusedAtItsLineNamingThePartNotUnderstood() {
        PolicyFileException e = refused(HEADER + phases("""
                  step {
                    do: "set_debugreg(DR7_FIXED_1, 7)"
                    when: "hw_breakpoint_active() && host_is_happy"
                  }""", ""));
        assertEquals(10, e.line(), e.getMessage());
        assertTrue(e.getMessage().contains("is not understood at 'host_is_happy'"), e.getMessage());
    }

    @Test
    void aMissingPhaseIsRefusedNamingIt() {
        String text = HEADER + """
                phase { kind: POLICY_PHASE_VCPU_LOAD }
                phase { kind: POLICY_PHASE_BEFORE_ENTRY }
                phase { kind: POLICY_PHASE_VCPU_RUN_AFTER_EXIT }
                phase { kind: POLICY_PHASE_WONT_EXIT_SYNC }
                """;
        PolicyFileException e = refused(text);
        assertTrue(e.getMessage().startsWith("mine.textproto:8: phase AFTER_EXIT is missing"), e.getMessage());
    }

    @Test
    void aRepeatedOrMisplacedPhaseIsRefusedAtItsLine() {
        PolicyFileException twice = refused(HEADER + "phase { kind: POLICY_PHASE_VCPU_LOAD }\nphase { kind: POLICY_PHASE_VCPU_LOAD }\n");
        assertEquals(6, twice.line());
        assertTrue(twice.getMessage().contains("appears twice"));
        PolicyFileException order = refused(HEADER + "phase { kind: POLICY_PHASE_BEFORE_ENTRY }\n");
        assertEquals(5, order.line());
        assertTrue(order.getMessage().contains("out of order"), order.getMessage());
    }

    @Test
    void aStepThatIsBothAnActionAndAConditionalIsRefused() {
        PolicyFileException e = refused(HEADER + phases("""
                  step {
                    when: "switch_db_regs"
                    do: "set_debugreg(DR7_FIXED_1, 7)"
                    then { do: "set_debugreg(DR7_FIXED_1, 7)" }
                  }""", ""));
        assertEquals(8, e.line());
        assertTrue(e.getMessage().contains("not both"));
    }

    @Test
    void missingNameWorldsAspectsOrDescriptionAreRefused() {
        assertTrue(refused("description: \"x\"\n").getMessage().contains("UPPER_SNAKE_CASE"));
        assertTrue(refused("name: \"X\"\n").getMessage().contains("no description"));
        assertTrue(refused("name: \"X\"\ndescription: \"x\"\n").getMessage().contains("names no worlds"));
        assertTrue(refused("name: \"X\"\ndescription: \"x\"\nworlds: POLICY_WORLD_VMX\n").getMessage().contains("names no aspects"));
        assertTrue(refused(HEADER + "host_owned_debugctl: \"DEBUGCTLMSR_EVERYTHING\"\n").getMessage()
                .contains("mine.textproto:5: host_owned_debugctl: unknown bit 'DEBUGCTLMSR_EVERYTHING'"));
    }

    @Test
    void anOversizedFileIsRefusedBeforeParsing() {
        PolicyFileException e = refused("#".repeat(PolicyLoader.MAX_FILE_CHARS + 1));
        assertTrue(e.getMessage().startsWith("mine.textproto:1: a policy file is at most"));
    }

    @Test
    void conditionsParseWithNegationConjunctionDisjunctionAndParenthesesWhateverTheSpacing() {
        PolicyCondition c = PolicyCondition.parse(
                "sev_vcpu_has_debug_swap(svm)||(sev_snp_guest(kvm) &&  cpu_feature_enabled( X86_FEATURE_DEBUG_SWAP ))");
        assertEquals("sev_vcpu_has_debug_swap(svm) || sev_snp_guest(kvm) && cpu_feature_enabled(X86_FEATURE_DEBUG_SWAP)",
                c.toString());
        assertEquals("switch_db_regs && !switch_db_regs & KVM_DEBUGREG_AUTO_SWITCH",
                PolicyCondition.parse("switch_db_regs && !(switch_db_regs & KVM_DEBUGREG_AUTO_SWITCH)").toString());
        assertTrue(PolicyCondition.parse("  ") instanceof PolicyCondition.Always);
        assertThrows(IllegalArgumentException.class, () -> PolicyCondition.parse("(switch_db_regs"));
        assertThrows(IllegalArgumentException.class, () -> PolicyCondition.parse("switch_db_regsX"));
    }

    @Test
    void everyBuiltInPolicyParsesAndHasAUniqueName() {
        assertEquals(13, BuiltinPolicies.all().size());
        assertEquals(BuiltinPolicies.all().size(), BuiltinPolicies.names().stream().distinct().count());
        assertEquals("UPSTREAM_6_17", BuiltinPolicies.named("upstream-6-17").orElseThrow().name());
    }

    @Test
    void aRunningStepUsedOnTheWrongKindOfVcpuFailsLoudlyNamingTheFileAndLine() {
        PolicyProgram p = PolicyLoader.parse(HEADER.replace("worlds: POLICY_WORLD_VMX", "worlds: POLICY_WORLD_VMX")
                + """
                phase {
                  kind: POLICY_PHASE_VCPU_LOAD
                  step { do: "vt.host_debugctlmsr = get_debugctlmsr()" }
                }
                phase { kind: POLICY_PHASE_BEFORE_ENTRY }
                phase { kind: POLICY_PHASE_VCPU_RUN_AFTER_EXIT }
                phase { kind: POLICY_PHASE_WONT_EXIT_SYNC }
                phase { kind: POLICY_PHASE_AFTER_EXIT }
                """, "mine.textproto");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> VcpuEnterGuest.beforeEntry(
                KvmVcpu.vmx(p), new dev.tdemu.core.host.HostCpu(0), new dev.tdemu.core.x86.DebugRegisterFile()));
        assertEquals("mine.textproto:7: policy MINE, phase VCPU_LOAD: the step 'vt.host_debugctlmsr = get_debugctlmsr()'"
                + " is TDX code; guard it with is_td_vcpu(vcpu)", e.getMessage());
    }
}
