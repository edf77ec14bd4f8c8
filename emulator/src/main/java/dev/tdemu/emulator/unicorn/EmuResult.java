package dev.tdemu.emulator.unicorn;

/** Why {@link Unicorn#emuStart} returned normally. Engine errors are thrown instead. */
public enum EmuResult {
    /**
     * The engine returned on its own: a {@code hlt}, a hook's {@link Unicorn#emuStop()}, or the
     * instruction count ran out. The guest's RIP tells which.
     */
    COMPLETED,
    /**
     * A {@link Unicorn#stop()} request was consumed by this return. The engine may have ended for
     * one of the {@link #COMPLETED} reasons at the same moment; RIP is where execution resumes either
     * way, so a caller that re-enters loses nothing.
     */
    STOPPED,
    /** The timeout given to {@link Unicorn#emuStart(long, long, long)} expired. */
    TIMED_OUT
}
