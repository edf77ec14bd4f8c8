package dev.tdemu.gdbstub.target;

import java.util.Objects;

/**
 * The target's answer to a breakpoint insertion or removal. (Whether a kind is supported at all
 * is not an answer: it is declared up front in {@link BreakpointSupport}.)
 */
public sealed interface BreakpointResult {

    /** Done; the stub replies {@code OK}. */
    record Ok() implements BreakpointResult {
    }

    /**
     * Refused, with a reason a person can act on ("hardware breakpoints need a debug TD"). The stub
     * replies {@code E.Zn.message}; gdb 13 prints the message for {@code Z1}.
     */
    record Refused(String message) implements BreakpointResult {
        public Refused {
            Objects.requireNonNull(message, "message");
        }
    }

    BreakpointResult OK = new Ok();

    static BreakpointResult refused(String message) {
        return new Refused(message);
    }
}
