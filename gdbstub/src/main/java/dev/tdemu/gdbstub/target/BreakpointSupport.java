package dev.tdemu.gdbstub.target;

import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;

/**
 * Which breakpoints a target takes, declared up front: the stub answers a {@code Z} packet of any
 * other kind with the empty reply (gdb then stops using that kind) without asking the target, and
 * offers {@code swbreak+}/{@code hwbreak+} only for the kinds here.
 *
 * @param software       {@code Z0}
 * @param hardware       {@code Z1}
 * @param watchpoints    which of {@code Z2}-{@code Z4}
 * @param debugRegisters how many debug-register slots hardware breakpoints and watchpoints share
 *                       (4 on x86), 0 when the target has no fixed number; reported to debuggers
 *                       that ask for it (lldb's {@code qWatchpointSupportInfo})
 */
public record BreakpointSupport(boolean software, boolean hardware, Set<WatchKind> watchpoints, int debugRegisters) {
    public BreakpointSupport {
        watchpoints = watchpoints.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(watchpoints));
        if (debugRegisters < 0) {
            throw new IllegalArgumentException("debugRegisters is at least 0, got " + debugRegisters);
        }
    }

    /** Every kind, with x86's four debug registers. */
    public static BreakpointSupport x86() {
        return new BreakpointSupport(true, true, EnumSet.allOf(WatchKind.class), 4);
    }

    /** Whether {@code bp} is of a kind this target takes. */
    public boolean supports(Breakpoint bp) {
        Objects.requireNonNull(bp, "bp");
        return switch (bp) {
            case Breakpoint.Software s -> software;
            case Breakpoint.Hardware h -> hardware;
            case Breakpoint.Watchpoint w -> watchpoints.contains(w.kind());
        };
    }
}
