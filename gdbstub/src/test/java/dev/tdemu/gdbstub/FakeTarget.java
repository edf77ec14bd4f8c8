package dev.tdemu.gdbstub;

import dev.tdemu.gdbstub.registers.RegisterFile;
import dev.tdemu.gdbstub.registers.RegisterLayout;
import dev.tdemu.gdbstub.registers.X86_64Registers;
import dev.tdemu.gdbstub.target.Breakpoint;
import dev.tdemu.gdbstub.target.BreakpointResult;
import dev.tdemu.gdbstub.target.BreakpointSupport;
import dev.tdemu.gdbstub.target.Breakpoints;
import dev.tdemu.gdbstub.target.DebugTarget;
import dev.tdemu.gdbstub.target.GdbSignal;
import dev.tdemu.gdbstub.target.MonitorCommands;
import dev.tdemu.gdbstub.target.MonitorReply;
import dev.tdemu.gdbstub.target.PhysicalMemory;
import dev.tdemu.gdbstub.target.ResumeAction;
import dev.tdemu.gdbstub.target.ResumeRequest;
import dev.tdemu.gdbstub.target.StopEvent;
import dev.tdemu.gdbstub.target.TargetException;
import dev.tdemu.gdbstub.target.ThreadInfo;
import dev.tdemu.gdbstub.target.WatchKind;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * An in-memory {@link DebugTarget} for tests: two vCPUs with x86-64 registers, 64 KiB of memory at
 * {@link #MEMORY_BASE}, breakpoints recorded (hardware ones also programmed into DR0-3/DR7), and
 * resumes answered either by a script or by a tiny simulation:
 * <ul>
 *   <li>a step advances the stepping thread's RIP by one and reports a completed step;</li>
 *   <li>a continue jumps to the first hardware, then software breakpoint that is not at the current
 *       RIP, or performs the write a write watchpoint waits for (the 64-bit value there plus one);</li>
 *   <li>otherwise the target "runs" until {@link #interrupt()}.</li>
 * </ul>
 * Every answer is completed on the target's own thread, as the emulator will.
 */
public final class FakeTarget implements DebugTarget, Breakpoints, MonitorCommands, dev.tdemu.gdbstub.target.NonStop {
    public static final long MEMORY_BASE = 0x400000L;
    public static final int MEMORY_SIZE = 0x10000;
    public static final long CODE = 0x401000L;
    public static final long DATA = 0x408000L;

    private final RegisterLayout layout = RegisterLayout.x86_64();
    private final ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "fake-target");
        t.setDaemon(true);
        return t;
    });
    private final List<ThreadInfo> threads;
    private final Map<Integer, RegisterFile> registers = new LinkedHashMap<>();
    private final byte[] memory = new byte[MEMORY_SIZE];
    private final List<Breakpoint> breakpoints = new ArrayList<>();
    private final Deque<Function<ResumeRequest, StopEvent>> script = new ArrayDeque<>();
    private volatile Function<Breakpoint, BreakpointResult> breakpointPolicy = bp -> null;

    private CompletableFuture<StopEvent> running;
    private int lastThread = 1;
    private StopEvent gone;

    /** Failure injection: memory reads never complete. */
    public volatile boolean hangMemoryReads;
    /** Run on the calling thread at each memory read (tests look at that thread's state). */
    public volatile Runnable onMemoryRead;
    /**
     * Steps end within {@code resume}, and register and memory accesses within their call, on the
     * caller's thread (as the emulator does while the guest is stopped).
     */
    public volatile boolean stepsAtOnce;
    /** Physical memory mode: null when the fake has none (read when a session starts). */
    public volatile Boolean physicalMemory;
    /** Whether the fake has monitor commands (read when a session starts). */
    public volatile boolean hasMonitorCommands = true;
    /** The breakpoints the fake declares it takes (read when a session starts). */
    public volatile BreakpointSupport support = BreakpointSupport.x86();
    /** What {@link #executable()} answers. */
    public volatile Optional<String> executable = Optional.empty();
    /** Refusal injection: register writes fail with this reason (null: they succeed). */
    public volatile String refuseRegisterWrites;
    /** Failure injection: register reads throw synchronously (a target bug). */
    public volatile boolean throwOnRegisterReads;
    /** Failure injection: register reads return null instead of a stage (a target bug). */
    public volatile boolean nullRegisterReads;

    public final List<ResumeRequest> resumes = new CopyOnWriteArrayList<>();
    private RuntimeException resumeFailure;
    public final List<String> calls = new CopyOnWriteArrayList<>();
    public final AtomicInteger memoryReads = new AtomicInteger();
    public final AtomicInteger attaches = new AtomicInteger();
    public final AtomicInteger detaches = new AtomicInteger();
    public final AtomicInteger interrupts = new AtomicInteger();
    public final AtomicInteger kills = new AtomicInteger();

    public FakeTarget() {
        this(2);
    }

    public FakeTarget(int vcpus) {
        List<ThreadInfo> list = new ArrayList<>();
        for (int i = 0; i < vcpus; i++) {
            list.add(new ThreadInfo(i + 1, "vcpu" + i));
            RegisterFile f = RegisterFile.zeroed(layout);
            f.setLong(X86_64Registers.RIP, CODE + 0x1000L * i);
            f.setLong(X86_64Registers.RSP, MEMORY_BASE + 0xf000 - 0x1000L * i);
            f.setLong(X86_64Registers.RBP, MEMORY_BASE + 0xf000 - 0x1000L * i);
            f.setLong(X86_64Registers.RAX, 0x1111_0000L + i);
            f.setLong(X86_64Registers.EFLAGS, 0x202);
            f.setLong(X86_64Registers.CS, 0x10);
            f.setLong(X86_64Registers.SS, 0x18);
            f.setLong(X86_64Registers.DS, 0x18);
            f.setLong(X86_64Registers.ES, 0x18);
            f.setLong(X86_64Registers.FCTRL, 0x37f);
            f.setLong(X86_64Registers.MXCSR, 0x1f80);
            f.setLong(X86_64Registers.CR0, 0x80050033L);
            f.setLong(X86_64Registers.CR3, 0x1000);
            f.setLong(X86_64Registers.CR4, 0x3020);
            f.setLong(X86_64Registers.EFER, 0xd01);
            f.setLong(X86_64Registers.DR6, 0xffff0ff0L);
            f.setLong(X86_64Registers.DR7, 0x400);
            registers.put(i + 1, f);
        }
        threads = List.copyOf(list);
        Arrays.fill(memory, (byte) 0x90);
        for (int i = 0; i < 0x1000; i += 8) {
            putLong(DATA + i, i / 8);
        }
    }

    // ------------------------------------------------------------ test controls

    /** Decides insert/remove answers; return null for the default (insert it). */
    public void breakpointPolicy(Function<Breakpoint, BreakpointResult> policy) {
        this.breakpointPolicy = policy;
    }

    /** Makes the next resume fail with {@code failure} (a refusal with its reason: a TargetException). */
    public synchronized void failNextResume(RuntimeException failure) {
        resumeFailure = failure;
    }

    /** Queues the answer to the next resume; a function returning null means "run until interrupted". */
    public synchronized void onNextResume(Function<ResumeRequest, StopEvent> answer) {
        script.add(answer);
    }

    /** The breakpoints inserted now, in order. */
    public synchronized List<Breakpoint> inserted() {
        return List.copyOf(breakpoints);
    }

    public synchronized boolean isRunning() {
        return running != null && !running.isDone();
    }

    public synchronized long register(int thread, int regnum) {
        return registers.get(thread).getLong(regnum);
    }

    public synchronized void setRegister(int thread, int regnum, long value) {
        registers.get(thread).setLong(regnum, value);
    }

    /** Makes a register unavailable, as the DRs of a non-debug TD would be. */
    public synchronized void makeUnavailable(int thread, int regnum) {
        registers.get(thread).clear(regnum);
    }

    public synchronized long getLong(long address) {
        long v = 0;
        for (int i = 7; i >= 0; i--) {
            v = (v << 8) | (memory[(int) (address - MEMORY_BASE) + i] & 0xffL);
        }
        return v;
    }

    public synchronized void putLong(long address, long value) {
        for (int i = 0; i < 8; i++) {
            memory[(int) (address - MEMORY_BASE) + i] = (byte) (value >>> (8 * i));
        }
    }

    public void shutdown() {
        executor.shutdownNow();
    }

    private <T> CompletionStage<T> later(java.util.function.Supplier<T> work) {
        if (stepsAtOnce) { // like the emulator while stopped: on the caller's thread
            synchronized (this) {
                return CompletableFuture.completedFuture(work.get());
            }
        }
        return CompletableFuture.supplyAsync(() -> {
            synchronized (this) {
                return work.get();
            }
        }, executor);
    }

    // ------------------------------------------------------------ DebugTarget

    @Override
    public RegisterLayout registerLayout() {
        return layout;
    }

    @Override
    public List<ThreadInfo> threads() {
        return threads;
    }

    @Override
    public CompletionStage<StopEvent> attach() {
        attaches.incrementAndGet();
        calls.add("attach");
        return later(() -> {
            if (gone != null) {
                return gone;
            }
            if (running != null && !running.isDone()) {
                running.complete(StopEvent.interrupted(lastThread));
            }
            return StopEvent.signalled(lastThread, GdbSignal.TRAP);
        });
    }

    @Override
    public CompletionStage<RegisterFile> readRegisters(int threadId) {
        calls.add("g " + threadId);
        if (throwOnRegisterReads) {
            throw new IllegalStateException("injected register read failure");
        }
        if (nullRegisterReads) {
            return null;
        }
        return later(() -> registers.get(threadId).copy());
    }

    @Override
    public CompletionStage<Void> writeRegisters(int threadId, RegisterFile values) {
        calls.add("G " + threadId);
        return later(() -> {
            if (refuseRegisterWrites != null) {
                throw new TargetException(refuseRegisterWrites);
            }
            registers.get(threadId).merge(values);
            return null;
        });
    }

    @Override
    public CompletionStage<byte[]> readMemory(int threadId, long address, int length) {
        calls.add("m " + Long.toHexString(address) + "," + length);
        memoryReads.incrementAndGet();
        Runnable hook = onMemoryRead;
        if (hook != null) {
            hook.run(); // on the calling (stub's) thread
        }
        if (hangMemoryReads) {
            return new CompletableFuture<>();
        }
        return later(() -> {
            if (address < MEMORY_BASE || address >= MEMORY_BASE + MEMORY_SIZE) {
                throw new TargetException(0x0e, "no memory at 0x" + Long.toHexString(address));
            }
            int off = (int) (address - MEMORY_BASE);
            return Arrays.copyOfRange(memory, off, Math.min(MEMORY_SIZE, off + length));
        });
    }

    @Override
    public CompletionStage<Void> writeMemory(int threadId, long address, byte[] data) {
        calls.add("M " + Long.toHexString(address) + "," + data.length);
        return later(() -> {
            if (address < MEMORY_BASE || address + data.length > MEMORY_BASE + MEMORY_SIZE) {
                throw new TargetException(0x0e, "no memory at 0x" + Long.toHexString(address));
            }
            System.arraycopy(data, 0, memory, (int) (address - MEMORY_BASE), data.length);
            return null;
        });
    }

    @Override
    public Optional<Breakpoints> breakpoints() {
        return Optional.of(this);
    }

    @Override
    public BreakpointSupport support() {
        return support;
    }

    @Override
    public CompletionStage<BreakpointResult> insert(Breakpoint bp) {
        calls.add("Z" + bp.zType() + " " + Long.toHexString(bp.address()));
        return later(() -> {
            BreakpointResult decided = breakpointPolicy.apply(bp);
            if (decided != null) {
                return decided;
            }
            if (!(bp instanceof Breakpoint.Software)) {
                long slots = breakpoints.stream().filter(b -> !(b instanceof Breakpoint.Software)).count();
                if (slots >= 4) {
                    return BreakpointResult.refused("all four debug registers are in use");
                }
            }
            breakpoints.add(bp);
            programDebugRegisters();
            return BreakpointResult.OK;
        });
    }

    @Override
    public CompletionStage<BreakpointResult> remove(Breakpoint bp) {
        calls.add("z" + bp.zType() + " " + Long.toHexString(bp.address()));
        return later(() -> {
            BreakpointResult decided = breakpointPolicy.apply(bp);
            if (decided != null) {
                return decided;
            }
            boolean removed = breakpoints.remove(bp);
            programDebugRegisters();
            return removed ? BreakpointResult.OK : BreakpointResult.refused("no such breakpoint");
        });
    }

    /** Mirrors the hardware breakpoints in DR0-3 and DR7 of every vCPU, like KVM_SET_GUEST_DEBUG would. */
    private void programDebugRegisters() {
        long dr7 = 0x400;
        long[] dr = new long[4];
        int slot = 0;
        for (Breakpoint b : breakpoints) {
            if (b instanceof Breakpoint.Software || slot >= 4) {
                continue;
            }
            dr[slot] = b.address();
            long rw = switch (b) {
                case Breakpoint.Hardware h -> 0;
                case Breakpoint.Watchpoint w when w.kind() == WatchKind.WRITE -> 1;
                default -> 3;
            };
            long len = switch (b instanceof Breakpoint.Watchpoint w ? w.length() : 1) {
                case 2 -> 1;
                case 8 -> 2;
                case 4 -> 3;
                default -> 0;
            };
            dr7 |= (2L << (2 * slot)) | (rw << (16 + 4 * slot)) | (len << (18 + 4 * slot));
            slot++;
        }
        for (RegisterFile f : registers.values()) {
            for (int i = 0; i < 4; i++) {
                f.setLong(X86_64Registers.DR0 + i, dr[i]);
            }
            f.setLong(X86_64Registers.DR7, dr7);
        }
    }

    @Override
    public synchronized CompletionStage<StopEvent> resume(ResumeRequest request) {
        calls.add("resume");
        resumes.add(request);
        if (gone != null) {
            return CompletableFuture.failedFuture(new TargetException("the target is gone"));
        }
        if (resumeFailure != null) {
            RuntimeException f = resumeFailure;
            resumeFailure = null;
            return CompletableFuture.failedFuture(f);
        }
        if (stepsAtOnce && !request.stepping().isEmpty() && script.isEmpty()) {
            StopEvent ev = simulate(request); // on the caller's thread, as the emulator runs a lone step
            return CompletableFuture.completedFuture(ev);
        }
        CompletableFuture<StopEvent> stop = new CompletableFuture<>();
        running = stop;
        Function<ResumeRequest, StopEvent> answer = script.poll();
        executor.schedule(() -> {
            StopEvent ev;
            synchronized (this) {
                ev = answer != null ? answer.apply(request) : simulate(request);
                if (ev instanceof StopEvent.Stopped s) {
                    lastThread = s.threadId();
                } else if (ev != null) {
                    gone = ev;
                }
            }
            if (ev != null) {
                stop.complete(ev);
            }
        }, 1, TimeUnit.MILLISECONDS);
        return stop;
    }

    private StopEvent simulate(ResumeRequest request) {
        List<ResumeRequest.ThreadResume> stepping = request.stepping();
        if (!stepping.isEmpty()) {
            int t = stepping.getFirst().threadId();
            RegisterFile f = registers.get(t);
            f.setLong(X86_64Registers.RIP, f.getLong(X86_64Registers.RIP) + 1);
            return StopEvent.stepDone(t);
        }
        int t = request.forThread(lastThread).filter(r -> r.action() == ResumeAction.CONTINUE)
                .map(ResumeRequest.ThreadResume::threadId)
                .orElse(request.threads().getFirst().threadId());
        RegisterFile f = registers.get(t);
        long rip = f.getLong(X86_64Registers.RIP);
        for (Class<? extends Breakpoint> type : List.of(Breakpoint.Hardware.class, Breakpoint.Software.class)) {
            Optional<Breakpoint> hit = breakpoints.stream()
                    .filter(b -> type.isInstance(b) && b.address() != rip).findFirst();
            if (hit.isPresent()) {
                boolean hardware = type == Breakpoint.Hardware.class;
                f.setLong(X86_64Registers.RIP, hit.get().address());
                f.setLong(X86_64Registers.DR6, 0xffff0ff0L | (hardware ? 1 : 0));
                return hardware ? StopEvent.hardwareBreakpoint(t) : StopEvent.softwareBreakpoint(t);
            }
        }
        Optional<Breakpoint.Watchpoint> watch = breakpoints.stream()
                .flatMap(b -> b instanceof Breakpoint.Watchpoint w ? java.util.stream.Stream.of(w) : java.util.stream.Stream.empty())
                .findFirst();
        if (watch.isPresent()) {
            Breakpoint.Watchpoint w = watch.get();
            f.setLong(X86_64Registers.RIP, rip + 4);
            WatchKind kind = w.kind();
            if (kind != WatchKind.READ) {
                putLong(w.address(), getLong(w.address()) + 1);
            }
            return StopEvent.watchpoint(t, kind, w.address());
        }
        return null;
    }

    @Override
    public synchronized void interrupt() {
        interrupts.incrementAndGet();
        calls.add("interrupt");
        CompletableFuture<StopEvent> r = running;
        if (r != null && !r.isDone()) {
            int t = lastThread;
            executor.execute(() -> r.complete(StopEvent.interrupted(t)));
        }
    }

    @Override
    public CompletionStage<Void> kill() {
        kills.incrementAndGet();
        calls.add("kill");
        return later(() -> {
            gone = StopEvent.terminated(GdbSignal.KILL);
            if (running != null && !running.isDone()) {
                running.complete(gone);
            }
            return null;
        });
    }

    @Override
    public CompletionStage<Void> detach() {
        detaches.incrementAndGet();
        calls.add("detach");
        return later(() -> null);
    }

    @Override
    public Optional<MonitorCommands> monitorCommands() {
        return hasMonitorCommands ? Optional.of(this) : Optional.empty();
    }

    @Override
    public CompletionStage<MonitorReply> run(String command) {
        calls.add("monitor " + command);
        return later(() -> switch (command) {
            case "dr" -> MonitorReply.ok("dr7=0x" + Long.toHexString(registers.get(1).getLong(X86_64Registers.DR7)) + "\n");
            case "big" -> MonitorReply.ok("x".repeat(100_000) + "\n");
            case "fail" -> MonitorReply.failed("no such thing\n");
            default -> MonitorReply.ok("echo: " + command + "\n");
        });
    }

    @Override
    public Optional<String> executable() {
        return executable;
    }

    // ------------------------------------------------------------ non-stop mode

    /** Whether the fake offers non-stop mode (read when a session starts). */
    public volatile boolean offersNonStop = true;
    private java.util.function.Consumer<StopEvent> nonStopListener;
    private final java.util.Set<Integer> runningThreads = new java.util.TreeSet<>();
    /** The non-stop resumes the stub asked for, in order. */
    public final List<ResumeRequest> threadResumes = new CopyOnWriteArrayList<>();
    /** The threads the stub asked to stop, one list per call. */
    public final List<List<Integer>> threadStops = new CopyOnWriteArrayList<>();

    @Override
    public Optional<dev.tdemu.gdbstub.target.NonStop> nonStop() {
        return offersNonStop ? Optional.of(this) : Optional.empty();
    }

    @Override
    public synchronized CompletionStage<Void> nonStop(boolean on, java.util.function.Consumer<StopEvent> listener) {
        calls.add("non-stop " + on);
        nonStopListener = on ? listener : null;
        runningThreads.clear(); // leaving: every thread stops, unreported
        return CompletableFuture.completedFuture(null);
    }

    /** The threads running now (non-stop mode). */
    public synchronized java.util.Set<Integer> runningThreads() {
        return java.util.Set.copyOf(runningThreads);
    }

    /**
     * Resumed threads run until stopped or until {@link #report} stops them; a step advances RIP by
     * one and stops at once (with {@link #stepsAtOnce}, before this returns, on the caller's thread).
     */
    @Override
    public synchronized CompletionStage<Void> resumeThreads(ResumeRequest request) {
        calls.add("resume threads");
        threadResumes.add(request);
        for (ResumeRequest.ThreadResume t : request.threads()) {
            if (t.action() == ResumeAction.STAY_STOPPED) {
                continue;
            }
            if (runningThreads.contains(t.threadId())) {
                return CompletableFuture.failedFuture(new TargetException("thread " + t.threadId() + " is running"));
            }
        }
        for (ResumeRequest.ThreadResume t : request.threads()) {
            switch (t.action()) {
                case CONTINUE -> runningThreads.add(t.threadId());
                case STEP -> {
                    runningThreads.add(t.threadId());
                    RegisterFile f = registers.get(t.threadId());
                    f.setLong(X86_64Registers.RIP, f.getLong(X86_64Registers.RIP) + 1);
                    emit(StopEvent.stepDone(t.threadId()));
                }
                case STAY_STOPPED -> {
                }
            }
        }
        return CompletableFuture.completedFuture(null);
    }

    /** Stops each running thread (an INTERRUPTED stop); with {@link #stepsAtOnce} before this returns. */
    @Override
    public synchronized void stopThreads(java.util.Collection<Integer> threadIds) {
        calls.add("stop threads " + threadIds);
        threadStops.add(List.copyOf(threadIds));
        for (int tid : threadIds) {
            if (runningThreads.contains(tid)) {
                emit(StopEvent.interrupted(tid));
            }
        }
    }

    /** A running thread stops for {@code event} (a breakpoint it hit, say), reported from the fake's own thread. */
    public synchronized void report(StopEvent event) {
        if (event instanceof StopEvent.Stopped s) {
            if (!runningThreads.contains(s.threadId())) {
                throw new IllegalStateException("thread " + s.threadId() + " is not running");
            }
            if (s.reason() instanceof dev.tdemu.gdbstub.target.StopReason.HardwareBreakpoint) {
                Breakpoint bp = breakpoints.stream().filter(b -> b instanceof Breakpoint.Hardware).findFirst().orElseThrow();
                registers.get(s.threadId()).setLong(X86_64Registers.RIP, bp.address());
            }
        }
        boolean inline = stepsAtOnce;
        stepsAtOnce = false; // from the fake's thread, as a vCPU would
        try {
            emit(event);
        } finally {
            stepsAtOnce = inline;
        }
    }

    /** Under the lock: the thread stopped; the listener hears of it inline or from the fake's thread. */
    private void emit(StopEvent event) {
        if (event instanceof StopEvent.Stopped s) {
            runningThreads.remove(s.threadId());
        } else {
            runningThreads.clear();
        }
        java.util.function.Consumer<StopEvent> l = nonStopListener;
        if (l == null) {
            return;
        }
        if (stepsAtOnce) {
            l.accept(event);
        } else {
            executor.execute(() -> l.accept(event));
        }
    }

    @Override
    public Optional<PhysicalMemory> physicalMemory() {
        if (physicalMemory == null) {
            return Optional.empty();
        }
        return Optional.of(new PhysicalMemory() {
            @Override
            public boolean enabled() {
                return physicalMemory;
            }

            @Override
            public void enable(boolean on) {
                physicalMemory = on;
            }
        });
    }
}
