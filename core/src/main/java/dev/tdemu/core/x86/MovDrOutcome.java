package dev.tdemu.core.x86;

/** What a MOV to or from a debug register did. */
public sealed interface MovDrOutcome {

    /**
     * The MOV executed. For a MOV from DR, {@code value} is what the GPR receives; for a MOV to DR,
     * what the register now reads back (fixed bits applied).
     */
    record Completed(long value) implements MovDrOutcome {
    }

    /** DR7.GD was set: #DB fault with BD before the MOV; nothing was read or written. */
    record GeneralDetect(DebugException exception) implements MovDrOutcome {
    }

    /** #GP(0) or #UD before the MOV; nothing was read or written. */
    record Fault(ExceptionVector vector) implements MovDrOutcome {
    }
}
