package dev.tdemu.gdbstub.target;

/** What one thread does on a resume in all-stop mode. */
public enum ResumeAction {
    /** Run until the next stop event. */
    CONTINUE,
    /** Execute one instruction, then report {@link StopReason.StepDone} (unless something else stops first). */
    STEP,
    /** Stay halted while the others run. */
    STAY_STOPPED
}
