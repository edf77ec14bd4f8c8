package dev.tdemu.emulator.vm;

import dev.tdemu.core.x86.Rflags;

import dev.tdemu.core.kvm.GuestDebug;
import dev.tdemu.core.kvm.GuestDebugRequest;
import dev.tdemu.core.pc.MsrRead;
import dev.tdemu.core.tdx.TdxDebugRefused;
import dev.tdemu.core.x86.Access;
import dev.tdemu.core.x86.BreakpointLength;
import dev.tdemu.core.x86.BreakpointType;
import dev.tdemu.core.x86.DataAccessKind;
import dev.tdemu.core.x86.DebugRegisters;
import dev.tdemu.core.x86.Dr7;
import dev.tdemu.emulator.machine.GuestMemory;
import dev.tdemu.emulator.machine.PageWalker;
import dev.tdemu.emulator.machine.PagingState;
import dev.tdemu.emulator.unicorn.X86Mmr;
import dev.tdemu.emulator.unicorn.X86Reg;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * A debugger attached to a VM, with KVM's semantics: hardware breakpoints and watchpoints become
 * the debugger's debug registers through KVM_SET_GUEST_DEBUG (USE_HW_BP: KVM loads them instead
 * of the guest's and intercepts #DB); software breakpoints are INT3 bytes with #BP intercepted
 * (USE_SW_BP); stepping is KVM's SINGLESTEP. For a TD only a debug TD allows any of it (through
 * the TDX module's debug interface); a non-debug TD refuses, as real TDX does.
 *
 * <p>All-stop: when one vCPU stops for the debugger every other vCPU is held at its next exit, and
 * the listener hears of the stop once all are held. Methods that read or change guest state
 * require the VM to be stopped. Any thread may call them; vCPU threads park inside the session.
 *
 * <p>Non-stop ({@link #nonStop(boolean)}, gdb's {@code set non-stop on}): each vCPU stops and is
 * resumed on its own, and the listener hears of each vCPU's stop as soon as that vCPU is held; the
 * others run on. A held vCPU waits here, outside the engine lock of {@link GuestScheduler}, so the
 * others keep executing; an IPI sent to it stays pending in its local APIC until it is resumed.
 * Its registers and (through its page tables) memory may be read while others run; what touches
 * every vCPU (guest memory writes, breakpoints, which need each engine's translations dropped and
 * its debug registers reloaded) first holds the running vCPUs at their next exit for the moment it
 * takes, without reporting them ({@link #whileAllParked}).
 */
public final class DebugSession {
    private static final Logger LOG = LogManager.getLogger("dev.tdemu.emulator.vm");

    public enum Action { CONTINUE, STEP, STAY }

    /** The outcome of a breakpoint request: done, not available at all, or refused with a reason. */
    public record Result(boolean ok, boolean unsupported, String message) {
        public static final Result OK = new Result(true, false, "");
        public static final Result UNSUPPORTED = new Result(false, true, "");

        public static Result refused(String why) {
            return new Result(false, false, why);
        }
    }

    /**
     * A debugger breakpoint in one of the four debug-register slots: {@code address}/{@code length}
     * is what the slot watches, {@code requested}/{@code requestedLength} the breakpoint gdb asked
     * for (a watchpoint of any length or alignment takes one slot per aligned piece).
     */
    private record HwBreakpoint(BreakpointType type, long address, int length, DebugEvent.Kind kind, long requested,
            int requestedLength) {}

    /** Most bytes one watchpoint may cover: four 8-byte debug registers. */
    static final int MAX_WATCH_BYTES = 32;

    /**
     * The aligned pieces of 1, 2, 4 or 8 bytes, as x86 debug registers watch them, that cover
     * exactly {@code length} bytes from {@code address}: {address, length} pairs, largest first
     * where the alignment allows.
     */
    static List<long[]> alignedPieces(long address, int length) {
        List<long[]> pieces = new ArrayList<>();
        long at = address;
        long left = length;
        while (left > 0) {
            int size = 8;
            while (size > 1 && ((at & (size - 1)) != 0 || size > left)) {
                size >>= 1;
            }
            pieces.add(new long[] {at, size});
            at += size;
            left -= size;
        }
        return pieces;
    }

    private final Vm vm;
    private final List<Vcpu> vcpus;
    private volatile DebugListener listener;
    private final ReentrantLock lock = new ReentrantLock();
    /**
     * One per vCPU: its own thread waits on it while held or borrowed, and is signalled only when
     * it has something to do (resumed, handed back, retired, the VM ended). A signal it does not
     * need is a thread wake-up, which on a virtual machine costs about as much as a whole step.
     */
    private final Condition[] wake;
    /** How often a vCPU's own thread came back from waiting (for tests: a lone step wakes none). */
    private long wakeups;
    private final boolean[] hold;
    private final boolean[] parked;
    private final boolean[] stepping;
    private final boolean[] guestTf;
    /** The next entry is a step's first: the guest's own TF is read there (later entries see tdemu's). */
    private final boolean[] stepStart;
    /** A debugger thread runs this vCPU for a single step; the vCPU's own thread waits meanwhile. */
    private final boolean[] borrowed;
    /** The vCPU stopped for good while borrowed: its own thread ends its run loop. */
    private final boolean[] retired;
    private DebugEvent pending;
    private boolean interruptRequested;
    /** Non-stop mode: each vCPU stops and resumes on its own (see the class comment). */
    private volatile boolean nonStop;
    /** Non-stop: the stop a held vCPU reports when it parks (null: stopped by request, INTERRUPTED). */
    private final DebugEvent[] pendingOf;
    /** Non-stop: the vCPU's current stop was reported (or known to the debugger); cleared when it resumes. */
    private final boolean[] reported;
    /** Held for a moment without a stop, while the debugger changes what every vCPU sees ({@link #whileAllParked}). */
    private final boolean[] paused;
    /** Signalled whenever a vCPU parks, or the VM ends (for {@link #whileAllParked} and leaving non-stop mode). */
    private final Condition parkedChanged;
    private final HwBreakpoint[] hardware = new HwBreakpoint[4];
    private volatile boolean physicalMemory;
    private final Map<Long, Byte> software = new HashMap<>();

    DebugSession(Vm vm, List<Vcpu> vcpus, DebugListener listener, boolean startStopped) {
        this.vm = vm;
        this.vcpus = vcpus;
        this.listener = listener;
        int n = vcpus.size();
        hold = new boolean[n];
        parked = new boolean[n];
        stepping = new boolean[n];
        guestTf = new boolean[n];
        stepStart = new boolean[n];
        borrowed = new boolean[n];
        retired = new boolean[n];
        pendingOf = new DebugEvent[n];
        reported = new boolean[n];
        paused = new boolean[n];
        parkedChanged = lock.newCondition();
        wake = new Condition[n];
        for (int i = 0; i < n; i++) {
            wake[i] = lock.newCondition();
        }
        if (startStopped) {
            java.util.Arrays.fill(hold, true);
            interruptRequested = true;
        }
    }

    public void setListener(DebugListener l) {
        listener = l;
    }

    public int vcpuCount() {
        return vcpus.size();
    }

    public boolean isTd() {
        return vcpus.getFirst().kvm().isTd();
    }

    public boolean isDebugTd() {
        return isTd() && vcpus.getFirst().kvm().tdVcpu().attributes().debug();
    }

    boolean holdRequested(int i) {
        lock.lock();
        try {
            return hold[i] || paused[i];
        } finally {
            lock.unlock();
        }
    }

    /** How many times a vCPU's own thread has come back from waiting to be resumed. */
    long vcpuThreadWakeups() {
        lock.lock();
        try {
            return wakeups;
        } finally {
            lock.unlock();
        }
    }

    /** Exception vectors the debugger catches ({@code monitor catch}), one bit each. */
    private volatile int caught;

    /** Mnemonics of the exceptions {@code monitor catch} accepts, by vector (null: not catchable). */
    private static final String[] CATCHABLE = new String[32];

    static {
        String[] names = {"de", null, null, "bp", "of", "br", "ud", "nm", null, null, "ts", "np", "ss", "gp", "pf", null,
            "mf", "ac", "mc", "xm", "ve", "cp"};
        System.arraycopy(names, 0, CATCHABLE, 0, names.length);
    }

    /** Whether the debugger catches exception {@code vector}. */
    public boolean catches(int vector) {
        return vector >= 0 && vector < 32 && (caught & (1 << vector)) != 0;
    }

    /** The one line a caught exception is reported with (gdb's console shows it at the stop). */
    static String describeCaught(int vcpu, int vector, long errorCode, long cr2, long rip) {
        StringBuilder b = new StringBuilder(String.format("tdemu: vCPU %d raised #%s (vector %d)", vcpu,
                CATCHABLE[vector].toUpperCase(java.util.Locale.ROOT), vector));
        if (errorCode >= 0) {
            b.append(String.format(", error code 0x%x", errorCode));
        }
        if (vector == 14) {
            b.append(String.format(", CR2 0x%x", cr2));
        }
        return b.append(String.format(" at RIP 0x%x; not delivered yet: continue delivers it to the guest", rip)).toString();
    }

    /**
     * {@code monitor catch [VECTOR|NAME ...|off]}: stop before the guest's exceptions of the given
     * vectors are delivered (added to those already caught); {@code off} catches none; with no
     * argument, lists them. #DB is refused (the debugger's own breakpoints and steps use it), as
     * are NMI, #DF (raised while delivering another exception: catch that one) and reserved vectors.
     */
    private String catchCommand(String[] w) {
        if (w.length == 2 && w[1].equals("off")) {
            caught = 0;
        } else if (w.length > 1) {
            Vcpu first = vcpus.getFirst();
            if (first.kvm().isTd() && !first.kvm().tdVcpu().attributes().debug()) {
                throw new IllegalArgumentException("a non-debug TD's exceptions never reach the host (the TDX module handles "
                        + "them inside the TD): run it with --debug-td to catch them");
            }
            int add = 0;
            for (int i = 1; i < w.length; i++) {
                add |= 1 << catchableVector(w[i]);
            }
            caught |= add;
        }
        if (caught == 0) {
            return "no guest exception is caught (monitor catch VECTOR|NAME... stops before delivery, e.g. monitor catch pf gp ud)\n";
        }
        StringBuilder b = new StringBuilder("the VM stops before delivering:");
        for (int v = 0; v < 32; v++) {
            if (catches(v)) {
                b.append(String.format(" #%s (%d)", CATCHABLE[v].toUpperCase(java.util.Locale.ROOT), v));
            }
        }
        return b.append('\n').toString();
    }

    private static int catchableVector(String word) {
        String w = word.toLowerCase(java.util.Locale.ROOT).replaceFirst("^#", "");
        int vector = -1;
        for (int v = 0; v < CATCHABLE.length; v++) {
            if (w.equals(CATCHABLE[v])) {
                vector = v;
            }
        }
        if (vector < 0) {
            try {
                vector = w.startsWith("0x") ? Integer.parseInt(w.substring(2), 16) : Integer.parseInt(w);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("'" + word + "' is not an exception: a vector 0-31 or one of "
                        + String.join(" ", java.util.Arrays.stream(CATCHABLE).filter(java.util.Objects::nonNull).toList()));
            }
        }
        if (vector == 1) {
            throw new IllegalArgumentException("#DB (vector 1) cannot be caught: the debugger's own breakpoints, watchpoints "
                    + "and steps use it");
        }
        if (vector < 0 || vector > 31 || CATCHABLE[vector] == null) {
            throw new IllegalArgumentException("vector " + word + " cannot be caught: only exceptions the CPU raises for an "
                    + "instruction are (not NMI, #DF, reserved vectors or interrupts)");
        }
        return vector;
    }

    /** A debugger is connected (set by the front end), so a vCPU about to shut down stops for it. */
    private volatile boolean debuggerPresent;

    /** Whether a debugger is connected now ({@link #debuggerPresent(boolean)}). */
    public boolean debuggerPresent() {
        return debuggerPresent;
    }

    /**
     * Tells the session whether a debugger is connected: only then does a vCPU that would shut
     * down (a triple fault) stop for inspection instead of ending the VM, which nobody could resume.
     */
    public void debuggerPresent(boolean present) {
        debuggerPresent = present;
    }

    /** Whether vCPU {@code i} is still alive (not halted for good). */
    public boolean alive(int i) {
        return !vcpus.get(i).halted();
    }

    /** Whether vCPU {@code i} waits for a start-up IPI (an application processor not started yet, or after INIT). */
    public boolean waitsForStartup(int i) {
        return vcpus.get(i).waitsForStartup();
    }

    /** What vCPU {@code i} waits for while it {@link #waitsForStartup}: "wait-for-SIPI", or a TD's AP's "wait-for-wakeup" (the ACPI mailbox). */
    public String startupWait(int i) {
        return vcpus.get(i).startupWait();
    }

    // ---- vCPU side ----

    /** Called by a vCPU before every entry: parks while held. False when the VM ended meanwhile. */
    boolean beforeEntry(Vcpu v) {
        while (true) {
            DebugEvent report = null;
            lock.lock();
            try {
                if (vm.finished() || retired[v.index()]) {
                    return false;
                }
                if (borrowed[v.index()]) {
                    wake[v.index()].awaitUninterruptibly();
                    wakeups++;
                    continue;
                }
                if (!hold[v.index()] && !paused[v.index()]) {
                    prepareEntry(v);
                    return true;
                }
                report = park(v);
                if (report == null) {
                    wake[v.index()].awaitUninterruptibly();
                    wakeups++;
                    continue;
                }
            } finally {
                lock.unlock();
            }
            report(report);
        }
    }

    /** Tells the listener of a stop (outside the lock: the listener may call back into the session). */
    private void report(DebugEvent stop) {
        LOG.debug("debug stop: {}", stop);
        DebugListener l = listener;
        if (l != null) {
            l.stopped(stop);
        }
    }

    /** Under the lock: the vCPU is about to enter the guest. */
    private void prepareEntry(Vcpu v) {
        parked[v.index()] = false;
        v.engine().clearKick(); // a kick that wanted this vCPU parked is done with
        if (stepping[v.index()]) {
            // KVM's SINGLESTEP: TF set for the guest at every entry, hidden again at the stop. A step
            // can take several entries (an exit handled on the way re-enters with tdemu's TF still
            // set), so the guest's own TF is the one seen at the step's first entry.
            long rflags = v.reg(X86Reg.RFLAGS);
            if (stepStart[v.index()]) {
                stepStart[v.index()] = false;
                guestTf[v.index()] = (rflags & Rflags.TF) != 0;
            }
            if ((rflags & Rflags.TF) == 0) {
                v.reg(X86Reg.RFLAGS, rflags | Rflags.TF);
            }
        }
    }

    /**
     * The vCPU's RFLAGS were reset (INIT, or a start-up IPI): as KVM's kvm_set_rflags, a single step
     * of the debugger's keeps TF set, so the step ends after the first instruction the vCPU runs
     * from its new state; the guest's own TF is the reset value's, clear.
     */
    void rflagsReset(Vcpu v) {
        lock.lock();
        try {
            if (stepping[v.index()]) {
                stepStart[v.index()] = false;
                guestTf[v.index()] = false;
                v.reg(X86Reg.RFLAGS, v.reg(X86Reg.RFLAGS) | Rflags.TF);
            }
        } finally {
            lock.unlock();
        }
    }

    /** Under the lock: the vCPU is held; when it is the last one to park, the stop to report. */
    private DebugEvent park(Vcpu v) {
        parked[v.index()] = true;
        parkedChanged.signalAll();
        if (nonStop) {
            // Only this vCPU's own stop, once; a pause for the debugger is no stop.
            int i = v.index();
            if (!hold[i] || reported[i]) {
                return null;
            }
            reported[i] = true;
            DebugEvent own = pendingOf[i];
            pendingOf[i] = null;
            return own != null ? own : new DebugEvent(i, DebugEvent.Kind.INTERRUPTED, v.engine().rip(), v.engine().rip(), 0);
        }
        if (!allParked()) {
            return null;
        }
        if (pending == null && interruptRequested) {
            pending = new DebugEvent(firstAlive(), DebugEvent.Kind.INTERRUPTED, vcpus.get(firstAlive()).engine().rip(),
                    vcpus.get(firstAlive()).engine().rip(), 0);
        }
        interruptRequested = false;
        DebugEvent report = pending;
        pending = null;
        return report;
    }

    private boolean allParked() {
        for (int i = 0; i < vcpus.size(); i++) {
            if (alive(i) && !parked[i]) {
                return false;
            }
        }
        return true;
    }

    private int firstAlive() {
        for (int i = 0; i < vcpus.size(); i++) {
            if (alive(i)) {
                return i;
            }
        }
        return 0;
    }

    /** A vCPU hit something the debugger owns: hold everyone and report once all are held. */
    void stop(Vcpu v, DebugEvent event) {
        if (event.kind() == DebugEvent.Kind.STEP && !guestTf[v.index()]) {
            v.reg(X86Reg.RFLAGS, v.reg(X86Reg.RFLAGS) & ~Rflags.TF);
        }
        lock.lock();
        try {
            if (nonStop) {
                // This vCPU alone: the others run on. A stop asked for meanwhile is this one.
                if (pendingOf[v.index()] == null) {
                    pendingOf[v.index()] = event;
                }
                hold[v.index()] = true;
                stepping[v.index()] = false;
                return;
            }
            if (pending == null) {
                pending = event;
            }
            holdAll();
        } finally {
            lock.unlock();
        }
        kickOthers(v.index());
    }

    /** Whether a #BP at {@code rip} is one of the debugger's INT3s. */
    boolean ownsSoftwareBreakpoint(long rip) {
        lock.lock();
        try {
            return software.containsKey(rip);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Whether a #DB stop for the debugger's slots should be reported: a read watchpoint (x86 can
     * only watch reads and writes together) is reported only when the access read.
     */
    DebugEvent classify(Vcpu v, long rip, long dr6, List<Access> accesses) {
        if ((dr6 & 0x4000) != 0 && stepping[v.index()]) {
            return new DebugEvent(v.index(), DebugEvent.Kind.STEP, rip, rip, dr6);
        }
        for (int slot = 0; slot < 4; slot++) {
            HwBreakpoint bp = hardware[slot];
            if (bp == null || (dr6 & (1L << slot)) == 0) {
                continue;
            }
            if (bp.kind == DebugEvent.Kind.WATCH_READ && accesses.stream().noneMatch(a -> a instanceof Access.DataAccess d
                    && d.kind() == DataAccessKind.READ && d.linearAddress() < bp.address + bp.length
                    && d.linearAddress() + d.size() > bp.address)) {
                continue;
            }
            return new DebugEvent(v.index(), bp.kind, rip, bp.kind == DebugEvent.Kind.HARDWARE_BREAKPOINT ? rip : bp.address, dr6);
        }
        return null;
    }

    private void holdAll() {
        for (int i = 0; i < vcpus.size(); i++) {
            hold[i] = true;
            stepping[i] = false;
        }
        // No signal: a vCPU thread that waits is parked or borrowed, and being held changes neither.
    }

    private void kickOthers(int except) {
        for (Vcpu other : vcpus) {
            if (other.index() != except) {
                other.kick();
            }
        }
    }

    void ended(VmResult result) {
        DebugListener l = listener;
        if (l != null) {
            l.ended(result);
        }
    }

    void vmEnded() {
        lock.lock();
        try {
            for (Condition c : wake) {
                c.signalAll();
            }
            parkedChanged.signalAll();
        } finally {
            lock.unlock();
        }
    }

    // ---- debugger side ----

    /** Stops every vCPU (gdb's Ctrl-C); the listener gets an INTERRUPTED stop unless another stop wins. */
    public void interrupt() {
        if (nonStop) {
            List<Integer> all = new ArrayList<>();
            for (int i = 0; i < vcpus.size(); i++) {
                all.add(i);
            }
            stop(all);
            return;
        }
        lock.lock();
        try {
            if (allHeld()) {
                return;
            }
            interruptRequested = true;
            holdAll();
        } finally {
            lock.unlock();
        }
        kickOthers(-1);
    }

    private boolean allHeld() {
        for (int i = 0; i < vcpus.size(); i++) {
            if (alive(i) && !hold[i]) {
                return false;
            }
        }
        return true;
    }

    /** Whether every live vCPU is parked, so guest state may be read and changed. */
    public boolean stopped() {
        lock.lock();
        try {
            return allParked();
        } finally {
            lock.unlock();
        }
    }

    private void requireStopped() {
        if (!stopped()) {
            throw new IllegalStateException("the VM is running; stop it first");
        }
    }

    // ---- non-stop mode ----

    /** Whether the debugger runs in non-stop mode: each vCPU stops and resumes on its own. */
    public boolean nonStop() {
        return nonStop;
    }

    /**
     * Enters non-stop mode (every vCPU must be stopped; their stops count as reported), or leaves it:
     * every running vCPU is held at its next exit and this returns once all are parked; their stops
     * are not reported (the debugger asks what it finds).
     */
    public void nonStop(boolean on) {
        lock.lock();
        try {
            if (on == nonStop) {
                return;
            }
            if (on) {
                requireStopped();
                for (int i = 0; i < vcpus.size(); i++) {
                    reported[i] = true;
                    pendingOf[i] = null;
                }
                nonStop = true;
                return;
            }
            nonStop = false;
            java.util.Arrays.fill(pendingOf, null);
            pending = null;
            interruptRequested = false;
            for (int i = 0; i < vcpus.size(); i++) {
                hold[i] = true;
                stepping[i] = false;
            }
        } finally {
            lock.unlock();
        }
        kickOthers(-1);
        awaitAllParked("leaving non-stop mode");
    }

    /** Whether vCPU {@code i} is held and parked, so its own state may be read and changed. */
    public boolean stopped(int i) {
        lock.lock();
        try {
            return parked[i] && hold[i] && !borrowed[i];
        } finally {
            lock.unlock();
        }
    }

    /**
     * Non-stop: holds these vCPUs at their next exit (gdb's {@code vCont;t}); each one's stop reaches
     * the listener as INTERRUPTED, unless it stops for something else first. Held ones are left alone.
     */
    public void stop(java.util.Collection<Integer> which) {
        List<Vcpu> kick = new ArrayList<>();
        lock.lock();
        try {
            for (int i : which) {
                if (i >= 0 && i < vcpus.size() && !hold[i] && alive(i)) {
                    hold[i] = true;
                    stepping[i] = false; // a step that has not ended is over: the stop is the request's
                    kick.add(vcpus.get(i));
                }
            }
        } finally {
            lock.unlock();
        }
        for (Vcpu v : kick) {
            v.kick();
        }
    }

    /**
     * Non-stop: runs {@code work} (a monitor command that looks at every vCPU) with the running
     * vCPUs paused at their next exit for the moment, unreported; otherwise at once.
     */
    public <T> T withRunningVcpusPaused(String why, java.util.function.Supplier<T> work) {
        return nonStop && !stopped() ? whileAllParked(why, work) : work.get();
    }

    /** How long {@link #whileAllParked} waits for the running vCPUs to come out of the guest. */
    static final long PARK_TIMEOUT_NANOS = 5_000_000_000L;

    /** Waits (under the lock) until every live vCPU is parked; a refusal if the VM ends or it takes too long. */
    private void awaitAllParked(String why) {
        lock.lock();
        try {
            long left = PARK_TIMEOUT_NANOS;
            while (!allParked()) {
                if (vm.finished()) {
                    throw new IllegalStateException("the VM ended");
                }
                if (left <= 0) {
                    throw new IllegalStateException("the running vCPUs did not stop within 5 s for " + why);
                }
                try {
                    left = parkedChanged.awaitNanos(left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while waiting for the vCPUs to stop for " + why);
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Runs {@code work}, which changes what every vCPU sees (guest memory, breakpoints), with every
     * vCPU parked. All-stop: the VM must be stopped. Non-stop: running vCPUs are paused at their next
     * exit for the moment (not reported as stopped: the debugger never hears of it), then the debug
     * state of every vCPU is reloaded and the paused ones go on. Blocks the calling thread meanwhile.
     */
    private <T> T whileAllParked(String why, java.util.function.Supplier<T> work) {
        if (!nonStop) {
            requireStopped();
            return work.get();
        }
        List<Vcpu> kick = new ArrayList<>();
        lock.lock();
        try {
            for (int i = 0; i < vcpus.size(); i++) {
                if (alive(i) && !hold[i]) {
                    paused[i] = true;
                    kick.add(vcpus.get(i));
                }
            }
        } finally {
            lock.unlock();
        }
        try {
            for (Vcpu v : kick) {
                v.kick();
            }
            awaitAllParked(why);
            lock.lock();
            try {
                T result = work.get();
                for (int i = 0; i < vcpus.size(); i++) {
                    applyGuestDebug(vcpus.get(i), stepping[i]);
                }
                return result;
            } finally {
                lock.unlock();
            }
        } finally {
            lock.lock();
            try {
                for (Vcpu v : kick) {
                    paused[v.index()] = false;
                    if (!hold[v.index()]) {
                        wake[v.index()].signalAll();
                    }
                }
            } finally {
                lock.unlock();
            }
        }
    }

    /** Resumes vCPUs: CONTINUE, STEP (one instruction, then stop) or STAY (remain stopped). */
    public Result resume(Map<Integer, Action> actions) {
        return resume(actions, false);
    }

    /**
     * Like {@link #resume(Map)}; with {@code stepHere}, a lone single step (one vCPU steps, every
     * other one stays stopped) runs on the calling thread, so its stop reaches the listener before
     * this method returns, without waking the vCPU's thread and waiting for it (two thread
     * wake-ups that cost more than the step). The vCPU's own thread stays parked meanwhile. A step
     * that has not ended within {@link #BORROW_NANOS} (exits handled on the way, say) is handed
     * back to the vCPU's thread at the next entry and reported from there as usual.
     */
    public Result resume(Map<Integer, Action> actions, boolean stepHere) {
        if (nonStop) {
            return resumeSome(actions);
        }
        requireStopped();
        Vcpu borrow = null;
        lock.lock();
        try {
            for (int i = 0; i < vcpus.size(); i++) {
                Action a = actions.getOrDefault(i, Action.STAY);
                if (a == Action.STEP && isTd() && !isDebugTd()) {
                    return Result.refused(nonDebugTd("single-step"));
                }
                if (a == Action.STEP && vcpus.get(i).waitsForStartup() && !anotherStartedVcpuResumes(actions, i)) {
                    // Its step would end only when another vCPU starts it, and none of them runs.
                    String what = vcpus.get(i).startupWait().equals("wait-for-SIPI") ? "waits for SIPI"
                            : "waits in the firmware for the ACPI wakeup mailbox";
                    return Result.refused("vCPU " + i + " " + what + ": nothing to step until another vCPU starts it "
                            + "(set scheduler-locking off: the step ends at its first instruction)");
                }
                stepping[i] = a == Action.STEP;
                stepStart[i] = stepping[i];
            }
            for (int i = 0; i < vcpus.size(); i++) {
                Result r = applyGuestDebug(vcpus.get(i), stepping[i]);
                if (!r.ok()) {
                    return r;
                }
            }
            int resumed = 0;
            for (int i = 0; i < vcpus.size(); i++) {
                Action a = actions.getOrDefault(i, Action.STAY);
                if (a != Action.STAY && alive(i)) {
                    vcpus.get(i).uc().clearStopRequests();
                    hold[i] = false;
                    resumed++;
                    if (stepping[i]) {
                        borrow = vcpus.get(i);
                    }
                }
            }
            if (stepHere && resumed == 1 && borrow != null) {
                borrowed[borrow.index()] = true;
                parked[borrow.index()] = false;
            } else {
                borrow = null;
                for (int i = 0; i < vcpus.size(); i++) {
                    if (!hold[i]) {
                        wake[i].signalAll();
                    }
                }
            }
        } finally {
            lock.unlock();
        }
        if (borrow != null) {
            runBorrowed(borrow);
        }
        return Result.OK;
    }

    /**
     * Non-stop: resumes the vCPUs {@code actions} continue or step (each must be stopped); STAY
     * leaves a vCPU as it is, running or stopped. Only the resumed vCPUs' debug state is loaded:
     * the others' is theirs, or their own threads' while they run.
     */
    private Result resumeSome(Map<Integer, Action> actions) {
        lock.lock();
        try {
            for (var e : actions.entrySet()) {
                int i = e.getKey();
                if (e.getValue() == Action.STAY) {
                    continue;
                }
                if (i < 0 || i >= vcpus.size()) {
                    return Result.refused("no vCPU " + i);
                }
                if (!(parked[i] && hold[i]) && alive(i)) {
                    return Result.refused("vCPU " + i + " is running; stop it first");
                }
                if (e.getValue() == Action.STEP && isTd() && !isDebugTd()) {
                    return Result.refused(nonDebugTd("single-step"));
                }
                if (e.getValue() == Action.STEP && vcpus.get(i).waitsForStartup() && !anotherStartedVcpuRuns(actions, i)) {
                    return Result.refused("vCPU " + i + " waits for SIPI: nothing to step until another vCPU starts it "
                            + "(resume one that runs guest code too: the step ends at its first instruction)");
                }
            }
            for (var e : actions.entrySet()) {
                int i = e.getKey();
                if (e.getValue() == Action.STAY || !alive(i)) {
                    continue;
                }
                stepping[i] = e.getValue() == Action.STEP;
                stepStart[i] = stepping[i];
                Result r = applyGuestDebug(vcpus.get(i), stepping[i]);
                if (!r.ok()) {
                    return r;
                }
            }
            for (var e : actions.entrySet()) {
                int i = e.getKey();
                if (e.getValue() == Action.STAY || !alive(i)) {
                    continue;
                }
                vcpus.get(i).uc().clearStopRequests();
                hold[i] = false;
                reported[i] = false;
                pendingOf[i] = null;
                wake[i].signalAll();
            }
            return Result.OK;
        } finally {
            lock.unlock();
        }
    }

    /** Non-stop: whether a vCPU other than {@code waiting} that runs guest code runs now or is resumed by {@code actions}. */
    private boolean anotherStartedVcpuRuns(Map<Integer, Action> actions, int waiting) {
        for (int i = 0; i < vcpus.size(); i++) {
            boolean runs = !hold[i] || actions.getOrDefault(i, Action.STAY) != Action.STAY;
            if (i != waiting && runs && alive(i) && !vcpus.get(i).waitsForStartup()) {
                return true;
            }
        }
        return false;
    }

    /** Whether a vCPU other than {@code waiting} that runs guest code is resumed by {@code actions}. */
    private boolean anotherStartedVcpuResumes(Map<Integer, Action> actions, int waiting) {
        for (int i = 0; i < vcpus.size(); i++) {
            if (i != waiting && actions.getOrDefault(i, Action.STAY) != Action.STAY && alive(i) && !vcpus.get(i).waitsForStartup()) {
                return true;
            }
        }
        return false;
    }

    /** How long a debugger thread runs a borrowed vCPU before handing it back to its own thread. */
    static final long BORROW_NANOS = 2_000_000;
    /** Borrowed runs handed back to the vCPU's thread before their step ended (out of time); under {@link #lock}. */
    private long borrowsHandedBackUnfinished;

    /** How many steps on the debugger's thread ran out of {@link #BORROW_NANOS} and went on on the vCPU's thread. */
    long borrowsHandedBackUnfinished() {
        lock.lock();
        try {
            return borrowsHandedBackUnfinished;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Runs a borrowed vCPU, entry after entry, until the debugger holds it again (the step's stop,
     * or any other), it stops for good, or {@link #BORROW_NANOS} have passed; then gives it back.
     */
    private void runBorrowed(Vcpu v) {
        long deadline = System.nanoTime() + BORROW_NANOS;
        DebugEvent report = null;
        try {
            while (true) {
                lock.lock();
                try {
                    if (vm.finished() || hold[v.index()] || System.nanoTime() - deadline > 0) {
                        if (!vm.finished() && !hold[v.index()]) {
                            borrowsHandedBackUnfinished++;
                        }
                        borrowed[v.index()] = false;
                        if (!vm.finished() && hold[v.index()]) {
                            report = park(v);
                        }
                        if (vm.finished() || !hold[v.index()]) {
                            wake[v.index()].signalAll(); // handed back: the vCPU's thread runs or ends
                        } // else parked here, held: its thread waits on, with nothing to do
                        break;
                    }
                    prepareEntry(v);
                } finally {
                    lock.unlock();
                }
                if (!v.enterAndHandleExit()) {
                    retire(v);
                    break;
                }
            }
        } catch (dev.tdemu.emulator.machine.GuestMemoryException e) {
            vm.finish(VmResult.Outcome.MEMORY_FAULT, v.guestMemoryFault(e), -1);
            retire(v);
        } catch (RuntimeException | Error e) {
            LOG.error("vcpu{} failed during a single step on the debugger's thread", v.index(), e);
            vm.finish(VmResult.Outcome.INTERNAL_ERROR, "vCPU " + v.index() + ": " + e, -1);
            retire(v);
        }
        if (report != null) {
            report(report);
        }
    }

    /** The borrowed vCPU stopped for good: its own thread leaves its run loop (and says so to the VM). */
    private void retire(Vcpu v) {
        lock.lock();
        try {
            borrowed[v.index()] = false;
            retired[v.index()] = true;
            wake[v.index()].signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** KVM_SET_GUEST_DEBUG on one vCPU from the session's breakpoints. */
    private Result applyGuestDebug(Vcpu v, boolean step) {
        int flags = 0;
        long[] db = new long[4];
        Dr7 dr7 = Dr7.RESET;
        for (int slot = 0; slot < 4; slot++) {
            HwBreakpoint bp = hardware[slot];
            if (bp != null) {
                db[slot] = bp.address;
                dr7 = dr7.withSlot(slot, bp.type, BreakpointLength.ofBytes(bp.length), false, true);
                flags |= GuestDebug.USE_HW_BP;
            }
        }
        if (!software.isEmpty()) {
            flags |= GuestDebug.USE_SW_BP;
        }
        if (step) {
            flags |= GuestDebug.SINGLESTEP;
        }
        GuestDebugRequest request = flags == 0 ? GuestDebugRequest.DISABLE
                : GuestDebugRequest.of(GuestDebug.of(GuestDebug.ENABLE, flags), db, dr7);
        try {
            v.kvm().setGuestDebug(request);
            return Result.OK;
        } catch (TdxDebugRefused e) {
            return Result.refused(nonDebugTd("debugging") + " (" + e.getMessage() + ")");
        }
    }

    static String nonDebugTd(String what) {
        return what + " is refused: this TD is not a debug TD (ATTRIBUTES.DEBUG is clear), so the TDX module does not "
                + "let the host see or change its registers, memory or debug state; run it with --debug-td";
    }

    /** Inserts a hardware breakpoint (gdb Z1..Z4) in a free debug-register slot. */
    public Result insertHardware(DebugEvent.Kind kind, long address, int length) {
        return whileAllParked("inserting a breakpoint", () -> insertHardwareNow(kind, address, length));
    }

    private Result insertHardwareNow(DebugEvent.Kind kind, long address, int length) {
        BreakpointType type = switch (kind) {
            case HARDWARE_BREAKPOINT -> BreakpointType.EXECUTE;
            case WATCH_WRITE -> BreakpointType.WRITE;
            case WATCH_READ, WATCH_ACCESS -> BreakpointType.READ_WRITE;
            default -> throw new IllegalArgumentException(kind + " is not a hardware breakpoint kind");
        };
        int len = type == BreakpointType.EXECUTE ? 1 : length;
        if (len < 1 || len > MAX_WATCH_BYTES) {
            return Result.refused("an x86 watchpoint covers 1 to " + MAX_WATCH_BYTES + " bytes (four 8-byte debug registers), not "
                    + length);
        }
        // Like gdbserver on x86, a watchpoint that is not one aligned 1-, 2-, 4- or 8-byte piece
        // takes one debug register per aligned piece.
        List<long[]> pieces = alignedPieces(address, len);
        lock.lock();
        try {
            for (HwBreakpoint bp : hardware) {
                if (bp != null && bp.requested == address && bp.requestedLength == len && bp.kind == kind) {
                    return Result.OK; // gdb may insert the same breakpoint twice
                }
            }
            List<Integer> free = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                if (hardware[i] == null) {
                    free.add(i);
                }
            }
            if (free.isEmpty()) {
                return Result.refused("all four x86 debug-register slots are in use by other hardware breakpoints/watchpoints");
            }
            if (free.size() < pieces.size()) {
                return Result.refused(String.format("a %d-byte watchpoint at 0x%x takes %d x86 debug registers (one per aligned "
                        + "piece of 1, 2, 4 or 8 bytes); only %d of the four are free", len, address, pieces.size(), free.size()));
            }
            for (int i = 0; i < pieces.size(); i++) {
                hardware[free.get(i)] = new HwBreakpoint(type, pieces.get(i)[0], (int) pieces.get(i)[1], kind, address, len);
            }
            Result r = applyGuestDebug(vcpus.getFirst(), false);
            if (!r.ok()) {
                for (int i = 0; i < pieces.size(); i++) {
                    hardware[free.get(i)] = null;
                }
                applyGuestDebug(vcpus.getFirst(), false);
                return r;
            }
            return Result.OK;
        } finally {
            lock.unlock();
        }
    }

    public Result removeHardware(DebugEvent.Kind kind, long address, int length) {
        return whileAllParked("removing a breakpoint", () -> removeHardwareNow(kind, address, length));
    }

    private Result removeHardwareNow(DebugEvent.Kind kind, long address, int length) {
        lock.lock();
        try {
            boolean found = false;
            for (int i = 0; i < 4; i++) {
                HwBreakpoint bp = hardware[i];
                if (bp != null && bp.requested == address && bp.kind == kind
                        && (kind == DebugEvent.Kind.HARDWARE_BREAKPOINT || bp.requestedLength == length)) {
                    hardware[i] = null;
                    found = true;
                }
            }
            return found ? Result.OK : Result.refused(String.format("no hardware breakpoint of that kind at 0x%x", address));
        } finally {
            lock.unlock();
        }
    }

    /** Inserts an INT3 at {@code address} (gdb Z0). */
    public Result insertSoftware(long address) {
        return whileAllParked("inserting a breakpoint", () -> insertSoftwareNow(address));
    }

    private Result insertSoftwareNow(long address) {
        if (isTd() && !isDebugTd()) {
            return Result.refused(nonDebugTd("writing breakpoints into TD memory"));
        }
        lock.lock();
        try {
            if (software.containsKey(address)) {
                return Result.OK;
            }
            Vcpu v = vcpus.getFirst();
            try {
                byte original = v.readGuest(address, 1)[0];
                v.writeGuest(address, new byte[] {(byte) 0xCC});
                software.put(address, original);
                for (Vcpu each : vcpus) {
                    each.uc().removeCache(address, address + 1);
                }
            } catch (Vcpu.GuestAccessException e) {
                return Result.refused(String.format("cannot write a breakpoint at 0x%x: not mapped", address));
            }
            return Result.OK;
        } finally {
            lock.unlock();
        }
    }

    public Result removeSoftware(long address) {
        return whileAllParked("removing a breakpoint", () -> removeSoftwareNow(address));
    }

    private Result removeSoftwareNow(long address) {
        lock.lock();
        try {
            Byte original = software.remove(address);
            if (original == null) {
                return Result.refused(String.format("no software breakpoint at 0x%x", address));
            }
            vcpus.getFirst().writeGuest(address, new byte[] {original});
            for (Vcpu each : vcpus) {
                each.uc().removeCache(address, address + 1);
            }
            return Result.OK;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Removes every breakpoint and resumes every vCPU; the guest continues as if never debugged.
     * The session itself stays with the VM (vCPUs keep checking it before each entry), so the
     * next debugger to connect can stop the VM again with {@link #interrupt()}.
     */
    public void detach() {
        try {
            nonStop(false); // every vCPU held: the breakpoints come out of all of them alike
        } catch (IllegalStateException e) {
            LOG.debug("detaching from non-stop mode: {}", e.getMessage());
        }
        debuggerPresent = false;
        physicalMemory = false; // the next debugger starts with linear addresses
        lock.lock();
        try {
            for (Long a : new ArrayList<>(software.keySet())) {
                vcpus.getFirst().writeGuest(a, new byte[] {software.get(a)});
                for (Vcpu each : vcpus) {
                    each.uc().removeCache(a, a + 1);
                }
            }
            software.clear();
            java.util.Arrays.fill(hardware, null);
            for (Vcpu v : vcpus) {
                applyGuestDebug(v, false);
            }
        } finally {
            lock.unlock();
        }
        Map<Integer, Action> all = new HashMap<>();
        for (int i = 0; i < vcpus.size(); i++) {
            all.put(i, Action.CONTINUE);
        }
        if (stopped()) {
            resume(all);
        }
    }

    public void kill() {
        vm.finish(VmResult.Outcome.KILLED, "killed by the debugger", -1);
    }

    // ---- guest state, while stopped ----

    private Vcpu accessible(int vcpu, String what) {
        return accessible(vcpu, what, false);
    }

    /**
     * The vCPU whose state {@code what} reads or changes: all-stop, the VM must be stopped;
     * non-stop, the vCPU must be stopped, or with {@code pausedWillDo} at least parked (paused by
     * {@link #whileAllParked} for a memory access through its page tables).
     */
    private Vcpu accessible(int vcpu, String what, boolean pausedWillDo) {
        if (!nonStop) {
            requireStopped();
        }
        if (isTd() && !isDebugTd()) {
            throw new IllegalStateException(nonDebugTd(what));
        }
        if (vcpu < 0 || vcpu >= vcpus.size()) {
            throw new IllegalArgumentException("no vCPU " + vcpu);
        }
        if (nonStop && alive(vcpu) && !(pausedWillDo ? parkedNow(vcpu) : stopped(vcpu))) {
            throw new IllegalStateException("vCPU " + vcpu + " is running; stop it first (gdb: interrupt)");
        }
        return vcpus.get(vcpu);
    }

    public long readRegister(int vcpu, X86Reg reg) {
        return accessible(vcpu, "reading registers").reg(reg);
    }

    public void writeRegister(int vcpu, X86Reg reg, long value) {
        accessible(vcpu, "writing registers").reg(reg, value);
    }

    public byte[] readRegisterBytes(int vcpu, X86Reg reg) {
        return accessible(vcpu, "reading registers").uc().readRegBytes(reg);
    }

    public void writeRegisterBytes(int vcpu, X86Reg reg, byte[] value) {
        accessible(vcpu, "writing registers").uc().writeRegBytes(reg, value);
    }

    /** The guest's own view of its debug registers (KVM's db/dr6/dr7, or a debug TD's saved state). */
    public DebugRegisters guestDebugRegisters(int vcpu) {
        Vcpu v = accessible(vcpu, "reading debug registers");
        return v.kvm().isTd() ? v.kvm().tdVcpu().savedDebugRegisters() : v.kvm().guestView();
    }

    /** Reads guest memory at a linear address; the debugger's INT3s read as the bytes they replaced. */
    public byte[] readMemory(int vcpu, long address, int length) {
        if (nonStop && vcpu >= 0 && vcpu < vcpus.size() && !stopped(vcpu)) {
            // Through a running vCPU's page tables: it pauses for the moment (gdb reads memory
            // through the selected thread, running or not, as gdbserver allows).
            return whileAllParked("reading memory", () -> readMemoryNow(vcpu, address, length));
        }
        return readMemoryNow(vcpu, address, length);
    }

    private boolean parkedNow(int vcpu) {
        lock.lock();
        try {
            return parked[vcpu] && !borrowed[vcpu];
        } finally {
            lock.unlock();
        }
    }

    private byte[] readMemoryNow(int vcpu, long address, int length) {
        Vcpu v = accessible(vcpu, "reading memory", true);
        boolean phys = physicalMemory;
        byte[] bytes = phys ? v.engine().memory().readBytes(physicalRange(address, length), length) : v.readGuest(address, length);
        lock.lock();
        try {
            for (var e : software.entrySet()) {
                long at = phys ? v.physicalOf(e.getKey()) : e.getKey();
                long off = at - address;
                if (at >= 0 && off >= 0 && off < length) {
                    bytes[(int) off] = e.getValue();
                }
            }
        } finally {
            lock.unlock();
        }
        return bytes;
    }

    public void writeMemory(int vcpu, long address, byte[] data) {
        whileAllParked("writing memory", () -> {
            writeMemoryNow(vcpu, address, data);
            return null;
        });
    }

    private void writeMemoryNow(int vcpu, long address, byte[] data) {
        Vcpu v = accessible(vcpu, "writing memory", true);
        if (physicalMemory) {
            v.engine().memory().writeBytes(physicalRange(address, data.length), data);
            // Translated code is found by linear address; which linear addresses map this
            // physical memory is the guest's business: drop every translation.
            for (Vcpu each : vcpus) {
                each.uc().flushTranslations();
            }
            return;
        }
        v.writeGuest(address, data);
        for (Vcpu each : vcpus) {
            each.uc().removeCache(address, address + data.length);
        }
    }

    /** {@code address} if {@code length} bytes from it are guest RAM, else a refusal naming the RAM's end. */
    private long physicalRange(long address, int length) {
        GuestMemory memory = vcpus.getFirst().engine().memory();
        if (!memory.contains(address, Math.max(length, 1))) {
            throw new IllegalArgumentException(String.format(
                    "guest-physical 0x%x..0x%x is beyond the guest's RAM (0..0x%x)", address, address + length - 1, memory.size() - 1));
        }
        return address;
    }

    // ---- read-only views for the debugger's system registers and monitor commands ----

    /** A debug-register slot the debugger holds: what it watches and which breakpoint it belongs to. */
    public record DebuggerSlot(int slot, DebugEvent.Kind kind, long address, int length, long requested, int requestedLength) {}

    /** The debug-register slots the debugger's hardware breakpoints and watchpoints hold now, lowest first. */
    public List<DebuggerSlot> debuggerSlots() {
        lock.lock();
        try {
            List<DebuggerSlot> out = new ArrayList<>();
            for (int i = 0; i < hardware.length; i++) {
                HwBreakpoint bp = hardware[i];
                if (bp != null) {
                    out.add(new DebuggerSlot(i, bp.kind, bp.address, bp.length, bp.requested, bp.requestedLength));
                }
            }
            return out;
        } finally {
            lock.unlock();
        }
    }

    /** GDTR, IDTR, LDTR or TR as the engine holds it. */
    public X86Mmr readTableRegister(int vcpu, X86Reg reg) {
        if (reg != X86Reg.GDTR && reg != X86Reg.IDTR && reg != X86Reg.LDTR && reg != X86Reg.TR) {
            throw new IllegalArgumentException(reg + " is not a descriptor-table register");
        }
        return accessible(vcpu, "reading registers").uc().readMmr(reg);
    }

    /** What the guest's RDMSR of {@code index} reads now (tdemu's MSR model), or empty where it is #GP. */
    public OptionalLong readMsr(int vcpu, int index) {
        return switch (accessible(vcpu, "reading MSRs").vmm().readMsr(index)) {
            case MsrRead.Value v -> OptionalLong.of(v.value());
            case MsrRead.Gp gp -> OptionalLong.empty();
        };
    }

    /** What the guest's MOV from CR8 reads: the local APIC's TPR[7:4] on a PC, 0 in tdemu's own machine (no TPR behind it). */
    public long cr8(int vcpu) {
        Vcpu v = accessible(vcpu, "reading CR8");
        return v.hasInterruptController() ? v.cr8() : 0;
    }

    /** Whether CR8 is a local APIC's TPR on this machine (a PC), so a debugger may write 0-15 to it. */
    public boolean cr8IsTpr() {
        return vm.spec().isPc();
    }

    /** CR8 (0-15) written by the debugger: the local APIC's TPR, on a PC. */
    public void setCr8(int vcpu, int value) {
        accessible(vcpu, "writing CR8").setCr8(value);
    }

    /** Guest memory at a linear address through the vCPU's page tables, whatever the physical memory mode. */
    public byte[] readLinear(int vcpu, long address, int length) {
        return accessible(vcpu, "reading memory").readGuest(address, length);
    }

    /** Guest-physical memory (RAM only), whatever the physical memory mode. */
    public byte[] readPhysical(long address, int length) {
        Vcpu v = accessible(0, "reading memory");
        return v.engine().memory().readBytes(physicalRange(address, length), length);
    }

    /** The vCPU's paging as {@link PageWalker} takes it: CR0, CR3, CR4, EFER and the CPUID's MAXPHYADDR. */
    public PagingState pagingState(int vcpu) {
        Vcpu v = accessible(vcpu, "reading registers");
        long efer = v.vmm().readMsr(TdemuVcpuMachine.MSR_EFER) instanceof MsrRead.Value e ? e.value() : 0;
        int maxPhysAddr = CpuidTable.lookup(0x80000008L, 0, Mode.VMX, vcpu, vcpus.size()).eax() & 0xFF;
        return new PagingState(v.reg(X86Reg.CR0), v.reg(X86Reg.CR3), v.reg(X86Reg.CR4), efer, maxPhysAddr);
    }

    /** Where {@code linear} leads through the vCPU's page tables, without access rights and without setting A/D bits. */
    public PageWalker.Result translate(int vcpu, long linear) {
        PagingState state = pagingState(vcpu);
        return PageWalker.lookup(vcpus.get(vcpu).engine().memory(), state, linear);
    }

    /** Whether the debugger's memory accesses address guest-physical memory (QEMU's Qqemu.PhyMemMode). */
    public boolean physicalMemory() {
        return physicalMemory;
    }

    public void setPhysicalMemory(boolean on) {
        physicalMemory = on;
    }

    /** Text for `monitor` commands: dr, exits, policy, check, phys. */
    public String monitor(String command) {
        String[] w = command.trim().split("\\s+");
        if (w[0].equals("catch")) {
            return catchCommand(w);
        }
        if (w[0].equals("phys")) {
            if (w.length == 2 && (w[1].equals("on") || w[1].equals("off"))) {
                physicalMemory = w[1].equals("on");
            } else if (w.length != 1) {
                throw new IllegalArgumentException("usage: phys [on|off]");
            }
            return physicalMemory ? "the debugger's memory accesses address guest-physical memory\n"
                    : "the debugger's memory accesses address linear memory (through vCPU page tables)\n";
        }
        return vm.monitor(command.trim());
    }
}
