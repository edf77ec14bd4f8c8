package dev.tdemu.core.kvm;

/**
 * Where the steps of a policy run, in the order the kernel runs them around one guest run. Each
 * {@link PolicyOp} names the phases it may appear in.
 */
public enum PolicyPhase {
    /** kvm_arch_vcpu_load() and the vendor's prepare_switch_to_guest(): once per load, IRQs on. */
    VCPU_LOAD("vcpu_load"),
    /** vcpu_enter_guest() with IRQs off, up to and including the vendor's vcpu_run() before the hardware entry. */
    BEFORE_ENTRY("vcpu_enter_guest"),
    /** The vendor's vcpu_run() right after the hardware exit. */
    VCPU_RUN_AFTER_EXIT("vcpu_run"),
    /** vcpu_enter_guest() after the exit, only with switch_db_regs & KVM_DEBUGREG_WONT_EXIT. */
    WONT_EXIT_SYNC("vcpu_enter_guest"),
    /** vcpu_enter_guest() after the exit and the WONT_EXIT sync. */
    AFTER_EXIT("vcpu_enter_guest");

    private final String function;

    PolicyPhase(String function) {
        this.function = function;
    }

    /** The kernel function the phase's steps belong to (where a WARN_ON in it is reported). */
    public String function() {
        return function;
    }

    static PolicyPhase fromProto(dev.tdemu.proto.PolicyPhaseKind k) {
        return switch (k) {
            case POLICY_PHASE_VCPU_LOAD -> VCPU_LOAD;
            case POLICY_PHASE_BEFORE_ENTRY -> BEFORE_ENTRY;
            case POLICY_PHASE_VCPU_RUN_AFTER_EXIT -> VCPU_RUN_AFTER_EXIT;
            case POLICY_PHASE_WONT_EXIT_SYNC -> WONT_EXIT_SYNC;
            case POLICY_PHASE_AFTER_EXIT -> AFTER_EXIT;
            case POLICY_PHASE_UNSPECIFIED, UNRECOGNIZED -> null;
        };
    }
}
