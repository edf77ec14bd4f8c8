package dev.tdemu.emulator.vm;

import dev.tdemu.core.host.HostBreakpoint;
import dev.tdemu.core.invariant.Violation;
import dev.tdemu.core.kvm.DebugStop;
import dev.tdemu.core.kvm.KvmVcpu;
import dev.tdemu.core.kvm.KvmWarning;
import dev.tdemu.core.tdx.Td;
import dev.tdemu.core.tdx.TdAttributes;
import dev.tdemu.core.tdx.TdParams;
import dev.tdemu.core.tdx.TdVcpu;
import dev.tdemu.core.tdx.TdxModule;
import dev.tdemu.emulator.cpu.GuestEngine;
import dev.tdemu.emulator.cpu.PhysicalCpu;
import dev.tdemu.emulator.elf.LoadSegment;
import dev.tdemu.emulator.machine.BootStructures;
import dev.tdemu.emulator.machine.GuestMemory;
import dev.tdemu.emulator.platform.Platform;
import dev.tdemu.emulator.platform.PcMachine;
import dev.tdemu.emulator.platform.VirtualClock;
import dev.tdemu.emulator.platform.DeviceTimer;
import dev.tdemu.emulator.boot.KernelSegment;
import dev.tdemu.emulator.boot.MultibootBoot;
import dev.tdemu.emulator.boot.MultibootException;
import dev.tdemu.emulator.boot.MultibootLoader;
import dev.tdemu.emulator.boot.MultibootRequest;
import dev.tdemu.emulator.cpu.SvmGuestMode;
import dev.tdemu.emulator.cpu.VcpuEntry;
import dev.tdemu.emulator.platform.TdemuAbiDevices;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * A virtual machine: guest RAM with the boot structures and the guest image, one
 * {@link PhysicalCpu} per vCPU (with the host's breakpoints installed and, when there are any, a
 * host workload that proves them after every exit), and one thread per vCPU running KVM's loop.
 * {@link #run()} returns when the guest exits, every vCPU halts, something fatal happens, or the
 * time limit passes; a guest can never hang or crash the caller.
 */
public final class Vm implements AutoCloseable {
    private static final Logger LOG = LogManager.getLogger("dev.tdemu.emulator.vm");
    /** Bytes at the top of RAM kept for the initial stacks (one 64 KiB stack per vCPU). */
    private static final long STACK_RESERVE = 1L << 20;

    /** Receives every exit, on the vCPU's thread. */
    public interface ExitObserver {
        void onExit(ExitEvent event);
    }

    /**
     * @param console        where the guest's console goes as it is written (null: only kept for the result)
     * @param faultInjection a deliberate fault in the exit path (tests only: proves a check can fail)
     * @param serialInput    what a PC's COM1 receives (stdin for --serial stdio), read to its end;
     *                       null: nothing. Only a PC kernel with serial input asked for reads it.
     * @param exitFastpath   whether exits that have a fastpath may be completed inside the engine's
     *                       hook ({@code Vcpu.exitHandlersFastpath}); on unless a test compares
     *                       a run without it
     */
    public record Options(Console.Sink console, List<ExitObserver> observers,
                          dev.tdemu.proto.FaultInjection faultInjection, java.io.InputStream serialInput,
                          dev.tdemu.core.kvm.PolicyProgram policy, boolean exitFastpath) {
        public Options {
            observers = List.copyOf(observers);
        }

        public Options(Console.Sink console, List<ExitObserver> observers,
                       dev.tdemu.proto.FaultInjection faultInjection, java.io.InputStream serialInput,
                       dev.tdemu.core.kvm.PolicyProgram policy) {
            this(console, observers, faultInjection, serialInput, policy, true);
        }

        /** These options with every exit taken by the run loop (no exit fastpath). */
        public Options withoutExitFastpath() {
            return new Options(console, observers, faultInjection, serialInput, policy, false);
        }

        public Options(Console.Sink console, List<ExitObserver> observers,
                       dev.tdemu.proto.FaultInjection faultInjection, java.io.InputStream serialInput) {
            this(console, observers, faultInjection, serialInput, null);
        }

        /**
         * These options with every vCPU running {@code program} instead of the spec's DrSwitchPolicy
         * (a built-in policy file beyond the seed's five, or a user's --policy-file).
         */
        public Options withPolicy(dev.tdemu.core.kvm.PolicyProgram program) {
            return new Options(console, observers, faultInjection, serialInput, program, exitFastpath);
        }

        public Options(Console.Sink console, List<ExitObserver> observers, dev.tdemu.proto.FaultInjection faultInjection) {
            this(console, observers, faultInjection, null);
        }

        public Options(Console.Sink console, List<ExitObserver> observers) {
            this(console, observers, dev.tdemu.proto.FaultInjection.FAULT_INJECTION_NONE, null);
        }

        public Options(Console.Sink console, List<ExitObserver> observers, java.io.InputStream serialInput) {
            this(console, observers, dev.tdemu.proto.FaultInjection.FAULT_INJECTION_NONE, serialInput);
        }

        public static Options quiet() {
            return new Options(null, List.of());
        }
    }

    private final VmSpec spec;
    private final Options options;
    private final GuestMemory memory;
    private final Console console;
    private final List<Vcpu> vcpus = new ArrayList<>();
    private final List<AutoCloseable> resources = new ArrayList<>();
    private final List<ExitObserver> observers;
    private final AtomicLong exitSequence = new AtomicLong();
    private TdxModule tdxModule;
    /** The buses and the devices of the machine. */
    private final Platform platform = new Platform();
    /** The PC machine, or null for tdemu's own. */
    private PcMachine pc;
    private VirtualClock clock;
    private DeviceTimer deviceTimer;
    /** Feeds COM1 from {@link Options#serialInput()} for a PC kernel with --serial stdio, else null. */
    private dev.tdemu.emulator.platform.SerialInputPump serialInput;
    /** Serialises guest execution when there is more than one vCPU (see {@link GuestScheduler}). */
    private final GuestScheduler scheduler;
    private volatile boolean finished;
    private VmResult.Outcome outcome;
    private String detail = "";
    private int exitStatus = -1;
    private long deadlineNanos;
    private CountDownLatch running;
    private final List<Violation> violations = new ArrayList<>();
    private long violatingExits;
    private ExitEvent firstViolation;
    private final List<KvmWarning> warnings = new ArrayList<>();

    public Vm(VmSpec spec, Options options) {
        this.spec = spec;
        this.options = options;
        this.observers = new CopyOnWriteArrayList<>(options.observers());
        this.console = new Console(options.console());
        this.memory = new GuestMemory(spec.memoryBytes());
        this.scheduler = spec.vcpus() > 1 ? new GuestScheduler(this) : null;
        this.enteredWith = new java.util.concurrent.atomic.AtomicReferenceArray<>(spec.vcpus());
        try {
            MultibootBoot boot = null;
            if (spec.isPc()) {
                if (spec.mode() == Mode.SEV_ES) {
                    throw new IllegalArgumentException("a PC kernel as an SEV-ES guest is not implemented: --mode sev-es "
                            + "runs tdemu's own guests (e.g. builtin:sev-es-dr)");
                }
                boot = loadKernel();
                clock = new VirtualClock();
                pc = new PcMachine(platform, clock, memory, spec.vcpus(), new PcMachine.Wiring(console::write,
                        status -> finish(VmResult.Outcome.EXITED, "isa-debug-exit", (int) status),
                        () -> finish(VmResult.Outcome.EXITED, "ACPI power-off", 0)), spec.mode() == Mode.TD);
                deviceTimer = new DeviceTimer(pc, clock, e -> finish(VmResult.Outcome.NOT_MODELLED, e.getMessage(), -1));
                resources.add(deviceTimer);
                if (spec.pc().serialStdin() && options.serialInput() != null) {
                    serialInput = new dev.tdemu.emulator.platform.SerialInputPump(options.serialInput(),
                            dev.tdemu.emulator.platform.SerialInputPump.com1(pc));
                    resources.add(serialInput);
                }
            } else {
                BootStructures.build(memory, spec.vcpus());
                loadImage();
                TdemuAbiDevices.install(platform, console::write, status -> finish(VmResult.Outcome.EXITED, "exit port", status));
            }
            TdxModule module = spec.mode() == Mode.TD ? new TdxModule(spec.tdxDr()) : null;
            tdxModule = module;
            Td td = null;
            if (module != null) {
                boolean debugTd = spec.debugTd()
                        || options.faultInjection() == dev.tdemu.proto.FaultInjection.FAULT_INJECTION_ACCEPT_NON_DEBUG_TD;
                td = new Td(TdParams.of(debugTd ? TdAttributes.DEBUG_TD : TdAttributes.NON_DEBUG, spec.vcpus(), memory.size()));
            }
            GuestEngine.CodeSharing sharing = spec.vcpus() > 1 ? new GuestEngine.CodeSharing() : null;
            for (int i = 0; i < spec.vcpus(); i++) {
                Vcpu v = createVcpu(i, module, td, boot);
                if (sharing != null) {
                    v.engine().makeKickable(); // preemption kicks
                    sharing.add(v.engine()); // one vCPU's stores over another's code
                }
                vcpus.add(v);
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** The PC machine's Multiboot kernel, its modules and information structure, loaded into guest RAM. */
    private MultibootBoot loadKernel() {
        VmSpec.PcBoot b = spec.pc();
        try {
            MultibootBoot boot = MultibootLoader.load(memory, MultibootRequest.likeQemu(b.kernel(), b.commandLine(), b.initrds()));
            boot.describe().forEach(line -> LOG.debug("{}", line));
            return boot;
        } catch (MultibootException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }

    private void loadImage() {
        long limit = memory.size() - STACK_RESERVE;
        for (LoadSegment s : spec.image().segments()) {
            if (s.address() < BootStructures.IMAGE_BASE || Long.compareUnsigned(s.end(), limit) > 0) {
                throw new IllegalArgumentException(String.format(
                        "%s: segment 0x%x..0x%x must lie between 0x%x and 0x%x (%d MiB of guest RAM; link at 1 MiB, "
                                + "or give the VM more memory)", spec.image().name(), s.address(), s.end(),
                        BootStructures.IMAGE_BASE, limit, memory.size() >> 20));
            }
            memory.fill(s.address(), s.memorySize(), (byte) 0);
            memory.writeBytes(s.address(), s.data());
        }
    }

    private Vcpu createVcpu(int index, TdxModule module, Td td, MultibootBoot boot) {
        PhysicalCpu cpu = new PhysicalCpu(index);
        HostWorkload workload = null;
        for (HostBreakpoint bp : spec.hostBreakpoints()) {
            HostWorkload.validate(bp);
            cpu.host().installBreakpoint(bp, cpu.hardware());
        }
        if (!spec.hostBreakpoints().isEmpty()) {
            workload = new HostWorkload();
            resources.add(workload);
        }
        GuestEngine engine;
        if (pc != null) {
            engine = new GuestEngine(memory, VcpuEntry.multiboot(boot.entryState()), SvmGuestMode.Intercepts.PC,
                    new GuestEngine.FallbackIo() {
                        public long in(int port, int size) { return pc.portIn(port, size); }
                        public void out(int port, int size, long value) { pc.portOut(port, size, value); }
                    });
            resources.add(engine);
            engine.makeKickable(); // devices interrupt the running guest
            if (scheduler != null) {
                engine.enablePauseLoopExiting(scheduler.pauseLoopExiting(spec.mode())); // before the scan, which places its hooks
            }
            for (KernelSegment s : boot.segments()) {
                // Only the bytes the file loaded can hold code at entry; code a kernel writes later is found when it runs.
                engine.scanCode(s.address(), memory.readBytes(s.address(), (int) s.fileSize()));
            }
        } else {
            BootStructures.EntryState entry = BootStructures.entryState(memory, index, spec.vcpus(), spec.image().entry());
            entry = new BootStructures.EntryState(entry.rip(), memory.size() - 16 - index * 0x10000L, entry.rflags(), entry.rdi(),
                    entry.rsi(), entry.cr0(), entry.cr3(), entry.cr4(), entry.efer(), entry.gdtBase(), entry.gdtLimit(), entry.cs(),
                    entry.ds(), entry.tr(), entry.trBase());
            engine = new GuestEngine(memory, entry, new GuestEngine.FallbackIo() {
                public long in(int port, int size) { return platform.ports().in(port, size); }
                public void out(int port, int size, long value) { platform.ports().out(port, size, value); }
            });
            resources.add(engine);
            if (scheduler != null) {
                engine.enablePauseLoopExiting(scheduler.pauseLoopExiting(spec.mode())); // before the scan, which places its hooks
            }
            for (LoadSegment s : spec.image().segments()) {
                if (s.executable()) {
                    engine.scanCode(s.address(), s.data());
                }
            }
        }
        KvmVcpu kvm;
        TdxExitHandlers tdExits = null;
        SevEsExitHandlers sevExits = null;
        if (spec.mode() == Mode.SEV_ES) {
            // KVM's view: it put DebugSwap in the VMSA it made (debug_swap=1 on a CPU that has it), not SNP.
            dev.tdemu.core.svm.SevFeatures kvmView = dev.tdemu.core.svm.SevFeatures.of(dev.tdemu.core.svm.SevFeatures.DEBUG_SWAP);
            dev.tdemu.core.svm.Vmsa vmsa = new dev.tdemu.core.svm.Vmsa(kvmView);
            if (options.policy() == null) {
                throw new IllegalArgumentException("an SEV-ES guest runs under an SEV_* policy (" + spec.policy()
                        + " describes VMX and TD guests)");
            }
            kvm = KvmVcpu.sevEs(options.policy(), vmsa, new dev.tdemu.core.svm.SevGuest(kvmView, false, true));
            sevExits = new SevEsExitHandlers(vmsa, memory);
        } else if (module != null) {
            TdVcpu tdVcpu = td.addVcpu();
            kvm = options.policy() != null ? KvmVcpu.td(options.policy(), module, tdVcpu)
                    : KvmVcpu.td(spec.policy(), module, tdVcpu);
            tdExits = new TdxExitHandlers(module, tdVcpu, td.params().gpaw());
        } else {
            kvm = options.policy() != null ? KvmVcpu.vmx(options.policy()) : KvmVcpu.vmx(spec.policy());
        }
        KvmVcpu k = kvm;
        GuestEngine e = engine;
        Vcpu v = new Vcpu(index, this, cpu, engine, kvm, workload, self -> pc != null
                ? new PcVcpuMachine(pc, deviceTimer, index, e, k)
                : new TdemuVcpuMachine(platform, k, index, spec.vcpus()), tdExits, sevExits);
        if (pc != null) {
            mapPcMemory(v);
            pc.cpu(index).apic().setKick(v::kickForEvent);
            if (index > 0) {
                v.powerUpAsApplicationProcessor(); // it waits for INIT and a start-up IPI (MpInitState)
            }
        }
        return v;
    }

    /**
     * What a PC vCPU's engine sees outside RAM up to 4 GiB: the devices (through the machine's MMIO
     * bus: the I/O APIC, and all-ones where nothing answers) and, at its APIC base, its own local
     * APIC page; a VMX guest's accesses are VM exits ({@code Vcpu.mmioExit}).
     */
    private void mapPcMemory(Vcpu v) {
        var uc = v.engine();
        long apicBase = dev.tdemu.core.pc.ApicBase.DEFAULT_BASE;
        uc.mapMmio(memory.size(), apicBase - memory.size(), guestMmio(v, memory.size()));
        uc.mapMmio(apicBase, 0x1000, guestMmio(v, apicBase));
        uc.mapMmio(apicBase + 0x1000, (1L << 32) - apicBase - 0x1000, guestMmio(v, apicBase + 0x1000));
    }

    /** The guest-physical addresses from {@code base} on as {@code v}'s accesses reach them. */
    private static dev.tdemu.emulator.unicorn.MmioHandler guestMmio(Vcpu v, long base) {
        return new dev.tdemu.emulator.unicorn.MmioHandler() {
            @Override
            public long read(dev.tdemu.emulator.unicorn.Unicorn u, long offset, int size) {
                return v.guestMmioRead(base + offset, size);
            }

            @Override
            public void write(dev.tdemu.emulator.unicorn.Unicorn u, long offset, int size, long value) {
                v.guestMmioWrite(base + offset, size, value);
            }
        };
    }

    public VmSpec spec() {
        return spec;
    }

    dev.tdemu.proto.FaultInjection faultInjection() {
        return options.faultInjection();
    }

    /** How many exits the vCPUs completed inside the engine's hook so far (the rest took the run loop). */
    long fastpathExits() {
        long n = 0;
        for (Vcpu v : vcpus) {
            n += v.fastpathExits();
        }
        return n;
    }

    /** Whether the vCPUs may complete exits inside the engine's hook (see {@link Options#exitFastpath()}). */
    boolean exitFastpathEnabled() {
        return options.exitFastpath();
    }

    /**
     * For FAULT_INJECTION_LOAD_ANOTHER_CPUS_GUEST_STATE: the DRs each vCPU last entered its guest
     * with, published by that vCPU's thread and read by its neighbour's.
     */
    private final java.util.concurrent.atomic.AtomicReferenceArray<dev.tdemu.core.x86.DebugRegisters> enteredWith;

    /**
     * Publishes the DRs vCPU {@code vcpu} enters with and returns those the next vCPU (wrapping)
     * last entered with, or null when it has not entered yet (test-only fault injection).
     */
    dev.tdemu.core.x86.DebugRegisters swapWithNeighboursEntry(int vcpu, dev.tdemu.core.x86.DebugRegisters mine) {
        enteredWith.set(vcpu, mine);
        return enteredWith.get((vcpu + 1) % enteredWith.length());
    }

    public Console console() {
        return console;
    }

    public int vcpuCount() {
        return vcpus.size();
    }

    public void addObserver(ExitObserver observer) {
        observers.add(observer);
    }

    /**
     * For a TD that ends badly: what each vCPU's last #VE was for ("" when none took one). A kernel
     * that is not TD-aware usually hangs or dies there.
     */
    private String lastVirtualizationExceptions() {
        StringBuilder b = new StringBuilder();
        for (Vcpu v : vcpus) {
            String ve = v.lastVirtualizationException();
            if (ve != null) {
                b.append(b.isEmpty() ? "; the TD's last #VE: " : ", ").append("vCPU ").append(v.index()).append(' ').append(ve);
            }
        }
        return b.toString();
    }

    /** Runs the VM to its end (see the class comment). */
    public VmResult run() {
        long timeout = spec.timeout().toNanos();
        deadlineNanos = timeout > 0 ? System.nanoTime() + timeout : 0;
        running = new CountDownLatch(vcpus.size());
        if (deviceTimer != null) {
            deviceTimer.start();
        }
        if (serialInput != null) {
            serialInput.start();
        }
        List<Thread> threads = new ArrayList<>();
        for (Vcpu v : vcpus) {
            threads.add(Thread.ofPlatform().name("vcpu" + v.index()).daemon().start(v));
        }
        try {
            boolean done = timeout > 0 ? running.await(timeout, TimeUnit.NANOSECONDS) : awaitForever();
            if (!done) {
                finish(VmResult.Outcome.TIMEOUT, "the guest did not finish within " + spec.timeout().toMillis() + " ms"
                        + lastVirtualizationExceptions(), -1);
            }
            for (Thread t : threads) {
                t.join(10_000);
                if (t.isAlive()) {
                    finish(VmResult.Outcome.INTERNAL_ERROR, t.getName() + " did not stop", -1);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            finish(VmResult.Outcome.INTERNAL_ERROR, "interrupted", -1);
        }
        console.flush();
        VmResult result;
        synchronized (this) {
            if (outcome == null) {
                outcome = VmResult.Outcome.HALTED;
            }
            if (outcome == VmResult.Outcome.TIMEOUT || outcome == VmResult.Outcome.INTERRUPTED) {
                detail = detail + "; " + whereVcpusStopped(threads);
            }
            long hostHits = vcpus.stream().mapToLong(Vcpu::hostHits).sum();
            result = new VmResult(outcome, detail, exitStatus, console.text(), exitSequence.get(), violations,
                    violatingExits, firstViolation, warnings, hostHits);
        }
        DebugSession s = session;
        if (s != null) {
            s.ended(result);
        }
        return result;
    }

    /** "vCPU 0 at RIP 0x100004, vCPU 1 at RIP 0x100010": where a run that was cut short left each vCPU. */
    private String whereVcpusStopped(List<Thread> threads) {
        List<String> where = new ArrayList<>();
        for (int i = 0; i < vcpus.size(); i++) {
            // A vCPU thread that did not stop still owns its engine; its RIP is not ours to read.
            where.add(threads.get(i).isAlive() ? "vCPU " + i + " still running"
                    : String.format("vCPU %d at RIP 0x%x", i, vcpus.get(i).reg(dev.tdemu.emulator.unicorn.X86Reg.RIP)));
        }
        return String.join(", ", where);
    }

    private boolean awaitForever() throws InterruptedException {
        running.await();
        return true;
    }

    /** Ends the VM (the first reason wins) and stops every vCPU. */
    public void finish(VmResult.Outcome why, String text, int status) {
        synchronized (this) {
            if (finished) {
                return;
            }
            outcome = why;
            detail = text;
            exitStatus = status;
            finished = true;
        }
        LOG.debug("VM finished: {} {}", why, text);
        DebugSession s = session;
        if (s != null) {
            s.vmEnded();
        }
        for (Vcpu v : vcpus) {
            v.wakeFromHalt(); // a halted vCPU wakes up to see the VM end
            v.engine().stop();
            if (v.workload() != null) {
                v.workload().stop();
            }
        }
    }

    GuestScheduler scheduler() {
        return scheduler;
    }

    /** Whether the VM has ended (its result is decided); from any thread. */
    public boolean finished() {
        return finished;
    }

    long nextExitSequence() {
        return exitSequence.incrementAndGet();
    }

    /** An exit's record (its vCPU has put it among its {@link RecentExits}): the VM's verdicts, then the observers. */
    void observe(ExitEvent event) {
        if (!event.violations().isEmpty() || !event.warnings().isEmpty()) { // the lock only for what needs it
            synchronized (this) {
                if (!event.violations().isEmpty()) {
                    violatingExits++;
                    if (firstViolation == null) {
                        firstViolation = event;
                    }
                    if (violations.size() < 1000) {
                        violations.addAll(event.violations());
                    }
                }
                warnings.addAll(event.warnings());
            }
        }
        for (ExitObserver o : observers) {
            o.onExit(event);
        }
    }

    synchronized void vcpuHalted(Vcpu v, long rip) {
        v.markHalted();
        vcpuAsleep(v, rip);
    }

    /**
     * A vCPU went to sleep (halted with interrupts off, or waiting for a start-up IPI): when no
     * vCPU is left that could wake the others the VM ends, as nothing would ever happen again.
     * An application processor waiting for a start-up IPI, and a vCPU halted after CLI, are taken
     * to be woken only by a vCPU that runs: a device NMI (LINT1, an I/O APIC entry in NMI mode)
     * that would come later is not waited for. A TD vCPU halted with its interrupts blocked whose
     * own APIC timer will post an interrupt is not asleep ({@link Vcpu#asleepForGood}).
     */
    synchronized void vcpuAsleep(Vcpu v, long rip) {
        if (vcpus.stream().allMatch(Vcpu::asleepForGood)) {
            finish(VmResult.Outcome.HALTED, String.format("every vCPU halted (vCPU %d last, at RIP 0x%x) without an exit status",
                    v.index(), rip), -1);
        }
    }

    /**
     * Whether {@code v} is the TD application processor that polls the ACPI wakeup mailbox for all
     * those waiting in the firmware: the lowest-numbered of them. The others park until it wakes
     * them, so N waiting APs cost one poll, not N.
     */
    boolean pollsFirmwareMailbox(Vcpu v) {
        for (Vcpu o : vcpus) {
            if (o.waitsInFirmware()) {
                return o == v;
            }
        }
        return false;
    }

    /** The poller's look at the mailbox: wakes every waiting AP a command is for. */
    void wakeFirmwareWaiters() {
        for (Vcpu o : vcpus) {
            if (o.waitsInFirmware() && o.machine().initEventPending()) {
                o.wakeFromHalt();
            }
        }
    }

    /** An AP left the firmware: wakes the lowest-numbered one still waiting, to poll from now on. */
    void firmwarePollerLeft() {
        for (Vcpu o : vcpus) {
            if (o.waitsInFirmware()) {
                o.wakeFromHalt();
                return;
            }
        }
    }

    void vcpuStopped(Vcpu v) {
        running.countDown();
    }

    /** A debug event for the debugger (KVM_EXIT_DEBUG). */
    void debugStop(Vcpu v, DebugStop stop, List<dev.tdemu.core.x86.Access> accesses) {
        DebugSession s = session;
        if (s == null) {
            finish(VmResult.Outcome.INTERNAL_ERROR, "vCPU " + v.index() + " stopped for a debugger, but none is attached: " + stop, -1);
            return;
        }
        DebugEvent event;
        if (stop.exception() == dev.tdemu.core.x86.ExceptionVector.BP) {
            v.setRip(stop.rip()); // the stop is reported on the INT3 itself
            event = new DebugEvent(v.index(), DebugEvent.Kind.SOFTWARE_BREAKPOINT, stop.rip(), stop.rip(), 0);
        } else {
            event = s.classify(v, stop.rip(), stop.dr6().value(), accesses);
            if (event == null) {
                return; // a read watchpoint's slot fired for a write: not the debugger's event
            }
        }
        s.stop(v, event);
    }

    boolean debuggerOwnsSoftwareBreakpoint(long rip) {
        DebugSession s = session;
        return s != null && s.ownsSoftwareBreakpoint(rip);
    }

    private volatile DebugSession session;

    /** The VM's last {@link #RECENT_EXITS} exits, oldest first: every vCPU's own last ones, merged. */
    private List<ExitEvent> recentExits() {
        List<ExitEvent> all = new ArrayList<>();
        for (Vcpu v : vcpus) {
            all.addAll(v.recentExits().snapshot());
        }
        all.sort(java.util.Comparator.comparingLong(ExitEvent::sequence));
        return all.subList(Math.max(0, all.size() - RECENT_EXITS), all.size());
    }
    private static final int RECENT_EXITS = RecentExits.SIZE;

    /**
     * Attaches a debugger before or while the VM runs; with {@code startStopped} every vCPU waits
     * at its first entry until the debugger resumes it (and the listener hears INTERRUPTED).
     */
    public synchronized DebugSession attachDebugger(DebugListener listener, boolean startStopped) {
        if (session != null) {
            throw new IllegalStateException("a debugger is already attached");
        }
        if (spec.mode() == Mode.SEV_ES) {
            // KVM_SET_GUEST_DEBUG is refused for SEV-ES vCPUs: their registers are in the encrypted VMSA.
            throw new IllegalArgumentException("a debugger cannot attach to an SEV-ES guest: KVM can neither read nor "
                    + "set its registers (they are in the encrypted VMSA)");
        }
        // All-stop and Ctrl-C kick the vCPUs; a kick switches the kick hook on, so a guest runs
        // under an attached debugger as fast as without one. Attached before the VM runs.
        for (Vcpu v : vcpus) {
            v.engine().makeKickable();
        }
        session = new DebugSession(this, vcpus, listener, startStopped);
        return session;
    }

    /** Whether an attached debugger wants {@code v} held (so a stop must not be swallowed). */
    boolean debugHoldRequested(Vcpu v) {
        DebugSession s = session;
        return s != null && s.holdRequested(v.index());
    }

    public DebugSession debugSession() {
        return session;
    }

    /** `monitor` commands of the GDB stub (and anyone else): dr, exits [N], policy [set P | tdx-dr B], check. */
    String monitor(String command) {
        String[] w = command.isEmpty() ? new String[] {"help"} : command.split("\\s+");
        StringBuilder b = new StringBuilder();
        switch (w[0]) {
            case "dr" -> {
                for (Vcpu v : vcpus) {
                    var hw = v.cpu().hardware().snapshot();
                    b.append(String.format("vCPU %d on cpu %d%s%n", v.index(), v.cpu().id(), v.halted() ? " (halted)" : ""));
                    b.append("  physical     ").append(ExitFormat.regs(hw.toProto())).append('\n');
                    if (v.kvm().isTd() && !v.kvm().tdVcpu().attributes().debug()) {
                        b.append("  TD's own     (hidden: not a debug TD)\n");
                    } else {
                        var guest = v.kvm().isTd() ? v.kvm().tdVcpu().savedDebugRegisters() : v.kvm().guestView();
                        b.append(v.kvm().isTd() ? "  TD's own     " : "  guest view   ").append(ExitFormat.regs(guest.toProto())).append('\n');
                    }
                    b.append(String.format("  KVM          switch_db_regs=%s effective DR7=0x%x guest_debug=0x%x%n",
                            ExitFormat.flags(v.kvm().switchDbRegs().bits()), v.kvm().effectiveDr7().value(), v.kvm().guestDebug().bits()));
                    b.append("  host         ").append(ExitFormat.regs(v.cpu().host().expectedHardware().toProto()))
                            .append(v.cpu().host().hwBreakpointActive() ? " (active)" : " (no breakpoints)").append('\n');
                    b.append("  engine       ").append(v.engine().dataBreakpointState()).append(" (as of the last entry)\n");
                }
            }
            case "exits" -> {
                int n = w.length > 1 ? count(w[1]) : 10;
                List<ExitEvent> recent = recentExits();
                for (ExitEvent e : recent.subList(Math.max(0, recent.size() - n), recent.size())) {
                    b.append(ExitFormat.format(e.toProto()));
                    b.append("    entry DR sequence ").append(e.entry().sequence()).append('\n');
                    b.append("    exit DR sequence  ").append(e.exit().sequence()).append('\n');
                }
                if (recent.isEmpty()) {
                    b.append("no exits yet\n");
                }
            }
            case "policy" -> {
                if (w.length == 3 && w[1].equals("set")) {
                    // any built-in policy file that runs this VM's vCPUs (the seed's five keep their enum value)
                    var p = dev.tdemu.core.kvm.BuiltinPolicies.named(w[2]).orElseThrow(() -> new IllegalArgumentException(
                            "no KVM policy named '" + w[2] + "'; one of: " + String.join(" ", dev.tdemu.core.kvm.BuiltinPolicies.names()
                                    .stream().map(n -> n.toLowerCase(java.util.Locale.ROOT).replace('_', '-')).toList())));
                    var seed = java.util.Arrays.stream(dev.tdemu.core.kvm.DrSwitchPolicy.values())
                            .filter(s -> s.name().equals(p.name())).findFirst();
                    vcpus.forEach(v -> {
                        if (seed.isPresent()) {
                            v.kvm().setPolicy(seed.get());
                        } else {
                            v.kvm().setPolicy(p);
                        }
                    });
                } else if (w.length == 3 && w[1].equals("tdx-dr")) {
                    if (tdxModule == null) {
                        throw new IllegalArgumentException("this VM runs no TD, so there is no TDX module to set");
                    }
                    tdxModule.setBehaviour(named(dev.tdemu.core.tdx.TdxDrBehaviour.class, w[2], "TDX module DR behaviour"));
                } else if (w.length != 1) {
                    throw new IllegalArgumentException("usage: policy | policy set POLICY | policy tdx-dr BEHAVIOUR");
                }
                b.append("policy ").append(vcpus.getFirst().kvm().program().name());
                if (tdxModule != null) {
                    b.append(", TDX module DR behaviour ").append(tdxModule.behaviour());
                }
                b.append('\n');
            }
            case "check" -> {
                for (Vcpu v : vcpus) {
                    List<Violation> now = new ArrayList<>(
                            dev.tdemu.core.invariant.InvariantChecks.hostBreakpointsIntact(v.cpu().host(), v.cpu().hardware().snapshot()));
                    if (v.kvm().isTd() && !v.kvm().tdVcpu().attributes().debug()) {
                        now.addAll(dev.tdemu.core.invariant.InvariantChecks.noLeakAfterExit(v.kvm().tdVcpu(), v.cpu().host(),
                                v.cpu().hardware().snapshot()));
                    }
                    b.append(String.format("vCPU %d: %s%n", v.index(), now.isEmpty() ? "every invariant holds now" : now));
                }
                synchronized (this) {
                    b.append(String.format("so far: %d exit(s), %d with violations%s%n", exitSequence.get(), violatingExits,
                            firstViolation == null ? "" : ", first at exit #" + firstViolation.sequence()));
                }
            }
            case "help" -> b.append(MONITOR_HELP);
            default -> throw new IllegalArgumentException("unknown command '" + w[0] + "'\n" + MONITOR_HELP);
        }
        return b.toString();
    }

    private static final String MONITOR_HELP = """
                    tdemu monitor commands:
                      dr                      physical, guest and host debug registers of every vCPU
                      exits [N]               the last N exits (default 10) with their DR sequences
                      policy                  the KVM DR switch policy and TDX module behaviour
                      policy set POLICY       switch KVM variant: any built-in policy (upstream, upstream-6-17, dr7-only, ...)
                      policy tdx-dr BEHAVIOUR switch module: init-on-exit restore-host-except-dr7 leave-guest-state
                      check                   the invariants right now
                      phys [on|off]           the debugger's memory accesses address guest-physical memory (QEMU: maint packet Qqemu.PhyMemMode:1)
                      catch [VECTOR|NAME...]  stop before the guest's exceptions are delivered (e.g. catch pf gp ud; 14 13 6);
                                              catch off: none; catch: list them. continue delivers the exception
                      help                    this list
                    """;

    private static int count(String word) {
        try {
            int n = Integer.parseInt(word);
            if (n > 0) {
                return n;
            }
        } catch (NumberFormatException e) {
            // said below
        }
        throw new IllegalArgumentException("'" + word + "' is not a positive count");
    }

    /** An enum constant by its command-line spelling (lower case, dashes), or a list of the valid ones. */
    private static <E extends Enum<E>> E named(Class<E> type, String word, String what) {
        return EnumSpelling.parse(type, "", word).orElseThrow(() -> new IllegalArgumentException(
                "no " + what + " named '" + word + "'; one of: " + String.join(" ", EnumSpelling.spellings(type, ""))));
    }

    /** What feeds COM1, if anything does (tests). */
    java.util.Optional<dev.tdemu.emulator.platform.SerialInputPump> serialInputPump() {
        return java.util.Optional.ofNullable(serialInput);
    }

    /** vCPU {@code i} (tests). */
    Vcpu vcpu(int i) {
        return vcpus.get(i);
    }

    /** After a stop that did not end the VM: true to re-enter the guest. */
    boolean waitWhilePaused(Vcpu v) {
        return !finished;
    }

    @Override
    public void close() {
        for (AutoCloseable r : resources) {
            try {
                r.close();
            } catch (Exception e) {
                LOG.warn("closing {}: {}", r, e.toString());
            }
        }
        resources.clear();
        memory.close();
    }
}
