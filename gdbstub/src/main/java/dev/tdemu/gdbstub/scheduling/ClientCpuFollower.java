package dev.tdemu.gdbstub.scheduling;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.util.OptionalInt;

/**
 * Runs the stub's event-loop thread on the CPU of a debugger on the same machine, while that
 * debugger is connected (only when asked for: {@code GdbServerOptions.followClientCpu()}).
 *
 * <p>gdb and the stub take turns: gdb sends a packet and blocks, the stub answers and waits, and so
 * on, a few times per {@code stepi}. On a virtual machine a CPU with nothing to run halts, and
 * waking a thread on a halted CPU costs tens of microseconds on both sides (an inter-processor
 * interrupt through the hypervisor, then the CPU's wake-up), more than serving the packet. When
 * both threads share one CPU, each hand-over is a plain context switch (measured here: 15 against
 * 60 µs per round trip). The kernel does not put gdb and the stub's thread on one CPU by itself,
 * so this handler does it: at each read it asks the socket which CPU processed the segment
 * ({@code SO_INCOMING_CPU}, which over loopback is the sender's CPU) and, when that changed, moves
 * its own thread there; replies are written at idle priority so that gdb wakes up there too
 * ({@link BesideClient}). It never touches the debugger's process. When the client leaves, the
 * thread gets its old affinity back.
 *
 * <p>Only for clients on this machine (loopback or one of its own addresses), and only where the
 * calls exist ({@link LinuxScheduling#AVAILABLE}); otherwise it does nothing and says so in the
 * debug log. The socket's descriptor is looked up in {@code /proc} (milliseconds) on another
 * thread, so the client's first packets do not wait for it; following starts once it is known.
 */
public final class ClientCpuFollower extends ChannelDuplexHandler {
    private static final Logger LOG = LogManager.getLogger("dev.tdemu.gdbstub.session");

    private final BesideClient beside;
    private boolean started;
    private boolean left;
    private int fd = -1;
    /** getsockopt's value and length, reused at every read. */
    private final MemorySegment scratch = Arena.ofAuto().allocate(8);

    public ClientCpuFollower(BesideClient beside) {
        this.beside = beside;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        if (ctx.channel().isActive()) {
            start(ctx);
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        start(ctx);
        ctx.fireChannelActive();
    }

    private void start(ChannelHandlerContext ctx) {
        if (started) {
            return;
        }
        started = true;
        String why = unavailable(ctx);
        if (why != null) {
            LOG.debug("not following the client's CPU: {}", why);
            return;
        }
        InetSocketAddress local = (InetSocketAddress) ctx.channel().localAddress();
        InetSocketAddress remote = (InetSocketAddress) ctx.channel().remoteAddress();
        long[] mask = LinuxScheduling.threadMask();
        if (mask == null) {
            LOG.debug("not following the client's CPU: sched_getaffinity failed");
            return;
        }
        Thread.ofVirtual().name("gdbstub-socket-lookup").start(() -> {
            OptionalInt socket = beside.findSocket(local, remote);
            ctx.executor().execute(() -> found(ctx, socket, mask, local, remote));
        });
    }

    /** On the event loop: the socket's descriptor is known (or not). */
    private void found(ChannelHandlerContext ctx, OptionalInt socket, long[] mask, InetSocketAddress local,
                       InetSocketAddress remote) {
        if (left || !ctx.channel().isActive()) {
            return;
        }
        if (socket.isEmpty()) {
            LOG.debug("not following the client's CPU: the socket {} <- {} is not in /proc/net/tcp{,6} or /proc/self/fd",
                    local, remote);
            return;
        }
        fd = socket.getAsInt();
        beside.attach(mask);
        LOG.debug("following the client's CPU (the stub's thread runs there and writes its replies at idle priority)");
    }

    /** Why this client cannot be followed, or null. */
    private static String unavailable(ChannelHandlerContext ctx) {
        if (!LinuxScheduling.AVAILABLE) {
            return LinuxScheduling.UNAVAILABLE_BECAUSE;
        }
        String why = BesideClient.unavailable();
        if (why != null) {
            return why;
        }
        if (!(ctx.channel().localAddress() instanceof InetSocketAddress)
                || !(ctx.channel().remoteAddress() instanceof InetSocketAddress remote)) {
            return "not a TCP connection";
        }
        if (!onThisMachine(remote)) {
            return "the client " + remote + " is on another machine";
        }
        return null;
    }

    static boolean onThisMachine(InetSocketAddress remote) {
        InetAddress address = remote.getAddress();
        if (address == null) {
            return false;
        }
        if (address.isLoopbackAddress()) {
            return true;
        }
        try {
            return NetworkInterface.getByInetAddress(address) != null;
        } catch (SocketException e) {
            return false;
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (fd >= 0) {
            int cpu = LinuxScheduling.incomingCpu(fd, scratch);
            if (cpu >= 0 && !beside.follow(cpu)) {
                LOG.debug("not following the client's CPU: sched_setaffinity to CPU {} failed", cpu);
                release();
            }
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void flush(ChannelHandlerContext ctx) {
        if (fd < 0) {
            ctx.flush();
            return;
        }
        beside.beforeWrite();
        try {
            ctx.flush();
        } finally {
            beside.afterWrite();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        release();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        release();
    }

    private void release() {
        left = true;
        if (fd >= 0) {
            fd = -1;
            beside.release();
            LOG.debug("the client left; the stub's thread has its affinity back ({} back-offs from a busy CPU so far)",
                    beside.starvations());
        }
    }
}
