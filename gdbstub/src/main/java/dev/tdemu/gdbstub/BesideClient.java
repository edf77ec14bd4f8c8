package dev.tdemu.gdbstub;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Where and how the stub's event-loop thread is scheduled while it follows a debugger on this
 * machine ({@link ClientCpuFollower}): pinned to the debugger's CPU, and at {@code SCHED_IDLE}
 * while it polls for the debugger's next packet.
 *
 * <p>Sharing the debugger's CPU only pays if the kernel keeps both there. When the stub wakes gdb
 * with a reply, the kernel puts gdb on an idle CPU rather than on the stub's busy one, and the
 * other CPU of a virtual machine is usually idle (halted): gdb would move on every reply and wake
 * up slowly there. A CPU that runs only {@code SCHED_IDLE} threads counts as idle for that choice,
 * so while the thread polls it runs at that policy: gdb's wake-up lands on the thread's CPU and
 * preempts it at once, and the thread gets the CPU back the moment gdb blocks. No thread is woken
 * on another CPU.
 *
 * <p>Idle priority must never starve the thread:
 * <ul>
 *   <li>it is idle only while it polls after activity; it blocks at {@code SCHED_OTHER};</li>
 *   <li>it returns to {@code SCHED_OTHER} before the guest runs on the vCPUs' own threads (a
 *       continue, or a range step of unknown length; see {@link #guestRuns()}) until the guest
 *       stops again;</li>
 *   <li>a watchdog thread looks, every {@link #WATCH_PERIOD}, whether a request from gdb sits
 *       unread; if one did at the start of the period and one still does at its end, and the
 *       thread read nothing in between, the thread did not get a CPU for the whole period:
 *       something else of ordinary priority runs on that CPU. The watchdog then gives the thread
 *       {@code SCHED_OTHER} and its old affinity back; the stub does not follow for
 *       {@link #BACK_OFF}, then tries again. (gdb's requests come one at a time, so a request
 *       does not wait behind the thread's own work. Time spent waiting for the CPU is no sign: the
 *       thread waits whenever gdb computes, and gdb may compute a while after it sent a request;
 *       and the kernel adds a wait to a thread's {@code schedstat} only once the thread runs
 *       again, too late to see a thread that does not get the CPU at all.)</li>
 *   <li>the watchdog backs off the same way when the loop has not come round once in two
 *       periods in a row at idle priority: it is inside one long task (a large memory read, a
 *       long step) or gets no CPU at all, and in both cases it must not go on at idle
 *       priority, where a busy ordinary thread on the CPU would leave it almost nothing (a
 *       weight of 3 against 1,024) while no request of gdb's need be waiting to show it.</li>
 * </ul>
 */
final class BesideClient implements SpinThenSelectStrategy.Hints, AutoCloseable {
    private static final Logger LOG = LogManager.getLogger("dev.tdemu.gdbstub.session");
    static final Duration WATCH_PERIOD = Duration.ofMillis(2);
    static final Duration BACK_OFF = Duration.ofMillis(100);
    /**
     * Periods in a row without one loop iteration that count as a long task or no CPU. Two, not
     * one: a pause of the whole JVM (a safepoint, a young collection) that ends just before a
     * sample must not count.
     */
    private static final int STUCK_PERIODS = 2;

    private volatile int cpu = -1;
    private volatile boolean idle;
    private volatile long backOffUntil = System.nanoTime();
    private volatile boolean closed;
    private volatile int loopTid = -1;
    private volatile int socketFd = -1;
    private volatile long[] original;
    /** Reads from the client's socket so far (written by the event loop only). */
    private volatile long reads;
    /** Event-loop iterations so far (written by the event loop only). */
    private volatile long iterations;
    private boolean guestRunning;
    /** Watchdog periods in a row in which the loop did not come round (the watchdog's own). */
    private int stuckPeriods;
    private final AtomicLong starvations = new AtomicLong();
    private volatile Thread watchdog;

    /** Whether following is possible at all here: without a way back from idle priority it is not. */
    static String unavailable() {
        if (!LinuxScheduling.canLeaveIdlePolicy()) {
            return "this process may not return a thread from SCHED_IDLE (needs CAP_SYS_NICE or RLIMIT_NICE >= 20)";
        }
        return null;
    }

    /** The CPU the thread follows its client to, or -1. */
    int cpu() {
        return cpu;
    }

    /** How often the watchdog found the thread starved at idle priority. */
    long starvations() {
        return starvations.get();
    }

    // ---- on the event loop ----

    /**
     * A client to follow, on the calling (event-loop) thread: its socket, and the thread's
     * affinity before it follows anyone.
     */
    void attach(int fd, long[] mask) {
        socketFd = fd;
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
        return true;
    }

    /** The event loop read from the client's socket. */
    void read() {
        reads++;
    }

    /** The client left: everything back as it was. */
    void release() {
        setIdle(false);
        long[] mask = original;
        if (cpu >= 0 && mask != null && !LinuxScheduling.setThreadMask(mask)) {
            LOG.warn("could not give the stub's thread its CPU affinity back");
        }
        cpu = -1;
        guestRunning = false;
    }

    /** Packets or tasks to handle: the thread is needed, poll at idle priority (if beside the client). */
    @Override
    public void looped() {
        iterations++;
    }

    @Override
    public void active() {
        if (cpu >= 0 && !guestRunning && !idle) {
            setIdle(true);
        }
    }

    /** The event loop is about to block: ordinary priority, so that a wake-up is never starved. */
    @Override
    public void blocking() {
        if (idle) {
            setIdle(false);
        }
    }

    /**
     * The guest is about to run on the vCPUs' own threads (anything but a lone single step), or
     * for an unknown time on this one (a range step).
     */
    void guestRuns() {
        guestRunning = true;
        setIdle(false);
    }

    /** That run has ended: the vCPU threads are parked again. */
    void guestStopped() {
        guestRunning = false;
    }

    /** Whether the event loop may poll for a while after activity (see {@link SpinThenSelectStrategy}). */
    @Override
    public boolean mayPoll() {
        return cpu < 0 || idle;
    }

    private boolean backingOff() {
        return System.nanoTime() - backOffUntil < 0;
    }

    private void setIdle(boolean on) {
        if (on == idle) {
            return;
        }
        if (on && backingOff()) {
            return;
        }
        if (!LinuxScheduling.setPolicy(on ? LinuxScheduling.SCHED_IDLE : LinuxScheduling.SCHED_OTHER)) {
            LOG.warn("could not set the stub's thread to {}", on ? "SCHED_IDLE" : "SCHED_OTHER");
            return;
        }
        idle = on;
        if (on) {
            if (backingOff()) { // the watchdog gave up meanwhile
                LinuxScheduling.setPolicy(LinuxScheduling.SCHED_OTHER);
                idle = false;
                return;
            }
            wakeWatchdog();
        }
    }

    // ---- the watchdog ----

    private void wakeWatchdog() {
        if (watchdog == null) {
            watchdog = Thread.ofPlatform().name("gdbstub-watchdog").daemon().start(this::watch);
        } else {
            LockSupport.unpark(watchdog);
        }
    }

    private void watch() {
        while (!closed) {
            int tid = loopTid;
            if (!idle || tid < 0) {
                stuckPeriods = 0;
                LockSupport.park(this);
                continue;
            }
            long readsBefore = reads;
            long iterationsBefore = iterations;
            boolean unread = LinuxScheduling.hasUnreadRequest(socketFd);
            LockSupport.parkNanos(this, WATCH_PERIOD.toNanos());
            // A false alarm costs only BACK_OFF of slower round trips; a CPU kept busy by something
            // else costs a stall of a few periods per BACK_OFF.
            if (!idle) {
                stuckPeriods = 0;
                continue;
            }
            stuckPeriods = iterations == iterationsBefore ? stuckPeriods + 1 : 0;
            if (stuckPeriods >= STUCK_PERIODS
                    || (unread && reads == readsBefore && LinuxScheduling.hasUnreadRequest(socketFd))) {
                stuckPeriods = 0;
                backOff(tid);
            }
        }
    }

    /** On the watchdog: the polling thread was starved; give it back its priority and affinity. */
    private void backOff(int tid) {
        backOffUntil = System.nanoTime() + BACK_OFF.toNanos();
        starvations.incrementAndGet();
        LinuxScheduling.setPolicy(tid, LinuxScheduling.SCHED_OTHER);
        long[] mask = original;
        if (mask != null) {
            LinuxScheduling.setThreadMask(tid, mask);
        }
        idle = false;
        int was = cpu;
        cpu = -1;
        LOG.debug("the stub's thread was starved, or busy in one task, at idle priority on CPU {}: "
                + "not following its client for {} ms", was, BACK_OFF.toMillis());
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
