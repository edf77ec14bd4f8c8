package dev.tdemu.gdbstub.scheduling;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.OptionalInt;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Where and how the stub's event-loop thread is scheduled while it follows a debugger on this
 * machine ({@link ClientCpuFollower}): pinned to the debugger's CPU, at {@code SCHED_OTHER} like
 * any thread, except while it writes a reply, which it does at {@code SCHED_IDLE}.
 *
 * <p>Sharing the debugger's CPU only pays if the kernel keeps both there. Writing the reply wakes
 * gdb, and the kernel would put gdb on an idle CPU rather than on the stub's busy one (the other
 * CPU of a virtual machine is usually idle, halted, and slow to wake). A CPU that runs only
 * {@code SCHED_IDLE} threads counts as idle for that choice: written at that policy, the reply
 * wakes gdb on the stub's CPU, where gdb preempts the stub at once. Otherwise the thread blocks
 * for the next request instead of polling ({@link #mayPoll()}): gdb's next packet then wakes it
 * on the same CPU, a plain context switch.
 *
 * <p>Idle priority must never starve the thread, nor the JVM: a thread at {@code SCHED_IDLE}
 * next to a busy ordinary thread gets almost nothing (a weight of 3 against 1,024), and a JVM
 * thread that does not get the CPU while it runs Java code holds up every safepoint of the whole
 * JVM. Hence:
 * <ul>
 *   <li>the thread is at idle priority only inside the write of a reply: from the moment it
 *       returns it is ordinary again (a few microseconds of Java code in between, when it runs at
 *       all; preempted inside the system call it counts as in native code for the JVM);</li>
 *   <li>a watchdog thread looks every {@link #WATCH_PERIOD} while a client is followed; if the
 *       thread is still inside the same write two periods in a row, it did not get the CPU back
 *       (something of ordinary priority runs there, or gdb computes for that long): the watchdog
 *       gives it {@code SCHED_OTHER} and its old affinity back, and the stub does not follow for
 *       {@link #BACK_OFF}, doubled (up to {@link #MAX_BACK_OFF}) whenever it starves again within
 *       a few replies of following again: on a busy machine following soon stays off.</li>
 * </ul>
 */
public final class BesideClient implements AutoCloseable {
    private static final Logger LOG = LogManager.getLogger("dev.tdemu.gdbstub.session");
    static final Duration WATCH_PERIOD = Duration.ofMillis(2);
    static final Duration BACK_OFF = Duration.ofMillis(100);
    static final Duration MAX_BACK_OFF = Duration.ofSeconds(10);
    /**
     * Samples in a row inside one write that count as starved. Two, not one: the write may have
     * begun just before the first sample.
     */
    private static final int STUCK_SAMPLES = 2;
    /**
     * A back-off within this many replies written at idle priority since the last one finds the
     * CPU still busy (next to a busy thread 1 to 9 replies got through between back-offs; a gdb
     * session on an idle machine writes thousands of replies per second).
     */
    private static final int STILL_BUSY_REPLIES = 100;

    private final long firstBackOff, maxBackOff;
    private volatile int cpu = -1;
    private volatile boolean idle;
    private volatile long backOffUntil = System.nanoTime();
    private volatile long backOffNanos;
    private volatile boolean closed;
    private volatile int loopTid = -1;
    private volatile long[] original;
    /** Writes at idle priority so far (counted by the event loop). */
    private volatile long idleWrites;
    private final AtomicLong starvations = new AtomicLong();
    /** {@link #idleWrites} at the last back-off (the watchdog's own). */
    private long writesAtBackOff = -STILL_BUSY_REPLIES;
    private volatile Thread watchdog;

    /** Finds the descriptor of this process's socket from a local to a remote address. */
    public interface SocketLookup {
        OptionalInt find(InetSocketAddress local, InetSocketAddress remote);
    }

    /** Sets the calling thread's scheduling policy; false when the kernel refused. */
    public interface PolicySetter {
        boolean set(int policy);
    }

    private final SocketLookup socketLookup;
    private final PolicySetter policy;

    public BesideClient() {
        this(BACK_OFF, MAX_BACK_OFF, LinuxScheduling::socketFd, LinuxScheduling::setPolicy);
    }

    /** With other back-off times, socket lookup and policy calls (tests). */
    public BesideClient(Duration firstBackOff, Duration maxBackOff, SocketLookup socketLookup, PolicySetter policy) {
        this.firstBackOff = firstBackOff.toNanos();
        this.maxBackOff = maxBackOff.toNanos();
        this.backOffNanos = this.firstBackOff;
        this.socketLookup = socketLookup;
        this.policy = policy;
    }

    /** The client's socket (in {@code /proc}: milliseconds; call it off the event loop). */
    OptionalInt findSocket(InetSocketAddress local, InetSocketAddress remote) {
        return socketLookup.find(local, remote);
    }

    /** Whether following is possible at all here: without a way back from idle priority it is not. */
    static String unavailable() {
        if (!LinuxScheduling.canLeaveIdlePolicy()) {
            return "this process may not return a thread from SCHED_IDLE (needs CAP_SYS_NICE or RLIMIT_NICE >= 20)";
        }
        return null;
    }

    /** The CPU the thread follows its client to, or -1. */
    public int cpu() {
        return cpu;
    }

    /** How often the watchdog found the thread starved at idle priority. */
    public long starvations() {
        return starvations.get();
    }

    /** How long the last back-off was (or will be). */
    public Duration lastBackOff() {
        return Duration.ofNanos(backOffNanos);
    }

    /** Whether the watchdog would count the thread as inside a write at idle priority now. */
    public boolean idleForWatchdog() {
        return idle;
    }

    /** How many replies were written at idle priority. */
    public long idleWrites() {
        return idleWrites;
    }

    // ---- on the event loop ----

    /** A client to follow, on the calling (event-loop) thread, whose affinity before following is {@code mask}. */
    void attach(long[] mask) {
        original = mask;
        loopTid = LinuxScheduling.threadId();
    }

    /**
     * The client's packets come from {@code clientCpu}: move the event-loop thread there. False
     * when the kernel refused.
     */
    boolean follow(int clientCpu) {
        if (clientCpu == cpu || backingOff()) {
            return true;
        }
        long[] mask = original;
        long[] only = LinuxScheduling.only(clientCpu, mask);
        if (only == null) {
            return true; // a CPU this process may not use
        }
        if (!LinuxScheduling.setThreadMask(only)) {
            return false;
        }
        if (backingOff()) { // the watchdog gave up meanwhile
            LinuxScheduling.setThreadMask(mask);
            return true;
        }
        LOG.trace("the stub's thread follows its client to CPU {}", clientCpu);
        cpu = clientCpu;
        wakeWatchdog();
        return true;
    }

    /** A reply is about to be written: at idle priority, if beside the client. */
    void beforeWrite() {
        if (cpu >= 0 && !backingOff()) {
            // The watchdog must see the thread as idle before it is: the thread may lose its CPU
            // on the way back from the very call that lowers its priority.
            idle = true;
            idleWrites++;
            if (!policy.set(LinuxScheduling.SCHED_IDLE)) {
                idle = false;
            }
        }
    }

    /** The write is over: ordinary priority again (and only then not idle for the watchdog). */
    void afterWrite() {
        if (idle) {
            if (!policy.set(LinuxScheduling.SCHED_OTHER)) {
                LOG.warn("could not return the stub's thread to SCHED_OTHER");
            }
            idle = false;
        }
    }

    /** The client left: everything back as it was. */
    void release() {
        afterWrite();
        long[] mask = original;
        if (cpu >= 0 && mask != null && !LinuxScheduling.setThreadMask(mask)) {
            LOG.warn("could not give the stub's thread its CPU affinity back");
        }
        cpu = -1;
    }

    /**
     * Whether the event loop may poll for a while after activity (see {@link SpinThenSelectStrategy}):
     * not beside the client, where polling at ordinary priority would take the CPU from gdb while
     * it computes; there the next packet wakes the thread on the same CPU.
     */
    public boolean mayPoll() {
        return cpu < 0;
    }

    private boolean backingOff() {
        return System.nanoTime() - backOffUntil < 0;
    }

    // ---- the watchdog ----

    private void wakeWatchdog() {
        Thread w = watchdog;
        if (w == null) {
            watchdog = Thread.ofPlatform().name("gdbstub-watchdog").daemon().start(this::watch);
        } else {
            LockSupport.unpark(w);
        }
    }

    private void watch() {
        long lastWrite = -1;
        int stuck = 0;
        while (!closed) {
            int tid = loopTid;
            if (cpu < 0 || tid < 0) {
                stuck = 0;
                LockSupport.park(this);
                continue;
            }
            LockSupport.parkNanos(this, WATCH_PERIOD.toNanos());
            long write = idleWrites;
            stuck = idle && write == lastWrite ? stuck + 1 : 0;
            lastWrite = write;
            // A false alarm costs BACK_OFF of round trips between CPUs; a busy CPU, a stall of
            // STUCK_SAMPLES periods per back-off.
            if (stuck >= STUCK_SAMPLES) {
                stuck = 0;
                backOff(tid);
            }
        }
    }

    /** On the watchdog: the thread did not get its CPU back after a write; ordinary priority and its old affinity. */
    private void backOff(int tid) {
        long now = System.nanoTime();
        // Starved again within a few replies of following again: the CPU is still busy; stay off longer.
        long writes = idleWrites;
        long previous = writesAtBackOff;
        long nanos = writes - previous < STILL_BUSY_REPLIES ? Math.min(2 * backOffNanos, maxBackOff) : firstBackOff;
        writesAtBackOff = writes;
        backOffNanos = nanos;
        backOffUntil = now + nanos;
        starvations.incrementAndGet();
        LinuxScheduling.setPolicy(tid, LinuxScheduling.SCHED_OTHER);
        long[] mask = original;
        if (mask != null) {
            LinuxScheduling.setThreadMask(tid, mask);
        }
        int was = cpu;
        cpu = -1;
        LOG.debug("the stub's thread did not get CPU {} back after writing a reply at idle priority: "
                + "not following its client for {} ms ({} replies since the last back-off)", was, nanos / 1_000_000,
                writes - previous);
    }

    @Override
    public void close() {
        closed = true;
        Thread w = watchdog;
        if (w != null) {
            LockSupport.unpark(w);
        }
    }
}
