package dev.tdemu.gdbstub.target;

import java.util.Objects;

/** Why a thread stopped; the stub turns it into the reason field of a {@code T} stop reply. */
public sealed interface StopReason {

    /** An execute breakpoint ({@link Breakpoint.Hardware}, a debug register) fired; the PC is at the breakpoint address. */
    record HardwareBreakpoint() implements StopReason {
    }

    /**
     * A software breakpoint ({@link Breakpoint.Software}) fired. The target reports the PC <em>at</em> the breakpoint
     * address (already adjusted back over INT3), because the stub advertises {@code swbreak+}.
     */
    record SoftwareBreakpoint() implements StopReason {
    }

    /**
     * A data watchpoint ({@link Breakpoint.Watchpoint}) fired after the accessing instruction completed.
     *
     * @param kind        which access kind the watchpoint was set for
     * @param dataAddress the watched address that was hit (what DR0-3 held), reported to gdb
     */
    record Watchpoint(WatchKind kind, long dataAddress) implements StopReason {
        public Watchpoint {
            Objects.requireNonNull(kind, "kind");
        }
    }

    /** A single step requested by a resume action completed. */
    record StepDone() implements StopReason {
    }

    /** The target stopped because {@link DebugTarget#interrupt()} was called (gdb's Ctrl-C). */
    record Interrupted() implements StopReason {
    }

    /** Any other stop: a guest fault, a halt on attach, ... The signal says what it looked like. */
    record Other() implements StopReason {
    }

    /**
     * The target stopped where the machine would have ended or faulted (a triple fault), with the
     * state intact for inspection; {@code explanation} (one line) goes to gdb's console before the
     * stop reply, and the signal says what it looked like (SIGSEGV for a shutdown).
     */
    record Fault(String explanation) implements StopReason {
        public Fault {
            java.util.Objects.requireNonNull(explanation, "explanation");
        }
    }

    StopReason HARDWARE_BREAKPOINT = new HardwareBreakpoint();
    StopReason SOFTWARE_BREAKPOINT = new SoftwareBreakpoint();
    StopReason STEP_DONE = new StepDone();
    StopReason INTERRUPTED = new Interrupted();
    StopReason OTHER = new Other();
}
