package dev.tdemu.gdbstub.target;

import java.util.concurrent.CompletionStage;

/**
 * A target's breakpoints and watchpoints ({@code Z}/{@code z}), an optional capability of a
 * {@link DebugTarget} ({@link DebugTarget#breakpoints()}). Breakpoints are global (all threads).
 * The same threading rules as for {@link DebugTarget} apply: do not block, complete the stage
 * from any thread.
 */
public interface Breakpoints {

    /** The kinds taken; fixed for the target's life. */
    BreakpointSupport support();

    /** Inserts {@code bp} (of a kind in {@link #support()}) for all threads. */
    CompletionStage<BreakpointResult> insert(Breakpoint bp);

    /** Removes a breakpoint inserted before with the same value. */
    CompletionStage<BreakpointResult> remove(Breakpoint bp);
}
