package dev.tdemu.core.tdx;

import dev.tdemu.core.vmx.ExitReason;

/** What happens to a {@link TdEvent}, from {@link TdxModule#handleTdEvent}. */
public sealed interface TdEventResult {

    /**
     * The module emulated the instruction inside the TD: write {@code updates}, set RIP to
     * {@code nextRip}, and when {@code singleStepTrap} deliver the single-step #DB (BS) the completed
     * instruction owes because RFLAGS.TF was set.
     */
    record AnsweredByModule(GprUpdates updates, long nextRip, boolean singleStepTrap) implements TdEventResult {
    }

    /**
     * Deliver #VE (vector 20, a fault: the return RIP is the instruction's, the pushed RFLAGS has RF
     * set). {@code info} is recorded for TDG.VP.VEINFO.GET until the TD reads it.
     */
    record InjectVe(VeInfo info) implements TdEventResult {
    }

    /**
     * Deliver #DF(0) instead of #VE: the TD has not read the previous #VE's information yet, so the
     * module has nowhere to record this one ({@code lost} is what it would have recorded).
     */
    record InjectDf(VeInfo lost) implements TdEventResult {
    }

    /**
     * The TD's MSR bitmap does not intercept this RDMSR or WRMSR: the CPU performs it on the
     * vCPU's own MSR (and a #GP for a bad value comes from there, as on bare metal).
     */
    record NativeMsrAccess(long msr, boolean write) implements TdEventResult {
    }

    /** Deliver #GP(0): an MSR the TD may not access at all. */
    record InjectGp() implements TdEventResult {
    }

    /** A TD exit to the host with this exit reason, qualification and GPA (a private-memory EPT violation). */
    record ExitToHost(ExitReason reason, long exitQualification, long gpa) implements TdEventResult {
    }
}
