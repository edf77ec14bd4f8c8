package dev.tdemu.gdbstub.target;

import java.util.Objects;

/**
 * What the target reports when all its threads have stopped (all-stop mode): the completion value
 * of {@link DebugTarget#resume} and {@link DebugTarget#attach}.
 */
public sealed interface StopEvent {

    /**
     * The target halted; {@code threadId} is the thread that caused the stop and becomes gdb's
     * current thread.
     *
     * @param threadId the reporting thread (one of {@link DebugTarget#threads()})
     * @param signal   the gdb signal number, usually {@link GdbSignal#TRAP} or {@link GdbSignal#INT}
     * @param reason   why it stopped
     */
    record Stopped(int threadId, int signal, StopReason reason) implements StopEvent {
        public Stopped {
            if (threadId < 1) {
                throw new IllegalArgumentException("thread ids start at 1, got " + threadId);
            }
            GdbSignal.check(signal);
            Objects.requireNonNull(reason, "reason");
        }
    }

    /** The target is gone: it exited with {@code status} (reported as {@code Wxx}). */
    record Exited(int status) implements StopEvent {
        public Exited {
            if (status < 0 || status > 0xff) {
                throw new IllegalArgumentException("exit status is 0..255, got " + status);
            }
        }
    }

    /** The target is gone: it was terminated by {@code signal} (reported as {@code Xxx}). */
    record Terminated(int signal) implements StopEvent {
        public Terminated {
            GdbSignal.check(signal);
        }
    }

    static Stopped hardwareBreakpoint(int threadId) {
        return new Stopped(threadId, GdbSignal.TRAP, StopReason.HARDWARE_BREAKPOINT);
    }

    static Stopped softwareBreakpoint(int threadId) {
        return new Stopped(threadId, GdbSignal.TRAP, StopReason.SOFTWARE_BREAKPOINT);
    }

    static Stopped watchpoint(int threadId, WatchKind kind, long dataAddress) {
        return new Stopped(threadId, GdbSignal.TRAP, new StopReason.Watchpoint(kind, dataAddress));
    }

    static Stopped stepDone(int threadId) {
        return new Stopped(threadId, GdbSignal.TRAP, StopReason.STEP_DONE);
    }

    static Stopped interrupted(int threadId) {
        return new Stopped(threadId, GdbSignal.INT, StopReason.INTERRUPTED);
    }

    static Stopped signalled(int threadId, int signal) {
        return new Stopped(threadId, signal, StopReason.OTHER);
    }

    /** A stop at a fault the machine would not survive (see {@link StopReason.Fault}). */
    static Stopped fault(int threadId, int signal, String explanation) {
        return new Stopped(threadId, signal, new StopReason.Fault(explanation));
    }

    static Exited exited(int status) {
        return new Exited(status);
    }

    static Terminated terminated(int signal) {
        return new Terminated(signal);
    }
}
