package dev.tdemu.emulator.vm;

import dev.tdemu.core.host.HostBreakpoint;
import dev.tdemu.core.invariant.Invariant;
import dev.tdemu.core.invariant.InvariantChecks;
import dev.tdemu.core.invariant.Violation;
import dev.tdemu.core.kvm.KvmVcpu;
import dev.tdemu.core.kvm.KvmWarning;
import dev.tdemu.core.kvm.VcpuEnterGuest;
import dev.tdemu.core.vmx.ExitReason;
import dev.tdemu.core.vmx.MovDrDirection;
import dev.tdemu.core.vmx.MovDrQualification;
import dev.tdemu.core.x86.CpuMode;
import dev.tdemu.core.x86.DebugRegisters;
import dev.tdemu.core.x86.ExceptionVector;
import dev.tdemu.emulator.cpu.GuestControls;
import dev.tdemu.emulator.cpu.GuestEngine;
import dev.tdemu.emulator.cpu.GuestExit;
import dev.tdemu.emulator.cpu.PhysicalCpu;
import dev.tdemu.emulator.cpu.PortIo;
import dev.tdemu.emulator.machine.PageWalker;
import dev.tdemu.emulator.machine.X86Exception;
import dev.tdemu.emulator.unicorn.Unicorn;
import dev.tdemu.emulator.unicorn.X86Reg;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * One vCPU: a thread running KVM's vcpu_enter_guest loop on its own {@link PhysicalCpu}.
 * <pre>
 *   before-entry DR sequence + VM entry / TDH.VP.ENTER   (core: VcpuEnterGuest.enterGuest)
 *   inject a pending event, run the guest                 (PhysicalCpu.runGuest)
 *   VM exit / TD exit + after-exit DR sequence            (core: VcpuEnterGuest.exitGuest)
 *   host workload, invariants, observers
 *   handle the exit                                       (VmxExits / TdExits)
 * </pre>
 * Events a TD takes without leaving it (#VE, TDX-module TDCALLs) are handled before the exit
 * path, as the TDX module and CPU would.
 */
final class Vcpu implements Runnable {
    private static final Logger LOG = LogManager.getLogger("dev.tdemu.emulator.vm");

    final int index;
    final Vm vm;
    final PhysicalCpu cpu;
    final GuestEngine engine;
    final KvmVcpu kvm;
    final HostWorkload workload;
    private final ExitHandler handler;
    final GuestControls controls;
    /** An event to deliver into the guest right after the next entry. */
    X86Exception pendingInjection;
    /**
     * A single-step trap owed to the guest right after the next entry, at this RIP (-1: none): the
     * TDX module completes a TDG.VP.VMCALL with the TD's pending debug exceptions holding BS when
     * RFLAGS.TF was set, so the #DB arrives inside the TD, with the TD's DR6.
     */
    long pendingSingleStepRip = -1;
    /** An exit produced while the TDX module handled something inside the TD, taken instead of running. */
    GuestExit inGuestExit;
    private long exits;
    private int warningsSeen;
    private final int[] hostHitsTotal = new int[4];
    volatile boolean halted;
    /** A TD's IA32_DEBUGCTL as its TDG.VP.VMCALL<WRMSR> left it. */
    long tdDebugctl;
    /** Set before the first entry (or between runs) when this vCPU must be kickable; see {@link #kick()}. */
    volatile boolean kicksWanted;
    /** The engine runs guest code without the kick hook (the VM started without kicks). */
    private volatile boolean runningWithoutKicks;
    /** Kicks that had to stop the engine from outside (imprecise; see {@link #kick()}). */
    final java.util.concurrent.atomic.AtomicInteger stopsFromOutside = new java.util.concurrent.atomic.AtomicInteger();
    /** The engine lock's scheduler ended this vCPU's run for another vCPU (not a guest-visible event). */
    final java.util.concurrent.atomic.AtomicBoolean preempted = new java.util.concurrent.atomic.AtomicBoolean();
    private static final java.util.concurrent.atomic.AtomicBoolean WARNED_IMPRECISE = new java.util.concurrent.atomic.AtomicBoolean();
    DebugRegisters lastHostView = DebugRegisters.INIT;

    /** Exit-handling strategy: VMX (KVM + VMM) or TD (TDX module + KVM's TDX code). */
    interface ExitHandler {
        /** Handles what never leaves the guest context; true to keep running without an exit. */
        boolean handleInGuest(Vcpu v, GuestExit exit);

        ExitReason reason(GuestExit exit);

        long qualification(GuestExit exit);

        /** For TDG.VP.VMCALL exits the subfunction (R11), else 0. */
        long tdcallLeaf(Vcpu v, GuestExit exit);

        /** Handles the exit after the exit path; false when this vCPU stops. */
        boolean handleExit(Vcpu v, GuestExit exit);
    }

    Vcpu(int index, Vm vm, PhysicalCpu cpu, GuestEngine engine, KvmVcpu kvm, HostWorkload workload) {
        this.index = index;
        this.vm = vm;
        this.cpu = cpu;
        this.engine = engine;
        this.kvm = kvm;
        this.workload = workload;
        this.handler = kvm.isTd() ? new TdExits() : new VmxExits();
        this.controls = new GuestControls() {
            @Override
            public Optional<MovDrQualification> movDrExit(CpuMode mode, int dr, MovDrDirection direction, int gpr) {
                return kvm.backing().movDrExit(mode, dr, direction, gpr);
            }

            @Override
            public boolean exceptionExits(int vector) {
                return switch (vector) {
                    case X86Exception.DB -> kvm.backing().exceptionExits(ExceptionVector.DB);
                    case X86Exception.BP -> kvm.backing().exceptionExits(ExceptionVector.BP);
                    default -> false;
                };
            }

            @Override
            public boolean ioPassthrough(int port) {
                return !kvm.isTd() && port == Hypercalls.POST_PORT;
            }
        };
    }

    @Override
    public void run() {
        Thread.currentThread().setName("vcpu" + index);
        try {
            while (!vm.finished() && !halted) {
                if (!runOnce()) {
                    break;
                }
            }
        } catch (RuntimeException | Error e) {
            LOG.error("vcpu{} failed", index, e);
            vm.finish(VmResult.Outcome.INTERNAL_ERROR, "vCPU " + index + ": " + e, -1);
        } finally {
            halted = true;
            vm.vcpuStopped(this);
        }
    }

    /** One entry, one exit. */
    private boolean runOnce() {
        DebugSession session = vm.debugSession();
        if (session != null && !session.beforeEntry(this)) {
            return false;
        }
        return enterAndHandleExit();
    }

    /**
     * The part of {@link #runOnce()} after the debugger let this vCPU enter: one entry, one exit,
     * the exit handled. Runs on this vCPU's thread, or on a debugger thread that borrowed the vCPU
     * for a single step while this vCPU's thread stays parked ({@link DebugSession}). False when
     * this vCPU stops for good.
     */
    boolean enterAndHandleExit() {
        if (kicksWanted && !engine.kicksEnabled()) {
            engine.enableKicks();
        }
        VcpuEnterGuest.EntryTrace entry = VcpuEnterGuest.enterGuest(kvm, cpu.host(), cpu.hardware());
        injectAtEntry();
        List<Violation> violations = new ArrayList<>(entryInvariants(cpu.hardware().snapshot()));
        GuestExit exit;
        runningWithoutKicks = !engine.kicksEnabled();
        try {
            exit = runUntilExit();
        } finally {
            runningWithoutKicks = false;
        }
        return afterExit(entry, violations, exit);
    }

    /** The engine runs from the entry to the exit (the part a kick has to end). */
    private GuestExit runUntilExit() {
        GuestExit exit = null;
        if (pendingInjection != null) {
            X86Exception inject = pendingInjection;
            pendingInjection = null;
            exit = cpu.deliver(engine, inject);
        }
        if (exit == null && pendingSingleStepRip >= 0) {
            long next = pendingSingleStepRip;
            pendingSingleStepRip = -1;
            exit = cpu.singleStepTrap(engine, controls, next);
        }
        if (exit == null) {
            do {
                if (inGuestExit != null) {
                    exit = inGuestExit;
                    inGuestExit = null;
                } else {
                    exit = runGuest();
                }
            } while (handler.handleInGuest(this, exit) && !vm.finished());
        }
        return exit;
    }

    private boolean afterExit(VcpuEnterGuest.EntryTrace entry, List<Violation> violations, GuestExit exit) {
        ExitReason reason = handler.reason(exit);
        long qualification = handler.qualification(exit);
        VcpuEnterGuest.ExitTrace out = VcpuEnterGuest.exitGuest(kvm, cpu.host(), cpu.hardware(), reason, qualification);
        injectAtExit();
        exits++;
        DebugRegisters afterExit = cpu.hardware().snapshot();
        lastHostView = afterExit;
        int[] hits = null;
        if (workload != null && cpu.host().hwBreakpointActive()) {
            hits = workload.run(cpu);
            if (hits != null) {
                violations.addAll(hostWorkloadViolations(hits));
            }
        }
        violations.addAll(InvariantChecks.hostBreakpointsIntact(cpu.host(), afterExit));
        if (kvm.isTd() && !kvm.tdVcpu().attributes().debug()) {
            violations.addAll(InvariantChecks.noLeakAfterExit(kvm.tdVcpu(), cpu.host(), afterExit));
        }
        List<KvmWarning> all = kvm.warnings();
        List<KvmWarning> newWarnings = all.subList(warningsSeen, all.size());
        warningsSeen = all.size();
        ExitEvent event = new ExitEvent(index, cpu.id(), vm.nextExitSequence(), reason, qualification, exit.rip(),
                handler.tdcallLeaf(this, exit), entry, out, kvm.switchDbRegs().bits(), cpu.host().expectedHardware(),
                cpu.host().hwBreakpointActive(), hits, violations, newWarnings);
        vm.observe(event);
        if (exit instanceof GuestExit.Stopped) {
            return !vm.finished() && vm.waitWhilePaused(this);
        }
        return handler.handleExit(this, exit);
    }

    private GuestExit runGuest() {
        GuestScheduler scheduler = vm.scheduler();
        return scheduler == null ? cpu.runGuest(engine, controls) : scheduler.run(this, () -> cpu.runGuest(engine, controls));
    }

    /** Another vCPU wants the engine lock: end this one's run at an instruction boundary. */
    void preempt() {
        preempted.set(true);
        kick();
    }

    /**
     * Ends this vCPU's current run at an instruction boundary (from any thread); the vCPU then
     * handles it as an external-interrupt exit, like a real vCPU kicked by an IPI.
     */
    void kick() {
        // Honoured by the engine's block hook, in the run going on or from the next one. A vCPU
        // that wants kicks but has not entered since enables the hook before it runs, so only a
        // run that really goes on without the hook needs stopping from outside.
        engine.kick();
        if (!runningWithoutKicks) {
            return;
        }
        stopsFromOutside.incrementAndGet();
        if (WARNED_IMPRECISE.compareAndSet(false, true)) {
            LOG.warn("vCPU {} was started without kicks (a debugger attached while it ran): stopping its engine from "
                    + "outside, which can repeat part of a translated block; attach debuggers before the VM runs", index);
        }
        engine.stop();
    }

    private List<Violation> entryInvariants(DebugRegisters inGuest) {
        List<Violation> v = new ArrayList<>(InvariantChecks.guestBreakpointsLoaded(kvm, inGuest));
        if (kvm.isTd() && !kvm.tdVcpu().attributes().debug()) {
            v.addAll(InvariantChecks.noLeakAtEntry(kvm.tdVcpu(), inGuest));
        }
        return v;
    }

    /** The faults tests inject into the entry path (never in normal runs). */
    private void injectAtEntry() {
        switch (vm.faultInjection()) {
            case FAULT_INJECTION_BREAK_GUEST_LOAD -> cpu.hardware().load(DebugRegisters.INIT);
            case FAULT_INJECTION_DROP_DEBUGGER_BREAKPOINTS -> {
                if (kvm.guestDebug().useHwBp()) {
                    cpu.hardware().loadDr7(dev.tdemu.core.x86.Dr7.RESET);
                }
            }
            case FAULT_INJECTION_DROP_TRAP_FLAG -> setReg(X86Reg.RFLAGS, reg(X86Reg.RFLAGS) & ~0x100L);
            default -> { }
        }
    }

    /** The faults tests inject into the exit path (never in normal runs). */
    private void injectAtExit() {
        switch (vm.faultInjection()) {
            case FAULT_INJECTION_BREAK_HOST_RESTORE -> {
                if (cpu.host().hwBreakpointActive()) {
                    cpu.hardware().load(DebugRegisters.INIT);
                }
            }
            case FAULT_INJECTION_LEAK_GUEST_STATE -> cpu.hardware().load(
                    kvm.isTd() ? kvm.tdVcpu().savedDebugRegisters() : kvm.guestView());
            default -> { }
        }
    }

    private List<Violation> hostWorkloadViolations(int[] hits) {
        List<Violation> v = new ArrayList<>();
        for (int slot = 0; slot < 4; slot++) {
            hostHitsTotal[slot] += hits[slot];
            Optional<HostBreakpoint> bp = cpu.host().breakpoint(slot);
            if (bp.isPresent() && hits[slot] == 0) {
                v.add(new Violation(Invariant.HOST_BREAKPOINTS_INTACT, String.format(
                        "the host workload touched host breakpoint %d (%s at 0x%x) and it did not fire", slot,
                        bp.get().type(), bp.get().address())));
            }
        }
        return v;
    }

    int hostHits() {
        int total = 0;
        for (int h : hostHitsTotal) {
            total += h;
        }
        return total;
    }

    long exits() {
        return exits;
    }

    // ---- helpers shared by the exit handlers ----

    Unicorn uc() {
        return engine.engine();
    }

    long reg(X86Reg r) {
        return uc().readReg(r);
    }

    void setReg(X86Reg r, long value) {
        uc().writeReg(r, value);
    }

    /**
     * Completes an emulated instruction: RIP past it and, as kvm_skip_emulated_instruction does,
     * a single-step #DB when the guest had RFLAGS.TF set.
     */
    void skipInstruction(long rip, int length) {
        boolean tf = (reg(X86Reg.RFLAGS) & 0x100) != 0;
        setReg(X86Reg.RIP, rip + length);
        if (tf) {
            singleStepAfterEmulation(rip + length);
        }
    }

    void singleStepAfterEmulation(long nextRip) {
        var result = kvm.handleDebugException(
                new dev.tdemu.core.vmx.DebugExitQualification(dev.tdemu.core.x86.PendingDebug.singleStep()), nextRip);
        switch (result) {
            case dev.tdemu.core.kvm.DebugExceptionResult.Reinject r -> injectDebug(nextRip, false);
            case dev.tdemu.core.kvm.DebugExceptionResult.ReportToDebugger r -> vm.debugStop(this, r.stop(), List.of());
        }
    }

    /**
     * Queues #DB for the next entry (KVM has already put the bits in the guest's view of DR6). KVM
     * sets RF for no #DB it injects, so the frame gets the guest's RFLAGS.RF as it stands: 1 only
     * where the VM exit saved RF=1 (general detect, a non-final REP iteration).
     */
    void injectDebug(long rip, boolean fault) {
        boolean rf = (reg(X86Reg.RFLAGS) & 0x10000) != 0;
        pendingInjection = fault ? X86Exception.debugFault(rip) : new X86Exception(X86Exception.DB, -1, rf, rip, 0);
    }

    void inject(X86Exception e) {
        pendingInjection = e;
    }

    /** Reads guest memory at a linear address (through the guest's page tables). */
    byte[] readGuest(long linear, int length) {
        byte[] out = new byte[length];
        for (int n = 0; n < length; ) {
            PageWalker.Translation t = PageWalker.translate(engine.memory(), reg(X86Reg.CR3), linear + n);
            if (t == null) {
                throw new GuestAccessException(linear + n);
            }
            int chunk = (int) Math.min(length - n, t.bytesToPageEnd());
            System.arraycopy(engine.memory().readBytes(t.physical(), chunk), 0, out, n, chunk);
            n += chunk;
        }
        return out;
    }

    /** The guest-physical address of a linear one through the guest's page tables, or -1 when unmapped. */
    long physicalOf(long linear) {
        PageWalker.Translation t = PageWalker.translate(engine.memory(), reg(X86Reg.CR3), linear);
        return t == null ? -1 : t.physical();
    }

    void writeGuest(long linear, byte[] data) {
        for (int n = 0; n < data.length; ) {
            PageWalker.Translation t = PageWalker.translate(engine.memory(), reg(X86Reg.CR3), linear + n);
            if (t == null || !t.writable()) {
                throw new GuestAccessException(linear + n);
            }
            int chunk = (int) Math.min(data.length - n, t.bytesToPageEnd());
            byte[] part = new byte[chunk];
            System.arraycopy(data, n, part, 0, chunk);
            engine.memory().writeBytes(t.physical(), part);
            n += chunk;
        }
    }

    /** A VMM access to guest memory that the guest's page tables do not map (becomes #PF or an error). */
    static final class GuestAccessException extends RuntimeException {
        final long address;

        GuestAccessException(long address) {
            super(String.format("guest address 0x%x is not mapped", address), null, false, false);
            this.address = address;
        }
    }

    /** The tdemu hypercalls, shared by VMX (VMCALL) and TD (vendor TDG.VP.VMCALL). */
    long hypercall(long nr, long a0, long a1, long a2) {
        if (nr != (int) nr) {
            return Hypercalls.ENOSYS; // only the low 32 bits would match a number below
        }
        return switch ((int) nr) {
            case Hypercalls.EXIT -> {
                vm.finish(VmResult.Outcome.EXITED, "exit hypercall", (int) (a0 & 0xFF));
                yield 0;
            }
            case Hypercalls.WRITE -> {
                // Every argument is the guest's: a length is unsigned and bounded, an address may
                // be anything (unmapped: -EFAULT).
                if (Long.compareUnsigned(a1, Hypercalls.WRITE_MAX) > 0) {
                    yield Hypercalls.EINVAL;
                }
                int length = (int) a1;
                try {
                    for (byte b : readGuest(a0, length)) {
                        vm.console().write(b);
                    }
                    yield 0;
                } catch (GuestAccessException e) {
                    yield Hypercalls.EFAULT;
                }
            }
            case Hypercalls.HOST_WORKLOAD -> {
                int[] hits = workload != null ? workload.run(cpu) : null;
                if (hits != null) {
                    for (int s = 0; s < 4; s++) {
                        hostHitsTotal[s] += hits[s];
                    }
                }
                yield hostHits();
            }
            case Hypercalls.READ_HOST_DRS -> {
                java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(48).order(java.nio.ByteOrder.LITTLE_ENDIAN);
                DebugRegisters h = lastHostView;
                b.putLong(h.dr0()).putLong(h.dr1()).putLong(h.dr2()).putLong(h.dr3()).putLong(h.dr6().value())
                        .putLong(h.dr7().value());
                try {
                    writeGuest(a0, b.array());
                    yield 0;
                } catch (GuestAccessException e) {
                    yield Hypercalls.EFAULT;
                }
            }
            default -> Hypercalls.ENOSYS;
        };
    }

    /** Port I/O as the VMM's devices answer it (port 0xE9 console, 0xF4 exit). */
    long portIn(int port, int size) {
        return size == 4 ? 0xFFFF_FFFFL : (1L << (8 * size)) - 1;
    }

    void portOut(int port, int size, long value) {
        switch (port) {
            case Hypercalls.CONSOLE_PORT -> vm.console().write((byte) value);
            case Hypercalls.EXIT_PORT -> vm.finish(VmResult.Outcome.EXITED, "exit port", (int) (value & 0xFF));
            default -> LOG.debug("vcpu{}: OUT 0x{} to port 0x{} ignored", index, Long.toHexString(value), Integer.toHexString(port));
        }
    }

    /** Emulates a port I/O exit in full (including INS/OUTS, with REP) and completes the instruction. */
    void emulatePortIo(PortIo io, int port, long rip) {
        if (!io.string()) {
            long mask = io.size() == 4 ? 0xFFFF_FFFFL : (1L << (8 * io.size())) - 1;
            if (io.in()) {
                long value = portIn(port, io.size()) & mask;
                long rax = reg(X86Reg.RAX);
                setReg(X86Reg.RAX, io.size() == 4 ? value : (rax & ~mask) | value);
            } else {
                portOut(port, io.size(), reg(X86Reg.RAX) & mask);
            }
            skipInstruction(rip, io.length());
            return;
        }
        long countMask = io.addressSize() == 4 ? 0xFFFF_FFFFL : -1L;
        long count = io.rep() ? reg(X86Reg.RCX) & countMask : 1;
        long step = (reg(X86Reg.RFLAGS) & 0x400) != 0 ? -io.size() : io.size();
        X86Reg index = io.in() ? X86Reg.RDI : X86Reg.RSI;
        long pointer = reg(index);
        try {
            for (; count > 0; count--) {
                long at = pointer & countMask;
                if (io.in()) {
                    long value = portIn(port, io.size());
                    byte[] bytes = new byte[io.size()];
                    for (int i = 0; i < bytes.length; i++) {
                        bytes[i] = (byte) (value >>> (8 * i));
                    }
                    writeGuest(at, bytes);
                } else {
                    byte[] bytes = readGuest(at, io.size());
                    long value = 0;
                    for (int i = bytes.length - 1; i >= 0; i--) {
                        value = (value << 8) | (bytes[i] & 0xFF);
                    }
                    portOut(port, io.size(), value);
                }
                pointer += step;
            }
        } catch (GuestAccessException e) {
            // The iteration that touched unmapped memory faults; the completed ones stay done.
            setReg(index, pointer);
            if (io.rep()) {
                setReg(X86Reg.RCX, (reg(X86Reg.RCX) & ~countMask) | (count & countMask));
            }
            uc().writeReg(X86Reg.CR2, e.address);
            inject(X86Exception.pageFault(io.in() ? 2 : 0, e.address, rip));
            return;
        }
        setReg(index, pointer);
        if (io.rep()) {
            setReg(X86Reg.RCX, reg(X86Reg.RCX) & ~countMask);
        }
        skipInstruction(rip, io.length());
    }
}
