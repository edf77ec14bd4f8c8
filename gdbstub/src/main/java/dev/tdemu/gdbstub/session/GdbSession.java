package dev.tdemu.gdbstub.session;

import dev.tdemu.gdbstub.BreakpointResult;
import dev.tdemu.gdbstub.BreakpointType;
import dev.tdemu.gdbstub.DebugTarget;
import dev.tdemu.gdbstub.GdbServerOptions;
import dev.tdemu.gdbstub.MonitorReply;
import dev.tdemu.gdbstub.ResumeAction;
import dev.tdemu.gdbstub.ResumeRequest;
import dev.tdemu.gdbstub.StopEvent;
import dev.tdemu.gdbstub.StopReason;
import dev.tdemu.gdbstub.TargetException;
import dev.tdemu.gdbstub.ThreadInfo;
import dev.tdemu.gdbstub.command.Command;
import dev.tdemu.gdbstub.command.CommandParser;
import dev.tdemu.gdbstub.command.ThreadId;
import dev.tdemu.gdbstub.registers.RegisterDef;
import dev.tdemu.gdbstub.registers.RegisterFile;
import dev.tdemu.gdbstub.registers.RegisterLayout;
import dev.tdemu.gdbstub.rsp.Hex;
import dev.tdemu.gdbstub.rsp.Rsp;
import dev.tdemu.gdbstub.rsp.RspFrame;
import dev.tdemu.gdbstub.rsp.RspOutbound;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.util.ReferenceCountUtil;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * One gdb connection: acknowledges packets, parses them into {@link Command}s, runs them one at a
 * time against the {@link DebugTarget}, and sends the replies. All state lives on the channel's
 * event loop; target calls are asynchronous and their results hop back onto the loop, so the loop
 * never blocks on the target.
 *
 * <p>All-stop: a resume sets {@code running}; 0x03 then calls {@link DebugTarget#interrupt()}, and
 * the resume's stop event produces exactly one stop reply. When the connection ends without a
 * detach, the session stops the target (if running), removes the breakpoints it inserted and
 * detaches, so the target keeps running without a debugger; {@link #finished()} completes then.
 */
public final class GdbSession extends dev.tdemu.gdbstub.OnceActiveHandler {
    private static final Logger LOG = LogManager.getLogger("dev.tdemu.gdbstub.session");
    private static final CompletableFuture<Void> DONE = CompletableFuture.completedFuture(null);
    private static final int EINVAL = 0x16;
    private static final int EFAULT = 0x0e;
    private static final int EBUSY = 0x10;
    private static final int ESRCH = 0x03;

    private record InsertedBreakpoint(BreakpointType type, long address, int kind) {
    }

    private final DebugTarget target;
    private final RegisterLayout layout;
    private final GdbServerOptions options;
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
    private final Set<InsertedBreakpoint> inserted = new LinkedHashSet<>();

    private ChannelHandlerContext ctx;
    private String peer = "?";
    private boolean noAck;
    private boolean multiprocess;
    private boolean swbreak;
    private boolean hwbreak;
    private boolean errorMessages;
    private ThreadId generalThread = ThreadId.ANY_THREAD;
    private ThreadId continueThread = ThreadId.ANY_THREAD;
    private int currentThread = -1;
    private CompletableFuture<StopEvent> attached;
    private StopEvent lastStop;
    private boolean running;
    private boolean interruptRequested;
    private CompletableFuture<StopEvent> pendingResume;
    private boolean busy;
    private boolean ended;
    private boolean closed;
    private String xferKey;
    private byte[] xferDocument;

    /**
     * @param target    the target to drive
     * @param options   packet size, timeouts
     * @param startGate completes when the previous session finished its cleanup; the session
     *                  attaches to the target only after that
     */
    public GdbSession(DebugTarget target, GdbServerOptions options, CompletionStage<Void> startGate) {
        this(target, options, startGate, Level.INFO);
    }

    /**
     * @param lifecycle the level of the connect, detach and disconnect lines ({@code DEBUG} for a
     *                  session nobody needs to hear about, such as the stub's own warm-up)
     */
    public GdbSession(DebugTarget target, GdbServerOptions options, CompletionStage<Void> startGate, Level lifecycle) {
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
        CompletableFuture<StopEvent> attach = new CompletableFuture<>();
        startGate.whenComplete((v, e) -> {
            CompletionStage<StopEvent> st = call("attach", target::attach);
            st.whenComplete((ev, err) -> {
                if (err != null) {
                    attach.completeExceptionally(err);
                } else {
                    attach.complete(ev);
                }
            });
        });
        attached = onLoop(withTimeout(attach, options.requestTimeout())).thenApply(ev -> {
            recordStop(ev);
            return ev;
        });
        attached.whenComplete((ev, e) -> {
            if (e != null) {
                LOG.warn("attaching to the target failed: {}", describe(e));
            } else {
                LOG.debug("attached, target reports {}", ev);
            }
        });
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            if (msg instanceof RspFrame.Interrupt) {
                onInterrupt(); // at once: gdb's Ctrl-C must not wait behind anything
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
        LOG.log(lifecycle, "gdb at {} disconnected", peer);
        if (!ended) {
            releaseAfterDisconnect();
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
                if (!noAck) {
                    ctx.writeAndFlush(RspOutbound.RETRANSMIT);
                }
            }
            case RspFrame.Interrupt i -> onInterrupt();
            case RspFrame.Packet p -> {
                acknowledge(true);
                return run(parser.parse(p.payload()));
            }
            case RspFrame.BadChecksum b -> {
                if (noAck) {
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
        return DONE;
    }

    private void acknowledge(boolean positive) {
        if (!noAck) {
            ctx.writeAndFlush(positive ? RspOutbound.ACK : RspOutbound.NAK);
        }
    }

    private void onInterrupt() {
        if (running && !interruptRequested) {
            interruptRequested = true;
            LOG.debug("interrupt from gdb: stopping the target");
            try {
                target.interrupt();
            } catch (RuntimeException e) {
                LOG.warn("target failed to interrupt: {}", e.toString());
            }
        } else if (running) {
            LOG.debug("repeated interrupt ignored; the target is already stopping");
        } else {
            LOG.debug("interrupt ignored: the target is not running");
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
                done.whenComplete((v, e) -> runOnLoop(() -> {
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
            return execute(command);
        } catch (TargetException e) {
            // A request that cannot be honoured, detected before reaching the target.
            LOG.debug("rejected {}: {}", command, e.getMessage());
            send(errorReply(command, e.errno(), e.getMessage()));
        } catch (RuntimeException e) {
            // A bug in the stub: gdb gets a plain error, the log gets the details.
            LOG.warn("failed to execute {}: {}", command, e.toString());
            LOG.debug("execution failure", e);
            send(errorReply(command, EINVAL, "internal error in the stub (see its log)"));
        }
        return DONE;
    }

    // ------------------------------------------------------------------ commands

    private CompletionStage<Void> execute(Command command) {
        if (running && !(command instanceof Command.CtrlC)) {
            LOG.warn("gdb sent {} while the target is running; refusing it", command);
            send(errorReply(command, EBUSY, "the target is running"));
            return DONE;
        }
        return switch (command) {
            case Command.QuerySupported q -> {
                multiprocess = q.gdbSupports("multiprocess");
                swbreak = q.gdbSupports("swbreak");
                hwbreak = q.gdbSupports("hwbreak");
                errorMessages = q.gdbSupports("error-message");
                yield sendNow(supportedReply());
            }
            case Command.HaltReason h -> attached.handle((ev, e) -> e).thenCompose(e -> {
                if (e != null || lastStop == null) {
                    send(errorReply(h, ESRCH, "not attached to the target: " + describe(e)));
                    return DONE;
                }
                return reportStop(lastStop);
            });
            case Command.ReadRegisters r -> withGeneralThread(r, tid ->
                    reply(r, call("read registers", () -> target.readRegisters(tid)), this::registersHex));
            case Command.WriteRegisters w -> withGeneralThread(w, tid -> {
                RegisterFile values = registersFromG(w.data());
                return reply(w, call("write registers", () -> target.writeRegisters(tid, values)), v -> "OK");
            });
            case Command.ReadRegister p -> withGeneralThread(p, tid -> {
                if (!layout.isValidRegnum(p.regnum())) {
                    return sendNow(errorReply(p, EINVAL, "no register number " + p.regnum()));
                }
                RegisterDef def = layout.register(p.regnum());
                return reply(p, call("read register", () -> target.readRegister(tid, p.regnum())),
                        value -> registerHex(def, value));
            });
            case Command.WriteRegister p -> withGeneralThread(p, tid -> {
                if (!layout.isValidRegnum(p.regnum())) {
                    return sendNow(errorReply(p, EINVAL, "no register number " + p.regnum()));
                }
                RegisterDef def = layout.register(p.regnum());
                if (p.value().length != def.byteSize()) {
                    return sendNow(errorReply(p, EINVAL, def.name() + " is " + def.byteSize() + " bytes, got "
                            + p.value().length));
                }
                return reply(p, call("write register", () -> target.writeRegister(tid, p.regnum(), p.value())),
                        v -> "OK");
            });
            case Command.ReadMemory m -> withGeneralThread(m, tid -> {
                if (m.length() == 0) {
                    return sendNow("");
                }
                int length = Math.min(m.length(), options.packetSize() / 2);
                return replyWith(m, call("read memory", () -> target.readMemory(tid, m.address(), length)), bytes -> {
                    if (bytes == null || bytes.length == 0) {
                        throw new TargetException(EFAULT, "cannot read memory at 0x" + Long.toHexString(m.address()));
                    }
                    // hex-encoded and framed in one pass by the encoder
                    return new RspOutbound.HexPacket(bytes.length > length ? Arrays.copyOf(bytes, length) : bytes);
                });
            });
            case Command.WriteMemory m -> withGeneralThread(m, tid -> {
                if (m.data().length == 0) {
                    return sendNow("OK");
                }
                return reply(m, call("write memory", () -> target.writeMemory(tid, m.address(), m.data())), v -> "OK");
            });
            case Command.Continue c -> legacyResume(c, false, c.signal(), c.address());
            case Command.Step s -> legacyResume(s, true, s.signal(), s.address());
            case Command.VContQuery q -> sendNow("vCont;c;C;s;S;t;r");
            case Command.VCont v -> vCont(v);
            case Command.CtrlC c -> {
                onInterrupt();
                yield sendNow("OK");
            }
            case Command.Breakpoint b -> breakpoint(b);
            case Command.SetThread s -> {
                if (!threadExistsOrWildcard(s.thread())) {
                    yield sendNow(errorReply(s, ESRCH, "no thread " + s.thread()));
                }
                if (s.operation() == 'g') {
                    generalThread = s.thread();
                } else {
                    continueThread = s.thread();
                }
                yield sendNow("OK");
            }
            case Command.ThreadAlive t -> sendNow(t.thread().isSpecific() && threadExistsOrWildcard(t.thread())
                    ? "OK" : errorReply(t, ESRCH, "no thread " + t.thread()));
            case Command.ThreadListFirst f -> {
                StringBuilder sb = new StringBuilder("m");
                for (ThreadInfo t : target.threads()) {
                    if (sb.length() > 1) {
                        sb.append(',');
                    }
                    sb.append(ThreadId.format(t.id(), multiprocess));
                }
                yield sendNow(sb.length() > 1 ? sb.toString() : "l");
            }
            case Command.ThreadListNext n -> sendNow("l");
            case Command.CurrentThread c -> {
                int tid = currentOrFirstThread();
                yield sendNow(tid > 0 ? "QC" + ThreadId.format(tid, multiprocess) : errorReply(c, ESRCH, "no threads"));
            }
            case Command.ThreadExtraInfo t -> {
                Optional<ThreadInfo> info = t.thread().isSpecific() && t.thread().processMatches()
                        ? findThread(t.thread().tid()) : Optional.empty();
                yield sendNow(info.map(i -> Hex.encodeText(i.name()))
                        .orElseGet(() -> errorReply(t, ESRCH, "no thread " + t.thread())));
            }
            case Command.Attached a -> sendNow(a.pid().isEmpty() || a.pid().getAsInt() == ThreadId.PROCESS_ID
                    ? "1" : errorReply(a, ESRCH, "no process " + a.pid().getAsInt()));
            case Command.Offsets o -> sendNow("Text=0;Data=0;Bss=0");
            case Command.PhysicalMemoryMode p -> sendNow(target.setPhysicalMemoryMode(p.on()) ? "OK" : "");
            case Command.PhysicalMemoryModeQuery q -> sendNow(target.physicalMemoryMode().map(on -> on ? "1" : "0").orElse(""));
            case Command.SymbolLookup s -> sendNow("OK");
            case Command.Monitor m -> monitor(m);
            case Command.XferRead x -> xfer(x);
            case Command.StartNoAckMode n -> {
                send("OK");
                noAck = true;
                LOG.debug("no-ack mode on");
                yield DONE;
            }
            case Command.ThreadEvents t -> sendNow("OK");
            case Command.Detach d -> detach(d);
            case Command.Kill k -> kill(k, false);
            case Command.VKill k -> k.pid() == ThreadId.PROCESS_ID
                    ? kill(k, true) : sendNow(errorReply(k, ESRCH, "no process " + k.pid()));
            case Command.Unsupported u -> {
                LOG.debug("unsupported packet {}", u.name());
                yield sendNow("");
            }
            case Command.Malformed m -> {
                LOG.debug("malformed {} packet: {}", m.name(), m.reason());
                yield sendNow(errorReply(m, EINVAL, "malformed " + m.name() + " packet: " + m.reason()));
            }
        };
    }

    private String supportedReply() {
        StringBuilder sb = new StringBuilder();
        sb.append("PacketSize=").append(Integer.toHexString(options.packetSize()));
        sb.append(";qXfer:features:read+;qXfer:threads:read+;QStartNoAckMode+;vContSupported+");
        sb.append(";swbreak+;hwbreak+");
        if (target.executable().isPresent()) {
            sb.append(";qXfer:exec-file:read+");
        }
        if (multiprocess) {
            sb.append(";multiprocess+");
        }
        if (errorMessages) {
            sb.append(";error-message+");
        }
        return sb.toString();
    }

    // --- registers

    private String registersHex(RegisterFile file) {
        if (file == null || file.layout().gPacketSize() != layout.gPacketSize()) {
            throw new IllegalStateException("target returned registers of another layout");
        }
        StringBuilder sb = new StringBuilder(2 * layout.gPacketSize());
        for (RegisterDef def : layout.registers()) {
            appendRegister(sb, def, file.bytes(def.regnum()));
        }
        return sb.toString();
    }

    private static String registerHex(RegisterDef def, Optional<byte[]> value) {
        StringBuilder sb = new StringBuilder(2 * def.byteSize());
        appendRegister(sb, def, value == null ? Optional.empty() : value);
        return sb.toString();
    }

    private static void appendRegister(StringBuilder sb, RegisterDef def, Optional<byte[]> value) {
        if (value.isPresent() && value.get().length == def.byteSize()) {
            Hex.append(sb, value.get());
        } else {
            sb.repeat('x', 2 * def.byteSize());
        }
    }

    /** The registers a {@code G} packet covers; it may stop early but only at a register boundary. */
    private RegisterFile registersFromG(byte[] data) {
        if (data.length > layout.gPacketSize()) {
            throw new TargetException(EINVAL, "G packet of " + data.length + " bytes, layout has " + layout.gPacketSize());
        }
        RegisterFile file = RegisterFile.empty(layout);
        for (RegisterDef def : layout.registers()) {
            int end = def.offset() + def.byteSize();
            if (end <= data.length) {
                file.setBytes(def.regnum(), Arrays.copyOfRange(data, def.offset(), end));
            } else if (def.offset() < data.length) {
                throw new TargetException(EINVAL, "G packet ends inside register " + def.name());
            }
        }
        return file;
    }

    // --- threads

    private List<ThreadInfo> threads() {
        List<ThreadInfo> threads = target.threads();
        return threads == null ? List.of() : threads;
    }

    private Optional<ThreadInfo> findThread(int id) {
        return threads().stream().filter(t -> t.id() == id).findFirst();
    }

    private boolean threadExistsOrWildcard(ThreadId id) {
        if (!id.processMatches()) {
            return false;
        }
        return !id.isSpecific() || findThread(id.tid()).isPresent();
    }

    private int currentOrFirstThread() {
        List<ThreadInfo> threads = threads();
        for (ThreadInfo t : threads) {
            if (t.id() == currentThread) {
                return currentThread;
            }
        }
        return threads.isEmpty() ? -1 : threads.getFirst().id();
    }

    /** Runs {@code body} with the thread {@code Hg} selected (or the current one); errors if it is gone. */
    private CompletionStage<Void> withGeneralThread(Command command, Function<Integer, CompletionStage<Void>> body) {
        int tid;
        if (generalThread.isSpecific()) {
            tid = findThread(generalThread.tid()).isPresent() ? generalThread.tid() : -1;
        } else {
            tid = currentOrFirstThread();
        }
        if (tid < 0) {
            return sendNow(errorReply(command, ESRCH, "no such thread: " + generalThread));
        }
        return body.apply(tid);
    }

    // --- resume and stop

    private CompletionStage<Void> legacyResume(Command command, boolean step, int signal, OptionalLong address) {
        List<ThreadInfo> threads = threads();
        int selected = continueThread.isSpecific() ? continueThread.tid() : currentOrFirstThread();
        if (selected < 0 || findThread(selected).isEmpty()) {
            return sendNow(errorReply(command, ESRCH, "no thread to resume"));
        }
        List<ResumeRequest.ThreadResume> list = new ArrayList<>();
        for (ThreadInfo t : threads) {
            if (t.id() == selected) {
                list.add(new ResumeRequest.ThreadResume(t.id(), step ? ResumeAction.STEP : ResumeAction.CONTINUE, signal));
            } else {
                list.add(new ResumeRequest.ThreadResume(t.id(), step ? ResumeAction.STAY_STOPPED : ResumeAction.CONTINUE, 0));
            }
        }
        ResumeRequest request = new ResumeRequest(list);
        if (address.isEmpty()) {
            return startResume(command, request);
        }
        // "c ADDR": resume at ADDR, i.e. set the PC of the resumed thread first.
        RegisterDef pc = layout.register(layout.pcRegnum());
        byte[] value = new byte[pc.byteSize()];
        for (int i = 0; i < Math.min(8, value.length); i++) {
            value[i] = (byte) (address.getAsLong() >>> (8 * i));
        }
        return call("write pc", () -> target.writeRegister(selected, pc.regnum(), value)).handle((v, e) -> {
            if (e != null) {
                send(errorFor(command, e));
                return DONE;
            }
            return startResume(command, request);
        }).thenCompose(Function.identity());
    }

    private CompletionStage<Void> vCont(Command.VCont v) {
        List<ThreadInfo> threads = threads();
        for (Command.VContAction a : v.actions()) {
            if (a.thread() != null && !threadExistsOrWildcard(a.thread())) {
                return sendNow(errorReply(v, ESRCH, "vCont names unknown thread " + a.thread()));
            }
        }
        List<ResumeRequest.ThreadResume> list = new ArrayList<>();
        Command.VContAction range = null;
        int rangeThread = -1;
        for (ThreadInfo t : threads) {
            Command.VContAction chosen = null;
            for (Command.VContAction a : v.actions()) {
                if (a.thread() != null && a.thread().selects(t.id())) {
                    chosen = a;
                    break;
                }
            }
            if (chosen == null) {
                for (Command.VContAction a : v.actions()) {
                    if (a.thread() == null) {
                        chosen = a;
                        break;
                    }
                }
            }
            ResumeAction action = chosen == null ? ResumeAction.STAY_STOPPED : switch (chosen.kind()) {
                case CONTINUE -> ResumeAction.CONTINUE;
                case STEP, RANGE -> ResumeAction.STEP;
                case STOP -> ResumeAction.STAY_STOPPED;
            };
            if (chosen != null && chosen.kind() == Command.VContKind.RANGE) {
                if (range != null) {
                    return sendNow(errorReply(v, EINVAL, "vCont range-steps more than one thread"));
                }
                range = chosen;
                rangeThread = t.id();
            }
            int signal = chosen == null || action == ResumeAction.STAY_STOPPED ? 0 : chosen.signal();
            list.add(new ResumeRequest.ThreadResume(t.id(), action, signal));
        }
        ResumeRequest request = new ResumeRequest(list);
        if (!request.resumesAnything()) {
            return sendNow(errorReply(v, EINVAL, "vCont resumes no thread (all-stop mode)"));
        }
        rangeStep = range == null ? null : new RangeStep(rangeThread, range.rangeStart(), range.rangeEnd(), v, request);
        return startResume(v, request);
    }

    /**
     * A range step in progress ({@code vCont;rSTART,END}): the thread steps again, without a stop
     * reply, for as long as it stops by a plain step at a PC in [start, end); any other stop, a PC
     * outside the range or gdb's Ctrl-C ends it with a stop reply.
     */
    private record RangeStep(int threadId, long start, long end, Command command, ResumeRequest request) {
        boolean contains(long pc) {
            return Long.compareUnsigned(pc, start) >= 0 && Long.compareUnsigned(pc, end) < 0;
        }
    }

    private RangeStep rangeStep;

    private CompletionStage<Void> startResume(Command command, ResumeRequest request) {
        if (lastStop instanceof StopEvent.Exited || lastStop instanceof StopEvent.Terminated) {
            return sendNow(errorReply(command, ESRCH, "the target is no longer running"));
        }
        CompletionStage<StopEvent> stage;
        try {
            stage = target.resume(request);
            if (stage == null) {
                throw new IllegalStateException("target.resume returned null");
            }
        } catch (RuntimeException e) {
            return sendNow(errorFor(command, e));
        }
        running = true;
        interruptRequested = false;
        xferKey = null;
        LOG.debug("resumed: {}", request);
        if (stage instanceof java.util.concurrent.Future<?> f && stepping(request)) {
            // A single step usually ends within tens of microseconds. Waiting for it here keeps
            // this event loop awake, so the stop comes back without a thread wake-up and the reply
            // goes out from here; that is a large part of a stepi round trip.
            long deadline = System.nanoTime() + STEP_SPIN_NANOS;
            while (!f.isDone() && System.nanoTime() - deadline < 0) {
                Thread.onSpinWait();
            }
        }
        CompletableFuture<StopEvent> pending = onLoop(stage);
        pendingResume = pending;
        pending.whenComplete((ev, e) -> onResumeFinished(pending, ev, e));
        return DONE;
    }

    /** How long the event loop waits for a single step to end before it lets the target call back. */
    static final long STEP_SPIN_NANOS = 150_000;

    private static boolean stepping(ResumeRequest request) {
        for (ResumeRequest.ThreadResume t : request.threads()) {
            if (t.action() == ResumeAction.STEP) {
                return true;
            }
        }
        return false;
    }

    private void onResumeFinished(CompletableFuture<StopEvent> which, StopEvent event, Throwable error) {
        LOG.debug("stop event {} {}", event, error == null ? "" : describe(error));
        if (which != pendingResume) {
            return;
        }
        RangeStep range = rangeStep;
        if (range != null && error == null && !closed) {
            if (event instanceof StopEvent.Stopped s && s.threadId() == range.threadId()
                    && s.reason() instanceof StopReason.StepDone) {
                if (!interruptRequested) {
                    stepAgainIfInRange(which, range, s);
                    return;
                }
                event = StopEvent.interrupted(s.threadId());
            }
        }
        rangeStep = null;
        running = false;
        pendingResume = null;
        if (error != null) {
            LOG.warn("the target failed while running: {}", describe(error));
            if (!closed) {
                send("E." + sanitize("the target failed while running: " + describe(error)));
            }
            return;
        }
        if (closed) {
            recordStop(event);
            return;
        }
        reportStop(event);
    }

    /** During a range step: reads the PC; inside the range the thread steps again, else the stop is reported. */
    private void stepAgainIfInRange(CompletableFuture<StopEvent> which, RangeStep range, StopEvent.Stopped stop) {
        call("read the PC", () -> target.readRegister(range.threadId(), layout.pcRegnum())).whenComplete((pc, e) -> {
            if (which != pendingResume || closed) {
                return;
            }
            if (e != null || pc.isEmpty() || !range.contains(littleEndian(pc.get()))) {
                endRangeStep(which, stop);
                return;
            }
            // As a task, not a call: a step that ends at once would otherwise nest the next one
            // on the stack, and gdb's Ctrl-C is read between two steps.
            ctx.executor().execute(() -> {
                if (which != pendingResume || closed) {
                    return;
                }
                if (interruptRequested) {
                    endRangeStep(which, stop);
                    return;
                }
                pendingResume = null;
                running = false;
                startResume(range.command(), range.request());
                if (pendingResume == null) { // the target refused the next step; startResume replied
                    rangeStep = null;
                }
            });
        });
    }

    /** Ends a range step at {@code stop}, reported as SIGINT if gdb's Ctrl-C came meanwhile. */
    private void endRangeStep(CompletableFuture<StopEvent> which, StopEvent.Stopped stop) {
        rangeStep = null;
        onResumeFinished(which, interruptRequested ? StopEvent.interrupted(stop.threadId()) : stop, null);
    }

    private static long littleEndian(byte[] bytes) {
        long v = 0;
        for (int i = Math.min(8, bytes.length) - 1; i >= 0; i--) {
            v = (v << 8) | (bytes[i] & 0xffL);
        }
        return v;
    }

    private void recordStop(StopEvent event) {
        if (event == null) {
            throw new IllegalStateException("the target reported a null stop event");
        }
        lastStop = event;
        if (event instanceof StopEvent.Stopped s) {
            currentThread = s.threadId();
            // In all-stop mode gdb assumes the stub's general thread is now the reporting thread.
            generalThread = ThreadId.of(s.threadId());
        }
    }

    /** Sends the stop reply for {@code event}, expediting the layout's frame registers of the stopped thread. */
    private CompletionStage<Void> reportStop(StopEvent event) {
        try {
            recordStop(event);
        } catch (RuntimeException e) {
            send("E." + sanitize(e.getMessage()));
            return DONE;
        }
        if (!(event instanceof StopEvent.Stopped s)) {
            send(StopReplies.format(event, new java.util.LinkedHashMap<>(), multiprocess, swbreak, hwbreak));
            return DONE;
        }
        // One read per expedited register (targets can answer those without reading every register).
        List<Integer> regnums = layout.expedited();
        List<CompletableFuture<Optional<byte[]>>> reads = new ArrayList<>();
        for (int regnum : regnums) {
            reads.add(call("read register", () -> target.readRegister(s.threadId(), regnum)));
        }
        return CompletableFuture.allOf(reads.toArray(CompletableFuture[]::new)).handle((v, e) -> {
            java.util.LinkedHashMap<Integer, byte[]> expedited = new java.util.LinkedHashMap<>();
            for (int i = 0; i < regnums.size(); i++) {
                int regnum = regnums.get(i);
                CompletableFuture<Optional<byte[]>> read = reads.get(i);
                if (read.isCompletedExceptionally()) {
                    LOG.debug("could not read register {} for the stop reply", regnum);
                    continue;
                }
                read.join().filter(b -> b.length == layout.register(regnum).byteSize()).ifPresent(b -> expedited.put(regnum, b));
            }
            if (!closed) {
                send(StopReplies.format(event, expedited, multiprocess, swbreak, hwbreak));
            }
            return null;
        });
    }

    // --- breakpoints

    private CompletionStage<Void> breakpoint(Command.Breakpoint b) {
        CompletableFuture<BreakpointResult> result = b.insert()
                ? call("insert breakpoint", () -> target.insertBreakpoint(b.type(), b.address(), b.kind()))
                : call("remove breakpoint", () -> target.removeBreakpoint(b.type(), b.address(), b.kind()));
        return reply(b, result, r -> switch (r) {
            case BreakpointResult.Ok ok -> {
                InsertedBreakpoint key = new InsertedBreakpoint(b.type(), b.address(), b.kind());
                if (b.insert()) {
                    inserted.add(key);
                } else {
                    inserted.remove(key);
                }
                yield "OK";
            }
            case BreakpointResult.Unsupported u -> "";
            case BreakpointResult.Refused refused -> {
                LOG.debug("target refused {} Z{} at 0x{}: {}", b.insert() ? "insert" : "remove", b.type().zType(),
                        Long.toHexString(b.address()), refused.message());
                // gdb prints the text after the second '.' ("Remote failure reply: ...") for Z1.
                yield "E." + (b.insert() ? "Z" : "z") + b.type().zType() + "." + sanitize(refused.message());
            }
        });
    }

    // --- monitor, qXfer

    private CompletionStage<Void> monitor(Command.Monitor m) {
        return reply(m, call("monitor", () -> target.monitor(m.command())), (MonitorReply r) -> {
            sendConsole(r.output());
            return r.success() ? "OK" : "E01";
        });
    }

    /** Sends text to gdb's console as {@code O} packets (only valid during qRcmd or while running). */
    private void sendConsole(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        int chunk = Math.max(64, (options.packetSize() - 16) / 2);
        for (int off = 0; off < bytes.length; off += chunk) {
            int n = Math.min(chunk, bytes.length - off);
            send("O" + Hex.append(new StringBuilder(2 * n), bytes, off, n));
        }
    }

    private CompletionStage<Void> xfer(Command.XferRead x) {
        byte[] document;
        switch (x.object()) {
            case "features" -> {
                if (!x.annex().equals("target.xml")) {
                    return sendNow(errorReply(x, EINVAL, "no feature document " + x.annex()));
                }
                document = xferDocument("features:target.xml", x.offset(),
                        () -> layout.targetXml().getBytes(StandardCharsets.UTF_8));
            }
            case "threads" -> {
                if (!x.annex().isEmpty()) {
                    return sendNow(errorReply(x, EINVAL, "threads takes no annex"));
                }
                document = xferDocument("threads", x.offset(),
                        () -> ThreadsXml.render(threads(), multiprocess).getBytes(StandardCharsets.UTF_8));
            }
            case "exec-file" -> {
                // The annex is the process id (hex) or empty for the current one; there is only process 1.
                if (!x.annex().isEmpty() && !x.annex().equals("1")) {
                    return sendNow(errorReply(x, ESRCH, "no process " + x.annex()));
                }
                Optional<String> file = target.executable();
                if (file.isEmpty()) {
                    return sendNow("");
                }
                document = file.get().getBytes(StandardCharsets.UTF_8);
            }
            default -> {
                LOG.debug("unsupported qXfer object {}", x.object());
                return sendNow("");
            }
        }
        int max = Math.min(x.length(), options.packetSize() - 8);
        // The offset is a 64-bit unsigned number: compare it as one (ffffffffffffffff is no -1).
        int past = Long.compareUnsigned(x.offset(), document.length);
        if (past > 0) {
            return sendNow(errorReply(x, EINVAL, "offset 0x" + Long.toHexString(x.offset()) + " is past the end of "
                    + x.object() + " " + x.annex() + " (" + document.length + " bytes)"));
        }
        if (past == 0) {
            send(new byte[] {'l'});
            return DONE;
        }
        int start = (int) x.offset();
        int end = start;
        int escaped = 0;
        while (end < document.length) {
            int cost = Rsp.needsEscape(document[end] & 0xff) ? 2 : 1;
            if (escaped + cost > max) {
                break;
            }
            escaped += cost;
            end++;
        }
        byte[] reply = new byte[1 + end - start];
        reply[0] = (byte) (end >= document.length ? 'l' : 'm');
        System.arraycopy(document, start, reply, 1, end - start);
        if (end == start) {
            return sendNow(errorReply(x, EINVAL, "qXfer length too small"));
        }
        send(reply);
        return DONE;
    }

    /** The document being transferred: regenerated at offset 0, kept for the following chunks. */
    private byte[] xferDocument(String key, long offset, Supplier<byte[]> generate) {
        if (offset != 0 && key.equals(xferKey) && xferDocument != null) {
            return xferDocument;
        }
        xferKey = key;
        xferDocument = generate.get();
        return xferDocument;
    }

    // --- detach, kill, disconnect

    private CompletionStage<Void> detach(Command.Detach d) {
        if (d.pid().isPresent() && d.pid().getAsInt() != ThreadId.PROCESS_ID) {
            return sendNow(errorReply(d, ESRCH, "no process " + d.pid().getAsInt()));
        }
        ended = true;
        LOG.log(lifecycle, "gdb detaches");
        return releaseTarget().handle((v, e) -> {
            String reply = e == null ? "OK" : errorFor(d, e);
            ctx.writeAndFlush(RspOutbound.Packet.of(reply)).addListener(ChannelFutureListener.CLOSE);
            finished.complete(null);
            return null;
        });
    }

    private CompletionStage<Void> kill(Command command, boolean reply) {
        ended = true;
        LOG.log(lifecycle, "gdb kills the target");
        inserted.clear();
        return call("kill", target::kill).handle((v, e) -> {
            if (e != null) {
                LOG.warn("killing the target failed: {}", describe(e));
            }
            if (reply) {
                send(e == null ? "OK" : errorFor(command, e));
            } else {
                ctx.close();
            }
            finished.complete(null);
            return null;
        });
    }

    /** The connection ended without detach: stop the target if it runs, then release it. */
    private void releaseAfterDisconnect() {
        CompletableFuture<?> stopped;
        if (running && pendingResume != null) {
            LOG.log(lifecycle, "gdb left while the target was running: stopping it to remove breakpoints");
            try {
                target.interrupt();
            } catch (RuntimeException e) {
                LOG.warn("target failed to interrupt: {}", e.toString());
            }
            stopped = withTimeout(pendingResume, options.cleanupTimeout()).handle((ev, e) -> {
                if (e != null) {
                    LOG.warn("the target did not stop within {} ms; releasing it anyway", options.cleanupTimeout().toMillis());
                }
                return null;
            });
        } else {
            stopped = withTimeout(attached, options.cleanupTimeout()).handle((ev, e) -> null);
        }
        stopped.thenCompose(v -> onLoop(releaseTarget())).whenComplete((v, e) -> {
            if (e != null) {
                LOG.warn("releasing the target failed: {}", describe(e));
            }
            finished.complete(null);
        });
    }

    /** Removes the breakpoints this session inserted, then detaches the target (it resumes). */
    private CompletableFuture<Void> releaseTarget() {
        List<InsertedBreakpoint> toRemove = new ArrayList<>(inserted);
        inserted.clear();
        CompletableFuture<Void> chain = DONE;
        for (InsertedBreakpoint bp : toRemove) {
            chain = chain.thenCompose(v -> withTimeout(
                    call("remove breakpoint", () -> target.removeBreakpoint(bp.type(), bp.address(), bp.kind())),
                    options.cleanupTimeout()).handle((r, e) -> {
                        if (e != null || !(r instanceof BreakpointResult.Ok)) {
                            LOG.warn("could not remove {} at 0x{}: {}", bp.type(), Long.toHexString(bp.address()),
                                    e != null ? describe(e) : r);
                        }
                        return null;
                    }));
        }
        if (!toRemove.isEmpty()) {
            LOG.log(lifecycle, "removing {} breakpoint(s) left by gdb", toRemove.size());
        }
        return chain.thenCompose(v -> withTimeout(call("detach", target::detach), options.cleanupTimeout()))
                .thenApply(v -> (Void) null);
    }

    // ------------------------------------------------------------------ plumbing

    private CompletionStage<Void> sendNow(String payload) {
        send(payload);
        return DONE;
    }

    private void send(String payload) {
        send(payload.getBytes(StandardCharsets.ISO_8859_1));
    }

    private void send(byte[] payload) {
        send(new RspOutbound.Packet(payload));
    }

    private void send(RspOutbound packet) {
        if (closed) {
            return;
        }
        ctx.writeAndFlush(packet);
    }

    /** Calls the target; exceptions and null results become failed stages. Completes on the event loop. */
    private <T> CompletableFuture<T> call(String what, Supplier<? extends CompletionStage<T>> operation) {
        CompletionStage<T> stage;
        try {
            stage = operation.get();
            if (stage == null) {
                throw new IllegalStateException("target returned null for " + what);
            }
        } catch (RuntimeException e) {
            stage = CompletableFuture.failedFuture(e);
        }
        return onLoop(withTimeout(stage, options.requestTimeout()));
    }

    /** Sends the reply computed by {@code onSuccess}, or an error reply; never leaves gdb without an answer. */
    private <T> CompletionStage<Void> reply(Command command, CompletableFuture<T> result, Function<T, String> onSuccess) {
        return replyWith(command, result, value -> RspOutbound.Packet.of(onSuccess.apply(value)));
    }

    /** {@link #reply}, for a reply that is not plain text (a {@link RspOutbound.HexPacket}). */
    private <T> CompletionStage<Void> replyWith(Command command, CompletableFuture<T> result, Function<T, RspOutbound> onSuccess) {
        return result.handle((value, error) -> {
            RspOutbound packet;
            if (error != null) {
                packet = RspOutbound.Packet.of(errorFor(command, error));
            } else {
                try {
                    packet = onSuccess.apply(value);
                } catch (RuntimeException e) {
                    packet = RspOutbound.Packet.of(errorFor(command, e));
                }
            }
            send(packet);
            return null;
        });
    }

    private String errorFor(Command command, Throwable error) {
        Throwable cause = unwrap(error);
        String what = command.getClass().getSimpleName();
        switch (cause) {
            case TargetException te -> {
                LOG.debug("{} refused by the target: {}", what, te.getMessage());
                return errorReply(command, te.errno(), te.getMessage());
            }
            case TimeoutException te -> {
                LOG.warn("the target did not answer {} within {} ms", what, options.requestTimeout().toMillis());
                return errorReply(command, EBUSY, "the target did not answer in time");
            }
            default -> {
                LOG.warn("the target failed on {}: {}", what, cause.toString());
                LOG.debug("target failure", cause);
                // A bug in the target, not a refusal: its text only goes to a gdb that asked for messages.
                return errorReply(command, 1, errorMessages ? cause.toString() : null);
            }
        }
    }

    /**
     * {@code E.message} when gdb announced {@code error-message+} and the packet's reply parser
     * accepts it ({@code m} and {@code qRcmd} replies only accept {@code Enn}); {@code Enn} otherwise.
     */
    private String errorReply(Command command, int code, String message) {
        boolean enn = command instanceof Command.ReadMemory || command instanceof Command.Monitor
                || command instanceof Command.Malformed m && (m.name().equals("m") || m.name().startsWith("qRcmd"));
        // gdb prints a failed register read's raw reply ("Could not read registers; remote failure
        // reply '...'") and has long understood "E.text" there, even before it negotiated error-message.
        boolean registers = command instanceof Command.ReadRegisters || command instanceof Command.ReadRegister;
        boolean textual = (errorMessages || registers) && message != null && !enn;
        return textual ? "E." + sanitize(message) : "E" + Hex.byte2(code);
    }

    /** Printable ASCII without the framing characters, at most 200 characters. */
    static String sanitize(String message) {
        if (message == null) {
            return "error";
        }
        StringBuilder sb = new StringBuilder(Math.min(message.length(), 200));
        for (int i = 0; i < message.length() && sb.length() < 200; i++) {
            char c = message.charAt(i);
            if (c < 0x20 || c > 0x7e || Rsp.needsEscape(c)) {
                sb.append(c == '\n' || c == '\t' ? ' ' : '?');
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }

    private static Throwable unwrap(Throwable e) {
        Throwable t = e;
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    private static String describe(Throwable e) {
        if (e == null) {
            return "no stop event";
        }
        Throwable cause = unwrap(e);
        return cause.getMessage() != null ? cause.getMessage() : cause.toString();
    }

    private static <T> CompletableFuture<T> withTimeout(CompletionStage<T> stage, Duration timeout) {
        CompletableFuture<T> copy = new CompletableFuture<>();
        stage.whenComplete((v, e) -> {
            if (e != null) {
                copy.completeExceptionally(e);
            } else {
                copy.complete(v);
            }
        });
        return copy.orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** A future completing on this channel's event loop with the outcome of {@code stage}. */
    private <T> CompletableFuture<T> onLoop(CompletionStage<T> stage) {
        CompletableFuture<T> f = new CompletableFuture<>();
        stage.whenComplete((v, e) -> runOnLoop(() -> {
            if (e != null) {
                f.completeExceptionally(e);
            } else {
                f.complete(v);
            }
        }));
        return f;
    }

    private void runOnLoop(Runnable r) {
        if (ctx.executor().inEventLoop()) {
            r.run();
            return;
        }
        try {
            ctx.executor().execute(r);
        } catch (RejectedExecutionException e) {
            r.run();
        }
    }
}
