package dev.tdemu.core.kvm;

import dev.tdemu.core.host.HostCpu;
import dev.tdemu.core.svm.HostSaveArea;
import dev.tdemu.core.vmx.Vmcs;
import dev.tdemu.core.x86.Debugctl;
import dev.tdemu.core.x86.Dr6;
import dev.tdemu.core.x86.Dr7;
import dev.tdemu.core.x86.DrAccess;

import java.util.List;

/**
 * Runs the steps of a {@link PolicyProgram}: the one place that says what each {@link PolicyOp}
 * does and what each {@link PolicyCondition.Atom} means. {@link VcpuEnterGuest} calls it for the
 * phases around each guest run.
 */
final class PolicyExecutor {

    static final int KVM_RUN_LOAD_GUEST_DR6 = 1 << 1;
    static final int KVM_RUN_LOAD_DEBUGCTL = 1 << 2;

    private final KvmVcpu vcpu;
    // One executor per vCPU, reused for each phase (a vCPU runs one phase at a time): entries
    // and exits then allocate nothing here.
    private HostCpu host;
    private DrAccess dr;
    private PolicyPhase phase;
    /** vcpu_enter_guest's local debug_ctl, valid once read in this phase. */
    private long debugCtl;
    private boolean debugCtlRead;

    /** The program whose phases {@link #byPhase} holds (a vCPU's policy can be replaced). */
    private PolicyProgram program;
    /** Its steps indexed by phase ordinal: looked up several times on every entry and exit. */
    private List<PolicyStep>[] byPhase;
    /**
     * Per phase: the atoms its conditions test, one bit per {@link PolicyCondition.Atom} ordinal;
     * {@link #NOT_SKIPPABLE} when one of them reads what an earlier step of the phase read.
     */
    private long[] atomsTested;
    /** Per phase: the values of its tested atoms with which its last walk performed no step ({@link #NONE}: none yet). */
    private long[] idleWith;
    /** Steps performed in the walk going on. */
    private int performed;

    private static final long NOT_SKIPPABLE = -1, NONE = -1;
    private static final PolicyCondition.Atom[] ATOMS = PolicyCondition.Atom.values();

    static {
        if (ATOMS.length > 62) { // one bit per atom in a long, -1 kept free for NONE
            throw new ExceptionInInitializerError("PolicyExecutor keeps atom values in a long: " + ATOMS.length + " atoms");
        }
    }

    private PolicyExecutor(KvmVcpu vcpu) {
        this.vcpu = vcpu;
    }

    @SuppressWarnings("unchecked")
    private List<PolicyStep> steps(PolicyPhase phase) {
        PolicyProgram p = vcpu.program();
        if (p != program) {
            PolicyPhase[] phases = PolicyPhase.values();
            byPhase = new List[phases.length];
            atomsTested = new long[phases.length];
            idleWith = new long[phases.length];
            for (PolicyPhase each : phases) {
                byPhase[each.ordinal()] = p.steps(each);
                atomsTested[each.ordinal()] = atomsTested(p.steps(each));
                idleWith[each.ordinal()] = NONE;
            }
            program = p;
        }
        return byPhase[phase.ordinal()];
    }

    /** Runs {@code phase} of the vCPU's program, with every register access going through {@code dr}. */
    static void run(PolicyPhase phase, KvmVcpu vcpu, HostCpu host, DrAccess dr) {
        PolicyExecutor e = vcpu.executor;
        if (e == null) {
            e = new PolicyExecutor(vcpu);
            vcpu.executor = e;
        }
        List<PolicyStep> steps = e.steps(phase);
        if (steps.isEmpty()) { // most policies leave some phases empty; they run on every exit
            return;
        }
        // A walk that performs no step changes nothing, so its path depends only on the values of
        // the atoms it tests: with the values of the last walk that performed nothing, this one
        // would perform nothing either (on nearly every exit of a guest that leaves its DRs alone).
        int p = phase.ordinal();
        long tested = e.atomsTested[p];
        e.host = host;
        long values = tested == NOT_SKIPPABLE ? NONE : e.atomValues(tested);
        if (values != NONE && values == e.idleWith[p]) {
            e.host = null;
            return;
        }
        e.dr = dr;
        e.phase = phase;
        e.debugCtlRead = false;
        e.performed = 0;
        try {
            e.steps(steps);
        } finally {
            e.host = null;
            e.dr = null;
        }
        if (values != NONE) {
            e.idleWith[p] = e.performed == 0 ? values : NONE;
        }
    }

    /**
     * The atoms {@code steps} test; {@link #NOT_SKIPPABLE} when one depends on the phase's own reads
     * (debug_ctl). NOT_SKIPPABLE has every bit set, so a union with it stays NOT_SKIPPABLE, and a
     * union of atoms never reaches it (at most 62 of them).
     */
    private static long atomsTested(List<PolicyStep> steps) {
        long atoms = 0;
        for (PolicyStep s : steps) {
            atoms |= switch (s) {
                case PolicyStep.Action a -> atomsTested(a.when());
                case PolicyStep.Conditional c -> atomsTested(c.when()) | atomsTested(c.then()) | atomsTested(c.otherwise());
            };
        }
        return atoms;
    }

    private static long atomsTested(PolicyCondition c) {
        return switch (c) {
            case PolicyCondition.Always x -> 0;
            case PolicyCondition.Test t -> t.atom() == PolicyCondition.Atom.HOST_OWNED_DEBUGCTL_CHANGED ? NOT_SKIPPABLE
                    : 1L << t.atom().ordinal();
            case PolicyCondition.Not n -> atomsTested(n.operand());
            case PolicyCondition.And a -> operandsTested(a.operands());
            case PolicyCondition.Or o -> operandsTested(o.operands());
        };
    }

    private static long operandsTested(List<PolicyCondition> operands) {
        long atoms = 0;
        for (PolicyCondition c : operands) {
            atoms |= atomsTested(c); // NOT_SKIPPABLE absorbs, as in atomsTested(steps)
        }
        return atoms;
    }

    /** The values of the atoms in {@code tested}, one bit each where the atom holds. */
    private long atomValues(long tested) {
        long values = 0;
        for (long rest = tested; rest != 0; rest &= rest - 1) {
            int atom = Long.numberOfTrailingZeros(rest);
            if (test(ATOMS[atom], null)) {
                values |= 1L << atom;
            }
        }
        return values;
    }

    private void steps(List<PolicyStep> steps) {
        for (int i = 0, n = steps.size(); i < n; i++) { // indexed: no iterator on every entry and exit
            PolicyStep s = steps.get(i);
            switch (s) {
                case PolicyStep.Action a -> {
                    if (holds(a.when(), a)) {
                        perform(a);
                    }
                }
                case PolicyStep.Conditional c -> steps(holds(c.when(), c) ? c.then() : c.otherwise());
            }
        }
    }

    private boolean holds(PolicyCondition c, PolicyStep at) {
        return switch (c) {
            case PolicyCondition.Always x -> true;
            case PolicyCondition.Test t -> test(t.atom(), at);
            case PolicyCondition.Not n -> !holds(n.operand(), at);
            case PolicyCondition.And a -> all(a.operands(), at);
            case PolicyCondition.Or o -> any(o.operands(), at);
        };
    }

    // Loops rather than streams: these run several times on every entry and exit.
    private boolean all(List<PolicyCondition> operands, PolicyStep at) {
        for (int i = 0, n = operands.size(); i < n; i++) {
            if (!holds(operands.get(i), at)) {
                return false;
            }
        }
        return true;
    }

    private boolean any(List<PolicyCondition> operands, PolicyStep at) {
        for (int i = 0, n = operands.size(); i < n; i++) {
            if (holds(operands.get(i), at)) {
                return true;
            }
        }
        return false;
    }

    // Small enough for the JIT to inline (the run_flags, DEBUGCTL and SEV-ES tests are in their
    // own methods): every entry and exit tests a few atoms.
    private boolean test(PolicyCondition.Atom atom, PolicyStep at) {
        SwitchDbRegs s = vcpu.switchDbRegs();
        return switch (atom) {
            case SWITCH_DB_REGS -> !s.isEmpty();
            case SWITCH_DB_REGS_EXCEPT_AUTO_SWITCH -> !s.without(SwitchDbRegs.AUTO_SWITCH).isEmpty();
            case BP_ENABLED -> s.bpEnabled();
            case WONT_EXIT -> s.wontExit();
            case RELOAD -> s.reload();
            case AUTO_SWITCH -> s.autoSwitch();
            case HW_BREAKPOINT_ACTIVE -> host.hwBreakpointActive();
            case USE_HW_BP -> vcpu.guestDebug().useHwBp();
            case IS_TD_VCPU -> vcpu.isTd();
            case GUEST_STATE_PROTECTED -> vcpu.guestStateProtected();
            case RUN_FLAGS, RUN_LOAD_GUEST_DR6, RUN_LOAD_DEBUGCTL -> runFlags(atom);
            case HOST_DEBUGCTL, HOST_DEBUGCTL_NOT_PRESERVED, VT_HOST_DEBUGCTLMSR_NOT_PRESERVED, HOST_OWNED_DEBUGCTL_CHANGED ->
                    debugctl(atom, at);
            case SEV_ES_GUEST, SEV_VCPU_HAS_DEBUG_SWAP, SEV_SNP_GUEST, CPU_HAS_DEBUG_SWAP -> sevEs(atom);
        };
    }

    private boolean runFlags(PolicyCondition.Atom atom) {
        return switch (atom) {
            case RUN_FLAGS -> vcpu.runFlags != 0;
            case RUN_LOAD_GUEST_DR6 -> (vcpu.runFlags & KVM_RUN_LOAD_GUEST_DR6) != 0;
            case RUN_LOAD_DEBUGCTL -> (vcpu.runFlags & KVM_RUN_LOAD_DEBUGCTL) != 0;
            default -> throw new IllegalArgumentException(atom + " does not test run_flags");
        };
    }

    private boolean debugctl(PolicyCondition.Atom atom, PolicyStep at) {
        return switch (atom) {
            case HOST_DEBUGCTL -> vcpu.hostDebugctl != 0;
            case HOST_DEBUGCTL_NOT_PRESERVED -> (vcpu.hostDebugctl & ~Debugctl.TDX_DEBUGCTL_PRESERVED) != 0;
            case VT_HOST_DEBUGCTLMSR_NOT_PRESERVED -> (vcpu.vtHostDebugctlmsr & ~Debugctl.TDX_DEBUGCTL_PRESERVED) != 0;
            case HOST_OWNED_DEBUGCTL_CHANGED -> ((debugCtl(at) ^ vcpu.hostDebugctl) & vcpu.program().hostOwnedDebugctl()) != 0;
            default -> throw new IllegalArgumentException(atom + " does not test DEBUGCTL");
        };
    }

    private boolean sevEs(PolicyCondition.Atom atom) {
        if (!(vcpu.backing() instanceof VcpuBacking.SevEs e)) {
            return false; // every SEV-ES test is false for another guest
        }
        return switch (atom) {
            case SEV_ES_GUEST -> true;
            case SEV_VCPU_HAS_DEBUG_SWAP -> e.guest().kvmSeesDebugSwap();
            case SEV_SNP_GUEST -> e.guest().snp();
            case CPU_HAS_DEBUG_SWAP -> e.guest().cpuHasDebugSwap();
            default -> throw new IllegalArgumentException(atom + " is not an SEV-ES test");
        };
    }

    private void perform(PolicyStep.Action a) {
        performed++;
        switch (a.op()) {
            case SET_DR7_FIXED_1 -> dr.setDebugreg(7, Dr7.RESET.value());
            case SET_DR7_ZERO -> dr.setDebugreg(7, 0);
            case LOAD_EFF_DB -> {
                for (int n = 0; n < 4; n++) {
                    dr.setDebugreg(n, vcpu.effDb(n));
                }
            }
            case LOAD_GUEST_DR6 -> dr.setDebugreg(6, vcpu.dr6().value());
            case KVM_X86_SET_DR6 -> {
                // vt_set_dr6() returns for a TD; an SEV-ES guest's DR6 is in its encrypted VMSA.
                if (vcpu.backing() instanceof VcpuBacking.Vmx) {
                    dr.setDebugreg(6, vcpu.dr6().value());
                }
            }
            case RUN_FLAG_LOAD_GUEST_DR6 -> vcpu.runFlags |= KVM_RUN_LOAD_GUEST_DR6;
            case RUN_FLAG_LOAD_DEBUGCTL -> vcpu.runFlags |= KVM_RUN_LOAD_DEBUGCTL;
            case CLEAR_RELOAD -> vcpu.clearSwitchFlag(SwitchDbRegs.RELOAD);
            case SNAPSHOT_HOST_DEBUGCTL -> vcpu.hostDebugctl = dr.getDebugctlmsr();
            case READ_DEBUG_CTL -> {
                debugCtl = dr.getDebugctlmsr();
                debugCtlRead = true;
            }
            case STORE_HOST_DEBUGCTL -> vcpu.hostDebugctl = debugCtl(a);
            case SNAPSHOT_VT_HOST_DEBUGCTLMSR -> {
                requireTd(a);
                vcpu.vtHostDebugctlmsr = dr.getDebugctlmsr();
            }
            case VMX_RELOAD_GUEST_DEBUGCTL -> {
                Vmcs vmcs = requireVmx(a);
                long owned = vcpu.program().hostOwnedDebugctl();
                long val = vmcs.guestDebugctl();
                if (((val ^ vcpu.hostDebugctl) & owned) != 0) {
                    vmcs.setGuestDebugctl((val & ~owned) | (vcpu.hostDebugctl & owned));
                }
            }
            case RESTORE_HOST_DEBUGCTL -> dr.updateDebugctlmsr(vcpu.hostDebugctl);
            case RESTORE_VT_HOST_DEBUGCTLMSR -> {
                requireTd(a);
                dr.updateDebugctlmsr(vcpu.vtHostDebugctlmsr);
            }
            case WARN_ON_USE_HW_BP -> {
                if (vcpu.guestDebug().useHwBp()) {
                    vcpu.warn(phase.function(), "vcpu->guest_debug & KVM_GUESTDBG_USE_HW_BP");
                }
            }
            case WARN_ON_AUTO_SWITCH -> {
                if (vcpu.switchDbRegs().autoSwitch()) {
                    vcpu.warn(phase.function(), "vcpu->arch.switch_db_regs & KVM_DEBUGREG_AUTO_SWITCH");
                }
            }
            case WARN_ON_ONCE_RUN_FLAGS -> {
                KvmWarning w = new KvmWarning("tdx_vcpu_run", "run_flags");
                if (vcpu.runFlags != 0 && !vcpu.warnings().contains(w)) {
                    vcpu.warn(w.function(), w.condition());
                }
            }
            case SYNC_DIRTY_DEBUG_REGS -> syncDirtyDebugRegs();
            case KVM_UPDATE_DR0123 -> vcpu.kvmUpdateDr0123();
            case KVM_UPDATE_DR7 -> vcpu.kvmUpdateDr7();
            case RESET_DR6 -> dr.setDebugreg(6, Dr6.RESET.value());
            case HW_BREAKPOINT_RESTORE -> host.hwBreakpointRestore(dr);
            case RESTORE_CPU_DR7 -> dr.setDebugreg(7, host.cpuDr7().value());
            case SAVE_HOST_DRS_TO_HOSTSA -> {
                HostSaveArea hostsa = requireSevEs(a);
                for (int n = 0; n < 4; n++) {
                    hostsa.setDr(n, dr.getDebugreg(n));
                }
            }
            case SAVE_HOST_DR_ADDR_MASKS_TO_HOSTSA -> {
                HostSaveArea hostsa = requireSevEs(a);
                for (int n = 0; n < 4; n++) {
                    hostsa.setDrAddrMask(n, host.amdGetDrAddrMask(n));
                }
            }
        }
    }

    /**
     * sync_dirty_debug_regs: the guest ran with direct DR access, so its DR0–3 and DR6 are in
     * hardware and its DR7 in the VMCS (saved by VM exit); copy them into db/dr6/dr7, clear
     * WONT_EXIT and intercept MOV DR again.
     */
    private void syncDirtyDebugRegs() {
        long[] hw = new long[4];
        for (int n = 0; n < 4; n++) {
            hw[n] = dr.getDebugreg(n);
        }
        Dr6 hwDr6 = new Dr6(dr.getDebugreg(6));
        vcpu.syncGuestView(hw, hwDr6, vcpu.guestDr7Field());
        vcpu.clearSwitchFlag(SwitchDbRegs.WONT_EXIT);
        vcpu.setMovDrExiting(true);
    }

    private long debugCtl(PolicyStep at) {
        if (!debugCtlRead) {
            throw misuse(at, "uses debug_ctl before 'debug_ctl = get_debugctlmsr()' in the same phase");
        }
        return debugCtl;
    }

    private void requireTd(PolicyStep.Action a) {
        if (!vcpu.isTd()) {
            throw misuse(a, "'" + a.op().spelling() + "' is TDX code; guard it with is_td_vcpu(vcpu)");
        }
    }

    private Vmcs requireVmx(PolicyStep.Action a) {
        if (vcpu.backing() instanceof VcpuBacking.Vmx(Vmcs vmcs)) {
            return vmcs;
        }
        throw misuse(a, "'" + a.op().spelling() + "' is VMX code; guard it with !guest_state_protected");
    }

    private HostSaveArea requireSevEs(PolicyStep.Action a) {
        if (vcpu.backing() instanceof VcpuBacking.SevEs e) {
            return e.hostsa();
        }
        throw misuse(a, "'" + a.op().spelling() + "' is SEV-ES code; guard it with sev_es_guest(kvm)");
    }

    private IllegalStateException misuse(PolicyStep at, String what) {
        PolicyProgram p = vcpu.program();
        return new IllegalStateException(p.source() + ":" + at.line() + ": policy " + p.name() + ", phase " + phase
                + ": the step " + what);
    }
}
