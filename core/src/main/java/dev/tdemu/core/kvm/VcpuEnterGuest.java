package dev.tdemu.core.kvm;

import dev.tdemu.core.host.HostCpu;
import dev.tdemu.core.vmx.ExitReason;
import dev.tdemu.core.x86.DebugRegisterFile;
import dev.tdemu.core.x86.DebugRegisters;
import dev.tdemu.core.x86.Dr6;
import dev.tdemu.core.x86.Dr7;
import dev.tdemu.core.x86.DrAccess;
import dev.tdemu.core.x86.RecordingDrAccess;

/**
 * The debug-register parts of vcpu_enter_guest, for the vCPU's {@link DrSwitchPolicy}. Each step
 * returns the {@link DrSequence} it performed on the physical registers.
 *
 * <p>Run-loop order: {@link #beforeEntry} → hardware entry → guest runs → hardware exit →
 * {@link #afterExit} → invariant checks → exit handling. {@link #enterGuest}/{@link #exitGuest}
 * bundle a KVM step with the hardware step and snapshot the registers for the trace.
 */
public final class VcpuEnterGuest {

    private static final String FUNCTION = "vcpu_enter_guest";

    private VcpuEnterGuest() {
    }

    /**
     * Before entry. When the policy's load condition holds: DR7 ← 0x400 first (so no half-loaded
     * breakpoint can fire in the host), DR0–3 ← effDb, DR6 ← dr6 only with WONT_EXIT (the guest
     * will read it directly), then clear RELOAD. Otherwise, with host breakpoints active, DR7 ←
     * 0x400 so they cannot fire on guest addresses.
     */
    public static DrSequence beforeEntry(KvmVcpu vcpu, HostCpu host, DrAccess cpu) {
        RecordingDrAccess dr = new RecordingDrAccess(cpu);
        SwitchDbRegs s = vcpu.switchDbRegs();
        if (vcpu.policy().loadsGuestDebugRegisters(s)) {
            loadGuestDebugRegisters(vcpu, dr);
        } else if (host.hwBreakpointActive()) {
            dr.setDebugreg(7, Dr7.RESET.value());
        }
        return new DrSequence(dr.operations());
    }

    private static void loadGuestDebugRegisters(KvmVcpu vcpu, DrAccess dr) {
        dr.setDebugreg(7, Dr7.RESET.value());
        for (int n = 0; n < 4; n++) {
            dr.setDebugreg(n, vcpu.effDb(n));
        }
        if (vcpu.switchDbRegs().wontExit()) {
            dr.setDebugreg(6, vcpu.dr6().value());
        }
        vcpu.clearSwitchFlag(SwitchDbRegs.RELOAD);
    }

    /**
     * After exit. With WONT_EXIT: record the WARN_ONs for USE_HW_BP and AUTO_SWITCH, sync the
     * guest's DRs back (sync_dirty_debug_regs), then kvmUpdateDr0123 and kvmUpdateDr7. Then restore
     * the host's breakpoints as the policy says.
     */
    public static DrSequence afterExit(KvmVcpu vcpu, HostCpu host, DrAccess cpu) {
        RecordingDrAccess dr = new RecordingDrAccess(cpu);
        if (vcpu.switchDbRegs().wontExit()) {
            if (vcpu.guestDebug().useHwBp()) {
                vcpu.warn(FUNCTION, "vcpu->guest_debug & KVM_GUESTDBG_USE_HW_BP");
            }
            if (vcpu.switchDbRegs().autoSwitch()) {
                vcpu.warn(FUNCTION, "vcpu->arch.switch_db_regs & KVM_DEBUGREG_AUTO_SWITCH");
            }
            syncDirtyDebugRegs(vcpu, dr);
            vcpu.kvmUpdateDr0123();
            vcpu.kvmUpdateDr7();
        }
        switch (vcpu.policy().hostRestoreAfterExit(vcpu.switchDbRegs(), host.hwBreakpointActive())) {
            case NONE -> {
            }
            case DR7 -> dr.setDebugreg(7, host.cpuDr7().value());
            case FULL -> host.hwBreakpointRestore(dr);
        }
        return new DrSequence(dr.operations());
    }

    /**
     * sync_dirty_debug_regs: the guest ran with direct DR access, so its DR0–3 and DR6 are in
     * hardware and its DR7 in the VMCS (saved by VM exit); copy them into db/dr6/dr7, clear
     * WONT_EXIT and intercept MOV DR again.
     */
    private static void syncDirtyDebugRegs(KvmVcpu vcpu, DrAccess dr) {
        long[] hw = new long[4];
        for (int n = 0; n < 4; n++) {
            hw[n] = dr.getDebugreg(n);
        }
        Dr6 hwDr6 = new Dr6(dr.getDebugreg(6));
        vcpu.syncGuestView(hw, hwDr6, vcpu.guestDr7Field());
        vcpu.clearSwitchFlag(SwitchDbRegs.WONT_EXIT);
        vcpu.setMovDrExiting(true);
    }

    /**
     * The physical DRs around an entry: before KVM's sequence, the sequence, after it, and once the
     * guest starts (after VM entry or TDH.VP.ENTER).
     */
    public record EntryTrace(DebugRegisters hwBeforeSequence, DrSequence sequence,
                             DebugRegisters hwAfterSequence, DebugRegisters hwInGuest) {
    }

    /** The physical DRs around an exit: right after the hardware exit, KVM's sequence, and when KVM is done. */
    public record ExitTrace(DebugRegisters hwAtExit, DrSequence sequence, DebugRegisters hwAfterSequence) {
    }

    /** {@link #beforeEntry}, then the hardware entry (VM entry, or TDH.VP.ENTER for a TD). */
    public static EntryTrace enterGuest(KvmVcpu vcpu, HostCpu host, DebugRegisterFile cpu) {
        DebugRegisters before = cpu.snapshot();
        DrSequence seq = beforeEntry(vcpu, host, cpu);
        DebugRegisters after = cpu.snapshot();
        vcpu.backing().enterHardware(cpu);
        return new EntryTrace(before, seq, after, cpu.snapshot());
    }

    /** The hardware exit (VM exit, or the TDX module's TD exit), then {@link #afterExit}. */
    public static ExitTrace exitGuest(KvmVcpu vcpu, HostCpu host, DebugRegisterFile cpu,
                                      ExitReason reason, long qualification) {
        vcpu.backing().exitHardware(cpu, reason, qualification);
        DebugRegisters atExit = cpu.snapshot();
        DrSequence seq = afterExit(vcpu, host, cpu);
        return new ExitTrace(atExit, seq, cpu.snapshot());
    }
}
