package dev.tdemu.core.kvm;

import java.util.Arrays;
import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;

import static dev.tdemu.core.kvm.PolicyPhase.AFTER_EXIT;
import static dev.tdemu.core.kvm.PolicyPhase.BEFORE_ENTRY;
import static dev.tdemu.core.kvm.PolicyPhase.VCPU_LOAD;
import static dev.tdemu.core.kvm.PolicyPhase.VCPU_RUN_AFTER_EXIT;
import static dev.tdemu.core.kvm.PolicyPhase.WONT_EXIT_SYNC;

/**
 * The actions ({@code do}) a policy step can take, spelled as the kernel code they stand for, and
 * the phases each may appear in. {@link PolicyExecutor} performs them; this is only the vocabulary.
 */
public enum PolicyOp {
    /** DR7 ← 0x400 (DR7_FIXED_1): no breakpoint armed. */
    SET_DR7_FIXED_1("set_debugreg(DR7_FIXED_1, 7)", BEFORE_ENTRY, VCPU_RUN_AFTER_EXIT, AFTER_EXIT),
    /** DR7 ← 0, as kernels before fa7d0f83c5c4 wrote it (reads back 0x400). */
    SET_DR7_ZERO("set_debugreg(0, 7)", BEFORE_ENTRY, VCPU_RUN_AFTER_EXIT, AFTER_EXIT),
    /** DR0–3 ← eff_db[0..3]. */
    LOAD_EFF_DB("set_debugreg(eff_db[0..3], 0..3)", BEFORE_ENTRY),
    /** DR6 ← vcpu->arch.dr6 (the guest will access DR6 directly). */
    LOAD_GUEST_DR6("set_debugreg(dr6, 6)", BEFORE_ENTRY),
    /** kvm_x86_call(set_dr6): the vendor loads the guest's DR6; vt_set_dr6() does nothing for a TD. */
    KVM_X86_SET_DR6("kvm_x86_call(set_dr6)(vcpu, dr6)", BEFORE_ENTRY),
    /** run_flags |= KVM_RUN_LOAD_GUEST_DR6 (80c64c7afea1): vcpu_run loads DR6 right before entry. */
    RUN_FLAG_LOAD_GUEST_DR6("run_flags |= KVM_RUN_LOAD_GUEST_DR6", BEFORE_ENTRY),
    /** run_flags |= KVM_RUN_LOAD_DEBUGCTL (6b1dd26544d0). */
    RUN_FLAG_LOAD_DEBUGCTL("run_flags |= KVM_RUN_LOAD_DEBUGCTL", BEFORE_ENTRY),
    /** switch_db_regs &= ~KVM_DEBUGREG_RELOAD. */
    CLEAR_RELOAD("switch_db_regs &= ~KVM_DEBUGREG_RELOAD", BEFORE_ENTRY, WONT_EXIT_SYNC),
    /** vcpu->arch.host_debugctl = get_debugctlmsr(). */
    SNAPSHOT_HOST_DEBUGCTL("host_debugctl = get_debugctlmsr()", VCPU_LOAD, BEFORE_ENTRY),
    /** debug_ctl = get_debugctlmsr() (a local of vcpu_enter_guest). */
    READ_DEBUG_CTL("debug_ctl = get_debugctlmsr()", BEFORE_ENTRY),
    /** vcpu->arch.host_debugctl = debug_ctl. */
    STORE_HOST_DEBUGCTL("host_debugctl = debug_ctl", BEFORE_ENTRY),
    /** vt->host_debugctlmsr = get_debugctlmsr(), TDX's own snapshot in tdx_prepare_switch_to_guest() (8af099037527). */
    SNAPSHOT_VT_HOST_DEBUGCTLMSR("vt.host_debugctlmsr = get_debugctlmsr()", VCPU_LOAD),
    /** vmx_reload_guest_debugctl(): GUEST_IA32_DEBUGCTL gets the host's HOST_OWNED_DEBUGCTL bits. */
    VMX_RELOAD_GUEST_DEBUGCTL("vmx_reload_guest_debugctl(vcpu)", BEFORE_ENTRY),
    /** update_debugctlmsr(vcpu->arch.host_debugctl). */
    RESTORE_HOST_DEBUGCTL("update_debugctlmsr(host_debugctl)", VCPU_RUN_AFTER_EXIT),
    /** update_debugctlmsr(vt->host_debugctlmsr). */
    RESTORE_VT_HOST_DEBUGCTLMSR("update_debugctlmsr(vt.host_debugctlmsr)", VCPU_RUN_AFTER_EXIT),
    /** WARN_ON(vcpu->guest_debug & KVM_GUESTDBG_USE_HW_BP), recorded when it holds. */
    WARN_ON_USE_HW_BP("WARN_ON(guest_debug & KVM_GUESTDBG_USE_HW_BP)", WONT_EXIT_SYNC),
    /** WARN_ON(vcpu->arch.switch_db_regs & KVM_DEBUGREG_AUTO_SWITCH), recorded when it holds. */
    WARN_ON_AUTO_SWITCH("WARN_ON(switch_db_regs & KVM_DEBUGREG_AUTO_SWITCH)", WONT_EXIT_SYNC),
    /** tdx_vcpu_run()'s WARN_ON_ONCE(run_flags): a TD never gets a run flag. */
    WARN_ON_ONCE_RUN_FLAGS("WARN_ON_ONCE(run_flags)", BEFORE_ENTRY),
    /**
     * kvm_x86_call(sync_dirty_debug_regs): db[0..3] and dr6 ← hardware (get_debugreg), dr7 ← the
     * VMCS guest DR7, WONT_EXIT cleared, MOV-DR exiting on.
     */
    SYNC_DIRTY_DEBUG_REGS("sync_dirty_debug_regs()", WONT_EXIT_SYNC),
    KVM_UPDATE_DR0123("kvm_update_dr0123()", WONT_EXIT_SYNC),
    KVM_UPDATE_DR7("kvm_update_dr7()", WONT_EXIT_SYNC),
    /** DR6 ← DR6_RESERVED (0xFFFF0FF0), as vmx_sync_dirty_debug_regs() ends ("exc_debug expects dr6 to be cleared"). */
    RESET_DR6("set_debugreg(DR6_RESERVED, 6)", WONT_EXIT_SYNC, AFTER_EXIT),
    /** hw_breakpoint_restore(): DR0–3 ← cpu_debugreg, DR6 ← DR6_RESERVED, DR7 ← cpu_dr7. */
    HW_BREAKPOINT_RESTORE("hw_breakpoint_restore()", AFTER_EXIT),
    /** DR7 ← cpu_dr7 only. */
    RESTORE_CPU_DR7("set_debugreg(cpu_dr7, 7)", AFTER_EXIT),
    /** sev_es_prepare_switch_to_guest(): hostsa->dr0..dr3 = native_get_debugreg(0..3) (Type-B state). */
    SAVE_HOST_DRS_TO_HOSTSA("hostsa->dr[0..3] = native_get_debugreg(0..3)", VCPU_LOAD),
    /** sev_es_prepare_switch_to_guest(): hostsa->drN_addr_mask = amd_get_dr_addr_mask(N). */
    SAVE_HOST_DR_ADDR_MASKS_TO_HOSTSA("hostsa->dr[0..3]_addr_mask = amd_get_dr_addr_mask(0..3)", VCPU_LOAD);

    private final String spelling;
    private final Set<PolicyPhase> phases;

    PolicyOp(String spelling, PolicyPhase first, PolicyPhase... more) {
        this.spelling = spelling;
        this.phases = EnumSet.of(first, more);
    }

    public String spelling() {
        return spelling;
    }

    /** The phases this action may appear in. */
    public Set<PolicyPhase> phases() {
        return EnumSet.copyOf(phases);
    }

    /** The action spelled {@code text} (whitespace does not matter). */
    public static Optional<PolicyOp> parse(String text) {
        String t = PolicyCondition.strip(text);
        return Arrays.stream(values()).filter(o -> PolicyCondition.strip(o.spelling).equals(t)).findFirst();
    }
}
