package dev.tdemu.emulator.vm;

import dev.tdemu.core.x86.EventDelivery;
import dev.tdemu.core.x86.Event;
import dev.tdemu.core.x86.Rflags;

import dev.tdemu.core.host.HostBreakpoint;
import dev.tdemu.core.invariant.Invariant;
import dev.tdemu.core.invariant.InvariantChecks;
import dev.tdemu.core.invariant.Violation;
import dev.tdemu.core.kvm.DebugExceptionResult;
import dev.tdemu.core.kvm.DebugStop;
import dev.tdemu.core.kvm.KvmVcpu;
import dev.tdemu.core.kvm.KvmWarning;
import dev.tdemu.core.kvm.VcpuEnterGuest;
import dev.tdemu.core.kvm.Vmm;
import dev.tdemu.core.pc.MpInitAction;
import dev.tdemu.core.vmx.ApicAccessQualification;
import dev.tdemu.core.vmx.DebugExitQualification;
import dev.tdemu.core.vmx.MovDrDirection;
import dev.tdemu.core.vmx.MovDrQualification;
import dev.tdemu.core.x86.Access;
import dev.tdemu.core.x86.CpuMode;
import dev.tdemu.core.x86.DebugRegisters;
import dev.tdemu.core.x86.ExceptionVector;
import dev.tdemu.core.x86.Gpr;
import dev.tdemu.core.x86.PendingDebug;
import dev.tdemu.emulator.cpu.ExitFastpath;
import dev.tdemu.emulator.cpu.GuestControls;
import dev.tdemu.emulator.cpu.GuestEngine;
import dev.tdemu.emulator.cpu.PhysicalCpu;
import dev.tdemu.emulator.cpu.PortIoEmulation;
import dev.tdemu.emulator.cpu.VmExit;
import dev.tdemu.emulator.machine.PageWalker;
import dev.tdemu.emulator.platform.TdemuAbiDevices;
import dev.tdemu.emulator.unicorn.Unicorn;
import dev.tdemu.emulator.unicorn.X86Reg;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * One vCPU: a thread running KVM's vcpu_enter_guest loop on its own {@link PhysicalCpu}.
 * <pre>
 *   before-entry DR sequence + VM entry / TDH.VP.ENTER   (core: VcpuEnterGuest.enterGuest)
 *   inject a queued event, run the guest                  (PhysicalCpu.runGuest)
 *   VM exit / TD exit + after-exit DR sequence            (core: VcpuEnterGuest.exitGuest)
 *   host workload, invariants, observers
 *   handle the exit                                       (VmxExitHandlers / TdxExitHandlers)
 * </pre>
 * Events a TD takes without leaving it (#VE, the TDX module's TDCALL leaves) are handled by the
 * TDX module before the exit path, as the module and the CPU would. The exit handlers see this
 * vCPU only as an {@link ExitContext}.
 */
final class Vcpu implements Runnable, ExitContext {
    private static final Logger LOG = LogManager.getLogger("dev.tdemu.emulator.vm");
    private static final X86Reg[] GPRS = {X86Reg.RAX, X86Reg.RCX, X86Reg.RDX, X86Reg.RBX, X86Reg.RSP, X86Reg.RBP,
        X86Reg.RSI, X86Reg.RDI, X86Reg.R8, X86Reg.R9, X86Reg.R10, X86Reg.R11, X86Reg.R12, X86Reg.R13, X86Reg.R14, X86Reg.R15};

    /** How often a TD's application processor held by the firmware looks at the wakeup mailbox. */
    private static final long FIRMWARE_POLL_NANOS = 200_000L;

    private final int index;
    private final Vm vm;
    private final PhysicalCpu cpu;
    private final GuestEngine engine;
    private final KvmVcpu kvm;
    private final HostWorkload workload;
    private final GuestControls controls;
    private final VcpuVmm vmm;
    private final VcpuMachine machine;
    /** This vCPU's own thread (a debugger thread may borrow the vCPU for a step). */
    private volatile Thread ownThread;
    /** The thread waiting in {@link #waitForInterrupt} (HLT) or for a start-up IPI, for {@link #kick} to wake. */
    private volatile Thread halter;
    private volatile boolean wakeRequested;
    /** HLT on a machine with an interrupt controller left this vCPU halted (KVM_MP_STATE_HALTED). */
    private boolean mpHalted;
    /**
     * A TD's TDG.VP.VMCALL&lt;Instruction.HLT&gt;: its "interrupt blocked" flag (R12), which says
     * whether an interrupt wakes it in place of RFLAGS.IF (the TD halts inside a TDCALL, IF as the
     * kernel left it); null for HLT itself.
     */
    private Boolean haltInterruptsBlocked;
    /** The interrupts requested (IRR) when a TD halted with interrupts blocked; null otherwise (see {@link #interruptPostedSinceBlockedHalt}). */
    private volatile int[] requestsAtBlockedHalt;
    /** Halted with RFLAGS.IF clear: only an NMI or INIT can wake it (for the VM's every-vCPU-asleep check). */
    private volatile boolean haltedWithInterruptsOff;
    /** Null for a VMX guest. */
    private final TdxExitHandlers td;
    /** Non-null for an SEV-ES guest only. */
    private final SevEsExitHandlers sev;
    /** An event to deliver into the guest right after the next entry. */
    private EventDelivery queuedEvent;
    /** A single-step trap owed to the guest right after the next entry, at this RIP (-1: none). */
    private long singleStepOwedAt = -1;
    private long exits;
    private int warningsSeen;
    private final int[] hostHitsTotal = new int[4];
    private volatile boolean halted;
    /** A shutdown (triple fault) the debugger is looking at: the VM ends with it at the next entry. */
    private volatile String shutdownPending;
    /** Guest code runs (for {@link #kick()} on an engine without a kick hook). */
    private volatile boolean running;
    private static final AtomicBoolean WARNED_IMPRECISE = new AtomicBoolean();
    /** The local APIC kicked this vCPU since its last entry (see {@link #kickForEvent}). */
    private volatile boolean eventKicked;
    /** An event came that the engine lock's scheduler should serve at once (see {@link #takeUrgent}). */
    private volatile boolean urgent;
    /** The engine lock's scheduler ended this vCPU's run for another vCPU (not a guest-visible event). */
    private final AtomicBoolean preempted = new AtomicBoolean();
    private DebugRegisters lastHostView = DebugRegisters.INIT;
    /** The last entry's DR sequence and invariant violations, for the exit that ends it. */
    private VcpuEnterGuest.EntryTrace entryTrace;
    private List<Violation> entryViolations = List.of();
    /** This vCPU's last exits, for {@code monitor exits}. */
    private final RecentExits recentExits = new RecentExits();
    /** The exit that ended the run was handled in the fastpath (EXIT_FASTPATH_EXIT_HANDLED), with this result. */
    private boolean exitHandledInFastpath;
    private boolean fastpathKeepRunning;
    /** Exits completed in the fastpath (for tests and reports: the trace cannot tell them apart). */
    private long fastpathExits;
    /** RFLAGS as the fastpath read it at its start, while it runs (-1 otherwise): read once, not per handler step. */
    private long fastpathRflags = -1;
    /** The device access an MMIO exit stopped inside, while that exit's path runs in the engine's callback (else null). */
    private MmioAccess mmioInFlight;
    /**
     * MMIO exits taken in the run in progress whose exit path waits for the run's end (a host
     * workload was due, or faults are injected): completed by {@link #completeDeferredExits()}.
     */
    private final List<VmExit> deferredExits = new ArrayList<>();

    /** One guest access to device memory, as the engine's MMIO callback made it; a read's value once performed. */
    private static final class MmioAccess {
        final long gpa;
        final int size;
        final boolean write;
        long value;

        MmioAccess(long gpa, int size, boolean write, long value) {
            this.gpa = gpa;
            this.size = size;
            this.write = write;
            this.value = value;
        }
    }

    Vcpu(int index, Vm vm, PhysicalCpu cpu, GuestEngine engine, KvmVcpu kvm, HostWorkload workload,
         java.util.function.Function<Vcpu, VcpuMachine> machine, TdxExitHandlers td, SevEsExitHandlers sev) {
        this.index = index;
        this.sev = sev;
        this.vm = vm;
        this.cpu = cpu;
        this.engine = engine;
        this.kvm = kvm;
        this.workload = workload;
        this.td = td;
        this.machine = machine.apply(this);
        this.vmm = new VcpuVmm(this, this.machine, vm.console());
        this.controls = new GuestControls() {
            @Override
            public Optional<MovDrQualification> movDrExit(CpuMode mode, int dr, MovDrDirection direction, int gpr) {
                return kvm.backing().movDrExit(mode, dr, direction, gpr);
            }

            @Override
            public boolean exceptionExits(ExceptionVector vector) {
                return switch (vector) {
                    case DB -> kvm.backing().exceptionExits(vector);
                    case BP -> kvm.backing().exceptionExits(vector) || debuggerCatches(vector);
                    default -> debuggerCatches(vector);
                };
            }

            @Override
            public boolean ioPassthrough(int port) {
                return !kvm.isTd() && sev == null && port == TdemuAbiDevices.POST_PORT;
            }

            @Override
            public boolean vmcallExits() {
                return !kvm.isTd() && sev == null;
            }

            @Override
            public boolean vmgexitExits() {
                return sev != null;
            }

            @Override
            public boolean tdcallExits() {
                return kvm.isTd();
            }

            @Override
            public boolean nmiBlocked() {
                return Vcpu.this.machine.nmiBlocked();
            }

            @Override
            public boolean nmiWindowExiting() {
                return Vcpu.this.machine.nmiLatched();
            }

            @Override
            public void unblockNmis() {
                Vcpu.this.machine.nmiUnblocked();
            }

            @Override
            public boolean rdtscpEnabled() {
                return Vcpu.this.machine.rdtscp();
            }

            @Override
            public boolean rdpidEnabled() {
                return Vcpu.this.machine.rdpid();
            }

            @Override
            public long cr4ReservedBits() {
                return Vcpu.this.machine.cr4ReservedBits();
            }

            @Override
            public ExitFastpath exitHandlersFastpath(VmExit exit) {
                return Vcpu.this.exitHandlersFastpath(exit);
            }

            @Override
            public void afterRun() {
                completeDeferredExits();
            }
        };
    }

    @Override
    public void run() {
        ownThread = Thread.currentThread();
        Thread.currentThread().setName("vcpu" + index);
        try {
            while (!vm.finished() && !halted) {
                if (!runOnce()) {
                    break;
                }
            }
        } catch (dev.tdemu.emulator.machine.GuestMemoryException e) {
            vm.finish(VmResult.Outcome.MEMORY_FAULT, guestMemoryFault(e), -1);
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
        if (shutdownPending != null) {
            vm.finish(VmResult.Outcome.TRIPLE_FAULT, shutdownPending, -1); // the debugger let it go on
            return false;
        }
        if (mpHalted) {
            if (!waitForInterrupt()) {
                return !vm.finished(); // a kick for the debugger: round again, still halted
            }
            mpHalted = false;
            haltInterruptsBlocked = null;
            requestsAtBlockedHalt = null;
        }
        if (!startupReached()) {
            return !vm.finished(); // waiting for SIPI, and the debugger wants this vCPU: round again, still waiting
        }
        enterGuest();
        VmExit exit;
        running = true;
        try {
            exit = runUntilExit();
        } finally {
            running = false;
        }
        if (exit == null) {
            return false; // the TDX module stopped the VM inside the TD
        }
        completeDeferredExits(); // MMIO exits of a single step, whose run ended outside the run loop's runs
        if (exitHandledInFastpath) {
            // vmx_handle_exit with EXIT_FASTPATH_EXIT_HANDLED: the exit path and the handler ran in the hook.
            exitHandledInFastpath = false;
            return fastpathKeepRunning;
        }
        return handleExit(exit);
    }

    /**
     * vcpu_enter_guest up to the VM entry: the events to inject, the kick hook, the before-entry
     * DR sequence and the entry's invariants, kept for the exit that ends this entry.
     */
    private void enterGuest() {
        if (eventKicked) { // what the APIC kicked for is looked at now (a volatile store only when set)
            eventKicked = false;
        }
        dropKicksOutsideGuestMode();
        injectPendingInterrupt();
        engine.disableKicks(); // each entry switches the kick hook's callback off; a kick from any thread switches it on
        vmEntry();
    }

    /** The VM entry itself: the before-entry DR sequence, the faults tests inject there, the entry's invariants. */
    private void vmEntry() {
        entryTrace = VcpuEnterGuest.enterGuest(kvm, cpu.host(), cpu.hardware());
        injectAtEntry();
        entryViolations = entryInvariants(cpu.hardware().snapshot());
    }

    /**
     * A guest instruction's read of device memory, from inside the engine's MMIO callback (or the
     * VMM's own read for the guest, {@link GuestEngine#readPhysical}): see {@link #mmioExit}.
     */
    long guestMmioRead(long gpa, int size) {
        MmioAccess access = new MmioAccess(gpa, size, false, 0);
        mmioExit(access);
        return access.value;
    }

    /** A guest instruction's write to device memory (see {@link #guestMmioRead}). */
    void guestMmioWrite(long gpa, int size, long value) {
        mmioExit(new MmioAccess(gpa, size, true, value));
    }

    /**
     * A VMX guest's access to device memory is a VM exit, as on KVM: APIC_ACCESS on the vCPU's
     * xAPIC page (the APIC-access page), EPT_MISCONFIG on any other device memory (KVM's MMIO).
     * The engine cannot leave inside an instruction without running its first part again, so
     * the exit is taken here, inside the access, RIP on the instruction (the engine writes RIP
     * before its loads and stores while read and write hooks exist: {@link GuestEngine#mapMmio}): the exit
     * path (after-exit DR sequence, records, invariants), the handler, which performs the access
     * ({@link #emulateMmioAccess}), and the VM entry's DR sequence, after which the instruction
     * completes in the engine without a stop. Events to inject wait for the next exit: a
     * device that makes one pending kicks the vCPU, which ends the run at the next block.
     * When the host workload is due at the exit (it runs an engine of its own) or faults are
     * injected, the access is performed here and its exit path runs between runs, the run ending
     * at the next block ({@link GuestEngine#endRunAtNextBlock}); so does a run whose entry left
     * other debug registers than the engine is armed for. A TD (devices through TDG.VP.VMCALL), an
     * SEV-ES guest, and the VMM's own accesses for the guest take no exit.
     */
    private void mmioExit(MmioAccess access) {
        if (td != null || sev != null || !engine.inRun() || vm.finished()) {
            performMmioAccess(access);
            return;
        }
        long rip = engine.rip();
        VmExit exit = machine.apicAccessPage(access.gpa)
                ? new VmExit.ApicAccess(ApicAccessQualification.linear(access.write, (int) (access.gpa & 0xFFF)), access.size, rip)
                : new VmExit.EptMisconfig(access.gpa, access.size, access.write, rip);
        if (!exitPathFitsInHook()) {
            performMmioAccess(access);
            deferredExits.add(exit);
            engine.endRunAtNextBlock();
            return;
        }
        mmioInFlight = access;
        try {
            if (!handleExit(exit)) {
                return; // the VM ended: it stops the engine
            }
        } finally {
            mmioInFlight = null;
        }
        vmEntry();
        if (!engine.armedFor(cpu.hardware().snapshot())) {
            engine.endRunAtNextBlock();
        }
    }

    private void performMmioAccess(MmioAccess access) {
        if (access.write) {
            machine.mmioWrite(access.gpa, access.size, access.value);
        } else {
            access.value = machine.mmioRead(access.gpa, access.size);
        }
    }

    /**
     * The exit path of the MMIO exits {@link #mmioExit} left for between runs, in the order they
     * came: each one's after-exit DR sequence, host workload, records and invariants, then the
     * entry's DR sequence. Their handler has nothing left to do (the access was performed in the
     * callback); events go in at the next exit's entry.
     */
    private void completeDeferredExits() {
        if (deferredExits.isEmpty()) {
            return;
        }
        List<VmExit> exits = List.copyOf(deferredExits);
        deferredExits.clear();
        for (VmExit exit : exits) {
            afterExit(entryTrace, entryViolations, exit);
            vmEntry();
        }
    }

    /** The exit path (after-exit DR sequence, records) and the exit's handler; false when this vCPU stops. */
    private boolean handleExit(VmExit exit) {
        afterExit(entryTrace, entryViolations, exit);
        if (exit instanceof VmExit.ExternalInterrupt) {
            return !vm.finished() && vm.waitWhilePaused(this);
        }
        return td != null ? td.handleOnHost(this, exit) : sev != null ? sev.handleOnHost(this, exit)
                : VmxExitHandlers.handle(this, exit);
    }

    /**
     * KVM's vmx_exit_handlers_fastpath, called inside the engine's hook while the guest's run is
     * still in progress, RIP on the instruction: the exit is completed here, exactly as the run
     * loop would complete it (the after-exit DR sequence, records and invariants, the handler),
     * and the guest entered again (the before-entry DR sequence), so that the engine runs on
     * without stopping and starting again. Only where nothing the run loop does between an exit
     * and the next entry could come out differently ({@link #fastpathAllowed}); once the exit is
     * handled, whatever the loop must look at before entering (the VM ended, an event or a
     * single-step trap owed, the vCPU halted) ends the run with the exit already handled.
     */
    private ExitFastpath exitHandlersFastpath(VmExit exit) {
        if (!(exit instanceof VmExit.Cpuid) || !fastpathAllowed()) {
            return ExitFastpath.EXIT_FASTPATH_NONE;
        }
        long rflags = uc().readReg(X86Reg.RFLAGS);
        if ((rflags & Rflags.TF) != 0) {
            // The emulated instruction owes a single-step trap, and clearing the interrupt shadow
            // for it saves and restores the engine's whole state: the run loop's business.
            return ExitFastpath.EXIT_FASTPATH_NONE;
        }
        fastpathRflags = rflags; // nothing on the way to the next entry writes RFLAGS (see reg(X86Reg, long))
        try {
            fastpathExits++;
            boolean keepRunning = handleExit(exit);
            if (!keepRunning || !reenterAfterFastpath()) {
                exitHandledInFastpath = true;
                fastpathKeepRunning = keepRunning;
                return ExitFastpath.EXIT_FASTPATH_EXIT_HANDLED;
            }
            enterGuest();
            return ExitFastpath.EXIT_FASTPATH_REENTER_GUEST;
        } finally {
            fastpathRflags = -1;
        }
    }

    /**
     * Whether the run loop, from this exit to the next entry, would do nothing the fastpath does
     * not: a VMX guest (a TD's and an SEV-ES guest's exits go through their modules first) on a
     * machine without an interrupt controller (nothing to inject, no shadow to clear), one vCPU
     * (no scheduler to hand the engine on), no debugger (it may hold the vCPU before an entry),
     * no fault injection, and no host workload to run at the exit (it runs an engine of its own).
     */
    private boolean fastpathAllowed() {
        return vm.exitFastpathEnabled() && !vm.finished() && td == null && sev == null && !machine.hasInterruptController()
                && vm.scheduler() == null && vm.debugSession() == null && exitPathFitsInHook()
                && queuedEvent == null && singleStepOwedAt < 0;
    }

    /**
     * Whether an exit's path can run inside an engine hook (the exit fastpath, an MMIO exit in the
     * access): no faults to inject and no host workload due at the exit, which runs an engine of
     * its own.
     */
    private boolean exitPathFitsInHook() {
        return vm.faultInjection() == dev.tdemu.proto.FaultInjection.FAULT_INJECTION_NONE && !hostWorkloadDue();
    }

    /** The host workload runs at this exit: there is one, and the host has a hardware breakpoint armed. */
    private boolean hostWorkloadDue() {
        return workload != null && cpu.host().hwBreakpointActive();
    }

    /**
     * After the fastpath handled an exit: whether the run loop would now enter the guest with
     * nothing in between ({@link #run()}, {@link #runOnce()}, {@link #enterAndHandleExit()} and
     * {@link #runUntilExit()} up to the engine): the VM goes on, the vCPU neither halted nor
     * waiting, no debugger came, and no event or single-step trap is owed at the entry.
     */
    private boolean reenterAfterFastpath() {
        return !vm.finished() && !halted && vm.debugSession() == null && shutdownPending == null && !mpHalted
                && machine.runnable() && queuedEvent == null && singleStepOwedAt < 0;
    }

    /** The engine runs from the entry to the exit (the part a kick has to end); null when the VM ended inside a TD. */
    private VmExit runUntilExit() {
        VmExit exit = null;
        if (queuedEvent != null) {
            EventDelivery event = queuedEvent;
            queuedEvent = null;
            exit = cpu.deliver(engine, event);
        }
        if (exit == null && singleStepOwedAt >= 0) {
            long next = singleStepOwedAt;
            singleStepOwedAt = -1;
            exit = cpu.singleStepTrap(engine, controls, next);
        }
        while (exit == null) {
            exit = runGuest();
            if (sev != null) {
                switch (sev.handleInGuest(this, exit)) {
                    case SevEsExitHandlers.InGuest.ExitToHost x -> {
                        return x.exit();
                    }
                    case SevEsExitHandlers.InGuest.Handled h -> {
                        exit = h.deliver() == null ? null : cpu.deliver(engine, h.deliver());
                        if (vm.finished()) {
                            return exit != null ? exit : new VmExit.ExternalInterrupt(rip());
                        }
                    }
                }
                continue;
            }
            if (td == null) {
                break;
            }
            switch (td.handleInTd(this, exit)) {
                case TdxExitHandlers.InTd.ExitToHost x -> {
                    return x.exit();
                }
                case TdxExitHandlers.InTd.Stop s -> {
                    vm.finish(s.outcome(), s.why(), -1);
                    return null;
                }
                case TdxExitHandlers.InTd.Handled h -> {
                    exit = h.then() == null ? null : switch (h.then()) {
                        case TdxExitHandlers.InTdEvent.Deliver d -> cpu.deliver(engine, d.event());
                        case TdxExitHandlers.InTdEvent.SingleStep s -> cpu.singleStepTrap(engine, controls, s.nextRip());
                    };
                    if (vm.finished()) {
                        return exit != null ? exit : new VmExit.ExternalInterrupt(rip());
                    }
                }
            }
        }
        return exit;
    }

    /**
     * KVM's kvm_check_and_inject_events for NMIs and interrupts: a pending NMI the guest can take
     * (NMIs not blocked, no STI or MOV SS shadow) is injected first; one held by a shadow asks the
     * engine to stop when the shadow ends (the NMI window), whatever RFLAGS.IF says. A pending
     * external interrupt is taken from the interrupt controller and injected when the guest can
     * take it (RFLAGS.IF set, no shadow, no exception already queued); otherwise the engine is
     * asked to stop once the guest can (the interrupt window). Either goes in at that exit's entry.
     * NMI blocking until IRET needs no request: tdemu's IRET intercept exits as the NMI window.
     */
    private void injectPendingInterrupt() {
        if (!machine.hasInterruptController() || queuedEvent != null || singleStepOwedAt >= 0) {
            engine.requestInterruptWindow(false);
            engine.requestNmiWindow(false);
            return;
        }
        // inject_pending_event: an NMI before an interrupt; both shadows hold it (vmx_nmi_allowed).
        boolean nmi = machine.nmiDeliverable();
        boolean shadow = engine.state().interruptShadow();
        engine.requestNmiWindow(nmi && shadow && td == null); // a TD's NMIs are the TDX module's to inject
        if (nmi && !shadow && machine.takeNmi()) {
            engine.requestInterruptWindow(false);
            queuedEvent = Event.nmi().at(rip());
            return;
        }
        if (!machine.interruptPending()) {
            // A TD's NMI in a shadow waits for the interrupt window (IF set) or the next exit.
            engine.requestInterruptWindow(nmi && shadow && td != null);
            return;
        }
        if ((rflags() & Rflags.IF) != 0 && !engine.state().interruptShadow()) {
            engine.requestInterruptWindow(false);
            int vector = machine.acknowledgeInterrupt();
            if (vector >= 0) {
                queuedEvent = Event.externalInterrupt(vector).at(rip());
            }
        } else {
            engine.requestInterruptWindow(true);
        }
    }

    /** What this TD vCPU's last #VE was for, or null (no #VE yet, or not a TD). */
    String lastVirtualizationException() {
        return td == null ? null : td.lastVirtualizationException();
    }

    /**
     * HLT on a machine with an interrupt controller: the vCPU is halted (KVM's mp_state HALTED)
     * until an interrupt it can take, an NMI or INIT is pending; it stays halted across debugger stops.
     */
    @Override
    public void halt() {
        // kvm_vcpu_has_events: a pending exception (the #DB a single-stepped HLT owes) keeps the vCPU runnable.
        mpHalted = queuedEvent == null && singleStepOwedAt < 0;
        haltInterruptsBlocked = null;
        requestsAtBlockedHalt = null;
    }

    @Override
    public void haltTd(boolean interruptsBlocked) {
        halt();
        haltInterruptsBlocked = mpHalted ? interruptsBlocked : null;
        requestsAtBlockedHalt = mpHalted && interruptsBlocked ? machine.interruptRequests() : null;
    }

    /**
     * KVM's tdx_protected_apic_has_interrupt for a TD halted with its interrupts blocked: a
     * posted interrupt (pi_has_pending_interrupt: a vector requested since the halt, an IPI or
     * a timer's) still resumes it, with RFLAGS.IF and the interrupt staying as they are; what was
     * already requested when it halted does not.
     */
    private boolean interruptPostedSinceBlockedHalt() {
        int[] before = requestsAtBlockedHalt;
        if (before == null) {
            return false;
        }
        int[] now = machine.interruptRequests();
        for (int i = 0; i < now.length; i++) {
            if ((now[i] & ~before[i]) != 0) {
                return true;
            }
        }
        return false;
    }

    /**
     * KVM's kvm_vcpu_halt and kvm_vcpu_has_events: waits until an interrupt the vCPU can take
     * (RFLAGS.IF set: a maskable interrupt does not end a HLT executed after CLI), an NMI it can
     * take or INIT is pending, a kick asks the vCPU to come out (the debugger, the VM ending) or the
     * VM ends. True when an event woke it. While IF is clear the VM is told, so that it ends when
     * no vCPU is left that could wake another.
     */
    private boolean waitForInterrupt() {
        halter = Thread.currentThread();
        wakeRequested = false;
        try {
            while (!vm.finished() && !vm.debugHoldRequested(this)) {
                boolean interruptsEnabled = haltInterruptsBlocked != null ? !haltInterruptsBlocked : (rflags() & Rflags.IF) != 0;
                if ((interruptsEnabled && machine.interruptPending()) || machine.nmiDeliverable()
                        || interruptPostedSinceBlockedHalt()) {
                    return true;
                }
                applyMpInit(machine.acceptInitEvents());
                if (!mpHalted) {
                    return true; // INIT reset the vCPU: it is halted no more (a start-up IPI alone is ignored)
                }
                if (wakeRequested) {
                    wakeRequested = false;
                    continue; // look again: the kick may have come with the interrupt
                }
                if (!interruptsEnabled && !haltedWithInterruptsOff) {
                    haltedWithInterruptsOff = true;
                    vm.vcpuAsleep(this, rip());
                    continue; // the VM may have ended
                }
                java.util.concurrent.locks.LockSupport.parkNanos(this, 50_000_000L);
            }
            return false;
        } finally {
            haltedWithInterruptsOff = false;
            halter = null;
        }
    }

    /**
     * Whether this vCPU cannot wake by itself any more, so that only another vCPU can wake it: it
     * stopped for good, waits for a start-up IPI with no INIT or SIPI pending, or is halted with
     * RFLAGS.IF clear with no NMI or INIT pending (a device interrupt cannot end such a HLT) and,
     * a TD's halted with its interrupts blocked, nothing posted since and no timer of its own
     * that will post. Any thread may ask.
     */
    boolean asleepForGood() {
        if (halted) {
            return true;
        }
        if (waitsForStartup()) {
            return !machine.initEventPending();
        }
        return haltedWithInterruptsOff && !machine.nmiDeliverable() && !machine.initEventPending()
                && !interruptPostedSinceBlockedHalt() && !ownTimerWillPostSinceBlockedHalt();
    }

    /**
     * A TD vCPU halted with its interrupts blocked whose own local APIC timer is armed for a vector
     * that was not requested at the halt: the expiry posts an interrupt, which resumes it
     * ({@link #interruptPostedSinceBlockedHalt}), so it is not asleep for good. A vector already
     * requested then posts nothing new.
     */
    private boolean ownTimerWillPostSinceBlockedHalt() {
        int[] before = requestsAtBlockedHalt;
        if (before == null) {
            return false;
        }
        int vector = machine.armedTimerVector();
        return vector >= 0 && (before[vector >>> 5] & (1 << (vector & 31))) == 0;
    }

    @Override
    public boolean hasInterruptController() {
        return machine.hasInterruptController();
    }

    @Override
    public int cr8() {
        return machine.cr8();
    }

    @Override
    public void setCr8(int value) {
        machine.setCr8(value);
    }

    @Override
    public void nmiUnblocked() {
        machine.nmiUnblocked();
    }

    /**
     * KVM's kvm_apic_accept_events before an entry, and KVM_MP_STATE_INIT_RECEIVED: applies the
     * INIT and start-up requests the local APIC took, then, while the vCPU waits for a start-up
     * IPI, parks its thread (nothing runs, nothing is polled) until a kick brings a request, the
     * debugger wants the vCPU or the VM ends. True when the vCPU may enter the guest. A debugger
     * thread that borrowed the vCPU never parks here: it gets false at once.
     */
    private boolean startupReached() {
        applyMpInit(machine.acceptInitEvents());
        if (machine.runnable()) {
            return true;
        }
        if (Thread.currentThread() != ownThread) {
            return false;
        }
        halter = Thread.currentThread();
        wakeRequested = false;
        vm.vcpuAsleep(this, rip()); // INIT may have put the last running vCPU here
        try {
            while (!vm.finished() && !vm.debugHoldRequested(this)) {
                applyMpInit(machine.acceptInitEvents());
                if (machine.runnable()) {
                    return true;
                }
                if (wakeRequested) {
                    wakeRequested = false;
                    continue; // look again: the kick may have come with the request
                }
                if (machine.waitsInFirmware() && vm.pollsFirmwareMailbox(this)) {
                    // The OS wakes an AP by a store to the mailbox, which kicks nobody: the firmware's
                    // loop polls. One waiting AP polls for all of them and wakes the one addressed.
                    vm.wakeFirmwareWaiters();
                    java.util.concurrent.locks.LockSupport.parkNanos(this, FIRMWARE_POLL_NANOS);
                } else {
                    java.util.concurrent.locks.LockSupport.park(this);
                }
            }
            return false;
        } finally {
            halter = null;
        }
    }

    /**
     * KVM's kvm_vcpu_kick of a vCPU outside guest mode only wakes it: the entry looks at what it
     * was for, and no exit follows. So the kicks that came while this vCPU was out of the guest
     * (its last exit, HLT, wait-for-SIPI) are dropped at the entry, after INIT and the start-up
     * IPI were taken and before the NMI or interrupt to inject is chosen; kept, the engine's first
     * block would end the run as an EXTERNAL_INTERRUPT exit at the first instruction of the
     * handler just injected, or of the start-up page. Kept are the kicks for what that look does
     * not cover: an INIT or start-up IPI that came after it was taken, the VM's end, a debugger's
     * hold (each set before its kick), a preemption. A kick after this ends the run.
     */
    private void dropKicksOutsideGuestMode() {
        engine.clearKick();
        // A TD blocks INIT and SIPI (and its pending check would read the wakeup mailbox).
        if ((td == null && machine.initEventPending()) || vm.finished() || vm.debugHoldRequested(this) || preempted.get()) {
            engine.kick();
        }
    }

    /** Whether this vCPU waits for a start-up IPI (an application processor not started yet, or after INIT), or a TD's for the wakeup mailbox. */
    boolean waitsForStartup() {
        return !machine.runnable();
    }

    /** Whether this vCPU is a TD's application processor held by the firmware, waiting for the wakeup mailbox. */
    boolean waitsInFirmware() {
        return machine.waitsInFirmware();
    }

    /** What a vCPU that {@link #waitsForStartup()} waits for, as gdb's thread list says it: "wait-for-SIPI" or "wait-for-wakeup". */
    String startupWait() {
        return machine.waitsInFirmware() ? "wait-for-wakeup" : "wait-for-SIPI";
    }

    /**
     * Applies what INIT and a start-up IPI do to this vCPU (KVM's kvm_vcpu_reset with init_event,
     * then kvm_vcpu_deliver_sipi_vector): INIT drops every event in flight and resets the debug
     * registers and the architectural state to INIT's; a start-up IPI loads the INIT state with
     * CS at its vector's page. An INIT to the BSP would resume it at the reset vector, where a PC
     * has its firmware and tdemu has none: the VM ends, saying so.
     */
    private void applyMpInit(MpInitAction action) {
        switch (action) {
            case MpInitAction.None n -> { }
            case MpInitAction.SipiIgnored s -> LOG.debug("vcpu{}: start-up IPI (vector 0x{}) ignored: not waiting for one",
                    index, Integer.toHexString(s.vector()));
            case MpInitAction.Init i -> {
                resetForInit();
                if (!i.waitForSipi()) {
                    vm.finish(VmResult.Outcome.NOT_MODELLED, "vCPU " + index + " (the bootstrap processor) received INIT: it "
                            + "would resume at the reset vector 0xFFFFFFF0, where a PC's firmware is and tdemu has none", -1);
                    return;
                }
                engine.loadInitState(false, MpInitAction.Init.RESET_CS_SELECTOR, MpInitAction.Init.RESET_CS_BASE,
                        MpInitAction.Init.RESET_RIP, machine.resetEdx());
                LOG.debug("vcpu{}: INIT, waiting for a start-up IPI", index);
            }
            case MpInitAction.BlockedInTd b -> LOG.debug("vcpu{}: {}{} blocked: a TD's vCPUs take no INIT or SIPI", index,
                    b.init() ? "INIT" : "", b.sipiVector() >= 0 ? (b.init() ? " and " : "") + "SIPI (vector 0x"
                            + Integer.toHexString(b.sipiVector()) + ")" : "");
            case MpInitAction.UnknownMailboxCommand u -> vm.finish(VmResult.Outcome.NOT_MODELLED, String.format(
                    "vCPU %d: the ACPI wakeup mailbox at 0x%x holds command %d for it, which mailbox version 0 does not "
                            + "define (1 is Wakeup)", index, dev.tdemu.emulator.platform.PcMachine.TD_WAKEUP_MAILBOX, u.command()), -1);
            case MpInitAction.Wakeup w -> {
                resetForInit();
                engine.loadWakeupState(w.vector(), dev.tdemu.emulator.platform.PcMachine.TD_FIRMWARE_PML4,
                        dev.tdemu.emulator.platform.PcMachine.TD_FIRMWARE_GDT, dev.tdemu.emulator.platform.PcMachine.TD_FIRMWARE_GDT_LIMIT,
                        dev.tdemu.emulator.platform.PcMachine.TD_FIRMWARE_CODE64, dev.tdemu.emulator.platform.PcMachine.TD_FIRMWARE_DATA);
                LOG.debug("vcpu{}: woken through the ACPI wakeup mailbox, 64-bit mode at 0x{}", index, Long.toHexString(w.vector()));
                vm.firmwarePollerLeft(); // if this AP polled for the others, the next one takes over
                DebugSession session = vm.debugSession();
                if (session != null) {
                    session.rflagsReset(this);
                }
            }
            case MpInitAction.Startup s -> {
                resetForInit();
                engine.loadInitState(false, s.csSelector(), s.csBase(), s.rip(), machine.resetEdx());
                LOG.debug("vcpu{}: start-up IPI, real mode at 0x{}", index, Long.toHexString(s.startAddress()));
                DebugSession session = vm.debugSession();
                if (session != null) {
                    session.rflagsReset(this); // a debugger's single step keeps its TF across the reset
                }
            }
        }
    }

    /**
     * The vCPU side of INIT (kvm_vcpu_reset): no event, single step or halt pending; NMIs neither
     * latched nor blocked (an INIT inside an NMI handler leaves no IRET to unblock them); DR0-DR3
     * 0, DR6 and DR7 at their reset values.
     */
    private void resetForInit() {
        queuedEvent = null;
        singleStepOwedAt = -1;
        mpHalted = false;
        haltInterruptsBlocked = null;
        requestsAtBlockedHalt = null;
        machine.resetNmis();
        engine.requestInterruptWindow(false);
        engine.requestNmiWindow(false);
        for (int dr = 0; dr < 4; dr++) {
            kvm.kvmSetDr(dr, 0);
        }
        kvm.kvmSetDr(6, dev.tdemu.core.x86.Dr6.RESET.value());
        kvm.kvmSetDr(7, dev.tdemu.core.x86.Dr7.RESET.value());
    }

    /** RESET of an application processor as the machine powers up: real mode at the reset vector, waiting for SIPI. */
    void powerUpAsApplicationProcessor() {
        engine.loadInitState(true, MpInitAction.Init.RESET_CS_SELECTOR, MpInitAction.Init.RESET_CS_BASE,
                MpInitAction.Init.RESET_RIP, machine.resetEdx());
    }

    /** The exit path: KVM's after-exit DR sequence, the host's work, the invariants, the observers. */
    private void afterExit(VcpuEnterGuest.EntryTrace entry, List<Violation> violations, VmExit exit) {
        long qualification = exit.qualification();
        VcpuEnterGuest.ExitTrace out = VcpuEnterGuest.exitGuest(kvm, cpu.host(), cpu.hardware(), exit.reason(), qualification);
        injectAtExit();
        exits++;
        DebugRegisters afterExit = cpu.hardware().snapshot();
        lastHostView = afterExit;
        int[] hits = null;
        if (hostWorkloadDue()) {
            hits = workload.run(cpu);
            if (hits != null) {
                violations = plus(violations, hostWorkloadViolations(hits));
            }
        }
        violations = plus(violations, InvariantChecks.hostBreakpointsIntact(cpu.host(), afterExit));
        if (sev != null) {
            violations = plus(violations, InvariantChecks.hostDrAddrMasksIntact(cpu.host(), cpu.hardware()));
        }
        if (kvm.isTd() && !kvm.tdVcpu().attributes().debug()) {
            violations = plus(violations, InvariantChecks.noLeakAfterExit(kvm.tdVcpu(), cpu.host(), afterExit));
        }
        List<KvmWarning> newWarnings = kvm.warningsSince(warningsSeen);
        warningsSeen = kvm.warningCount();
        ExitEvent event = new ExitEvent(index, cpu.id(), vm.nextExitSequence(), exit.reason(), qualification, exit.rip(),
                td != null ? td.tdcallLeaf(exit) : 0, entry, out, kvm.switchDbRegs().bits(), cpu.host().expectedHardware(),
                cpu.host().hwBreakpointActive(), hits, violations, newWarnings);
        recentExits.add(event);
        vm.observe(event);
    }

    /** Both lists' violations; no copy when one is empty, as nearly always. */
    private static List<Violation> plus(List<Violation> a, List<Violation> b) {
        if (b.isEmpty()) {
            return a;
        }
        if (a.isEmpty()) {
            return b;
        }
        List<Violation> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }

    private VmExit runGuest() {
        GuestScheduler scheduler = vm.scheduler();
        return scheduler == null ? cpu.runGuest(engine, controls) : scheduler.run(this, () -> cpu.runGuest(engine, controls));
    }

    /**
     * The local APIC has something new for this vCPU (an interrupt, INIT, a start-up IPI, an
     * NMI): it stops at the next instruction boundary, or wakes from HLT or wait-for-SIPI, to look.
     * Unlike a preemption this stop is an exit the VMM must see, even when a preemption ended the
     * same run. Runs under the APIC's lock: only sets flags and unparks.
     */
    void kickForEvent() {
        eventKicked = true;
        urgent = true;
        kick();
        GuestScheduler scheduler = vm.scheduler();
        if (scheduler != null) {
            scheduler.wantedBy(this);
        }
    }

    /**
     * Whether an event came for this vCPU since it last asked (and forgets it): the scheduler
     * then lets it run at once rather than after a quantum, as an IPI reaches a CPU at once.
     */
    boolean takeUrgent() {
        boolean was = urgent;
        urgent = false;
        return was;
    }

    /** Whether a {@link #kickForEvent} came since the last entry (and forgets it). */
    boolean takeEventKick() {
        boolean was = eventKicked;
        eventKicked = false;
        return was;
    }

    /** Another vCPU wants the engine lock: end this one's run at an instruction boundary. */
    void preempt() {
        preempted.set(true);
        kick();
    }

    /** Whether the last stop was a preemption by the scheduler (and forgets it). */
    boolean takePreempted() {
        return preempted.getAndSet(false);
    }

    /**
     * Ends this vCPU's current run at an instruction boundary (from any thread); the vCPU then
     * handles it as an external-interrupt exit, like a real vCPU kicked by an IPI.
     */
    void kick() {
        // A halted vCPU is woken; a running one is stopped by the engine's kick hook at its next
        // block, in the run going on or from the next one (the kick switches the hook on). Every
        // engine that is kicked is made kickable before it runs; should one not be, the kick
        // still ends the run, from outside and imprecisely, and says so.
        wakeFromHalt();
        if (!engine.kick() && running) {
            if (WARNED_IMPRECISE.compareAndSet(false, true)) {
                LOG.warn("vCPU {} was kicked but has no kick hook: stopping its engine from outside, which can repeat "
                        + "part of a translated block", index);
            }
            engine.stop();
        }
    }

    /** Wakes this vCPU if it waits in HLT (it looks again at what it waits for). From any thread. */
    void wakeFromHalt() {
        wakeRequested = true;
        Thread h = halter;
        if (h != null) {
            java.util.concurrent.locks.LockSupport.unpark(h);
        }
    }

    private List<Violation> entryInvariants(DebugRegisters inGuest) {
        List<Violation> loaded = InvariantChecks.guestBreakpointsLoaded(kvm, inGuest);
        if (kvm.isTd() && !kvm.tdVcpu().attributes().debug()) {
            return plus(loaded, InvariantChecks.noLeakAtEntry(kvm.tdVcpu(), inGuest));
        }
        return loaded;
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
            case FAULT_INJECTION_DROP_TRAP_FLAG -> reg(X86Reg.RFLAGS, reg(X86Reg.RFLAGS) & ~Rflags.TF);
            case FAULT_INJECTION_LOAD_ANOTHER_CPUS_GUEST_STATE -> {
                DebugRegisters theirs = vm.swapWithNeighboursEntry(index, cpu.hardware().snapshot());
                if (theirs != null) {
                    cpu.hardware().load(theirs);
                }
            }
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

    /** TDEMU_HC_HOST_WORKLOAD: run the host workload now; the host breakpoint hits so far. */
    long runHostWorkloadNow() {
        int[] hits = workload != null ? workload.run(cpu) : null;
        if (hits != null) {
            for (int s = 0; s < 4; s++) {
                hostHitsTotal[s] += hits[s];
            }
        }
        return hostHits();
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

    RecentExits recentExits() {
        return recentExits;
    }

    long fastpathExits() {
        return fastpathExits;
    }

    int index() {
        return index;
    }

    int vcpuCount() {
        return vm.vcpuCount();
    }

    PhysicalCpu cpu() {
        return cpu;
    }

    GuestEngine engine() {
        return engine;
    }

    VcpuMachine machine() {
        return machine;
    }

    HostWorkload workload() {
        return workload;
    }

    boolean halted() {
        return halted;
    }

    /** The physical DRs as the host saw them after the last exit's DR sequence. */
    DebugRegisters lastHostView() {
        return lastHostView;
    }

    /** This vCPU's engine (the debugger's register and translation-cache access). */
    Unicorn uc() {
        return engine.engine();
    }

    long reg(X86Reg r) {
        return uc().readReg(r);
    }

    void reg(X86Reg r, long value) {
        if (r == X86Reg.RFLAGS) {
            fastpathRflags = -1;
        }
        uc().writeReg(r, value);
    }

    // ---- ExitContext: what the exit handlers may do ----

    @Override
    public int vcpuIndex() {
        return index;
    }

    @Override
    public KvmVcpu kvm() {
        return kvm;
    }

    @Override
    public long read(Gpr r) {
        return uc().readReg(GPRS[r.index()]);
    }

    @Override
    public void write(Gpr r, long value) {
        uc().writeReg(GPRS[r.index()], value);
    }

    @Override
    public long rip() {
        return uc().readReg(X86Reg.RIP);
    }

    @Override
    public void setRip(long rip) {
        uc().writeReg(X86Reg.RIP, rip);
    }

    @Override
    public long rflags() {
        long cached = fastpathRflags;
        return cached >= 0 ? cached : uc().readReg(X86Reg.RFLAGS);
    }

    @Override
    public CpuMode mode() {
        return engine.mode();
    }

    @Override
    public void skipInstruction(VmExit.Instruction exit) {
        boolean tf = (rflags() & Rflags.TF) != 0;
        long next = exit.rip() + exit.length();
        setRip(next);
        // The emulated instruction was the one an STI or MOV SS shadow covered: the shadow ends
        // with it (vmx_skip_emulated_instruction clears the interruptibility state), or an
        // interrupt that wakes STI;HLT would wait for the next instruction. Only interrupt
        // injection (a machine with an interrupt controller), the engine's single step (TF) and a
        // debugger's step look at the shadow; clearing it costs a save of the engine's whole CPU
        // state, so an exit nothing of that kind follows skips it.
        if (tf || machine.hasInterruptController() || vm.debugSession() != null) {
            engine.engine().clearInterruptShadow();
        }
        if (tf) {
            singleStepAfterEmulation(next);
        }
    }

    /** kvm_skip_emulated_instruction's kvm_vcpu_do_singlestep: the #DB with BS an emulated instruction owes. */
    private void singleStepAfterEmulation(long nextRip) {
        var result = kvm.handleDebugException(new DebugExitQualification(PendingDebug.singleStep()), nextRip);
        switch (result) {
            case DebugExceptionResult.Reinject r -> queueDebugException(nextRip, false);
            case DebugExceptionResult.ReportToDebugger r -> vm.debugStop(this, r.stop(), List.of());
        }
    }

    @Override
    public void queueException(EventDelivery event) {
        queuedEvent = event;
    }

    /**
     * KVM sets RF for no #DB it injects, so a trap's frame gets the guest's RFLAGS.RF as it stands:
     * 1 only where the VM exit saved RF=1 (general detect, a non-final REP iteration).
     */
    @Override
    public void queueDebugException(long rip, boolean fault) {
        boolean rf = (rflags() & Rflags.RF) != 0;
        queuedEvent = fault ? Event.fault(ExceptionVector.DB).at(rip).withResumeFlag(false)
                : Event.trap(ExceptionVector.DB).after(rip).withResumeFlag(rf);
    }

    @Override
    public void queueSingleStepTrap(long nextRip) {
        singleStepOwedAt = nextRip;
    }

    @Override
    public void reportDebugStop(DebugStop stop, List<Access> accesses) {
        vm.debugStop(this, stop, accesses);
    }

    @Override
    public boolean stopForDebuggerBeforeShutdown(String detail, long rip) {
        DebugSession s = vm.debugSession();
        if (s == null || !s.debuggerPresent()) {
            return false;
        }
        shutdownPending = detail;
        s.stop(this, new DebugEvent(index, DebugEvent.Kind.SHUTDOWN, rip, rip, 0, detail));
        return true;
    }

    /** Whether a connected debugger catches exception {@code vector} ({@code monitor catch}): it then exits. */
    private boolean debuggerCatches(ExceptionVector vector) {
        DebugSession s = vm.debugSession();
        return s != null && s.debuggerPresent() && s.catches(vector.vector());
    }

    @Override
    public boolean stopForCaughtException(VmExit.ExceptionNmi e) {
        if (!debuggerCatches(e.vector())) {
            return false;
        }
        String detail = DebugSession.describeCaught(index, e.vector().vector(), e.errorCode(), e.cr2(), e.rip());
        vm.debugSession().stop(this, new DebugEvent(index, DebugEvent.Kind.EXCEPTION, e.rip(), e.rip(), e.vector().vector(), detail));
        return true;
    }

    @Override
    public boolean debuggerOwnsSoftwareBreakpoint(long rip) {
        return vm.debuggerOwnsSoftwareBreakpoint(rip);
    }

    @Override
    public Vmm vmm() {
        return vmm;
    }

    @Override
    public PortIoEmulation.Outcome emulateIo(VmExit.Io io) {
        PortIoEmulation.Ports ports = new PortIoEmulation.Ports() {
            @Override
            public long in(int port, int size) {
                return vmm.portIn(port, size);
            }

            @Override
            public void out(int port, int size, long value) {
                vmm.portOut(port, size, value);
            }
        };
        return PortIoEmulation.perform(engine, io.io(), io.addressSize(), ports, Long.MAX_VALUE);
    }

    @Override
    public void emulateMmioAccess(VmExit exit) {
        MmioAccess access = mmioInFlight;
        if (access == null) {
            throw new IllegalStateException("vCPU " + index + ": " + exit + " with no device access in flight");
        }
        performMmioAccess(access);
    }

    @Override
    public void setCr2(long linear) {
        uc().writeReg(X86Reg.CR2, linear);
    }

    @Override
    public void haltForGood(long rip) {
        vm.vcpuHalted(this, rip);
    }

    @Override
    public void finish(VmResult.Outcome outcome, String detail, int status) {
        vm.finish(outcome, detail, status);
    }

    @Override
    public boolean vmFinished() {
        return vm.finished();
    }

    void markHalted() {
        halted = true;
    }

    /**
     * What the guest is told when an access tdemu makes for it (a page walk, an exception frame,
     * an emulated instruction's operand) reaches guest-physical memory that neither RAM nor a
     * device backs: the guest's doing, so a memory fault like the engine's own, not an internal error.
     */
    String guestMemoryFault(dev.tdemu.emulator.machine.GuestMemoryException e) {
        return String.format("vCPU %d: emulated access at guest-physical 0x%x, outside guest RAM and device memory, at RIP 0x%x (%s)",
                index, e.address(), uc().readReg(X86Reg.RIP), e.getMessage());
    }

    // ---- guest memory through this vCPU's page tables ----

    /** Reads guest memory at a linear address (through the guest's page tables, as its paging mode walks them). */
    byte[] readGuest(long linear, int length) {
        dev.tdemu.emulator.machine.PagingState paging = engine.state().paging();
        byte[] out = new byte[length];
        for (int n = 0; n < length; ) {
            PageWalker.Mapped t = mapped(paging, linear + n);
            int chunk = (int) Math.min(length - n, t.bytesToPageEnd());
            System.arraycopy(engine.memory().readBytes(t.physical(), chunk), 0, out, n, chunk);
            n += chunk;
        }
        return out;
    }

    /** The guest-physical address of a linear one through the guest's page tables, or -1 when unmapped. */
    long physicalOf(long linear) {
        PageWalker.Result r = PageWalker.lookup(engine.memory(), engine.state().paging(), linear);
        return r instanceof PageWalker.Mapped m ? m.physical() : -1;
    }

    void writeGuest(long linear, byte[] data) {
        dev.tdemu.emulator.machine.PagingState paging = engine.state().paging();
        for (int n = 0; n < data.length; ) {
            PageWalker.Mapped t = mapped(paging, linear + n);
            if (!t.writable()) {
                throw new GuestAccessException(linear + n);
            }
            int chunk = (int) Math.min(data.length - n, t.bytesToPageEnd());
            byte[] part = new byte[chunk];
            System.arraycopy(data, n, part, 0, chunk);
            engine.memory().writeBytes(t.physical(), part);
            n += chunk;
        }
    }

    /** The translation of {@code linear} in the guest's paging mode (paging off: linear is physical), or a refusal. */
    private PageWalker.Mapped mapped(dev.tdemu.emulator.machine.PagingState paging, long linear) {
        if (PageWalker.lookup(engine.memory(), paging, linear) instanceof PageWalker.Mapped m) {
            return m;
        }
        throw new GuestAccessException(linear);
    }

    /** A VMM access to guest memory that the guest's page tables do not map (becomes #PF or an error). */
    static final class GuestAccessException extends RuntimeException {
        final long address;

        GuestAccessException(long address) {
            super(String.format("guest address 0x%x is not mapped", address), null, false, false);
            this.address = address;
        }
    }
}
