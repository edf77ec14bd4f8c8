package dev.tdemu.core.kvm;

import dev.tdemu.core.host.HostCpu;
import dev.tdemu.core.vmx.ExitReason;
import dev.tdemu.core.x86.DebugRegisterFile;
import dev.tdemu.core.x86.DebugRegisters;
import dev.tdemu.core.x86.DrAccess;
import dev.tdemu.core.x86.RecordingDrAccess;

/**
 * The debug-state parts of vcpu_enter_guest and the vendor's vcpu_run, as the vCPU's policy
 * program says ({@link PolicyExecutor} runs its phases). Each step returns the {@link DrSequence}
 * it performed on the physical registers.
 *
 * <p>Run-loop order: {@link #beforeEntry} (with the VCPU_LOAD phase first when the vCPU is not
 * loaded) → hardware entry → guest runs → hardware exit → {@link #afterExit} → invariant checks →
 * exit handling. {@link #enterGuest}/{@link #exitGuest} bundle a KVM step with the hardware step and
 * snapshot the registers for the trace.
 */
public final class VcpuEnterGuest {

    private VcpuEnterGuest() {
    }

    /**
     * kvm_arch_vcpu_load()/prepare_switch_to_guest(): the policy's VCPU_LOAD phase, with IRQs
     * still enabled. {@link #beforeEntry} runs it by itself when the vCPU is not loaded; call it
     * directly to let the host change something between the load and the entry.
     */
    public static DrSequence vcpuLoad(KvmVcpu vcpu, HostCpu host, DrAccess cpu) {
        RecordingDrAccess dr = new RecordingDrAccess(cpu);
        PolicyExecutor.run(PolicyPhase.VCPU_LOAD, vcpu, host, dr);
        vcpu.loaded = true;
        return DrSequence.of(dr);
    }

    /** kvm_arch_vcpu_put(): the next entry loads the vCPU again. */
    public static void vcpuPut(KvmVcpu vcpu) {
        vcpu.loaded = false;
    }

    /**
     * Before entry: the VCPU_LOAD phase if the vCPU is not loaded, then the BEFORE_ENTRY phase with
     * fresh run_flags. For the seed policies: when the load condition holds, DR7 ← 0x400 first (so
     * no half-loaded breakpoint can fire in the host), DR0–3 ← effDb, DR6 ← dr6 only with WONT_EXIT,
     * then RELOAD cleared; otherwise, with host breakpoints active, DR7 ← 0x400.
     */
    public static DrSequence beforeEntry(KvmVcpu vcpu, HostCpu host, DrAccess cpu) {
        RecordingDrAccess dr = new RecordingDrAccess(cpu);
        if (!vcpu.loaded) {
            PolicyExecutor.run(PolicyPhase.VCPU_LOAD, vcpu, host, dr);
            vcpu.loaded = true;
        }
        vcpu.runFlags = 0;
        PolicyExecutor.run(PolicyPhase.BEFORE_ENTRY, vcpu, host, dr);
        return DrSequence.of(dr);
    }

    /**
     * After exit: the VCPU_RUN_AFTER_EXIT phase, the WONT_EXIT_SYNC phase when switch_db_regs has
     * WONT_EXIT, then the AFTER_EXIT phase. For the seed policies: with WONT_EXIT, the WARN_ONs for
     * USE_HW_BP and AUTO_SWITCH, sync_dirty_debug_regs, kvmUpdateDr0123 and kvmUpdateDr7; then the
     * host's breakpoints are restored as the policy says.
     */
    public static DrSequence afterExit(KvmVcpu vcpu, HostCpu host, DrAccess cpu) {
        RecordingDrAccess dr = new RecordingDrAccess(cpu);
        PolicyExecutor.run(PolicyPhase.VCPU_RUN_AFTER_EXIT, vcpu, host, dr);
        if (vcpu.switchDbRegs().wontExit()) {
            PolicyExecutor.run(PolicyPhase.WONT_EXIT_SYNC, vcpu, host, dr);
        }
        PolicyExecutor.run(PolicyPhase.AFTER_EXIT, vcpu, host, dr);
        return DrSequence.of(dr);
    }

    /**
     * The physical DRs around an entry: before KVM's sequence, the sequence, after it, and once the
     * guest starts (after VM entry, TDH.VP.ENTER or VMRUN); and IA32_DEBUGCTL after the sequence and
     * while the guest runs.
     */
    public record EntryTrace(DebugRegisters hwBeforeSequence, DrSequence sequence,
                             DebugRegisters hwAfterSequence, DebugRegisters hwInGuest,
                             long debugctlAfterSequence, long debugctlInGuest) {
    }

    /**
     * The physical DRs around an exit: right after the hardware exit, KVM's sequence, and when KVM
     * is done; IA32_DEBUGCTL at the same two points.
     */
    public record ExitTrace(DebugRegisters hwAtExit, DrSequence sequence, DebugRegisters hwAfterSequence,
                            long debugctlAtExit, long debugctlAfterSequence) {
    }

    /** {@link #beforeEntry}, then the hardware entry (VM entry, TDH.VP.ENTER or VMRUN). */
    public static EntryTrace enterGuest(KvmVcpu vcpu, HostCpu host, DebugRegisterFile cpu) {
        DebugRegisters before = cpu.snapshot();
        DrSequence seq = beforeEntry(vcpu, host, cpu);
        DebugRegisters after = cpu.snapshot();
        long debugctlAfter = cpu.debugctl();
        vcpu.backing().enterHardware(cpu);
        return new EntryTrace(before, seq, after, cpu.snapshot(), debugctlAfter, cpu.debugctl());
    }

    /** The hardware exit (VM exit, TD exit or #VMEXIT), then {@link #afterExit}. */
    public static ExitTrace exitGuest(KvmVcpu vcpu, HostCpu host, DebugRegisterFile cpu,
                                      ExitReason reason, long qualification) {
        vcpu.backing().exitHardware(cpu, reason, qualification);
        DebugRegisters atExit = cpu.snapshot();
        long debugctlAtExit = cpu.debugctl();
        DrSequence seq = afterExit(vcpu, host, cpu);
        return new ExitTrace(atExit, seq, cpu.snapshot(), debugctlAtExit, cpu.debugctl());
    }
}
