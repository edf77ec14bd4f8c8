package dev.tdemu.core.kvm;

import dev.tdemu.core.x86.Gpr;
import dev.tdemu.core.tdx.GprUpdates;

/**
 * What KVM's handling of a TDG.VP.VMCALL ({@link TdxVmcall#handleTdvmcall}) leads to. The
 * register writes go to KVM's {@code vp_enter_args}; the emulator hands them to
 * {@code TdxModule.vmcallReturn}, which gives the TD only those it passed.
 */
public sealed interface TdVmcallResult {

    /** The call is done: R10 holds the TDVMCALL status, R11.. the outputs. Re-enter the TD. */
    record Completed(GprUpdates registers) implements TdVmcallResult {
        public long r10() {
            return registers.value(Gpr.R10);
        }
    }

    /**
     * Instruction.HLT: the vCPU halts ({@code kvm_emulate_halt_noskip}) until an interrupt it can
     * take; with {@code interruptsBlocked} (the TD's R12 flag) none can wake it. When it resumes,
     * the call completes with {@code registers} (R10 = success).
     */
    record Halt(boolean interruptsBlocked, GprUpdates registers) implements TdVmcallResult {
    }

    /** The call ends the VM (tdemu's exit hypercall, ReportFatalError). */
    record Ends(VmEnd end) implements TdVmcallResult {
    }

    /** A valid request tdemu cannot carry out (e.g. MapGPA to shared memory): stop the VM with {@code what}. */
    record NotModelled(String what) implements TdVmcallResult {
    }
}
