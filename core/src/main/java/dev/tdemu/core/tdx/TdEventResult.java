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

    /** A TD exit to the host with this exit reason, qualification and GPA (a private-memory EPT violation). */
    record ExitToHost(ExitReason reason, long exitQualification, long gpa) implements TdEventResult {
    }
}
