package dev.tdemu.gdbstub.session;

import dev.tdemu.gdbstub.command.Command;
import dev.tdemu.gdbstub.target.Breakpoint;
import dev.tdemu.gdbstub.target.BreakpointResult;
import dev.tdemu.gdbstub.target.BreakpointSupport;
import dev.tdemu.gdbstub.target.Breakpoints;
import dev.tdemu.gdbstub.target.DebugTarget;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * {@code Z}/{@code z}: kinds the target does not take ({@link BreakpointSupport}) get the empty
 * reply without a call; the target's answer is {@code OK} or {@code E.Zn.reason} (gdb 13 prints
 * the reason for {@code Z1}). The session remembers what it inserted, so that a debugger leaving
 * without removing its breakpoints does not leave them behind ({@link #removeAll}).
 */
final class BreakpointHandler {
    private static final Logger LOG = LogManager.getLogger("dev.tdemu.gdbstub.session");

    private final Link link;
    private final Optional<Breakpoints> breakpoints;
    private final BreakpointSupport support;
    private final Set<Breakpoint> inserted = new LinkedHashSet<>();

    BreakpointHandler(Link link, DebugTarget target) {
        this.link = link;
        this.breakpoints = target.breakpoints();
        this.support = breakpoints.map(Breakpoints::support)
                .orElse(new BreakpointSupport(false, false, Set.of(), 0));
    }

    /** What the target takes (none without {@link DebugTarget#breakpoints()}). */
    BreakpointSupport support() {
        return support;
    }

    CompletionStage<Void> handle(Command.BreakpointCommand command) {
        return switch (command) {
            case Command.InsertBreakpoint i -> change(i, i.breakpoint(), true);
            case Command.RemoveBreakpoint r -> change(r, r.breakpoint(), false);
        };
    }

    private CompletionStage<Void> change(Command command, Breakpoint bp, boolean insert) {
        if (breakpoints.isEmpty() || !support.supports(bp)) {
            LOG.debug("the target takes no Z{} breakpoints", bp.zType());
            return link.sendNow("");
        }
        Breakpoints ops = breakpoints.get();
        CompletableFuture<BreakpointResult> result = insert
                ? link.call("insert breakpoint", () -> ops.insert(bp))
                : link.call("remove breakpoint", () -> ops.remove(bp));
        return link.reply(command, result, r -> switch (r) {
            case BreakpointResult.Ok ok -> {
                if (insert) {
                    inserted.add(bp);
                } else {
                    inserted.remove(bp);
                }
                yield "OK";
            }
            case BreakpointResult.Refused refused -> {
                LOG.debug("target refused {} Z{} at 0x{}: {}", insert ? "insert" : "remove", bp.zType(),
                        Long.toHexString(bp.address()), refused.message());
                // gdb prints the text after the second '.' ("Remote failure reply: ...") for Z1.
                yield "E." + (insert ? "Z" : "z") + bp.zType() + "." + Link.sanitize(refused.message());
            }
        });
    }

    /** Removes every breakpoint this session inserted (the debugger left), each step within {@code timeout}. */
    CompletableFuture<Void> removeAll(Duration timeout, Level lifecycle) {
        List<Breakpoint> toRemove = new ArrayList<>(inserted);
        inserted.clear();
        CompletableFuture<Void> chain = Link.DONE;
        if (breakpoints.isEmpty()) {
            return chain;
        }
        Breakpoints ops = breakpoints.get();
        for (Breakpoint bp : toRemove) {
            chain = chain.thenCompose(v -> Link.withTimeout(link.call("remove breakpoint", () -> ops.remove(bp)), timeout)
                    .handle((r, e) -> {
                        if (e != null || !(r instanceof BreakpointResult.Ok)) {
                            LOG.warn("could not remove {} at 0x{}: {}", bp, Long.toHexString(bp.address()),
                                    e != null ? Link.describe(e) : r);
                        }
                        return null;
                    }));
        }
        if (!toRemove.isEmpty()) {
            LOG.log(lifecycle, "removing {} breakpoint(s) left by gdb", toRemove.size());
        }
        return chain;
    }

    /** The target was killed: its breakpoints went with it. */
    void forgetAll() {
        inserted.clear();
    }
}
