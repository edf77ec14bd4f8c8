package dev.tdemu.gdbstub.session;

import dev.tdemu.gdbstub.command.Command;
import dev.tdemu.gdbstub.command.ThreadId;
import dev.tdemu.gdbstub.target.DebugTarget;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The end of a session: {@code D} (remove this client's breakpoints, detach, {@code OK}, close),
 * {@code k} (kill, close, no reply, as gdb expects), {@code vKill} (kill, {@code OK}), and a
 * connection that ended without either (stop the target if it runs, remove the breakpoints,
 * detach, so the guest runs on untouched). {@link #finished()} completes once the target is released.
 */
final class LifecycleHandler {
    private static final Logger LOG = LogManager.getLogger("dev.tdemu.gdbstub.session");

    private final Link link;
    private final DebugTarget target;
    private final BreakpointHandler breakpoints;
    private final ExecutionHandler execution;
    private final Level lifecycle;
    private final CompletableFuture<Void> finished;
    private boolean ended;

    LifecycleHandler(Link link, DebugTarget target, BreakpointHandler breakpoints, ExecutionHandler execution,
                     Level lifecycle, CompletableFuture<Void> finished) {
        this.link = link;
        this.target = target;
        this.breakpoints = breakpoints;
        this.execution = execution;
        this.lifecycle = lifecycle;
        this.finished = finished;
    }

    /** Whether gdb ended the session itself (detach or kill). */
    boolean ended() {
        return ended;
    }

    CompletionStage<Void> handle(Command.LifecycleCommand command) {
        return switch (command) {
            case Command.Detach d -> detach(d);
            case Command.Kill k -> kill(k, false);
            case Command.VKill k -> k.pid() == ThreadId.PROCESS_ID
                    ? kill(k, true) : link.sendNow(link.errorReply(k, Link.ESRCH, "no process " + k.pid()));
        };
    }

    private CompletionStage<Void> detach(Command.Detach d) {
        if (d.pid().isPresent() && d.pid().getAsInt() != ThreadId.PROCESS_ID) {
            return link.sendNow(link.errorReply(d, Link.ESRCH, "no process " + d.pid().getAsInt()));
        }
        ended = true;
        LOG.log(lifecycle, "gdb detaches");
        return releaseTarget().handle((v, e) -> {
            link.sendAndClose(e == null ? "OK" : link.errorFor(d, e));
            finished.complete(null);
            return null;
        });
    }

    private CompletionStage<Void> kill(Command command, boolean reply) {
        ended = true;
        LOG.log(lifecycle, "gdb kills the target");
        breakpoints.forgetAll();
        return link.call("kill", target::kill).handle((v, e) -> {
            if (e != null) {
                LOG.warn("killing the target failed: {}", Link.describe(e));
            }
            if (reply) {
                link.send(e == null ? "OK" : link.errorFor(command, e));
            } else {
                link.close();
            }
            finished.complete(null);
            return null;
        });
    }

    /** The connection ended without detach: stop the target if it runs, then release it. */
    void releaseAfterDisconnect() {
        execution.stopForCleanup(link.options().cleanupTimeout(), lifecycle)
                .thenCompose(v -> link.onLoop(releaseTarget())).whenComplete((v, e) -> {
                    if (e != null) {
                        LOG.warn("releasing the target failed: {}", Link.describe(e));
                    }
                    finished.complete(null);
                });
    }

    /** Removes the breakpoints this session inserted, then detaches the target (it resumes). */
    private CompletableFuture<Void> releaseTarget() {
        return breakpoints.removeAll(link.options().cleanupTimeout(), lifecycle)
                .thenCompose(v -> Link.withTimeout(link.call("detach", target::detach), link.options().cleanupTimeout()))
                .thenApply(v -> (Void) null);
    }
}
