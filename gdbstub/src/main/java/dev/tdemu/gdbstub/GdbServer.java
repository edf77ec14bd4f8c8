package dev.tdemu.gdbstub;

import dev.tdemu.gdbstub.rsp.RspEncoder;
import dev.tdemu.gdbstub.rsp.RspFrameDecoder;
import dev.tdemu.gdbstub.scheduling.BesideClient;
import dev.tdemu.gdbstub.scheduling.ClientCpuFollower;
import dev.tdemu.gdbstub.scheduling.LinuxScheduling;
import dev.tdemu.gdbstub.scheduling.SpinThenSelectStrategy;
import dev.tdemu.gdbstub.session.GdbSession;
import dev.tdemu.gdbstub.session.RefusingHandler;
import dev.tdemu.gdbstub.session.SessionOptions;
import dev.tdemu.gdbstub.target.DebugTarget;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A GDB remote stub listening on TCP for one {@link DebugTarget}.
 *
 * <ul>
 *   <li>One debugger at a time. A second client connecting while one is attached waits
 *       {@link GdbServerOptions#secondClientGrace()} for the first to go away (gdb reconnecting); if it does not,
 *       the newcomer gets an {@code E.} reply to its first packet explaining why and is
 *       disconnected, while the first keeps working.</li>
 *   <li>When a client goes away without detaching (closes gdb, network drop), the stub stops the
 *       target if it was running, removes the breakpoints that client inserted, and calls
 *       {@link DebugTarget#detach()} so the target runs on without a debugger.</li>
 *   <li>A client connecting while that cleanup is in progress is not refused: it attaches as soon
 *       as the cleanup is done.</li>
 * </ul>
 * All networking runs on one Netty event-loop thread of its own.
 */
public final class GdbServer implements AutoCloseable {
    private static final Logger LOG = LogManager.getLogger("dev.tdemu.gdbstub.server");

    /** How long the event loop polls before it blocks again after a packet (see {@link SpinThenSelectStrategy}). */
    static final long POLL_AFTER_ACTIVITY_NANOS = 300_000;

    private final DebugTarget target;
    private final GdbServerOptions options;
    private final EventLoopGroup group;
    private final Channel serverChannel;
    private final Object lock = new Object();
    private Channel activeClient;
    /** Set at the first accepted connection, before it is admitted (see {@link #clientCame()}). */
    private volatile boolean clientCame;
    /** Clients connected but neither admitted nor refused yet. */
    private final java.util.concurrent.atomic.AtomicInteger waitingClients = new java.util.concurrent.atomic.AtomicInteger();
    private CompletableFuture<Void> lastSessionFinished = CompletableFuture.completedFuture(null);
    /** How the event loop is scheduled beside a local client ({@link ClientCpuFollower}). */
    private final BesideClient beside;

    /** INFO for a stub someone debugs with; DEBUG for the warm-up's throwaway one. */
    private final Level lifecycle;

    private GdbServer(DebugTarget target, GdbServerOptions options, String host, int port, BesideClient beside,
                      Level lifecycle) throws IOException {
        this.target = Objects.requireNonNull(target, "target");
        this.options = Objects.requireNonNull(options, "options");
        this.beside = beside;
        this.lifecycle = lifecycle;
        this.group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("gdbstub", true),
                NioIoHandler.newFactory(java.nio.channels.spi.SelectorProvider.provider(),
                        () -> new SpinThenSelectStrategy(POLL_AFTER_ACTIVITY_NANOS, beside::mayPoll)));
        try {
            ServerBootstrap b = new ServerBootstrap()
                    .group(group)
                    .channel(NioServerSocketChannel.class)
                    .option(ChannelOption.SO_REUSEADDR, true)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(
                            options.outputHighWaterMark() / 4, options.outputHighWaterMark()))
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            initClient(ch);
                        }
                    });
            this.serverChannel = b.bind(host, port).syncUninterruptibly().channel();
        } catch (Exception e) { // a BindException arrives unchecked through the future: catch it too
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw new IOException("cannot listen on " + host + ":" + port + ": " + e.getMessage(), e);
        }
        LOG.log(lifecycle, "gdb stub listening on {}", serverChannel.localAddress());
    }

    /**
     * Starts listening.
     *
     * @param host the address to bind, e.g. {@code "127.0.0.1"}
     * @param port the TCP port, 0 for any free port (see {@link #port()})
     */
    public static GdbServer start(DebugTarget target, String host, int port, GdbServerOptions options)
            throws IOException {
        return start(target, host, port, options, new BesideClient());
    }

    /** With the scheduling beside a local client given (tests: other back-off times). */
    static GdbServer start(DebugTarget target, String host, int port, GdbServerOptions options, BesideClient beside)
            throws IOException {
        // Before listening: the first gdb to connect finds the connection path loaded and compiled,
        // and the target's own answers to what a session asks first loaded too.
        WarmUp.once(options);
        WarmUp.declarations(target);
        return new GdbServer(target, options, host, port, beside, Level.INFO);
    }

    /** A stub on a free loopback port that logs its lifecycle at DEBUG and does not warm up ({@link WarmUp}'s own). */
    static GdbServer startQuiet(DebugTarget target, GdbServerOptions options) throws IOException {
        return new GdbServer(target, options, "127.0.0.1", 0, new BesideClient(), Level.DEBUG);
    }

    /**
     * Runs gdb's hardware-breakpoint continue cycle at {@code address} against {@code throwaway}
     * through a stub of its own (see {@code WarmUp}), so that a fresh JVM's first real cycles run
     * compiled. The caller makes the throwaway target (stopped, hitting {@code address} whenever
     * continued) and closes it; no real target is involved.
     *
     * @param stop checked before its stub starts and before each cycle: true ends the warm-up there (a real client came)
     * @return the cycles that ended in a stop reply
     */
    public static int warmUpBreakpointCycles(DebugTarget throwaway, long address, int cycles, java.time.Duration atMost,
            java.util.function.BooleanSupplier stop) throws IOException {
        WarmUp.once(GdbServerOptions.defaults());
        return WarmUp.breakpointCycles(throwaway, address, cycles, atMost, stop);
    }

    public static GdbServer start(DebugTarget target, String host, int port) throws IOException {
        return start(target, host, port, GdbServerOptions.defaults());
    }

    /** The bound address. */
    public InetSocketAddress address() {
        return (InetSocketAddress) serverChannel.localAddress();
    }

    /** The bound port (useful when started with port 0). */
    public int port() {
        return address().getPort();
    }

    public DebugTarget target() {
        return target;
    }

    /** True while a debugger is connected. */
    public boolean hasClient() {
        synchronized (lock) {
            return activeClient != null && activeClient.isActive();
        }
    }

    /**
     * True once a client has connected, from the moment its connection is accepted (before it is
     * admitted and sends anything), and from then on: what work done only until gdb comes (a
     * warm-up) stops at, so that it leaves the CPU to the first reply.
     */
    public boolean clientCame() {
        return clientCame;
    }

    /** The CPU the stub's thread runs on to be next to its local client, or -1 (see {@link ClientCpuFollower}). */
    public int followedCpu() {
        return beside.cpu();
    }

    /** How often the stub stopped following its client because the client's CPU was busy. */
    long followBackOffs() {
        return beside.starvations();
    }


    /** How many clients wait for the current one to go (see {@link GdbServerOptions#secondClientGrace()}). */
    int waitingClients() {
        return waitingClients.get();
    }

    /** How many replies were written at idle priority beside a local client. */
    long idleWrites() {
        return beside.idleWrites();
    }

    /** How long following stays off after the last back-off. */
    Duration lastFollowBackOff() {
        return beside.lastBackOff();
    }

    /** The event-loop thread's scheduling policy ({@link LinuxScheduling#SCHED_IDLE} or {@code SCHED_OTHER}), or -1. */
    int eventLoopPolicy() throws Exception {
        return group.submit(LinuxScheduling::policy).get(5, TimeUnit.SECONDS);
    }

    /** The event-loop thread's CPU affinity mask as the kernel has it (null where it cannot be read). */
    long[] eventLoopAffinity() throws Exception {
        return group.submit(LinuxScheduling::threadMask).get(5, TimeUnit.SECONDS);
    }

    /** What waits to be sent to the current client, and whether the stub reads from it. */
    record ClientOutput(long pendingBytes, boolean writable, boolean reading) {
    }

    /** The current client's output state (read on the event loop), or null without a client. */
    ClientOutput clientOutput() throws Exception {
        Channel ch;
        synchronized (lock) {
            ch = activeClient;
        }
        if (ch == null) {
            return null;
        }
        return ch.eventLoop().submit(() -> {
            ChannelOutboundBuffer out = ch.unsafe().outboundBuffer();
            return new ClientOutput(out == null ? 0 : out.totalPendingWriteBytes(), ch.isWritable(),
                    ch.config().isAutoRead());
        }).get(5, TimeUnit.SECONDS);
    }

    /** Completes when the most recent session has ended and released the target. */
    public CompletableFuture<Void> lastSessionFinished() {
        synchronized (lock) {
            return lastSessionFinished;
        }
    }

    private void initClient(SocketChannel ch) {
        clientCame = true;
        ch.pipeline().addLast("rsp-decoder", new RspFrameDecoder(RspFrameDecoder.Role.STUB, options.packetSize()));
        ch.pipeline().addLast("rsp-encoder", new RspEncoder(options.runLengthEncoding()));
        // Another client may hold the target but be on its way out (gdb's "disconnect" followed by
        // "target remote" reconnects before the stub has seen the old socket's EOF), so wait a
        // moment for it to go before refusing. Reads stay off until the decision.
        ch.config().setAutoRead(false);
        waitingClients.incrementAndGet();
        waitForTarget(ch, System.nanoTime() + options.secondClientGrace().toNanos(), new AtomicBoolean());
    }

    /**
     * Admits {@code ch} as soon as no other client holds the target, or refuses it at the deadline.
     * Re-arms itself when the holder changes (several clients may be waiting).
     */
    private void waitForTarget(SocketChannel ch, long deadline, AtomicBoolean decided) {
        Channel holder;
        synchronized (lock) {
            if (decided.get()) {
                return;
            }
            if (!ch.isActive()) {
                decided.set(true);
                waitingClients.decrementAndGet();
                return;
            }
            holder = activeClient;
            boolean free = holder == null || !holder.isActive();
            if (free || System.nanoTime() - deadline >= 0) {
                decided.set(true);
                waitingClients.decrementAndGet();
                if (free) {
                    admit(ch);
                } else {
                    ch.pipeline().addLast("refuse", new RefusingHandler("tdemu: another debugger ("
                            + holder.remoteAddress() + ") is attached to this target; only one at a time"));
                }
                ch.config().setAutoRead(true);
                return;
            }
        }
        AtomicBoolean fired = new AtomicBoolean();
        Runnable retry = () -> {
            if (fired.compareAndSet(false, true)) {
                waitForTarget(ch, deadline, decided);
            }
        };
        holder.closeFuture().addListener(f -> ch.eventLoop().execute(retry));
        ch.eventLoop().schedule(retry, Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
    }

    /** Makes {@code ch} the debugging client: its session attaches once the previous one released the target. */
    private void admit(Channel ch) {
        // Called with the lock held.
        GdbSession session = new GdbSession(target,
                new SessionOptions(options.packetSize(), options.requestTimeout(), options.cleanupTimeout()),
                lastSessionFinished, lifecycle);
        activeClient = ch;
        lastSessionFinished = session.finished();
        if (options.followClientCpu()) {
            ch.pipeline().addFirst("follow-cpu", new ClientCpuFollower(beside));
        }
        ch.pipeline().addLast("session", session);
        ch.closeFuture().addListener(f -> {
            synchronized (lock) {
                if (activeClient == ch) {
                    activeClient = null;
                }
            }
        });
    }

    /**
     * Stops listening, closes any client, waits for the last session to release the target (remove
     * its breakpoints, detach), and stops the event loop. Do not call it from a stub or target
     * callback running on the stub's event loop.
     */
    @Override
    public void close() {
        LOG.log(lifecycle, "gdb stub on {} shutting down", serverChannel.localAddress());
        serverChannel.close().syncUninterruptibly();
        Channel client;
        synchronized (lock) {
            client = activeClient;
        }
        if (client != null) {
            client.close().syncUninterruptibly();
        }
        // Also covers a client that left just before: its cleanup may still be running.
        try {
            lastSessionFinished().get(options.cleanupTimeout().toMillis() * 3 + 1000, TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            LOG.warn("the last session did not release the target cleanly: {}", e.toString());
        }
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        beside.close();
    }
}
