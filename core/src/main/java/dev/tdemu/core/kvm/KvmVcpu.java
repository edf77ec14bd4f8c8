package dev.tdemu.core.kvm;

import dev.tdemu.core.tdx.TdVcpu;
import dev.tdemu.core.tdx.TdxDebugRefused;
import dev.tdemu.core.tdx.TdxModule;
import dev.tdemu.core.vmx.DebugExitQualification;
import dev.tdemu.core.vmx.ExceptionBitmap;
import dev.tdemu.core.vmx.MovDrDirection;
import dev.tdemu.core.vmx.MovDrQualification;
import dev.tdemu.core.vmx.Vmcs;
import dev.tdemu.core.vmx.VmEntryControls;
import dev.tdemu.core.vmx.VmExitControls;
import dev.tdemu.core.x86.CpuMode;
import dev.tdemu.core.x86.DebugRegisters;
import dev.tdemu.core.x86.Dr6;
import dev.tdemu.core.x86.Dr7;
import dev.tdemu.core.x86.ExceptionVector;
import dev.tdemu.core.x86.PendingDebug;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalLong;

/**
 * KVM's debug-register state and logic for one vCPU ({@code struct kvm_vcpu_arch} and the
 * functions around it). The DR switch around guest runs is {@link VcpuEnterGuest}.
 *
 * <p>State: {@code db[0..3]}, {@code dr6}, {@code dr7} are the guest's view; {@code effDb[0..3]}
 * and the effective DR7 are what the hardware must hold while the guest runs (the debugger's
 * values under USE_HW_BP); {@code guestDebug}/{@code guestDebugDr7} are the debugger's;
 * {@code switchDbRegs} says why DRs must be switched.
 *
 * <p>For a TD vCPU there is no VMCS KVM can write: the effective DR7 is only recorded, and
 * exception intercepts and DR writes the debugger needs go through the TDX module's debug
 * interface, which refuses them for a non-debug TD.
 */
public final class KvmVcpu {

    /** Exceptions KVM's VMX code intercepts for its own reasons; the kernel always intercepts #DB on VMX. */
    public static final ExceptionBitmap VMX_DEFAULT_INTERCEPTS = ExceptionBitmap.of(ExceptionVector.DB);

    private PolicyProgram program;
    private DrSwitchPolicy builtin;
    private final VcpuBacking backing;
    private final ExceptionBitmap ownIntercepts;

    private final long[] db = new long[4];
    private Dr6 dr6 = Dr6.RESET;
    private Dr7 dr7 = Dr7.RESET;
    private final long[] effDb = new long[4];
    private Dr7 effectiveDr7 = Dr7.RESET;
    private GuestDebug guestDebug = GuestDebug.NONE;
    private Dr7 guestDebugDr7 = Dr7.RESET;
    private SwitchDbRegs switchDbRegs;
    private final List<KvmWarning> warnings = new ArrayList<>();

    // ---- state of the policy's steps (see PolicyExecutor) ----
    /** vcpu->arch.host_debugctl. */
    long hostDebugctl;
    /** TDX's own vt->host_debugctlmsr of 8af099037527 (until 7d390a9da823). */
    long vtHostDebugctlmsr;
    /** The run_flags of the entry being prepared (KVM_RUN_LOAD_GUEST_DR6, KVM_RUN_LOAD_DEBUGCTL). */
    int runFlags;
    /** Whether the VCPU_LOAD phase has run since the last {@link VcpuEnterGuest#vcpuPut}. */
    boolean loaded;
    /** The executor of this vCPU's policy phases, made at the first ({@link PolicyExecutor#run}). */
    PolicyExecutor executor;

    private KvmVcpu(PolicyProgram program, DrSwitchPolicy builtin, VcpuBacking backing, ExceptionBitmap ownIntercepts,
                    SwitchDbRegs initial) {
        program.requireWorld(switch (backing) {
            case VcpuBacking.Vmx v -> GuestWorld.VMX;
            case VcpuBacking.Td t -> GuestWorld.TDX;
            case VcpuBacking.SevEs e -> GuestWorld.SEV_ES;
        });
        this.program = program;
        this.builtin = builtin;
        this.backing = backing;
        this.ownIntercepts = ownIntercepts;
        this.switchDbRegs = initial;
        if (backing instanceof VcpuBacking.Vmx(Vmcs vmcs)) {
            // KVM always runs VMX guests with these; the lazy DR switch depends on all three.
            vmcs.setEntryControls(vmcs.entryControls().withLoadDebugControls(true));
            vmcs.setExitControls(vmcs.exitControls().withSaveDebugControls(true));
            vmcs.setMovDrExiting(true);
            vmcs.setExceptionBitmap(ownIntercepts);
        }
        kvmUpdateDr7();
    }

    /** A VMX vCPU intercepting #DB like the kernel's VMX code. */
    public static KvmVcpu vmx(DrSwitchPolicy policy) {
        return vmx(policy, VMX_DEFAULT_INTERCEPTS);
    }

    /** A VMX vCPU running any policy program (a built-in one or one read with {@link PolicyLoader}). */
    public static KvmVcpu vmx(PolicyProgram program) {
        return new KvmVcpu(program, null, new VcpuBacking.Vmx(new Vmcs()), VMX_DEFAULT_INTERCEPTS, SwitchDbRegs.NONE);
    }

    /**
     * A VMX vCPU whose own exception intercepts (those it needs regardless of a debugger) are
     * {@code ownIntercepts}; a fresh VMCS is created and set up as KVM does.
     */
    public static KvmVcpu vmx(DrSwitchPolicy policy, ExceptionBitmap ownIntercepts) {
        return new KvmVcpu(policy.program(), policy, new VcpuBacking.Vmx(new Vmcs()), ownIntercepts, SwitchDbRegs.NONE);
    }

    /** A TD vCPU: switchDbRegs starts as AUTO_SWITCH when the policy's kernel has that flag. */
    public static KvmVcpu td(DrSwitchPolicy policy, TdxModule module, TdVcpu tdVcpu) {
        return td(policy.program(), policy, module, tdVcpu);
    }

    /** A TD vCPU running any policy program that describes TDX. */
    public static KvmVcpu td(PolicyProgram program, TdxModule module, TdVcpu tdVcpu) {
        return td(program, null, module, tdVcpu);
    }

    private static KvmVcpu td(PolicyProgram program, DrSwitchPolicy builtin, TdxModule module, TdVcpu tdVcpu) {
        SwitchDbRegs initial = program.hasAutoSwitchFlag() ? SwitchDbRegs.of(SwitchDbRegs.AUTO_SWITCH) : SwitchDbRegs.NONE;
        return new KvmVcpu(program, builtin, new VcpuBacking.Td(module, tdVcpu), ExceptionBitmap.NONE, initial);
    }

    /**
     * An SEV-ES/SEV-SNP vCPU: KVM cannot see or change its registers (the VMSA is encrypted), and
     * {@code guest} is KVM's view of the VM (the SEV_FEATURES it set, SNP or not, the CPU's DebugSwap).
     */
    public static KvmVcpu sevEs(PolicyProgram program, dev.tdemu.core.svm.Vmsa vmsa, dev.tdemu.core.svm.SevGuest guest) {
        return new KvmVcpu(program, null, new VcpuBacking.SevEs(vmsa, new dev.tdemu.core.svm.HostSaveArea(), guest),
                ExceptionBitmap.NONE, SwitchDbRegs.NONE);
    }

    /**
     * Switches to another KVM variant between two runs (as if the host booted a different kernel
     * with this vCPU's state carried over). A TD vCPU gains or loses AUTO_SWITCH with the policy,
     * since PRE_TDX kernels have no such flag.
     */
    public void setPolicy(DrSwitchPolicy next) {
        setPolicy(next.program());
        builtin = next;
    }

    /** As {@link #setPolicy(DrSwitchPolicy)} for any policy program; the vCPU is loaded again at the next entry. */
    public void setPolicy(PolicyProgram next) {
        next.requireWorld(switch (backing) {
            case VcpuBacking.Vmx v -> GuestWorld.VMX;
            case VcpuBacking.Td t -> GuestWorld.TDX;
            case VcpuBacking.SevEs e -> GuestWorld.SEV_ES;
        });
        if (backing instanceof VcpuBacking.Td) {
            int bits = switchDbRegs.bits() & ~SwitchDbRegs.AUTO_SWITCH;
            if (next.hasAutoSwitchFlag()) {
                bits |= SwitchDbRegs.AUTO_SWITCH;
            }
            switchDbRegs = new SwitchDbRegs(bits);
        }
        program = next;
        builtin = null;
        loaded = false;
    }

    // ---- accessors ----

    /**
     * The seed policy this vCPU runs.
     *
     * @throws IllegalStateException when it runs a policy program that is not one of the seed's five
     *                               (use {@link #program()})
     */
    public DrSwitchPolicy policy() {
        if (builtin == null) {
            throw new IllegalStateException("vCPU runs policy " + program.name() + " (" + program.source()
                    + "), not one of DrSwitchPolicy; use program()");
        }
        return builtin;
    }

    /** The policy program this vCPU runs. */
    public PolicyProgram program() {
        return program;
    }

    /** vcpu->arch.host_debugctl: KVM's snapshot of the host's IA32_DEBUGCTL. */
    public long hostDebugctl() {
        return hostDebugctl;
    }

    /**
     * vmx_guest_debugctl_write(): the guest's WRMSR of IA32_DEBUGCTL as KVM stores it in the VMCS,
     * with the host's HOST_OWNED_DEBUGCTL bits (FREEZE_IN_SMM since 6b1dd26544d0) added.
     */
    public void setGuestDebugctl(long value) {
        long owned = program.hostOwnedDebugctl();
        vmcs().setGuestDebugctl((value & ~owned) | (hostDebugctl & owned));
    }

    /** vmx_guest_debugctl_read(): what the guest reads back, without the host-owned bits. */
    public long guestDebugctl() {
        return vmcs().guestDebugctl() & ~program.hostOwnedDebugctl();
    }

    public VcpuBacking backing() {
        return backing;
    }

    public boolean isTd() {
        return backing instanceof VcpuBacking.Td;
    }

    /** Whether KVM cannot access the guest's registers (a TD or an SEV-ES guest). */
    public boolean guestStateProtected() {
        return !(backing instanceof VcpuBacking.Vmx);
    }

    /** The VMCS of a VMX vCPU. */
    public Vmcs vmcs() {
        if (backing instanceof VcpuBacking.Vmx(Vmcs vmcs)) {
            return vmcs;
        }
        throw new IllegalStateException("a TD vCPU has no VMCS KVM can access");
    }

    /** The TDX module's vCPU of a TD vCPU. */
    public TdVcpu tdVcpu() {
        if (backing instanceof VcpuBacking.Td td) {
            return td.tdVcpu();
        }
        throw new IllegalStateException("not a TD vCPU");
    }

    public long db(int n) {
        return db[slot(n)];
    }

    public Dr6 dr6() {
        return dr6;
    }

    public Dr7 dr7() {
        return dr7;
    }

    public long effDb(int n) {
        return effDb[slot(n)];
    }

    /** The guest's view as one value: db, dr6, dr7. */
    public DebugRegisters guestView() {
        return DebugRegisters.of(db.clone(), dr6, dr7);
    }

    /** The DR7 KVM last computed for the guest run (written to the VMCS for VMX, recorded for a TD). */
    public Dr7 effectiveDr7() {
        return effectiveDr7;
    }

    public GuestDebug guestDebug() {
        return guestDebug;
    }

    public Dr7 guestDebugDr7() {
        return guestDebugDr7;
    }

    public SwitchDbRegs switchDbRegs() {
        return switchDbRegs;
    }

    /** Whether the emulator must set RFLAGS.TF for the debugger (KVM hides it from the guest). */
    public boolean singleStepping() {
        return guestDebug.singlestep();
    }

    public List<KvmWarning> warnings() {
        return List.copyOf(warnings);
    }

    /** The warnings after the first {@code seen} (none, without copying, when there are no new ones): what each exit reports. */
    public List<KvmWarning> warningsSince(int seen) {
        return seen >= warnings.size() ? List.of() : List.copyOf(warnings.subList(seen, warnings.size()));
    }

    /** How many warnings there are so far. */
    public int warningCount() {
        return warnings.size();
    }

    /** Overrides switchDbRegs; for negative scenarios that need a state the kernel cannot reach. */
    public void forceSwitchDbRegs(SwitchDbRegs value) {
        switchDbRegs = value;
    }

    // ---- kvm_update_dr7 / kvm_update_dr0123 ----

    /**
     * The effective DR7 is guestDebugDr7 under USE_HW_BP, else the guest's dr7; it goes to the VMCS
     * guest-DR7 field (a TD's is only recorded), and BP_ENABLED follows its L/G bits.
     */
    public void kvmUpdateDr7() {
        Dr7 eff = guestDebug.useHwBp() ? guestDebugDr7 : dr7;
        effectiveDr7 = eff;
        if (backing instanceof VcpuBacking.Vmx(Vmcs vmcs)) {
            vmcs.setGuestDr7(eff);
        }
        switchDbRegs = eff.anyEnabled()
                ? switchDbRegs.with(SwitchDbRegs.BP_ENABLED)
                : switchDbRegs.without(SwitchDbRegs.BP_ENABLED);
    }

    /** Unless the debugger owns DR0–3, effDb ← db and RELOAD so the next entry loads them. */
    public void kvmUpdateDr0123() {
        if (!guestDebug.useHwBp()) {
            System.arraycopy(db, 0, effDb, 0, 4);
            switchDbRegs = switchDbRegs.with(SwitchDbRegs.RELOAD);
        }
    }

    // ---- KVM_SET_GUEST_DEBUG ----

    /**
     * KVM_SET_GUEST_DEBUG. Without ENABLE all flags are dropped. With USE_HW_BP effDb and
     * guestDebugDr7 come from the request, else effDb ← db. #DB is intercepted when ENABLE with
     * SINGLESTEP or USE_HW_BP, #BP with USE_SW_BP, on top of the vCPU's own intercepts. Then
     * kvmUpdateDr7.
     *
     * <p>For a TD vCPU the intercepts go to the TD's exception bitmap, and under USE_HW_BP the
     * debugger's DR0–3/DR7 are written into the TD's DR state (the TD's own DR0–3/DR7 are kept in
     * db/dr7 and written back when USE_HW_BP ends), all through the module's debug interface.
     *
     * @throws TdxDebugRefused for a TD vCPU of a non-debug TD when the request needs intercepts or
     *                         DRs; nothing is changed then
     */
    public void setGuestDebug(GuestDebugRequest request) {
        if (backing instanceof VcpuBacking.SevEs) {
            throw new UnsupportedOperationException(
                    "KVM_SET_GUEST_DEBUG fails with -EINVAL for an SEV-ES vCPU: its state is protected");
        }
        GuestDebug control = request.control().enable() ? request.control() : GuestDebug.NONE;
        boolean wasHwBp = guestDebug.useHwBp();
        if (backing instanceof VcpuBacking.Td td && control.bits() != GuestDebug.NONE.bits()
                && control.bits() != GuestDebug.ENABLE) {
            td.module().debugReadExceptionBitmap(td.tdVcpu()); // refuses for a non-debug TD before any change
        }
        if (backing instanceof VcpuBacking.Td td) {
            switchTdDebugRegisters(td, wasHwBp, control.useHwBp(), request);
        }
        guestDebug = control;
        if (control.useHwBp()) {
            for (int n = 0; n < 4; n++) {
                effDb[n] = request.db(n);
            }
            guestDebugDr7 = request.dr7();
        } else {
            System.arraycopy(db, 0, effDb, 0, 4);
        }
        kvmUpdateDr7();
        updateExceptionBitmap();
    }

    private ExceptionBitmap wantedIntercepts() {
        ExceptionBitmap eb = ownIntercepts;
        if (guestDebug.enable() && (guestDebug.singlestep() || guestDebug.useHwBp())) {
            eb = eb.with(ExceptionVector.DB);
        }
        if (guestDebug.enable() && guestDebug.useSwBp()) {
            eb = eb.with(ExceptionVector.BP);
        }
        return eb;
    }

    private void updateExceptionBitmap() {
        switch (backing) {
            case VcpuBacking.Vmx(Vmcs vmcs) -> vmcs.setExceptionBitmap(wantedIntercepts());
            case VcpuBacking.Td td -> {
                if (td.tdVcpu().attributes().debug()) {
                    td.module().debugWriteExceptionBitmap(td.tdVcpu(), wantedIntercepts());
                }
            }
            case VcpuBacking.SevEs e -> throw new IllegalStateException("KVM does not debug SEV-ES guests");
        }
    }

    /**
     * The debug-TD path of USE_HW_BP: the debugger's DR0–3/DR7 go into the TD's DR state (which
     * TDH.VP.ENTER loads); the TD's own DR0–3/DR7 wait in db/dr7 and go back when USE_HW_BP ends,
     * after which KVM again knows nothing of the TD's DRs (db = 0, dr7 = 0x400).
     */
    private void switchTdDebugRegisters(VcpuBacking.Td td, boolean wasHwBp, boolean isHwBp, GuestDebugRequest request) {
        TdxModule module = td.module();
        TdVcpu v = td.tdVcpu();
        if (isHwBp) {
            DebugRegisters cur = module.debugReadDebugRegisters(v);
            if (!wasHwBp) {
                System.arraycopy(cur.addresses(), 0, db, 0, 4);
                dr7 = cur.dr7();
            }
            module.debugWriteDebugRegisters(v, new DebugRegisters(request.db0(), request.db1(), request.db2(),
                    request.db3(), cur.dr6(), request.dr7()));
        } else if (wasHwBp) {
            DebugRegisters cur = module.debugReadDebugRegisters(v);
            module.debugWriteDebugRegisters(v, DebugRegisters.of(db.clone(), cur.dr6(), dr7));
            Arrays.fill(db, 0);
            dr7 = Dr7.RESET;
        }
    }

    // ---- kvm_set_dr / kvm_get_dr ----

    /**
     * The guest-visible write of DR{@code dr}: DR0–3 update db (and effDb unless USE_HW_BP); DR6
     * (and DR4, which KVM treats as its alias) keeps its fixed bits; DR7 (and DR5) updates dr7 and
     * then kvmUpdateDr7. A 1 in bits 63:32 of DR6/DR7 is refused.
     *
     * @return false when the write is refused and the caller must inject #GP(0)
     */
    public boolean kvmSetDr(int dr, long value) {
        switch (dr) {
            case 0, 1, 2, 3 -> {
                db[dr] = value;
                if (!guestDebug.useHwBp()) {
                    effDb[dr] = value;
                }
            }
            case 4, 6 -> {
                if (Dr6.hasReservedUpperBits(value)) {
                    return false;
                }
                dr6 = new Dr6(value);
            }
            case 5, 7 -> {
                if (Dr7.hasReservedUpperBits(value)) {
                    return false;
                }
                dr7 = new Dr7(value);
                kvmUpdateDr7();
            }
            default -> throw new IllegalArgumentException("no DR" + dr);
        }
        return true;
    }

    /** The guest-visible read of DR{@code dr} (DR4/DR5 read DR6/DR7). */
    public long kvmGetDr(int dr) {
        return switch (dr) {
            case 0, 1, 2, 3 -> db[dr];
            case 4, 6 -> dr6.value();
            case 5, 7 -> dr7.value();
            default -> throw new IllegalArgumentException("no DR" + dr);
        };
    }

    // ---- exit handlers ----

    /**
     * handle_dr: a MOV-DR exit (basic reason 29) of a VMX vCPU, in this order:
     * <ol>
     *   <li>CPL&gt;0 → #GP; DR4/DR5 with CR4.DE=1 → #UD (hardware raises both before exiting, so
     *       these only guard against an emulator that exits anyway);</li>
     *   <li>the debugger's GD (USE_HW_BP and guestDebugDr7.GD) → report to the debugger with BD;</li>
     *   <li>the guest's GD (dr7.GD) → inject #DB with BD, OR-ed into dr6; GD is cleared in dr7 as
     *       the CPU does on delivery (the VM exit took priority over the hardware GD fault);</li>
     *   <li>without USE_HW_BP → lazy switch: MOV-DR exiting off, WONT_EXIT, re-execute;</li>
     *   <li>else emulate against db/dr6/dr7 without touching effDb.</li>
     * </ol>
     *
     * @param gprValue the source GPR's value for a MOV to DR (ignored for MOV from DR)
     * @param rip      the guest RIP of the MOV, for a debugger report
     */
    public HandleDrResult handleDr(MovDrQualification q, CpuMode guestMode, long gprValue, long rip) {
        Vmcs vmcs = vmcs();
        int dr = q.drNumber();
        if (guestMode.cpl() != 0) {
            return new HandleDrResult.InjectGp();
        }
        if ((dr == 4 || dr == 5) && guestMode.cr4De()) {
            return new HandleDrResult.InjectUd();
        }
        if (guestDebug.useHwBp() && guestDebugDr7.gd()) {
            return new HandleDrResult.ReportToDebugger(new DebugStop(ExceptionVector.DB, rip,
                    Dr6.RESET.deliver(PendingDebug.generalDetect()), effectiveDr7));
        }
        if (dr7.gd()) {
            return new HandleDrResult.InjectDb(queueDebugException(PendingDebug.generalDetect()));
        }
        if (!guestDebug.useHwBp()) {
            vmcs.setMovDrExiting(false);
            switchDbRegs = switchDbRegs.with(SwitchDbRegs.WONT_EXIT);
            return new HandleDrResult.ReExecute();
        }
        if (q.direction() == MovDrDirection.FROM_DR) {
            return new HandleDrResult.Emulated(q.gpr(), OptionalLong.of(kvmGetDr(dr)));
        }
        return kvmSetDr(dr, gprValue)
                ? new HandleDrResult.Emulated(q.gpr(), OptionalLong.empty())
                : new HandleDrResult.InjectGp();
    }

    /**
     * A #DB exit (basic reason 0, vector 1; for a debug TD, a TD exit for its intercepted #DB).
     * The debugger owns it when a B bit names a slot enabled in guestDebugDr7 under USE_HW_BP, or
     * BS is set under SINGLESTEP: then it is reported whole. Otherwise it is the guest's and is
     * re-injected with its conditions OR-ed into the guest's DR6 (without B bits under USE_HW_BP,
     * which would describe the debugger's slots), clearing the guest's GD.
     *
     * @param rip guest RIP the #DB was reported at
     */
    public DebugExceptionResult handleDebugException(DebugExitQualification q, long rip) {
        PendingDebug p = q.pending();
        boolean debuggerSlot = guestDebug.useHwBp() && (p.bMask() & guestDebugDr7.enabledSlots()) != 0;
        boolean debuggerStep = guestDebug.singlestep() && p.bs();
        if (debuggerSlot || debuggerStep) {
            return new DebugExceptionResult.ReportToDebugger(
                    new DebugStop(ExceptionVector.DB, rip, Dr6.RESET.deliver(p), effectiveDr7));
        }
        if (guestDebug.useHwBp()) {
            p = p.withoutSlots(0xF);
        }
        return new DebugExceptionResult.Reinject(queueDebugException(p));
    }

    /**
     * Queues #DB for the guest (kvm_queue_exception_p with a DR6 payload): the payload is OR-ed
     * into the guest's DR6 and GD cleared in its DR7, exactly as {@link
     * dev.tdemu.core.x86.DebugRegisterFile#deliver} does for hardware.
     */
    private Dr6 queueDebugException(PendingDebug p) {
        switch (backing) {
            case VcpuBacking.Vmx v -> {
                dr6 = dr6.deliver(p);
                dr7 = dr7.withGd(false);
                kvmUpdateDr7();
                return dr6;
            }
            case VcpuBacking.Td td -> {
                DebugRegisters cur = td.module().debugReadDebugRegisters(td.tdVcpu());
                DebugRegisters next = cur.withDr6(cur.dr6().deliver(p)).withDr7(cur.dr7().withGd(false));
                td.module().debugWriteDebugRegisters(td.tdVcpu(), next);
                return next.dr6();
            }
            case VcpuBacking.SevEs e -> throw new UnsupportedOperationException(
                    "re-injecting a #DB into an SEV-ES guest is not modelled (with DebugSwap KVM does not intercept #DB)");
        }
    }

    // ---- used by VcpuEnterGuest ----

    void clearSwitchFlag(int flag) {
        switchDbRegs = switchDbRegs.without(flag);
    }

    void warn(String function, String condition) {
        warnings.add(new KvmWarning(function, condition));
    }

    /** The guest DR7 as the hardware left it: VMCS guest DR7, or for a TD the recorded effective DR7. */
    Dr7 guestDr7Field() {
        return backing instanceof VcpuBacking.Vmx(Vmcs vmcs) ? vmcs.guestDr7() : effectiveDr7;
    }

    void syncGuestView(long[] hwDb, Dr6 hwDr6, Dr7 fieldDr7) {
        System.arraycopy(hwDb, 0, db, 0, 4);
        dr6 = hwDr6;
        dr7 = fieldDr7;
    }

    void setMovDrExiting(boolean on) {
        if (backing instanceof VcpuBacking.Vmx(Vmcs vmcs)) {
            vmcs.setMovDrExiting(on);
        }
    }

    private static int slot(int n) {
        if (n < 0 || n > 3) {
            throw new IllegalArgumentException("slot is 0..3, not " + n);
        }
        return n;
    }
}
