package dev.tdemu.gdbstub.session;

import dev.tdemu.gdbstub.command.Command;
import dev.tdemu.gdbstub.command.CommandParser;
import dev.tdemu.gdbstub.registers.RegisterLayout;
import dev.tdemu.gdbstub.rsp.RspFrame;
import dev.tdemu.gdbstub.rsp.RspOutbound;
import dev.tdemu.gdbstub.target.DebugTarget;
import dev.tdemu.gdbstub.target.TargetException;
import io.netty.channel.ChannelHandlerContext;
import io.netty.util.ReferenceCountUtil;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * One gdb connection: acknowledges packets, parses them into {@link Command}s and hands each, one
 * at a time, to the handler of its feature (registers, memory, breakpoints, execution, threads,
 * queries, monitor, the session's end). All state lives on the channel's event loop; target calls
 * are asynchronous and their results hop back onto the loop, so the loop never blocks on the target.
 *
 * <p>All-stop: while a resume is outstanding only Ctrl-C is served; the resume's stop event
 * produces exactly one stop reply. Non-stop ({@code QNonStop:1}): every command is served while
 * threads run, and stops come as {@code %Stop} notifications ({@link NonStopHandler}). When the connection ends without a detach, the session stops
 * the target (if running), removes the breakpoints it inserted and detaches, so the target keeps
 * running without a debugger; {@link #finished()} completes then.
 */
public final class GdbSession extends OnceActiveHandler {
    private static final Logger LOG = LogManager.getLogger("dev.tdemu.gdbstub.session");

    private final DebugTarget target;
    private final RegisterLayout layout;
    private final SessionOptions options;
    private final CompletionStage<Void> startGate;
    private final Level lifecycle;
    private final CompletableFuture<Void> finished = new CompletableFuture<>();
    private final CommandParser parser = new CommandParser();
    /**
     * Frames read but not yet handled: they wait while a command is outstanding, or while the
     * client's output is over its limit (see {@link #drain()}); at most one read's worth, since
     * reading stops meanwhile.
     */
    private final ArrayDeque<RspFrame> inbound = new ArrayDeque<>();

    private ChannelHandlerContext ctx;
    private String peer = "?";
    private Link link;
    private ThreadHandler threads;
    private RegisterHandler registers;
    private MemoryHandler memory;
    private BreakpointHandler breakpoints;
    private ExecutionHandler execution;
    private QueryHandler queries;
    private MonitorHandler monitor;
    private LifecycleHandler end;
    private boolean busy;
    private boolean closed;

    /**
     * @param target    the target to drive
     * @param options   packet size, timeouts
     * @param startGate completes when the previous session finished its cleanup; the session
     *                  attaches to the target only after that
     * @param lifecycle the level of the connect, detach and disconnect lines ({@code DEBUG} for a
     *                  session nobody needs to hear about, such as the stub's own warm-up)
     */
    public GdbSession(DebugTarget target, SessionOptions options, CompletionStage<Void> startGate, Level lifecycle) {
        this.target = target;
        this.layout = target.registerLayout();
        this.options = options;
        this.startGate = startGate;
        this.lifecycle = lifecycle;
    }

    /** Completes once the session is over and the target has been released (detached or killed). */
    public CompletableFuture<Void> finished() {
        return finished;
    }

    // ------------------------------------------------------------------ channel events

    @Override
    protected void activated(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        this.peer = String.valueOf(ctx.channel().remoteAddress());
        LOG.log(lifecycle, "gdb connected from {}", peer);
        link = new Link(ctx, options);
        threads = new ThreadHandler(link, target);
        registers = new RegisterHandler(link, target, layout, threads);
        memory = new MemoryHandler(link, target, threads);
        breakpoints = new BreakpointHandler(link, target);
        queries = new QueryHandler(link, target, layout, threads, breakpoints.support());
        execution = new ExecutionHandler(link, target, layout, threads, queries::forgetDocuments);
        monitor = new MonitorHandler(link, target);
        end = new LifecycleHandler(link, target, breakpoints, execution, lifecycle, finished);
        execution.attach(startGate);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            if (msg instanceof RspFrame.Interrupt) {
                execution.interrupt(); // at once: gdb's Ctrl-C must not wait behind anything
            } else if (msg instanceof RspFrame frame) {
                if (!closed) {
                    inbound.add(frame);
                    drain();
                }
            } else {
                LOG.debug("ignoring unexpected inbound message {}", msg);
            }
        } catch (RuntimeException e) {
            LOG.warn("failed to handle {}: {}", msg, e.toString());
            LOG.debug("handler failure", e);
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        // Below the low-water mark again: the client reads its replies; serve what waits.
        if (ctx.channel().isWritable()) {
            drain();
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        closed = true;
        inbound.clear();
        if (this.ctx == null) {
            // Closed before the session started: it never touched the target.
            finished.complete(null);
            ctx.fireChannelInactive();
            return;
        }
        link.markClosed();
        LOG.log(lifecycle, "gdb at {} disconnected", peer);
        if (!end.ended()) {
            end.releaseAfterDisconnect();
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof IOException) {
            LOG.debug("connection to {} failed: {}", peer, cause.toString());
            ctx.close();
        } else {
            LOG.warn("unexpected error on the connection to {}: {}", peer, cause.toString());
            LOG.debug("pipeline failure", cause);
        }
    }

    // ------------------------------------------------------------------ framing level

    /** Handles one frame; a packet becomes a command, executed at once. */
    private CompletionStage<Void> onFrame(RspFrame frame) {
        switch (frame) {
            case RspFrame.Ack a -> {
            }
            case RspFrame.Nak n -> {
                if (!link.noAck()) {
                    ctx.writeAndFlush(RspOutbound.RETRANSMIT);
                }
            }
            case RspFrame.Interrupt i -> execution.interrupt();
            case RspFrame.Packet p -> {
                acknowledge(true);
                return run(parser.parse(p.payload()));
            }
            case RspFrame.BadChecksum b -> {
                if (link.noAck()) {
                    LOG.warn("bad checksum in no-ack mode; processing the packet anyway");
                    return run(parser.parse(b.payload()));
                }
                acknowledge(false);
            }
            case RspFrame.Oversized o -> {
                acknowledge(true);
                return run(new Command.Malformed("packet", "packet of " + o.length()
                        + " bytes exceeds the PacketSize of " + o.limit()));
            }
            case RspFrame.Malformed m -> {
                acknowledge(true);
                return run(new Command.Malformed("packet", m.reason()));
            }
        }
        return Link.DONE;
    }

    private void acknowledge(boolean positive) {
        if (!link.noAck()) {
            ctx.writeAndFlush(positive ? RspOutbound.ACK : RspOutbound.NAK);
        }
    }

    /**
     * Handles the waiting frames one at a time: none while a command is outstanding, and none
     * while the client's output is above its high-water mark (a client that sends requests but
     * does not read the replies). In both cases the channel also stops reading, so what the client
     * sends meanwhile waits in TCP, not in memory: per client the stub holds at most the output
     * limit plus one command's replies, and one read's worth of frames.
     */
    private void drain() {
        while (!busy && !closed && !inbound.isEmpty() && ctx.channel().isWritable()) {
            CompletableFuture<Void> done = onFrame(inbound.poll()).toCompletableFuture();
            if (!done.isDone()) {
                busy = true;
                done.whenComplete((v, e) -> link.runOnLoop(() -> {
                    busy = false;
                    drain();
                }));
            }
        }
        if (!closed) {
            ctx.channel().config().setAutoRead(!busy && ctx.channel().isWritable());
        }
    }

    /** Executes one command; its reply is sent when the returned stage completes. */
    private CompletionStage<Void> run(Command command) {
        try {
            return dispatch(command);
        } catch (TargetException e) {
            // A request that cannot be honoured, detected before reaching the target.
            LOG.debug("rejected {}: {}", command, e.getMessage());
            link.send(link.errorReply(command, e.errno(), e.getMessage()));
        } catch (RuntimeException e) {
            // A bug in the stub: gdb gets a plain error, the log gets the details.
            LOG.warn("failed to execute {}: {}", command, e.toString());
            LOG.debug("execution failure", e);
            link.send(link.errorReply(command, Link.EINVAL, "internal error in the stub (see its log)"));
        }
        return Link.DONE;
    }

    /** The one dispatch: each feature's commands go to its handler. */
    private CompletionStage<Void> dispatch(Command command) {
        if (execution.running() && !command.servedWhileRunning()) {
            LOG.warn("gdb sent {} while the target is running; refusing it", command);
            return link.sendNow(link.errorReply(command, Link.EBUSY, "the target is running"));
        }
        return switch (command) {
            case Command.QueryCommand q -> queries.handle(q);
            case Command.RegisterCommand r -> registers.handle(r);
            case Command.MemoryCommand m -> memory.handle(m);
            case Command.ExecutionCommand e -> execution.handle(e);
            case Command.BreakpointCommand b -> breakpoints.handle(b);
            case Command.ThreadCommand t -> threads.handle(t);
            case Command.MonitorCommand m -> monitor.handle(m);
            case Command.LifecycleCommand l -> end.handle(l);
            case Command.Unsupported u -> {
                LOG.debug("unsupported packet {}", u.name());
                yield link.sendNow("");
            }
            case Command.Malformed m -> {
                LOG.debug("malformed {} packet: {}", m.name(), m.reason());
                yield link.sendNow(link.errorReply(m, Link.EINVAL, "malformed " + m.name() + " packet: " + m.reason()));
            }
        };
    }
}
