package dev.tdemu.gdbstub;

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
 * debugger is connected.
 *
 * <p>gdb and the stub take turns: gdb sends a packet and blocks, the stub answers and waits, and so
 * on, a few times per {@code stepi}. On a virtual machine a CPU with nothing to run halts, and
 * waking a thread on a halted CPU costs tens of microseconds on both sides (an inter-processor
 * interrupt through the hypervisor, then the CPU's wake-up), more than serving the packet. When
 * both threads share one CPU, each hand-over is a plain context switch (measured here: 15 against
 * 60 µs per round trip). The kernel ends up putting two small C programs talking over loopback on
 * one CPU, but not gdb and the stub's thread, so this handler does it: at each read it asks
 * the socket which CPU processed the segment ({@code SO_INCOMING_CPU}, which over loopback is the
 * sender's CPU) and, when that changed, moves its own thread there. It never touches the
 * debugger's process. When the client leaves, the thread gets its old affinity back.
 *
 * <p>Only for clients on this machine (loopback or one of its own addresses), and only where the
 * calls exist ({@link LinuxScheduling#AVAILABLE}); otherwise it does nothing and says so in the
 * debug log.
 */
final class ClientCpuFollower extends OnceActiveHandler {
    private static final Logger LOG = LogManager.getLogger("dev.tdemu.gdbstub.session");

    private final BesideClient beside;
    private int fd = -1;
    /** getsockopt's value and length, reused at every read. */
    private final MemorySegment scratch = Arena.ofAuto().allocate(8);

    ClientCpuFollower(BesideClient beside) {
        this.beside = beside;
    }

    @Override
    protected void activated(ChannelHandlerContext ctx) {
        String why = unavailable(ctx);
        if (why != null) {
            LOG.debug("not following the client's CPU: {}", why);
        }
    }

    /** Sets up, or says why this client cannot be followed. */
    private String unavailable(ChannelHandlerContext ctx) {
        if (!LinuxScheduling.AVAILABLE) {
            return LinuxScheduling.UNAVAILABLE_BECAUSE;
        }
        String why = BesideClient.unavailable();
        if (why != null) {
            return why;
        }
        if (!(ctx.channel().localAddress() instanceof InetSocketAddress local)
                || !(ctx.channel().remoteAddress() instanceof InetSocketAddress remote)) {
            return "not a TCP connection";
        }
        if (!onThisMachine(remote)) {
            return "the client " + remote + " is on another machine";
        }
        OptionalInt socket = LinuxScheduling.socketFd(local, remote);
        if (socket.isEmpty()) {
            return "the socket " + local + " <- " + remote + " is not in /proc/net/tcp{,6} or /proc/self/fd";
        }
        long[] mask = LinuxScheduling.threadMask();
        if (mask == null) {
            return "sched_getaffinity failed";
        }
        fd = socket.getAsInt();
        beside.attach(fd, mask);
        LOG.debug("following the client's CPU (the stub's thread runs there, at idle priority while it polls)");
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
            beside.read();
            int cpu = LinuxScheduling.incomingCpu(fd, scratch);
            if (cpu >= 0 && !beside.follow(cpu)) {
                LOG.debug("not following the client's CPU: sched_setaffinity to CPU {} failed", cpu);
                beside.release();
                fd = -1;
            } else {
                // The loop may have woken from a blocking select at ordinary priority: the reply
                // to this packet must leave at idle priority to keep gdb on this CPU.
                beside.active();
            }
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        release();
        fd = -1;
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        release();
        fd = -1;
    }

    private void release() {
        if (fd >= 0) {
            beside.release();
            LOG.debug("the client left; the stub's thread has its affinity back ({} back-offs from a busy CPU so far)",
                    beside.starvations());
        }
    }
}
