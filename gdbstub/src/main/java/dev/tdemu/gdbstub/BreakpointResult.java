package dev.tdemu.gdbstub;

import java.util.Objects;

/** The target's answer to a breakpoint insertion or removal. */
public sealed interface BreakpointResult {

    /** Done; the stub replies {@code OK}. */
    record Ok() implements BreakpointResult {
    }

    /** This breakpoint type is not supported at all; the stub replies with the empty packet. */
    record Unsupported() implements BreakpointResult {
    }

    /**
     * Refused, with a reason a person can act on ("hardware breakpoints need a debug TD"). The stub
     * replies with an {@code E} packet carrying the message; gdb 13 prints it for Z1.
     */
    record Refused(String message) implements BreakpointResult {
        public Refused {
            Objects.requireNonNull(message, "message");
        }
    }

    BreakpointResult OK = new Ok();
    BreakpointResult UNSUPPORTED = new Unsupported();

    static BreakpointResult refused(String message) {
        return new Refused(message);
    }
}
