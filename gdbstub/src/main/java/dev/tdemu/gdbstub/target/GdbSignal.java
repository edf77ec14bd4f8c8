package dev.tdemu.gdbstub.target;

/**
 * The gdb signal numbers the stub uses in stop replies and resume actions. These are gdb's
 * target-independent numbers ({@code enum gdb_signal}), which coincide with Linux's for the
 * classic signals below.
 */
public final class GdbSignal {
    /** No signal: a plain resume, or a stop that is not signal-like. */
    public static final int NONE = 0;
    /** Interrupt: the answer to gdb's Ctrl-C. */
    public static final int INT = 2;
    /** Illegal instruction (#UD). */
    public static final int ILL = 4;
    /** Trace/breakpoint trap: breakpoints, watchpoints, single-step completion. */
    public static final int TRAP = 5;
    /** Abort, e.g. a guest's fatal-error report. */
    public static final int ABRT = 6;
    /** Bus error. */
    public static final int BUS = 7;
    /** Floating point exception (#DE, #MF, #XM). */
    public static final int FPE = 8;
    /** Killed. */
    public static final int KILL = 9;
    /** Segmentation fault (#PF, #GP). */
    public static final int SEGV = 11;

    private GdbSignal() {
    }

    /** Checks that {@code signal} fits the two hex digits the protocol gives it. */
    public static int check(int signal) {
        if (signal < 0 || signal > 0xff) {
            throw new IllegalArgumentException("gdb signal numbers are 0..255, got " + signal);
        }
        return signal;
    }
}
