package dev.tdemu.core.kvm;

import java.util.List;

/**
 * The {@code when} of a policy step: a C-like condition over the kernel's state, built from the
 * {@link Atom}s with {@code !}, {@code &&}, {@code ||} and parentheses. Whitespace does not matter.
 * {@link PolicyExecutor} evaluates the atoms; this type only parses and prints.
 */
public sealed interface PolicyCondition {

    /** The kernel expressions a condition can test, spelled as in arch/x86/kvm. */
    enum Atom {
        SWITCH_DB_REGS("switch_db_regs"),
        SWITCH_DB_REGS_EXCEPT_AUTO_SWITCH("switch_db_regs & ~KVM_DEBUGREG_AUTO_SWITCH"),
        BP_ENABLED("switch_db_regs & KVM_DEBUGREG_BP_ENABLED"),
        WONT_EXIT("switch_db_regs & KVM_DEBUGREG_WONT_EXIT"),
        RELOAD("switch_db_regs & KVM_DEBUGREG_RELOAD"),
        AUTO_SWITCH("switch_db_regs & KVM_DEBUGREG_AUTO_SWITCH"),
        HW_BREAKPOINT_ACTIVE("hw_breakpoint_active()"),
        USE_HW_BP("guest_debug & KVM_GUESTDBG_USE_HW_BP"),
        IS_TD_VCPU("is_td_vcpu(vcpu)"),
        SEV_ES_GUEST("sev_es_guest(kvm)"),
        GUEST_STATE_PROTECTED("guest_state_protected"),
        RUN_FLAGS("run_flags"),
        RUN_LOAD_GUEST_DR6("run_flags & KVM_RUN_LOAD_GUEST_DR6"),
        RUN_LOAD_DEBUGCTL("run_flags & KVM_RUN_LOAD_DEBUGCTL"),
        HOST_DEBUGCTL("host_debugctl"),
        HOST_DEBUGCTL_NOT_PRESERVED("host_debugctl & ~TDX_DEBUGCTL_PRESERVED"),
        VT_HOST_DEBUGCTLMSR_NOT_PRESERVED("vt.host_debugctlmsr & ~TDX_DEBUGCTL_PRESERVED"),
        HOST_OWNED_DEBUGCTL_CHANGED("(debug_ctl ^ host_debugctl) & HOST_OWNED_DEBUGCTL"),
        SEV_VCPU_HAS_DEBUG_SWAP("sev_vcpu_has_debug_swap(svm)"),
        SEV_SNP_GUEST("sev_snp_guest(kvm)"),
        CPU_HAS_DEBUG_SWAP("cpu_feature_enabled(X86_FEATURE_DEBUG_SWAP)");

        private final String spelling;
        private final String compact;

        Atom(String spelling) {
            this.spelling = spelling;
            this.compact = strip(spelling);
        }

        public String spelling() {
            return spelling;
        }

        String compact() {
            return compact;
        }
    }

    /** No {@code when}: always true. */
    record Always() implements PolicyCondition {
        @Override
        public String toString() {
            return "";
        }
    }

    record Test(Atom atom) implements PolicyCondition {
        @Override
        public String toString() {
            return atom.spelling();
        }
    }

    record Not(PolicyCondition operand) implements PolicyCondition {
        @Override
        public String toString() {
            return operand instanceof Test ? "!" + operand : "!(" + operand + ")";
        }
    }

    record And(List<PolicyCondition> operands) implements PolicyCondition {
        public And {
            operands = List.copyOf(operands);
        }

        @Override
        public String toString() {
            return String.join(" && ", operands.stream().map(o -> o instanceof Or ? "(" + o + ")" : o.toString()).toList());
        }
    }

    record Or(List<PolicyCondition> operands) implements PolicyCondition {
        public Or {
            operands = List.copyOf(operands);
        }

        @Override
        public String toString() {
            return String.join(" || ", operands.stream().map(Object::toString).toList());
        }
    }

    PolicyCondition ALWAYS = new Always();

    /**
     * Parses {@code text}; an empty text is {@link #ALWAYS}.
     *
     * @throws IllegalArgumentException with a one-line reason naming the part that is not understood
     */
    static PolicyCondition parse(String text) {
        String s = strip(text);
        if (s.isEmpty()) {
            return ALWAYS;
        }
        PolicyConditionParser p = new PolicyConditionParser(s, text);
        PolicyCondition c = p.or();
        if (!p.atEnd()) {
            throw p.error();
        }
        return c;
    }

    static String strip(String s) {
        return s.replaceAll("\\s+", "");
    }
}
