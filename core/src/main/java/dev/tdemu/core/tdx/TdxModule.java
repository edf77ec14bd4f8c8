package dev.tdemu.core.tdx;

import dev.tdemu.core.x86.Rflags;

import dev.tdemu.core.x86.Gpr;
import dev.tdemu.core.vmx.ExceptionBitmap;
import dev.tdemu.core.vmx.ExitReason;
import dev.tdemu.core.x86.DebugRegisterFile;
import dev.tdemu.core.x86.Debugctl;
import dev.tdemu.core.x86.DebugRegisters;
import dev.tdemu.core.x86.Dr6;
import dev.tdemu.core.x86.Dr7;

/**
 * The TDX module: what it does for a TD vCPU (TDCALL leaves, the events it turns into #VE) and
 * for the host (TDH.VP.ENTER, the TD exit, the debug interface).
 *
 * <p>Guest side. {@link #tdcall} takes a TD vCPU's registers at a TDCALL and returns a
 * {@link TdcallResult}: completed inside the TD (with the register writes and the single-step
 * trap a TDCALL under RFLAGS.TF owes), #GP, an exit to the host for TDG.VP.VMCALL (answered by
 * {@link #vmcallReturn}), an EPT-violation exit, or "not modelled". Every operand is the TD's
 * and is checked as the ABI says; a bad one gets the architectural status, never an exception.
 * {@link #handleTdEvent} does the same for CPUID, HLT, port I/O, RDMSR/WRMSR and EPT violations.
 *
 * <p>Host side. TDH.VP.ENTER saves the host DRs it finds and loads the TD's; a TD exit saves the
 * TD's DRs and leaves the physical DRs as {@link TdxDrBehaviour} says, and IA32_DEBUGCTL masked
 * down to the host bits it preserves (TDX_DEBUGCTL_PRESERVED); KVM restores the others. Modelling
 * decisions: the host state is kept per TD vCPU (a vCPU runs on one CPU at a time); while the TD
 * runs, DEBUGCTL is the TD's own with the host's FREEZE_IN_SMM (the module owns the TD's
 * DEBUGCTL, which is why KVM leaves TDs out of KVM_RUN_LOAD_DEBUGCTL); the debug interface is whole-register reads and writes of DR0–3/DR6/DR7 and of
 * the TD's exception bitmap, refused with {@link TdxStatus#TDX_OPERAND_INVALID} for a non-debug TD.
 */
public final class TdxModule {

    private volatile TdxDrBehaviour behaviour;

    public TdxModule(TdxDrBehaviour behaviour) {
        this.behaviour = behaviour;
    }

    /** Swaps the module's DR behaviour between two TD entries (a different module build). */
    public void setBehaviour(TdxDrBehaviour next) {
        behaviour = java.util.Objects.requireNonNull(next);
    }

    public TdxDrBehaviour behaviour() {
        return behaviour;
    }

    /**
     * TDH.VP.ENTER: save the host's physical DRs and DEBUGCTL, load the TD's DR0–3, DR6, DR7 and
     * DEBUGCTL (with the host's FREEZE_IN_SMM kept).
     */
    public void tdhVpEnter(TdVcpu vcpu, DebugRegisterFile cpu) {
        if (vcpu.running()) {
            throw new IllegalStateException("TDH.VP.ENTER on a TD vCPU that is already running");
        }
        vcpu.enter(cpu.snapshot(), cpu.debugctl());
        cpu.load(vcpu.savedDebugRegisters());
        cpu.setDebugctl((vcpu.debugctl() & ~Debugctl.FREEZE_IN_SMM) | (vcpu.hostDebugctlAtEnter() & Debugctl.FREEZE_IN_SMM));
    }

    /**
     * TD exit (the module's side, before it returns to the host): save the TD's physical DRs into
     * its state, then leave the hardware as the behaviour says.
     */
    public void tdExit(TdVcpu vcpu, DebugRegisterFile cpu) {
        if (!vcpu.running()) {
            throw new IllegalStateException("TD exit from a TD vCPU that is not running");
        }
        DebugRegisters td = cpu.snapshot();
        vcpu.setSavedDebugRegisters(td);
        vcpu.setDebugctl(cpu.debugctl() & ~Debugctl.FREEZE_IN_SMM);
        vcpu.exit();
        cpu.setDebugctl(vcpu.hostDebugctlAtEnter() & Debugctl.TDX_DEBUGCTL_PRESERVED);
        cpu.load(switch (behaviour) {
            case INIT_ON_EXIT -> DebugRegisters.INIT;
            case RESTORE_HOST_EXCEPT_DR7 -> vcpu.hostAtEnter();
            case LEAVE_GUEST_STATE -> td;
        });
    }


    // ---- guest side: TDCALL ----

    /** CONFIG_FLAGS of tdemu's TDs: NO_RBP_MOD (bit 2), as KVM creates TDs; RBP never goes to the host. */
    public static final long CONFIG_FLAGS = 1L << 2;
    /** GPRs TDG.VP.VMCALL can never pass: RAX, RCX, RSP, and RBP under NO_RBP_MOD. */
    static final int VMCALL_GPR_FORBIDDEN = Gpr.RAX.bit() | Gpr.RCX.bit() | Gpr.RSP.bit() | Gpr.RBP.bit();
    /** TDG.VP.INFO R10 bit 0 says TDG.SYS.RD is available; tdemu does not model it, so it says no. */
    static final long VP_INFO_R10 = 0;
    /** MD_FIELD_ID_NA: "no next field" in TDG.VP.RD's RDX. */
    static final long MD_FIELD_ID_NA = -1L;

    /**
     * A TDCALL by {@code vcpu} with {@code regs}. Whatever the registers hold, the answer is a
     * result; only a VMM bug (a TDCALL while the previous TDG.VP.VMCALL is unanswered) throws.
     */
    public TdcallResult tdcall(TdVcpu vcpu, TdcallRegs regs) {
        if (!regs.mode().longMode()) {
            return new TdcallResult.InjectGp("TDCALL outside 64-bit mode");
        }
        if (regs.mode().cpl() != 0) {
            return new TdcallResult.InjectGp("TDCALL at CPL " + regs.mode().cpl());
        }
        if (vcpu.vmcallPending()) {
            throw new IllegalStateException("TDCALL on TD vCPU " + vcpu.vcpuIndex()
                    + " while its TDG.VP.VMCALL waits for the host (vmcallReturn was not called)");
        }
        long rax = regs.get(Gpr.RAX);
        int version = (int) (rax >>> 16) & 0xFF;
        if ((rax >>> 24) != 0) {
            return status(regs, TdxStatus.TDX_OPERAND_INVALID.withOperand(Gpr.RAX));
        }
        var known = TdcallLeaf.of((int) (rax & 0xFFFF));
        if (known.isEmpty() || (version > 0 && known.get() != TdcallLeaf.TDG_VM_RD)) {
            return status(regs, TdxStatus.TDX_OPERAND_INVALID.withOperand(Gpr.RAX));
        }
        TdcallLeaf leaf = known.get();
        return switch (leaf) {
            case TDG_VP_VMCALL -> tdgVpVmcall(vcpu, regs);
            case TDG_VP_INFO -> tdgVpInfo(vcpu, regs);
            case TDG_MR_RTMR_EXTEND -> tdgMrRtmrExtend(vcpu, regs);
            case TDG_VP_VEINFO_GET -> tdgVpVeinfoGet(vcpu, regs);
            case TDG_MR_REPORT -> tdgMrReport(vcpu, regs);
            case TDG_VP_CPUIDVE_SET -> tdgVpCpuidveSet(vcpu, regs);
            case TDG_MEM_PAGE_ACCEPT -> tdgMemPageAccept(vcpu, regs);
            case TDG_VM_RD -> tdgVmRd(vcpu, regs, version);
            case TDG_VM_WR -> tdgVmWr(vcpu, regs);
            case TDG_VP_RD -> tdgVpRd(vcpu, regs);
            case TDG_VP_WR -> tdgVpWr(vcpu, regs);
            default -> new TdcallResult.NotModelled(leaf, leaf.spelling() + " is not modelled by tdemu's TDX module");
        };
    }

    /**
     * The host's answer to the TDG.VP.VMCALL {@code vcpu} exited with, taken at the next
     * TDH.VP.ENTER: the module copies back only the GPRs the TD passed (its GPR_SELECT), returns
     * TDX_SUCCESS in RAX (the GHCI status is the host's R10) and completes the TDCALL.
     */
    public TdcallResult.Completed vmcallReturn(TdVcpu vcpu, GprUpdates hostRegs) {
        TdVcpu.PendingVmcall p = vcpu.pendingVmcall();
        if (p == null) {
            throw new IllegalStateException("TD vCPU " + vcpu.vcpuIndex() + " has no TDG.VP.VMCALL to return from");
        }
        vcpu.setPendingVmcall(null);
        GprUpdates updates = hostRegs.select(p.gprSelect()).then(GprUpdates.of(Gpr.RAX, TdxStatus.TDX_SUCCESS.code()));
        return new TdcallResult.Completed(updates, p.nextRip(), p.trapFlag());
    }

    private static TdcallResult.Completed status(TdcallRegs regs, long status) {
        return completed(regs, GprUpdates.NONE, status);
    }

    private static TdcallResult.Completed completed(TdcallRegs regs, GprUpdates outputs, long status) {
        return new TdcallResult.Completed(outputs.then(GprUpdates.of(Gpr.RAX, status)), regs.nextRip(), regs.trapFlag());
    }

    private static long operandInvalid(Gpr operand) {
        return TdxStatus.TDX_OPERAND_INVALID.withOperand(operand);
    }

    /** TDG.VP.VMCALL: RCX bits 15:0 GPR_SELECT, 31:16 XMM_SELECT, 63:32 reserved. */
    private TdcallResult tdgVpVmcall(TdVcpu vcpu, TdcallRegs regs) {
        long rcx = regs.get(Gpr.RCX);
        int gprSelect = (int) (rcx & 0xFFFF);
        if ((rcx >>> 32) != 0 || (gprSelect & VMCALL_GPR_FORBIDDEN) != 0) {
            return status(regs, operandInvalid(Gpr.RCX));
        }
        GprUpdates.Builder all = GprUpdates.builder();
        for (Gpr r : Gpr.values()) {
            all.set(r, regs.get(r));
        }
        vcpu.setPendingVmcall(new TdVcpu.PendingVmcall(gprSelect, regs.nextRip(), regs.trapFlag()));
        return new TdcallResult.VmcallExit(new TdVmcallArgs(gprSelect, (int) (rcx >>> 16) & 0xFFFF, all.build()));
    }

    private TdcallResult tdgVpInfo(TdVcpu vcpu, TdcallRegs regs) {
        Td td = vcpu.td();
        GprUpdates out = GprUpdates.builder()
                .set(Gpr.RCX, td.params().gpaw())
                .set(Gpr.RDX, td.attributes().bits())
                .set(Gpr.R8, ((long) td.params().maxVcpus() << 32) | td.numVcpus())
                .set(Gpr.R9, vcpu.vcpuIndex())
                .set(Gpr.R10, VP_INFO_R10)
                .set(Gpr.R11, 0)
                .build();
        return completed(regs, out, TdxStatus.TDX_SUCCESS.code());
    }

    /** RCX: GPA of the 48-byte extension, 64-byte aligned; RDX: RTMR index 0-3. */
    private TdcallResult tdgMrRtmrExtend(TdVcpu vcpu, TdcallRegs regs) {
        if (!privateGpa(vcpu, regs.get(Gpr.RCX), 64)) {
            return status(regs, operandInvalid(Gpr.RCX));
        }
        if (Long.compareUnsigned(regs.get(Gpr.RDX), 3) > 0) {
            return status(regs, operandInvalid(Gpr.RDX));
        }
        return new TdcallResult.NotModelled(TdcallLeaf.TDG_MR_RTMR_EXTEND,
                "TDG.MR.RTMR.EXTEND (measurement registers) is not modelled by tdemu's TDX module");
    }

    /** RCX: GPA of TDREPORT_STRUCT, 1024-byte aligned; RDX: GPA of REPORTDATA, 64-byte aligned; R8: subtype 0. */
    private TdcallResult tdgMrReport(TdVcpu vcpu, TdcallRegs regs) {
        if (!privateGpa(vcpu, regs.get(Gpr.RCX), 1024)) {
            return status(regs, operandInvalid(Gpr.RCX));
        }
        if (!privateGpa(vcpu, regs.get(Gpr.RDX), 64)) {
            return status(regs, operandInvalid(Gpr.RDX));
        }
        if (regs.get(Gpr.R8) != 0) {
            return status(regs, operandInvalid(Gpr.R8));
        }
        return new TdcallResult.NotModelled(TdcallLeaf.TDG_MR_REPORT,
                "TDG.MR.REPORT (TDREPORT generation) is not modelled by tdemu's TDX module");
    }

    /** A private GPA within GPAW aligned to {@code alignment}. */
    private static boolean privateGpa(TdVcpu vcpu, long gpa, long alignment) {
        TdParams p = vcpu.td().params();
        return (gpa & (alignment - 1)) == 0 && p.gpaInRange(gpa) && (gpa & p.sharedBit()) == 0;
    }

    /** The #VE information, valid until read: RCX reason, RDX qualification, R8 GLA, R9 GPA, R10 length and info. */
    private TdcallResult tdgVpVeinfoGet(TdVcpu vcpu, TdcallRegs regs) {
        var info = vcpu.veInfo();
        if (info.isEmpty()) {
            GprUpdates zeros = GprUpdates.builder().set(Gpr.RCX, 0).set(Gpr.RDX, 0).set(Gpr.R8, 0).set(Gpr.R9, 0)
                    .set(Gpr.R10, 0).build();
            return completed(regs, zeros, TdxStatus.TDX_NO_VALID_VE_INFO.code());
        }
        VeInfo ve = info.get();
        vcpu.setVeInfo(null);
        GprUpdates out = GprUpdates.builder()
                .set(Gpr.RCX, Integer.toUnsignedLong(ve.exitReason()))
                .set(Gpr.RDX, ve.exitQualification())
                .set(Gpr.R8, ve.gla())
                .set(Gpr.R9, ve.gpa())
                .set(Gpr.R10, ve.lengthAndInfo())
                .build();
        return completed(regs, out, TdxStatus.TDX_SUCCESS.code());
    }

    /** RCX bit 0: CPUID at CPL 0 always #VE; bit 1: at CPL > 0; bits 63:2 reserved. */
    private TdcallResult tdgVpCpuidveSet(TdVcpu vcpu, TdcallRegs regs) {
        long rcx = regs.get(Gpr.RCX);
        if ((rcx & ~3L) != 0) {
            return status(regs, operandInvalid(Gpr.RCX));
        }
        vcpu.setCpuidVe((rcx & 1) != 0, (rcx & 2) != 0);
        return status(regs, TdxStatus.TDX_SUCCESS.code());
    }

    /**
     * RCX: bits 2:0 level (0 = 4 KiB, 1 = 2 MiB), 11:3 reserved, 51:12 GPA, 63:52 reserved. The GPA
     * must be private, within GPAW and aligned to the level's size.
     */
    private TdcallResult tdgMemPageAccept(TdVcpu vcpu, TdcallRegs regs) {
        long rcx = regs.get(Gpr.RCX);
        var level = PageLevel.of((int) (rcx & 7));
        long gpa = rcx & 0x000F_FFFF_FFFF_F000L;
        if ((rcx & 0xFF8L) != 0 || (rcx >>> 52) != 0 || level.isEmpty() || level.get() == PageLevel.SIZE_1G
                || !privateGpa(vcpu, gpa, level.get().bytes())) {
            return status(regs, operandInvalid(Gpr.RCX));
        }
        return switch (vcpu.td().accept(gpa, level.get())) {
            case ACCEPTED -> status(regs, TdxStatus.TDX_SUCCESS.code());
            case ALREADY_ACCEPTED_4K -> status(regs, TdxStatus.TDX_PAGE_ALREADY_ACCEPTED.withDetail(PageLevel.SIZE_4K.level()));
            case ALREADY_ACCEPTED_2M -> status(regs, TdxStatus.TDX_PAGE_ALREADY_ACCEPTED.withDetail(PageLevel.SIZE_2M.level()));
            case SIZE_MISMATCH -> status(regs, TdxStatus.TDX_PAGE_SIZE_MISMATCH.withDetail(PageLevel.SIZE_2M.level()));
            case NO_PRIVATE_PAGE -> new TdcallResult.EptViolationExit(gpa);
        };
    }

    /** TDG.VM.RD: RCX VM index (0: the TD itself), RDX field ID; R8 = value. Version 1 also enumerates. */
    private TdcallResult tdgVmRd(TdVcpu vcpu, TdcallRegs regs, int version) {
        if (version > 1) {
            return status(regs, operandInvalid(Gpr.RAX));
        }
        GprUpdates defaults = version > 0 ? GprUpdates.builder().set(Gpr.RDX, MD_FIELD_ID_NA).set(Gpr.R8, 0).build()
                : GprUpdates.of(Gpr.R8, 0);
        if (regs.get(Gpr.RCX) != 0) {
            return completed(regs, defaults, operandInvalid(Gpr.RCX));
        }
        var found = field(TdxMetadataField.Scope.TD, regs.get(Gpr.RDX));
        if (found instanceof FieldLookup.Status s) {
            return completed(regs, defaults, s.status());
        }
        TdxMetadataField f = ((FieldLookup.Found) found).field();
        if (!f.modelled()) {
            return notModelledField(TdcallLeaf.TDG_VM_RD, f);
        }
        if (f.guestReadMask() == 0) {
            return completed(regs, defaults, TdxStatus.TDX_METADATA_FIELD_NOT_READABLE.code());
        }
        if (version > 0) {
            return new TdcallResult.NotModelled(TdcallLeaf.TDG_VM_RD,
                    "TDG.VM.RD version 1 (the next field ID) is not modelled by tdemu's TDX module");
        }
        return completed(regs, GprUpdates.of(Gpr.R8, tdField(vcpu, f) & f.guestReadMask()),
                TdxStatus.TDX_SUCCESS.code());
    }

    /** TDG.VM.WR: RCX VM index 0, RDX field ID, R8 value, R9 write mask; R8 = the previous value. */
    private TdcallResult tdgVmWr(TdVcpu vcpu, TdcallRegs regs) {
        GprUpdates defaults = GprUpdates.of(Gpr.R8, 0);
        if (regs.get(Gpr.RCX) != 0) {
            return completed(regs, defaults, operandInvalid(Gpr.RCX));
        }
        var found = field(TdxMetadataField.Scope.TD, regs.get(Gpr.RDX));
        if (found instanceof FieldLookup.Status s) {
            return completed(regs, defaults, s.status());
        }
        TdxMetadataField f = ((FieldLookup.Found) found).field();
        if (!f.modelled()) {
            return notModelledField(TdcallLeaf.TDG_VM_WR, f);
        }
        Td td = vcpu.td();
        synchronized (td) {
            long old = tdField(vcpu, f);
            long value = regs.get(Gpr.R8), mask = regs.get(Gpr.R9);
            var written = write(f, old, value, mask);
            if (written instanceof FieldWrite.Refused r) {
                return completed(regs, defaults, r.status());
            }
            long next = ((FieldWrite.Written) written).value();
            switch (f) {
                case NOTIFY_ENABLES -> td.setNotifyEnables(next);
                default -> throw new IllegalStateException(f + " has write bits but no store"); // table bug
            }
            return completed(regs, GprUpdates.of(Gpr.R8, old), TdxStatus.TDX_SUCCESS.code());
        }
    }

    /** TDG.VP.RD: RCX reserved (0), RDX field ID; R8 = value, RDX = next field ID (tdemu: none). */
    private TdcallResult tdgVpRd(TdVcpu vcpu, TdcallRegs regs) {
        GprUpdates defaults = GprUpdates.builder().set(Gpr.RDX, MD_FIELD_ID_NA).set(Gpr.R8, 0).build();
        if (regs.get(Gpr.RCX) != 0) {
            return completed(regs, defaults, operandInvalid(Gpr.RCX));
        }
        var found = field(TdxMetadataField.Scope.VP, regs.get(Gpr.RDX));
        if (found instanceof FieldLookup.Status s) {
            return completed(regs, defaults, s.status());
        }
        TdxMetadataField f = ((FieldLookup.Found) found).field();
        if (!f.modelled()) {
            return notModelledField(TdcallLeaf.TDG_VP_RD, f);
        }
        long value = switch (f) {
            case VCPU_INDEX -> vcpu.vcpuIndex();
            default -> throw new IllegalStateException(f + " is marked modelled but has no value"); // table bug
        };
        return completed(regs, defaults.then(GprUpdates.of(Gpr.R8, value & f.guestReadMask())),
                TdxStatus.TDX_SUCCESS.code());
    }

    /** TDG.VP.WR: RCX reserved (0), RDX field ID, R8 value, R9 write mask. tdemu's VP fields are read-only. */
    private TdcallResult tdgVpWr(TdVcpu vcpu, TdcallRegs regs) {
        GprUpdates defaults = GprUpdates.of(Gpr.R8, 0);
        if (regs.get(Gpr.RCX) != 0) {
            return completed(regs, defaults, operandInvalid(Gpr.RCX));
        }
        var found = field(TdxMetadataField.Scope.VP, regs.get(Gpr.RDX));
        if (found instanceof FieldLookup.Status s) {
            return completed(regs, defaults, s.status());
        }
        TdxMetadataField f = ((FieldLookup.Found) found).field();
        if (!f.modelled()) {
            return notModelledField(TdcallLeaf.TDG_VP_WR, f);
        }
        long old = vcpu.vcpuIndex(); // VCPU_INDEX, the only modelled VP field
        var written = write(f, old, regs.get(Gpr.R8), regs.get(Gpr.R9));
        if (written instanceof FieldWrite.Refused r) {
            return completed(regs, defaults, r.status());
        }
        throw new IllegalStateException(f + " has write bits but no store"); // table bug
    }

    private sealed interface FieldLookup {
        record Found(TdxMetadataField field) implements FieldLookup {
        }

        record Status(long status) implements FieldLookup {
        }
    }

    private static FieldLookup field(TdxMetadataField.Scope scope, long id) {
        if (!TdxMetadataField.wellFormed(id)) {
            return new FieldLookup.Status(TdxStatus.TDX_METADATA_FIELD_ID_INCORRECT.code());
        }
        return TdxMetadataField.lookup(scope, id).<FieldLookup>map(FieldLookup.Found::new)
                .orElse(new FieldLookup.Status(TdxStatus.TDX_METADATA_FIELD_ID_INCORRECT.code()));
    }

    private sealed interface FieldWrite {
        record Written(long value) implements FieldWrite {
        }

        record Refused(long status) implements FieldWrite {
        }
    }

    /** The module's write rule: only bits both requested and TD-writable change; others must keep their value. */
    private static FieldWrite write(TdxMetadataField f, long old, long value, long requestMask) {
        long combined = requestMask & f.guestWriteMask();
        if (combined == 0) {
            return new FieldWrite.Refused(TdxStatus.TDX_METADATA_FIELD_NOT_WRITABLE.code());
        }
        if (((value ^ old) & requestMask & ~f.guestWriteMask()) != 0) {
            return new FieldWrite.Refused(TdxStatus.TDX_METADATA_FIELD_VALUE_NOT_VALID.code());
        }
        return new FieldWrite.Written((old & ~combined) | (value & combined));
    }

    private static TdcallResult notModelledField(TdcallLeaf leaf, TdxMetadataField f) {
        return new TdcallResult.NotModelled(leaf, leaf.spelling() + " of " + f + String.format(" (0x%016x)", f.fieldId())
                + " is not modelled by tdemu's TDX module");
    }

    /** The value of a modelled TD-scope field. */
    private static long tdField(TdVcpu vcpu, TdxMetadataField f) {
        Td td = vcpu.td();
        return switch (f) {
            case ATTRIBUTES -> td.attributes().bits();
            case MAX_VCPUS -> td.params().maxVcpus();
            // The TDCS field is a flag: 1 for GPAW 52.
            case GPAW -> td.params().gpaw() == TdParams.GPAW_52 ? 1 : 0;
            case NOTIFY_ENABLES -> td.notifyEnables();
            case CONFIG_FLAGS -> CONFIG_FLAGS | (td.params().gpaw() == TdParams.GPAW_52 ? 1 : 0);
            case NUM_VCPUS -> td.numVcpus();
            default -> throw new IllegalStateException(f + " is marked modelled but has no value"); // table bug
        };
    }

    // ---- guest side: events the module turns into #VE ----

    /** CPUID leaf 0x21 subleaf 0: the module's own leaf, "IntelTDX    " in EBX, EDX, ECX. */
    public static final int TDX_CPUID_LEAF = 0x21;

    /**
     * An instruction or EPT violation of {@code vcpu} that the module intercepts: CPUID leaf 0x21
     * (subleaf 0) is answered inside the TD unless TDG.VP.CPUIDVE.SET asked for #VE on every CPUID;
     * every other CPUID, HLT, port I/O, RDMSR, WRMSR and EPT violations on shared GPAs become #VE
     * (or #DF while the previous #VE's information is unread), except the RDMSR and WRMSR the TD's
     * MSR bitmap passes through, forbids (#GP) or the module answers ({@link TdMsrVirtualization}). An EPT violation on a pending private
     * page is #VE too unless ATTRIBUTES.SEPT_VE_DISABLE; other private EPT violations exit to the host.
     */
    public TdEventResult handleTdEvent(TdVcpu vcpu, TdEvent event) {
        return switch (event) {
            case TdEvent.Cpuid c -> cpuid(vcpu, c);
            case TdEvent.Hlt h -> virtualizationException(vcpu, VeInfo.instruction(ExitReason.HLT.basic(), 0, h.length()));
            case TdEvent.PortIo p -> virtualizationException(vcpu,
                    VeInfo.instruction(ExitReason.IO_INSTRUCTION.basic(), p.exitQualification(), p.length()));
            case TdEvent.Rdmsr r -> switch (TdMsrVirtualization.treatment(r.ecx(), false)) {
                case NATIVE -> new TdEventResult.NativeMsrAccess(r.ecx(), false);
                case GP -> new TdEventResult.InjectGp();
                case VE -> virtualizationException(vcpu, VeInfo.instruction(ExitReason.RDMSR.basic(), 0, r.length()));
                case MODULE -> {
                    long value = TdMsrVirtualization.moduleValue(r.ecx());
                    yield new TdEventResult.AnsweredByModule(GprUpdates.builder().set(Gpr.RAX, value & 0xFFFF_FFFFL)
                            .set(Gpr.RDX, value >>> 32).build(), r.rip() + r.length(), (r.rflags() & Rflags.TF) != 0);
                }
            };
            case TdEvent.Wrmsr w -> switch (TdMsrVirtualization.treatment(w.ecx(), true)) {
                case NATIVE -> new TdEventResult.NativeMsrAccess(w.ecx(), true);
                case GP -> new TdEventResult.InjectGp();
                case VE -> virtualizationException(vcpu, VeInfo.instruction(ExitReason.WRMSR.basic(), 0, w.length()));
                case MODULE -> throw new IllegalStateException("the module answers no MSR write itself");
            };
            case TdEvent.EptViolation e -> eptViolation(vcpu, e);
        };
    }

    private TdEventResult cpuid(TdVcpu vcpu, TdEvent.Cpuid c) {
        int leaf = (int) c.rax(), subleaf = (int) c.rcx();
        boolean alwaysVe = c.cpl() == 0 ? vcpu.cpuidSupervisorVe() : vcpu.cpuidUserVe();
        if (alwaysVe || leaf != TDX_CPUID_LEAF || subleaf != 0) {
            return virtualizationException(vcpu, VeInfo.instruction(ExitReason.CPUID.basic(), 0, c.length()));
        }
        GprUpdates out = GprUpdates.builder()
                .set(Gpr.RAX, 0)
                .set(Gpr.RBX, ascii("Inte"))
                .set(Gpr.RCX, ascii("    "))
                .set(Gpr.RDX, ascii("lTDX"))
                .build();
        return new TdEventResult.AnsweredByModule(out, c.rip() + c.length(), (c.rflags() & Rflags.TF) != 0);
    }

    private TdEventResult eptViolation(TdVcpu vcpu, TdEvent.EptViolation e) {
        Td td = vcpu.td();
        VeInfo info = new VeInfo(ExitReason.EPT_VIOLATION.basic(), e.exitQualification(), e.gla(), e.gpa(), 0, 0);
        if ((e.gpa() & td.params().sharedBit()) != 0) {
            return virtualizationException(vcpu, info); // KVM's shared MMIO mappings leave #VE unsuppressed
        }
        boolean pending = Long.compareUnsigned(e.gpa(), td.params().privateMemoryBytes()) < 0
                && td.acceptedAt(e.gpa()).isEmpty();
        if (pending && !td.attributes().septVeDisable()) {
            return virtualizationException(vcpu, info);
        }
        return new TdEventResult.ExitToHost(ExitReason.EPT_VIOLATION, e.exitQualification(), e.gpa() & ~0xFFFL);
    }

    /** Records the #VE information and injects #VE, or #DF while the last #VE's information is unread. */
    private static TdEventResult virtualizationException(TdVcpu vcpu, VeInfo info) {
        if (vcpu.veInfo().isPresent()) {
            return new TdEventResult.InjectDf(info);
        }
        vcpu.setVeInfo(info);
        return new TdEventResult.InjectVe(info);
    }

    private static long ascii(String four) {
        return four.charAt(0) | (four.charAt(1) << 8) | (four.charAt(2) << 16) | ((long) four.charAt(3) << 24);
    }

    // ---- debug interface (debug TDs only) ----

    public DebugRegisters debugReadDebugRegisters(TdVcpu vcpu) {
        requireDebug(vcpu, "read TD debug registers");
        return vcpu.savedDebugRegisters();
    }

    public void debugWriteDebugRegisters(TdVcpu vcpu, DebugRegisters value) {
        requireDebug(vcpu, "write TD debug registers");
        requireStopped(vcpu);
        vcpu.setSavedDebugRegisters(value);
    }

    /** Reads one of the TD's DR0–3, DR6, DR7. */
    public long debugReadDr(TdVcpu vcpu, int reg) {
        return debugReadDebugRegisters(vcpu).read(reg);
    }

    /** Writes one of the TD's DR0–3, DR6, DR7 (DR6/DR7 get their fixed bits). */
    public void debugWriteDr(TdVcpu vcpu, int reg, long value) {
        DebugRegisters cur = debugReadDebugRegisters(vcpu);
        debugWriteDebugRegisters(vcpu, switch (reg) {
            case 0, 1, 2, 3 -> cur.withDr(reg, value);
            case 6 -> cur.withDr6(new Dr6(value));
            case 7 -> cur.withDr7(new Dr7(value));
            default -> throw new IllegalArgumentException("the TD has no DR" + reg + " to write");
        });
    }

    public ExceptionBitmap debugReadExceptionBitmap(TdVcpu vcpu) {
        requireDebug(vcpu, "read TD exception bitmap");
        return vcpu.exceptionBitmap();
    }

    /** Sets which exceptions in the TD exit to the host (bit 1: #DB intercept). */
    public void debugWriteExceptionBitmap(TdVcpu vcpu, ExceptionBitmap value) {
        requireDebug(vcpu, "write TD exception bitmap");
        vcpu.setExceptionBitmap(value);
    }

    private static void requireDebug(TdVcpu vcpu, String what) {
        if (!vcpu.attributes().debug()) {
            throw new TdxDebugRefused(TdxStatus.TDX_OPERAND_INVALID, what + " of a non-debug TD");
        }
    }

    private static void requireStopped(TdVcpu vcpu) {
        if (vcpu.running()) {
            throw new IllegalStateException("the TD's saved DRs cannot be written while it runs");
        }
    }
}
