package dev.tdemu.emulator.gdb;

import dev.tdemu.emulator.unicorn.X86Reg;
import dev.tdemu.emulator.vm.DebugEvent;
import dev.tdemu.emulator.vm.DebugListener;
import dev.tdemu.emulator.vm.DebugSession;
import dev.tdemu.emulator.vm.VmResult;
import dev.tdemu.gdbstub.registers.RegisterFile;
import dev.tdemu.gdbstub.registers.RegisterLayout;
import dev.tdemu.gdbstub.target.Breakpoint;
import dev.tdemu.gdbstub.target.BreakpointResult;
import dev.tdemu.gdbstub.target.BreakpointSupport;
import dev.tdemu.gdbstub.target.Breakpoints;
import dev.tdemu.gdbstub.target.DebugTarget;
import dev.tdemu.gdbstub.target.GdbSignal;
import dev.tdemu.gdbstub.target.MonitorCommands;
import dev.tdemu.gdbstub.target.MonitorReply;
import dev.tdemu.gdbstub.target.NonStop;
import dev.tdemu.gdbstub.target.PhysicalMemory;
import dev.tdemu.gdbstub.target.ResumeRequest;
import dev.tdemu.gdbstub.target.StopEvent;
import dev.tdemu.gdbstub.target.StopReason;
import dev.tdemu.gdbstub.target.TargetException;
import dev.tdemu.gdbstub.target.ThreadInfo;
import dev.tdemu.gdbstub.target.WatchKind;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * The GDB stub's view of a VM: gdb threads are vCPUs (thread id = vCPU index + 1), its breakpoint
 * packets become the debugger's breakpoints of a {@link DebugSession} (KVM_SET_GUEST_DEBUG), its
 * resumes the session's all-stop continue/step. Register and memory accesses (the VM is stopped)
 * breakpoint changes and a lone single step run on the calling thread, the stub's event loop: each
 * takes microseconds, less than a hand-off to another thread and back. Monitor commands, kill and
 * detach run on a worker thread.
 */
public final class VmDebugTarget implements DebugTarget, Breakpoints, MonitorCommands, PhysicalMemory, NonStop,
        DebugListener, AutoCloseable {
    private static final Logger LOG = LogManager.getLogger("dev.tdemu.gdbstub");
    private static final int SIGKILL = 9, SIGSEGV = 11, SIGALRM = 14, SIGABRT = 6, SIGTERM = 15;

    private final DebugSession session;
    private final Optional<String> executable;
    private final RegisterLayout layout = RegisterLayout.x86_64();
    private final VcpuRegisters registers;
    private final VmMonitor monitor;
    private final ThreadInfo[] threads;
    private final ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "gdb-target");
        t.setDaemon(true);
        return t;
    });
    private CompletableFuture<StopEvent> pendingStop;
    /** Non-stop mode: where each vCPU's stop goes (null in all-stop mode). */
    private java.util.function.Consumer<StopEvent> nonStopListener;
    private StopEvent lastStop;
    private StopEvent ended;

    public VmDebugTarget(DebugSession session) {
        this(session, Optional.empty());
    }

    /** With the guest's ELF as a file, which gdb then loads its symbols from on connecting. */
    public VmDebugTarget(DebugSession session, Optional<java.nio.file.Path> executable) {
        this.session = session;
        this.executable = executable.map(p -> p.toAbsolutePath().toString());
        this.registers = new VcpuRegisters(session, layout);
        this.monitor = new VmMonitor(session, registers);
        this.threads = threadInfos(session);
        session.setListener(this);
        session.debuggerPresent(false); // until a client attaches
    }

    @Override
    public Optional<String> executable() {
        return executable;
    }

    @Override
    public Optional<PhysicalMemory> physicalMemory() {
        return Optional.of(this);
    }

    @Override
    public boolean enabled() {
        return session.physicalMemory();
    }

    @Override
    public void enable(boolean on) {
        session.setPhysicalMemory(on);
    }

    /**
     * Runs a register or memory access on the caller's thread (the stub's event loop): while the
     * VM is stopped these take microseconds, and a hand-off to the worker and back costs more than
     * the access (it dominated a 16 MiB read and every gdb stepi).
     */
    private <T> CompletionStage<T> inline(Supplier<T> work) {
        try {
            return CompletableFuture.completedFuture(work.get());
        } catch (IllegalStateException | IllegalArgumentException e) {
            return CompletableFuture.failedFuture(new TargetException(e.getMessage()));
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    private <T> CompletionStage<T> onWorker(Supplier<T> work) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return work.get();
            } catch (IllegalStateException | IllegalArgumentException e) {
                throw new TargetException(e.getMessage());
            }
        }, worker);
    }

    // ---- stops ----

    @Override
    public synchronized void stopped(DebugEvent e) {
        StopEvent s = toStop(e);
        lastStop = s;
        if (nonStopListener != null) {
            nonStopListener.accept(s);
            return;
        }
        if (pendingStop != null) {
            CompletableFuture<StopEvent> p = pendingStop;
            pendingStop = null;
            p.complete(s);
        }
    }

    @Override
    public synchronized void ended(VmResult r) {
        ended = switch (r.outcome()) {
            case EXITED -> new StopEvent.Exited(r.exitStatus() & 0xFF);
            case KILLED -> new StopEvent.Terminated(SIGKILL);
            case TRIPLE_FAULT, MEMORY_FAULT -> new StopEvent.Terminated(SIGSEGV);
            case TIMEOUT -> new StopEvent.Terminated(SIGALRM);
            case INTERRUPTED -> new StopEvent.Terminated(SIGTERM); // tdemu itself was told to stop
            default -> new StopEvent.Terminated(SIGABRT);
        };
        LOG.info("the VM ended ({}: {})", r.outcome(), r.detail());
        if (nonStopListener != null) {
            nonStopListener.accept(ended);
            return;
        }
        if (pendingStop != null) {
            CompletableFuture<StopEvent> p = pendingStop;
            pendingStop = null;
            p.complete(ended);
        }
    }

    /** The signal gdb shows for a caught exception, as Linux would send it to a process. */
    static int signalOf(int vector) {
        return switch (vector) {
            case 13, 14, 11, 12 -> GdbSignal.SEGV; // #GP, #PF, #NP, #SS
            case 6 -> GdbSignal.ILL;
            case 0, 16, 19 -> GdbSignal.FPE; // #DE, #MF, #XM
            case 17 -> GdbSignal.BUS; // #AC
            default -> GdbSignal.TRAP;
        };
    }

    private static StopEvent toStop(DebugEvent e) {
        int tid = e.vcpu() + 1;
        return switch (e.kind()) {
            case HARDWARE_BREAKPOINT -> StopEvent.hardwareBreakpoint(tid);
            case SOFTWARE_BREAKPOINT -> StopEvent.softwareBreakpoint(tid);
            case WATCH_WRITE -> StopEvent.watchpoint(tid, WatchKind.WRITE, e.address());
            case WATCH_READ -> StopEvent.watchpoint(tid, WatchKind.READ, e.address());
            case WATCH_ACCESS -> StopEvent.watchpoint(tid, WatchKind.ACCESS, e.address());
            case STEP -> StopEvent.stepDone(tid);
            case INTERRUPTED -> StopEvent.interrupted(tid);
            case SHUTDOWN -> StopEvent.fault(tid, GdbSignal.SEGV, "tdemu: " + e.detail()
                    + " (the machine shuts down when you continue; its state is intact until then)");
            case EXCEPTION -> StopEvent.fault(tid, signalOf((int) e.dr6()), e.detail());
            case EXITED -> new StopEvent.Exited((int) e.dr6() & 0xFF);
        };
    }

    @Override
    public List<ThreadInfo> threads() {
        List<ThreadInfo> out = new ArrayList<>(threads.length);
        for (int i = 0; i < threads.length; i++) {
            if (session.alive(i)) {
                out.add(session.waitsForStartup(i) ? new ThreadInfo(threads[i].id(), threads[i].name() + " (" + session.startupWait(i) + ")")
                        : threads[i]);
            }
        }
        if (out.isEmpty()) {
            out.add(HALTED);
        }
        return out;
    }

    private static final ThreadInfo HALTED = new ThreadInfo(1, "vCPU 0 (halted)");

    /** Every vCPU as gdb names it (the stub asks for the list at most packets: built once). */
    private static ThreadInfo[] threadInfos(DebugSession session) {
        ThreadInfo[] all = new ThreadInfo[session.vcpuCount()];
        boolean hidden = session.isTd() && !session.isDebugTd();
        for (int i = 0; i < all.length; i++) {
            all[i] = new ThreadInfo(i + 1, (session.isTd() ? "TD vCPU " : "vCPU ") + i
                    + (hidden ? " (not a debug TD: registers and memory hidden, rip 0 stands for unknown)" : ""));
        }
        return all;
    }

    @Override
    public synchronized CompletionStage<StopEvent> attach() {
        session.debuggerPresent(true);
        if (ended != null) {
            return CompletableFuture.completedFuture(ended);
        }
        if (session.stopped() && lastStop != null) {
            return CompletableFuture.completedFuture(asFoundOnAttach(lastStop));
        }
        pendingStop = new CompletableFuture<>();
        CompletableFuture<StopEvent> p = pendingStop;
        session.interrupt();
        return p.thenApply(VmDebugTarget::asFoundOnAttach);
    }

    /**
     * The guest a debugger finds on attaching was halted for it (or held with {@code --wait}), not
     * interrupted by the user: that is a SIGTRAP, as QEMU reports it, not the SIGINT of a Ctrl-C
     * (lldb would say "stop reason = signal SIGINT" on connecting). A real stop (a breakpoint the
     * previous debugger left the guest at) stays what it was.
     */
    private static StopEvent asFoundOnAttach(StopEvent s) {
        if (s instanceof StopEvent.Stopped st && st.reason() instanceof StopReason.Interrupted) {
            return StopEvent.signalled(st.threadId(), GdbSignal.TRAP);
        }
        return s;
    }

    @Override
    public synchronized CompletionStage<StopEvent> resume(ResumeRequest request) {
        if (ended != null) {
            return CompletableFuture.completedFuture(ended);
        }
        Map<Integer, DebugSession.Action> actions = new HashMap<>();
        for (ResumeRequest.ThreadResume t : request.threads()) {
            actions.put(t.threadId() - 1, switch (t.action()) {
                case CONTINUE -> DebugSession.Action.CONTINUE;
                case STEP -> DebugSession.Action.STEP;
                case STAY_STOPPED -> DebugSession.Action.STAY;
            });
        }
        pendingStop = new CompletableFuture<>();
        CompletableFuture<StopEvent> p = pendingStop;
        DebugSession.Result r;
        try {
            // A lone single step runs right here (the stub's event loop) and its stop completes p
            // before this returns: a gdb stepi then costs no thread hand-off at all.
            r = session.resume(actions, true);
        } catch (IllegalStateException e) {
            pendingStop = null;
            return CompletableFuture.failedFuture(new TargetException(e.getMessage()));
        }
        if (!r.ok()) {
            pendingStop = null;
            return CompletableFuture.failedFuture(new TargetException(r.message()));
        }
        return p;
    }

    @Override
    public void interrupt() {
        session.interrupt();
    }

    // ---- non-stop mode ----

    @Override
    public Optional<NonStop> nonStop() {
        return Optional.of(this);
    }

    /** Entering takes effect at once (every vCPU is stopped); leaving waits for the running vCPUs to stop, on the worker. */
    @Override
    public CompletionStage<Void> nonStop(boolean on, java.util.function.Consumer<StopEvent> listener) {
        synchronized (this) {
            nonStopListener = on ? listener : null;
        }
        if (on) {
            return inline(() -> {
                try {
                    session.nonStop(true);
                } catch (RuntimeException e) {
                    synchronized (this) {
                        nonStopListener = null;
                    }
                    throw e;
                }
                return null;
            });
        }
        return onWorker(() -> {
            session.nonStop(false);
            return null;
        });
    }

    @Override
    public CompletionStage<Void> resumeThreads(ResumeRequest request) {
        Map<Integer, DebugSession.Action> actions = new HashMap<>();
        for (ResumeRequest.ThreadResume t : request.threads()) {
            switch (t.action()) {
                case CONTINUE -> actions.put(t.threadId() - 1, DebugSession.Action.CONTINUE);
                case STEP -> actions.put(t.threadId() - 1, DebugSession.Action.STEP);
                case STAY_STOPPED -> {
                }
            }
        }
        return inline(() -> {
            DebugSession.Result r = session.resume(actions, false);
            if (!r.ok()) {
                throw new TargetException(r.message());
            }
            return null;
        });
    }

    @Override
    public void stopThreads(java.util.Collection<Integer> threadIds) {
        session.stop(threadIds.stream().map(t -> t - 1).toList());
    }

    /**
     * Guest memory writes and breakpoint changes reach every vCPU: in non-stop mode with vCPUs
     * running they wait for those to pause at their next exit, so they run on the worker then, not
     * on the stub's event loop; otherwise inline.
     */
    private <T> CompletionStage<T> everyVcpu(Supplier<T> work) {
        return session.nonStop() && !session.stopped() ? onWorker(work) : inline(work);
    }

    // ---- registers and memory ----

    @Override
    public RegisterLayout registerLayout() {
        return layout;
    }

    /**
     * Whether the TDX module hides this TD's state from the host (not a debug TD): gdb still
     * connects, sees every register as unavailable, is refused memory, breakpoints and steps with
     * the reason, and keeps the host-side monitor commands.
     */
    private boolean hidden() {
        return session.isTd() && !session.isDebugTd();
    }

    static final String HIDDEN = "this TD is not a debug TD (ATTRIBUTES.DEBUG is clear): the TDX module does not let the host "
            + "see or change its registers or memory; run it with --debug-td";

    /** One general register (a stop reply's expedited ones) without reading the whole file. */
    @Override
    public CompletionStage<Optional<byte[]>> readRegister(int threadId, int regnum) {
        if (hidden()) {
            return CompletableFuture.completedFuture(hiddenRegisters().bytes(regnum));
        }
        Optional<X86Reg> reg = VcpuRegisters.plain(regnum);
        if (reg.isEmpty()) {
            return DebugTarget.super.readRegister(threadId, regnum);
        }
        return inline(() -> {
            long v = session.readRegister(threadId - 1, reg.get());
            byte[] bytes = new byte[layout.register(regnum).byteSize()];
            for (int i = 0; i < bytes.length; i++) {
                bytes[i] = (byte) (v >>> (8 * i));
            }
            return Optional.of(bytes);
        });
    }

    @Override
    public CompletionStage<RegisterFile> readRegisters(int threadId) {
        if (hidden()) {
            return CompletableFuture.completedFuture(hiddenRegisters());
        }
        return inline(() -> registers.read(threadId - 1));
    }

    /** gdb's {@code G}: the whole file comes back; registers that do not change are left alone. */
    @Override
    public CompletionStage<Void> writeRegisters(int threadId, RegisterFile values) {
        return inline(() -> {
            refuseIfHidden("writing registers");
            registers.write(threadId - 1, values, true);
            return null;
        });
    }

    /** gdb's {@code P}: one register. */
    @Override
    public CompletionStage<Void> writeRegister(int threadId, int regnum, byte[] value) {
        return inline(() -> {
            refuseIfHidden("writing registers");
            registers.write(threadId - 1, RegisterFile.empty(layout).setBytes(regnum, value), false);
            return null;
        });
    }

    /**
     * What gdb sees of a hidden TD's vCPU: every register unavailable but RIP, which reads 0. gdb
     * 13 cannot attach to a thread without a PC ("PC register is not available" ends its {@code
     * target remote}); 0 stands for "not known" and is never the TD's RIP, which the TDX module hides.
     */
    private RegisterFile hiddenRegisters() {
        return RegisterFile.empty(layout).setLong(layout.pcRegnum(), 0);
    }

    private void refuseIfHidden(String what) {
        if (hidden()) {
            throw new TargetException(what + " is refused: " + HIDDEN);
        }
    }

    @Override
    public CompletionStage<byte[]> readMemory(int threadId, long address, int length) {
        boolean pauses = session.nonStop() && threadId >= 1 && threadId <= session.vcpuCount() && !session.stopped(threadId - 1);
        // Through a running vCPU (non-stop) the read pauses the running vCPUs for the moment: on the worker.
        Supplier<byte[]> read = () -> {
            if (hidden()) {
                throw new TargetException(14, "reading memory is refused: " + HIDDEN);
            }
            // Partial reads are fine for gdb: stop at the first unmapped page.
            ByteArrayOutputStream out = new ByteArrayOutputStream(length);
            long at = address;
            while (out.size() < length) {
                int chunk = (int) Math.min(length - out.size(), 4096 - (at & 4095));
                try {
                    out.writeBytes(session.readMemory(threadId - 1, at, chunk));
                } catch (RuntimeException e) {
                    if (out.size() == 0) {
                        throw new TargetException(14, String.format("cannot read memory at 0x%x: %s", at, e.getMessage()));
                    }
                    break;
                }
                at += chunk;
            }
            return out.toByteArray();
        };
        return pauses ? onWorker(read) : inline(read);
    }

    @Override
    public CompletionStage<Void> writeMemory(int threadId, long address, byte[] data) {
        return everyVcpu(() -> {
            try {
                session.writeMemory(threadId - 1, address, data);
            } catch (RuntimeException e) {
                throw new TargetException(14, String.format("cannot write memory at 0x%x: %s", address, e.getMessage()));
            }
            return null;
        });
    }

    // ---- breakpoints ----

    @Override
    public Optional<Breakpoints> breakpoints() {
        return Optional.of(this);
    }

    /**
     * INT3s, and the four debug registers for execute breakpoints and watchpoints of every kind.
     * Inserted and removed inline, like register and memory accesses: the VM is stopped, the work is
     * bookkeeping, and gdb sends a z and a Z packet around every continue.
     */
    @Override
    public BreakpointSupport support() {
        return BreakpointSupport.x86();
    }

    @Override
    public CompletionStage<BreakpointResult> insert(Breakpoint bp) {
        return everyVcpu(() -> toResult(switch (bp) {
            case Breakpoint.Software s -> session.insertSoftware(s.address());
            case Breakpoint.Hardware h -> session.insertHardware(DebugEvent.Kind.HARDWARE_BREAKPOINT, h.address(), 1);
            case Breakpoint.Watchpoint w -> session.insertHardware(watchKind(w.kind()), w.address(), w.length());
        }));
    }

    @Override
    public CompletionStage<BreakpointResult> remove(Breakpoint bp) {
        return everyVcpu(() -> toResult(switch (bp) {
            case Breakpoint.Software s -> session.removeSoftware(s.address());
            case Breakpoint.Hardware h -> session.removeHardware(DebugEvent.Kind.HARDWARE_BREAKPOINT, h.address(), 1);
            case Breakpoint.Watchpoint w -> session.removeHardware(watchKind(w.kind()), w.address(), w.length());
        }));
    }

    /** The debug session's name for a watchpoint kind (the vm package keeps its own vocabulary). */
    private static DebugEvent.Kind watchKind(WatchKind kind) {
        return switch (kind) {
            case WRITE -> DebugEvent.Kind.WATCH_WRITE;
            case READ -> DebugEvent.Kind.WATCH_READ;
            case ACCESS -> DebugEvent.Kind.WATCH_ACCESS;
        };
    }

    private static BreakpointResult toResult(DebugSession.Result r) {
        if (r.ok()) {
            return BreakpointResult.OK;
        }
        if (r.unsupported()) { // declared up front (support()): reaching here is a bug
            throw new IllegalStateException("the debug session does not take this breakpoint kind");
        }
        return BreakpointResult.refused(r.message());
    }

    @Override
    public Optional<MonitorCommands> monitorCommands() {
        return Optional.of(this);
    }

    @Override
    public CompletionStage<MonitorReply> run(String command) {
        // In non-stop mode the monitor may look at every vCPU while some run: they pause for it.
        return onWorker(() -> session.withRunningVcpusPaused("a monitor command", () -> monitor.run(command)));
    }

    @Override
    public CompletionStage<Void> kill() {
        session.debuggerPresent(false);
        return onWorker(() -> {
            session.kill();
            return null;
        });
    }

    @Override
    public CompletionStage<Void> detach() {
        synchronized (this) {
            nonStopListener = null; // the detach leaves non-stop mode; its stops are nobody's
        }
        return onWorker(() -> {
            session.detach();
            // The guest runs on: that stop is over. Until the vCPU threads have woken, the session
            // still counts them as parked, and a debugger attaching at once (the stub lets it only
            // after this stage) must interrupt the guest, not be told the old stop.
            synchronized (this) {
                lastStop = null;
            }
            return null;
        });
    }

    @Override
    public void close() {
        worker.shutdownNow();
    }
}
