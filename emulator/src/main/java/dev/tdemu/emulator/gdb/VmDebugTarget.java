package dev.tdemu.emulator.gdb;

import dev.tdemu.core.x86.DebugRegisters;
import dev.tdemu.emulator.machine.BootStructures;
import dev.tdemu.emulator.unicorn.X86Reg;
import dev.tdemu.emulator.vm.DebugEvent;
import dev.tdemu.emulator.vm.DebugListener;
import dev.tdemu.emulator.vm.DebugSession;
import dev.tdemu.emulator.vm.VmResult;
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
 * and a lone single step run on the calling thread, the stub's event loop: each takes
 * microseconds, less than a hand-off to another thread and back. Breakpoint changes, monitor
 * commands, kill and detach run on a worker thread.
 */
public final class VmDebugTarget implements DebugTarget, Breakpoints, MonitorCommands, PhysicalMemory, DebugListener,
        AutoCloseable {
    private static final Logger LOG = LogManager.getLogger("dev.tdemu.gdbstub");
    private static final int SIGKILL = 9, SIGSEGV = 11, SIGALRM = 14, SIGABRT = 6, SIGTERM = 15;

    /** gdb register numbers and the engine registers behind them. */
    private static final Map<Integer, X86Reg> PLAIN = new HashMap<>();

    static {
        X86Reg[] gprs = {X86Reg.RAX, X86Reg.RBX, X86Reg.RCX, X86Reg.RDX, X86Reg.RSI, X86Reg.RDI, X86Reg.RBP, X86Reg.RSP,
            X86Reg.R8, X86Reg.R9, X86Reg.R10, X86Reg.R11, X86Reg.R12, X86Reg.R13, X86Reg.R14, X86Reg.R15};
        for (int i = 0; i < 16; i++) {
            PLAIN.put(i, gprs[i]);
        }
        PLAIN.put(X86_64Registers.RIP, X86Reg.RIP);
        PLAIN.put(X86_64Registers.EFLAGS, X86Reg.RFLAGS);
        X86Reg[] segs = {X86Reg.CS, X86Reg.SS, X86Reg.DS, X86Reg.ES, X86Reg.FS, X86Reg.GS};
        for (int i = 0; i < 6; i++) {
            PLAIN.put(X86_64Registers.CS + i, segs[i]);
        }
        PLAIN.put(X86_64Registers.FS_BASE, X86Reg.FS_BASE);
        PLAIN.put(X86_64Registers.GS_BASE, X86Reg.GS_BASE);
        PLAIN.put(X86_64Registers.CR0, X86Reg.CR0);
        PLAIN.put(X86_64Registers.CR2, X86Reg.CR2);
        PLAIN.put(X86_64Registers.CR3, X86Reg.CR3);
        PLAIN.put(X86_64Registers.CR4, X86Reg.CR4);
        PLAIN.put(X86_64Registers.MXCSR, X86Reg.MXCSR);
        // x87: fioff/fooff are the offsets of the last x87 instruction and operand, fiseg/foseg
        // their segments (0 here, as on CPUs that deprecate them). The engine does not track the
        // last opcode: fop stays unavailable.
        PLAIN.put(X86_64Registers.FCTRL, X86Reg.FPCW);
        PLAIN.put(X86_64Registers.FSTAT, X86Reg.FPSW);
        PLAIN.put(X86_64Registers.FTAG, X86Reg.FPTAG);
        PLAIN.put(X86_64Registers.FISEG, X86Reg.FCS);
        PLAIN.put(X86_64Registers.FIOFF, X86Reg.FIP);
        PLAIN.put(X86_64Registers.FOSEG, X86Reg.FDS);
        PLAIN.put(X86_64Registers.FOOFF, X86Reg.FDP);
    }

    /** Registers gdb may change; the others are refused with a reason. */
    private static final java.util.Set<Integer> WRITABLE = new java.util.TreeSet<>();
    private static final X86Reg[] XMM = new X86Reg[16], ST = new X86Reg[8];
    /** MXCSR bits software may set (LDMXCSR raises #GP for the others; MXCSR_MASK 0xffff). */
    private static final long MXCSR_WRITABLE = 0xffff;

    static {
        for (int i = 0; i <= 15; i++) {
            WRITABLE.add(i);
            WRITABLE.add(X86_64Registers.XMM0 + i);
            XMM[i] = X86Reg.valueOf("XMM" + i);
        }
        WRITABLE.addAll(java.util.List.of(X86_64Registers.RIP, X86_64Registers.EFLAGS, X86_64Registers.MXCSR));
        for (int i = 0; i < 8; i++) {
            ST[i] = X86Reg.valueOf("ST" + i);
        }
    }

    private final DebugSession session;
    private final Optional<String> executable;
    private final RegisterLayout layout = RegisterLayout.x86_64();
    private final ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "gdb-target");
        t.setDaemon(true);
        return t;
    });
    private CompletableFuture<StopEvent> pendingStop;
    private StopEvent lastStop;
    private StopEvent ended;

    public VmDebugTarget(DebugSession session) {
        this(session, Optional.empty());
    }

    /** With the guest's ELF as a file, which gdb then loads its symbols from on connecting. */
    public VmDebugTarget(DebugSession session, Optional<java.nio.file.Path> executable) {
        this.session = session;
        this.executable = executable.map(p -> p.toAbsolutePath().toString());
        session.setListener(this);
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
        if (pendingStop != null) {
            CompletableFuture<StopEvent> p = pendingStop;
            pendingStop = null;
            p.complete(ended);
        }
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
            case EXITED -> new StopEvent.Exited((int) e.dr6() & 0xFF);
        };
    }

    @Override
    public List<ThreadInfo> threads() {
        List<ThreadInfo> out = new ArrayList<>();
        for (int i = 0; i < session.vcpuCount(); i++) {
            if (session.alive(i)) {
                out.add(new ThreadInfo(i + 1, (session.isTd() ? "TD vCPU " : "vCPU ") + i));
            }
        }
        if (out.isEmpty()) {
            out.add(new ThreadInfo(1, "vCPU 0 (halted)"));
        }
        return out;
    }

    @Override
    public synchronized CompletionStage<StopEvent> attach() {
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

    // ---- registers and memory ----

    @Override
    public RegisterLayout registerLayout() {
        return layout;
    }

    /** One general register (a stop reply's expedited ones) without reading the whole file. */
    @Override
    public CompletionStage<Optional<byte[]>> readRegister(int threadId, int regnum) {
        X86Reg reg = PLAIN.get(regnum);
        if (reg == null) {
            return DebugTarget.super.readRegister(threadId, regnum);
        }
        return inline(() -> {
            long v = session.readRegister(threadId - 1, reg);
            byte[] bytes = new byte[layout.register(regnum).byteSize()];
            for (int i = 0; i < bytes.length; i++) {
                bytes[i] = (byte) (v >>> (8 * i));
            }
            return Optional.of(bytes);
        });
    }

    @Override
    public CompletionStage<RegisterFile> readRegisters(int threadId) {
        return inline(() -> readAll(threadId - 1));
    }

    private RegisterFile readAll(int vcpu) {
        RegisterFile f = RegisterFile.empty(layout);
        for (var e : PLAIN.entrySet()) {
            f.setLong(e.getKey(), session.readRegister(vcpu, e.getValue()));
        }
        f.setLong(X86_64Registers.EFER, BootStructures.EFER); // never read from the engine (see SvmGuestMode)
        for (int i = 0; i < 16; i++) {
            f.setBytes(X86_64Registers.XMM0 + i, session.readRegisterBytes(vcpu, XMM[i]));
        }
        for (int i = 0; i < 8; i++) { // gdb's st0-st7 are ST(i), relative to TOP
            f.setBytes(X86_64Registers.ST0 + i, session.readRegisterBytes(vcpu, ST[i]));
        }
        DebugRegisters dr = session.guestDebugRegisters(vcpu);
        f.setLong(X86_64Registers.DR0, dr.dr0());
        f.setLong(X86_64Registers.DR1, dr.dr1());
        f.setLong(X86_64Registers.DR2, dr.dr2());
        f.setLong(X86_64Registers.DR3, dr.dr3());
        f.setLong(X86_64Registers.DR6, dr.dr6().value());
        f.setLong(X86_64Registers.DR7, dr.dr7().value());
        return f;
    }

    /** gdb's {@code G}: the whole file comes back; registers it may not change must be unchanged. */
    @Override
    public CompletionStage<Void> writeRegisters(int threadId, RegisterFile values) {
        return inline(() -> {
            write(threadId - 1, values, true);
            return null;
        });
    }

    /** gdb's {@code P}: one register. */
    @Override
    public CompletionStage<Void> writeRegister(int threadId, int regnum, byte[] value) {
        return inline(() -> {
            write(threadId - 1, RegisterFile.empty(layout).setBytes(regnum, value), false);
            return null;
        });
    }

    /**
     * Writes what may be written, all or nothing: general registers, RIP, RFLAGS, XMM and MXCSR.
     * Any other register that would change is refused with the reason, before anything is
     * written; an unchanged one is fine (gdb writes back the whole file to change one register),
     * and so is, in a whole file, one this target cannot read (gdb sends back what it holds).
     */
    private void write(int vcpu, RegisterFile values, boolean wholeFile) {
        RegisterFile current = readAll(vcpu);
        for (int reg = 0; reg < layout.registerCount(); reg++) {
            Optional<byte[]> v = values.bytes(reg);
            if (v.isEmpty()) {
                continue;
            }
            if (reg == X86_64Registers.MXCSR && (values.getLong(reg) & ~MXCSR_WRITABLE) != 0) {
                throw new TargetException(String.format("mxcsr 0x%x sets reserved bits (the writable ones are 0x%x)",
                        values.getLong(reg), MXCSR_WRITABLE));
            }
            if (WRITABLE.contains(reg)) {
                continue;
            }
            Optional<byte[]> now = current.bytes(reg);
            if (now.isEmpty() ? wholeFile : java.util.Arrays.equals(now.get(), v.get())) {
                continue;
            }
            String name = layout.register(reg).name();
            if (reg >= X86_64Registers.DR0 && reg <= X86_64Registers.DR7) {
                throw new TargetException("the debugger does not write the guest's " + name
                        + "; set hardware breakpoints and watchpoints with hbreak, watch, rwatch and awatch");
            }
            throw new TargetException(now.isEmpty() ? name + " is not available in this emulator"
                    : "tdemu lets the debugger change general registers, RIP, RFLAGS, XMM and MXCSR only, not " + name);
        }
        for (int reg : WRITABLE) {
            Optional<byte[]> v = values.bytes(reg);
            if (v.isEmpty() || java.util.Arrays.equals(v.get(), current.bytes(reg).orElse(null))) {
                continue;
            }
            if (reg >= X86_64Registers.XMM0 && reg <= X86_64Registers.XMM15) {
                session.writeRegisterBytes(vcpu, XMM[reg - X86_64Registers.XMM0], v.get());
            } else {
                session.writeRegister(vcpu, PLAIN.get(reg), values.getLong(reg));
            }
        }
    }

    @Override
    public CompletionStage<byte[]> readMemory(int threadId, long address, int length) {
        return inline(() -> {
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
        });
    }

    @Override
    public CompletionStage<Void> writeMemory(int threadId, long address, byte[] data) {
        return inline(() -> {
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

    /** INT3s, and the four debug registers for execute breakpoints and watchpoints of every kind. */
    @Override
    public BreakpointSupport support() {
        return BreakpointSupport.x86();
    }

    @Override
    public CompletionStage<BreakpointResult> insert(Breakpoint bp) {
        return onWorker(() -> toResult(switch (bp) {
            case Breakpoint.Software s -> session.insertSoftware(s.address());
            case Breakpoint.Hardware h -> session.insertHardware(DebugEvent.Kind.HARDWARE_BREAKPOINT, h.address(), 1);
            case Breakpoint.Watchpoint w -> session.insertHardware(watchKind(w.kind()), w.address(), w.length());
        }));
    }

    @Override
    public CompletionStage<BreakpointResult> remove(Breakpoint bp) {
        return onWorker(() -> toResult(switch (bp) {
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
        if (r.unsupported()) { // declared up front instead (support()): reaching here is a bug
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
        return onWorker(() -> {
            try {
                return MonitorReply.ok(session.monitor(command));
            } catch (RuntimeException e) {
                return MonitorReply.failed("monitor " + command + ": " + e.getMessage() + "\n");
            }
        });
    }

    @Override
    public CompletionStage<Void> kill() {
        return onWorker(() -> {
            session.kill();
            return null;
        });
    }

    @Override
    public CompletionStage<Void> detach() {
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
