package dev.tdemu.emulator.cpu;

import dev.tdemu.core.x86.Rflags;

import dev.tdemu.core.host.HostCpu;
import dev.tdemu.core.vmx.EptViolationQualification;
import dev.tdemu.core.vmx.IoQualification;
import dev.tdemu.core.vmx.MovDrDirection;
import dev.tdemu.core.vmx.MovDrQualification;
import dev.tdemu.core.x86.Access;
import dev.tdemu.core.x86.CpuMode;
import dev.tdemu.core.x86.DataAccessKind;
import dev.tdemu.core.x86.DebugException;
import dev.tdemu.core.x86.DebugRegisterFile;
import dev.tdemu.core.x86.Event;
import dev.tdemu.core.x86.EventClass;
import dev.tdemu.core.x86.EventDelivery;
import dev.tdemu.core.x86.ExceptionVector;
import dev.tdemu.core.x86.MovDrOutcome;
import dev.tdemu.core.x86.PendingDebug;
import dev.tdemu.core.x86.Sreg;
import dev.tdemu.emulator.machine.IdtDelivery;
import dev.tdemu.emulator.machine.Operation;
import dev.tdemu.emulator.machine.PageWalker;
import dev.tdemu.emulator.machine.X86Decoder;
import dev.tdemu.emulator.machine.X86Instruction;
import dev.tdemu.emulator.unicorn.Unicorn;
import dev.tdemu.emulator.unicorn.X86Reg;
import java.util.List;
import java.util.Optional;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * One physical CPU: its debug registers ({@link DebugRegisterFile}, the "hardware" every DR
 * sequence of the model reads and writes), the host kernel's per-CPU breakpoint state, and the
 * execution of guest code on a {@link GuestEngine} with the x86 debug architecture applied to
 * it: execute, data, I/O and single-step #DBs as {@code core}'s matching logic decides, GD, MOV DR
 * on the hardware registers, ICEBP and INT3, and exceptions delivered through the guest's IDT
 * with #DF and triple-fault escalation. It returns to the VMM only for what the VMM must handle
 * ({@link VmExit}). Used by one thread at a time.
 */
public final class PhysicalCpu {
    private static final Logger LOG = LogManager.getLogger("dev.tdemu.emulator.cpu");
    static final X86Reg[] GPRS = {X86Reg.RAX, X86Reg.RCX, X86Reg.RDX, X86Reg.RBX, X86Reg.RSP, X86Reg.RBP, X86Reg.RSI,
        X86Reg.RDI, X86Reg.R8, X86Reg.R9, X86Reg.R10, X86Reg.R11, X86Reg.R12, X86Reg.R13, X86Reg.R14, X86Reg.R15};
    private static final long CR4_TSD = 1L << 2, CR4_PAE = 1L << 5, CR4_LA57 = 1L << 12, CR4_PCIDE = 1L << 17;
    private static final long EFER_LMA = 1L << 10;
    private static final int MSR_TSC_AUX = 0xC000_0103;

    private final int id;
    private final DebugRegisterFile hardware = new DebugRegisterFile();
    private final HostCpu host;
    /** RIP and RCX at the last single-step trap (see {@link #afterRepIteration}). */
    private long lastStepTrapRip = -1, lastStepTrapRcx;

    public PhysicalCpu(int id) {
        this.id = id;
        this.host = new HostCpu(id);
    }

    /** The register holding general-purpose register {@code n} (RAX=0 … R15=15). */
    public static X86Reg gpr(int n) {
        return GPRS[n];
    }

    public int id() {
        return id;
    }

    /** The physical debug registers. */
    public DebugRegisterFile hardware() {
        return hardware;
    }

    public HostCpu host() {
        return host;
    }

    /**
     * Runs the guest on {@code g} until the VMM must act. Time limits are the caller's: a
     * {@link GuestEngine#stop()} from any thread ends the run with {@link VmExit.ExternalInterrupt}.
     * (The engine's own timeout argument starts and joins a thread on every run, which costs more
     * than a whole VM exit, so tdemu never uses it.)
     */
    public VmExit runGuest(GuestEngine g, GuestControls controls) {
        while (true) {
            g.armDebugRegisters(hardware.snapshot());
            fastpathEngine = g;
            fastpathControls = controls;
            g.useInterceptFastpath(interceptFastpath);
            EngineEvent event;
            try {
                event = g.run();
            } finally {
                g.useInterceptFastpath(null);
                fastpathEngine = null;
                fastpathControls = null;
            }
            controls.afterRun();
            VmExit exit = handle(g, controls, event);
            if (exit != null) {
                return exit;
            }
        }
    }

    /** The engine and controls of the run in progress, for {@link #fastpath}; null between runs. */
    private GuestEngine fastpathEngine;
    private GuestControls fastpathControls;
    private final GuestEngine.InterceptFastpath interceptFastpath = this::fastpath;

    /**
     * An intercept inside the engine's hook: the exits that have a fastpath (CPUID, classified
     * as {@link #intercept} classifies it) are offered to the VMM ({@link GuestControls#exitHandlersFastpath}).
     * The run goes on when the VMM entered the guest again and the engine is armed for the debug
     * registers it entered with; when they differ it stops to be armed ({@link EngineEvent.Reentered}).
     * Every other outcome ends the run with the intercept, which the VMM may already have handled.
     */
    private EngineEvent fastpath(EngineEvent.Intercept i) {
        if (i.exitCode() != SvmGuestMode.EXIT_CPUID) {
            return i;
        }
        return switch (fastpathControls.exitHandlersFastpath(cpuid(i.rip()))) {
            case EXIT_FASTPATH_NONE, EXIT_FASTPATH_EXIT_HANDLED -> i;
            case EXIT_FASTPATH_REENTER_GUEST -> fastpathEngine.armedFor(hardware.snapshot()) ? null
                    : new EngineEvent.Reentered(fastpathEngine.rip());
        };
    }

    /** CPUID (0F A2) at {@code rip}. */
    private static VmExit.Cpuid cpuid(long rip) {
        return new VmExit.Cpuid(rip, 2);
    }

    /** Handles one engine event; returns the exit for the VMM, or null to keep running. */
    private VmExit handle(GuestEngine g, GuestControls controls, EngineEvent event) {
        Unicorn uc = g.engine();
        List<Access.DataAccess> late = toLinear(g, g.enforcer().takeLateHits(), List.of());
        if (!late.isEmpty()) {
            VmExit lateTrap = lateDataTrap(g, controls, event, late);
            if (lateTrap != CONTINUE_WITH_EVENT) {
                return lateTrap;
            }
        }
        return switch (int1(g, event)) {
            case EngineEvent.Intercept i -> intercept(g, controls, i);
            case EngineEvent.Syscall sc -> syscall(g, controls, sc.rip());
            case EngineEvent.Exception e -> {
                // The engine never forgets an exception (a later one would become #DF) nor that it
                // was an INT n (later intercepts would get its return RIP): reset both now.
                uc.clearExceptionInFlight();
                if (e.vector() == ExceptionVector.BP.vector() || e.vector() == ExceptionVector.OF.vector() || e.vector() >= 32) {
                    yield softwareInterrupt(g, controls, e.vector(), e.rip());
                }
                if (e.vector() == ExceptionVector.PF.vector()) {
                    // The engine set CR2 when it raised #PF: delivery must keep that address.
                    yield pageFault(g, controls, e.errorCode(), uc.readReg(X86Reg.CR2), e.rip());
                }
                if (e.vector() == ExceptionVector.GP.vector() && e.errorCode() == 0) {
                    if (nonCanonicalStackOperand(g, e.rip())) {
                        // The engine raises #GP(0) for every non-canonical address; through SS it is #SS(0).
                        yield raise(g, controls, Event.fault(ExceptionVector.SS).errorCode(0).at(e.rip()));
                    }
                    // A branch to a non-canonical address faults on the branch, not at its target.
                    java.util.OptionalLong branch = NonCanonicalBranch.undo(g, e.rip());
                    if (branch.isPresent()) {
                        yield raise(g, controls, Event.fault(ExceptionVector.GP).errorCode(0).at(branch.getAsLong()));
                    }
                }
                // Any other exception the engine raised faults at its instruction (a vector the SDM
                // reserves, which no instruction raises, would go in as the interrupt it then is).
                yield raise(g, controls, ExceptionVector.isDefined(e.vector())
                        ? Event.exception(ExceptionVector.fromVector(e.vector()), (int) e.errorCode(), 0).at(e.rip())
                        : Event.externalInterrupt(e.vector()).at(e.rip()));
            }
            case EngineEvent.SingleStep s -> debugTrap(g, controls, List.of(), true, s.rip(), afterRepIteration(g, s.rip()));
            case EngineEvent.Int1 i -> softwareInterrupt(g, controls, ExceptionVector.DB.vector(), i.rip());
            case EngineEvent.InvalidInstruction ii -> invalidInstruction(g, controls, ii.rip());
            case EngineEvent.PortIoInstruction p -> portIo(g, controls, p.io(), p.rip());
            case EngineEvent.PauseLoop p -> new VmExit.PauseInstruction(p.rip(), PAUSE_LENGTH);
            case EngineEvent.ImprecisePortIo p -> new VmExit.IoPerformed(
                    new IoQualification(p.size(), p.in(), false, false, false, p.port()), p.value(), p.rip());
            case EngineEvent.ExecuteBreakpoint b -> {
                // Intel: MOV SS / POP SS blocking inhibits the instruction breakpoints of the next instruction.
                Optional<DebugException> db = afterLoadSs(g, b.rip()) ? Optional.empty()
                        : hardware.checkInstructionFetch(b.linear(), false, g.mode());
                if (db.isEmpty()) {
                    // The hook's slot does not raise #DB (LEN/type combination), or MOV SS blocks
                    // it: run the instruction once without the hook.
                    uc.writeReg(X86Reg.RFLAGS, uc.readReg(X86Reg.RFLAGS) | Rflags.RF);
                    yield null;
                }
                yield debugException(g, controls, db.get(), b.rip());
            }
            case EngineEvent.RefusedAccess r -> stepWatched(g, controls, r.rip(), r.fetch());
            case EngineEvent.MemoryFault f -> new VmExit.EptViolation(EptViolationQualification.unbacked(eptAccess(f.type())),
                    f.physical(), f.size(), f.rip());
            case EngineEvent.InterruptWindow w -> new VmExit.InterruptWindow(w.rip());
            case EngineEvent.NmiWindow w -> new VmExit.NmiWindow(w.rip());
            case EngineEvent.Stopped s -> new VmExit.ExternalInterrupt(s.rip());
            case EngineEvent.Completed c -> new VmExit.ExternalInterrupt(c.rip());
            case EngineEvent.Reentered r -> null; // armed again, the guest runs on
        };
    }

    /** PAUSE (F3 90): the VM-exit instruction length of a PAUSE-loop exit. */
    private static final int PAUSE_LENGTH = 2;

    /** Marks "handle the event as usual" (null means the trap was delivered and the guest runs on). */
    private static final VmExit CONTINUE_WITH_EVENT = new VmExit.ExternalInterrupt(-2);

    /**
     * A hot-page data breakpoint hit that could not be located (see {@code DrEnforcer}) stopped the
     * run at the next block boundary (or the single step of a TF guest ended there): the trap #DB
     * for it, with the single step when there was one. Any other event that ended the run first
     * is handled as usual and the hit is dropped, with a warning.
     */
    private VmExit lateDataTrap(GuestEngine g, GuestControls controls, EngineEvent event, List<Access.DataAccess> late) {
        return switch (event) {
            case EngineEvent.Stopped s -> {
                VmExit trap = debugTrap(g, controls, late, false, s.rip(), false);
                yield trap != null ? trap : new VmExit.ExternalInterrupt(s.rip());
            }
            case EngineEvent.Reentered r -> debugTrap(g, controls, late, false, r.rip(), false); // null: the guest runs on
            case EngineEvent.SingleStep s when !(int1(g, event) instanceof EngineEvent.Int1) ->
                    debugTrap(g, controls, late, true, s.rip(), afterRepIteration(g, s.rip()));
            // The run ended before an instruction that has not run: the trap comes first, and the
            // instruction meets its event again when the guest resumes.
            case EngineEvent.Intercept i -> beforeInstruction(g, controls, late, i.rip());
            case EngineEvent.InvalidInstruction ii -> beforeInstruction(g, controls, late, ii.rip());
            case EngineEvent.PortIoInstruction p -> beforeInstruction(g, controls, late, p.rip());
            case EngineEvent.PauseLoop p -> beforeInstruction(g, controls, late, p.rip());
            case EngineEvent.ExecuteBreakpoint b -> beforeInstruction(g, controls, late, b.rip());
            case EngineEvent.RefusedAccess r -> beforeInstruction(g, controls, late, r.rip());
            default -> {
                LOG.warn("cpu{}: a data breakpoint hit on a hot page was overtaken by {}; not reported", id, event);
                yield CONTINUE_WITH_EVENT;
            }
        };
    }

    private VmExit beforeInstruction(GuestEngine g, GuestControls controls, List<Access.DataAccess> late, long rip) {
        g.engine().writeReg(X86Reg.RIP, rip);
        VmExit trap = debugTrap(g, controls, late, false, rip, false);
        return trap != null ? trap : null;
    }

    /**
     * Whether the instruction at {@code rip} is in the shadow of a MOV SS or POP SS: the engine's
     * interrupt shadow is on (STI sets it too) and the bytes right before {@code rip} decode as a
     * load of SS ending there (STI is one byte, FB; a load of SS is at least two).
     */
    private static boolean afterLoadSs(GuestEngine g, long rip) {
        if (!g.state().interruptShadow()) {
            return false;
        }
        for (int n = 1; n <= X86Decoder.MAX_LENGTH && n <= rip; n++) {
            byte[] code = g.readCode(rip - n, n);
            if (code.length == n && decode(g, code) instanceof X86Instruction insn && insn.length() == n
                    && insn.operation() instanceof Operation.LoadSs) {
                return true;
            }
        }
        return false;
    }

    /**
     * Whether the instruction at {@code rip}, in 64-bit mode, has a memory operand through SS (a
     * base of RSP or RBP) whose address is not canonical: its fault is #SS(0), not #GP(0) (SDM
     * "Interrupt 12—Stack Fault Exception"). Implicit stack accesses (PUSH, POP, CALL) are not
     * recognised.
     */
    private static boolean nonCanonicalStackOperand(GuestEngine g, long rip) {
        if (!g.state().executionMode().is64Bit()) {
            return false;
        }
        X86Instruction insn = g.instructionAt(rip);
        if (insn == null || insn.memory() == null || insn.memory().segment() != Sreg.SS || insn.memory().scaledDisp8()) {
            return false;
        }
        Unicorn uc = g.engine();
        long linear = insn.memory().offset(new X86Instruction.Registers() {
            @Override
            public long gpr(int index) {
                return uc.readReg(GPRS[index]);
            }

            @Override
            public long segmentBase(Sreg segment) {
                return 0;
            }
        }, insn.nextRip(rip));
        return !PageWalker.isCanonical(linear);
    }

    /** The access an unbacked guest-physical access was, as an EPT violation's qualification records it. */
    private static EptViolationQualification.Access eptAccess(dev.tdemu.emulator.unicorn.MemType type) {
        return switch (type) {
            case WRITE, WRITE_UNMAPPED, WRITE_PROT -> EptViolationQualification.Access.WRITE;
            case FETCH, FETCH_UNMAPPED, FETCH_PROT -> EptViolationQualification.Access.FETCH;
            case READ, READ_UNMAPPED, READ_PROT, READ_AFTER -> EptViolationQualification.Access.READ;
        };
    }

    /**
     * Whether a single-step trap that leaves RIP at {@code rip} came after a non-final iteration
     * of the REP string instruction there (its frame then gets RF=1, SDM 17.3.1.1) rather than
     * after the instruction before it. The engine does not say which instruction ran, so this uses
     * what it can see: the previous step trap stopped on that same instruction and the count
     * changed since. (A REP instruction whose first iteration is the first instruction stepped,
     * right after a POPF or IRET set TF, is not recognised and gets RF=0.)
     */
    private boolean afterRepIteration(GuestEngine g, long rip) {
        Unicorn uc = g.engine();
        long rcx = uc.readReg(X86Reg.RCX);
        boolean startedThere = lastStepTrapRip == rip && lastStepTrapRcx != rcx;
        lastStepTrapRip = rip;
        lastStepTrapRcx = rcx;
        return startedThere && isRepString(g.instructionAt(rip));
    }

    /** INT n, INT3 and INTO: traps whose RIP is already past the instruction, or #GP when the gate's DPL is below the CPL. */
    private VmExit softwareInterrupt(GuestEngine g, GuestControls controls, int vector, long next) {
        int length = softwareInterruptLength(g, vector, next);
        long start = next - length;
        if (!IdtDelivery.gateAllowsSoftwareInterrupt(new EngineIdtCpu(g), vector)) {
            // #GP(IDT entry, IDT bit) at the INT instruction
            return raise(g, controls, Event.fault(ExceptionVector.GP).errorCode(vector * 8 + 2).at(start));
        }
        if (vector == ExceptionVector.DB.vector()) {
            // INT 1 is a software interrupt, not an exception: the exception bitmap does not see it.
            return deliver(g, Event.trap(ExceptionVector.DB).after(next));
        }
        // A software interrupt, not a trap: a fault while delivering it (#NP, #GP, #SS, #PF) saves
        // the INT's own RIP, so IRET re-runs it, and has EXT clear (SDM 6.13). An intercepted #BP
        // or #OF exits with the instruction's RIP and length.
        Event event = vector == ExceptionVector.BP.vector() && length == 1 ? Event.int3(length)
                : vector == ExceptionVector.OF.vector() && length == 1 ? Event.into(length) : Event.softwareInterrupt(vector, length);
        return raise(g, controls, event.at(start));
    }


    /**
     * Whether the engine's vector 1 at {@code next} was INT 1 (CD 01), which it reports like a
     * single-step trap: the bytes before say so, and the engine's own flag that an INT n raised
     * the exception (cleared here, as for every software interrupt) confirms it.
     */
    private static EngineEvent int1(GuestEngine g, EngineEvent event) {
        if (!(event instanceof EngineEvent.SingleStep s)) {
            return event;
        }
        byte[] code = g.readCode(s.rip() - 2, 2);
        if (code.length < 2 || (code[0] & 0xFF) != 0xCD || code[1] != 0x01 || !g.engine().exceptionIsInt()) {
            return event;
        }
        g.engine().clearExceptionInFlight();
        return new EngineEvent.Int1(s.rip());
    }

    /** Length of the INT3 (CC), INT 3 (CD 03), INTO (CE) or INT n (CD nn) instruction that ends at {@code next}. */
    private static int softwareInterruptLength(GuestEngine g, int vector, long next) {
        if (vector != ExceptionVector.BP.vector()) {
            return vector == ExceptionVector.OF.vector() ? 1 : 2; // INTO, or INT n (INT 1 too: ICEBP never comes here)
        }
        byte[] code = g.readCode(next - 2, 2);
        return code.length == 2 && (code[0] & 0xFF) == 0xCD && code[1] == 0x03 ? 2 : 1;
    }

    private VmExit intercept(GuestEngine g, GuestControls controls, EngineEvent.Intercept i) {
        int code = i.exitCode();
        long rip = i.rip();
        if (code >= SvmGuestMode.EXIT_READ_DR0 && code < SvmGuestMode.EXIT_WRITE_DR0 + 16) {
            return movDr(g, controls, rip);
        }
        return switch (code) {
            case SvmGuestMode.EXIT_CPUID -> cpuid(rip);
            case SvmGuestMode.EXIT_RDTSC -> new VmExit.Rdtsc(rip, 2);
            case SvmGuestMode.EXIT_RDTSCP -> new VmExit.Rdtscp(rip, 3);
            case SvmGuestMode.EXIT_HLT -> new VmExit.Hlt(rip, 1);
            case SvmGuestMode.EXIT_MSR -> {
                byte[] msr = g.readCode(rip, 2); // 0F 32 RDMSR, 0F 30 WRMSR
                yield msr.length < 2 ? fetchFault(g, controls, rip, msr.length)
                        : msr[1] == 0x30 ? new VmExit.Wrmsr(rip, 2) : new VmExit.Rdmsr(rip, 2);
            }
            case SvmGuestMode.EXIT_WRITE_CR3 -> movToCr3(g, controls, rip);
            case SvmGuestMode.EXIT_WRITE_CR4 -> movToCr4(g, controls, rip);
            case SvmGuestMode.EXIT_READ_CR8, SvmGuestMode.EXIT_WRITE_CR8 -> movCr8(g, controls, rip);
            case SvmGuestMode.EXIT_INVLPG -> invlpg(g, controls, rip);
            case SvmGuestMode.EXIT_IRET -> iret(g, controls, rip);
            case SvmGuestMode.EXIT_VMMCALL -> vmmcall(g, controls, rip);
            // VMRUN is an AMD instruction: #UD on the Intel CPU tdemu models.
            default -> raise(g, controls, Event.fault(ExceptionVector.UD).at(rip));
        };
    }

    /**
     * VMMCALL: VMGEXIT ({@code rep vmmcall}, F3 0F 01 D9) exits for an SEV-ES guest; anything else
     * is #UD, as VMMCALL is on the Intel CPU tdemu models otherwise.
     */
    private VmExit vmmcall(GuestEngine g, GuestControls controls, long rip) {
        byte[] code = g.readCode(rip, 4);
        if (controls.vmgexitExits() && starts(code, 0xF3, 0x0F, 0x01, 0xD9)) {
            return new VmExit.Vmgexit(rip, 4);
        }
        return raise(g, controls, Event.fault(ExceptionVector.UD).at(rip));
    }

    /**
     * INVLPG: the engine flushes its TLB and data breakpoints, which name linear addresses, are
     * translated again, so a watch follows its linear address to new physical memory.
     */
    private VmExit invlpg(GuestEngine g, GuestControls controls, long rip) {
        byte[] code = g.readCode(rip, X86Decoder.MAX_LENGTH);
        X86Instruction insn = decode(g, code);
        if (insn == null) {
            return undecodable(g, controls, rip, code);
        }
        if (!(insn.operation() instanceof Operation.Invlpg)) {
            return raise(g, controls, Event.fault(ExceptionVector.UD).at(rip));
        }
        Unicorn uc = g.engine();
        boolean tf = (uc.readReg(X86Reg.RFLAGS) & Rflags.TF) != 0;
        g.pageTablesChanged();
        uc.writeReg(X86Reg.RIP, rip + insn.length());
        return tf ? debugTrap(g, controls, List.of(), true, rip + insn.length(), false) : null;
    }

    /** SYSCALL, performed here because the engine does not (see {@link SyscallEmulation}). */
    private VmExit syscall(GuestEngine g, GuestControls controls, long rip) {
        return switch (SyscallEmulation.perform(g, rip)) {
            case SyscallEmulation.Outcome.Done d -> d.singleStep() ? debugTrap(g, controls, List.of(), true, d.rip(), false) : null;
            case SyscallEmulation.Outcome.Undefined u -> raise(g, controls, Event.fault(ExceptionVector.UD).at(rip));
        };
    }

    /** IRET, performed here rather than by the engine (see {@link IretEmulation}). */
    private VmExit iret(GuestEngine g, GuestControls controls, long rip) {
        byte[] code = g.readCode(rip, X86Decoder.MAX_LENGTH);
        X86Instruction insn = decode(g, code);
        if (insn == null) {
            return undecodable(g, controls, rip, code);
        }
        if (!(insn.operation() instanceof Operation.Iret iret)) {
            return raise(g, controls, Event.fault(ExceptionVector.UD).at(rip));
        }
        return switch (IretEmulation.perform(g, rip, iret.operandSize())) {
            case IretEmulation.Outcome.Done d -> {
                VmExit trap = d.trapFlagBefore() ? debugTrap(g, controls, List.of(), true, d.rip(), false) : null;
                if (controls.nmiBlocked()) {
                    // The single-step #DB (delivered above, unless it exits) comes before the NMI window.
                    if (trap == null && controls.nmiWindowExiting()) {
                        yield new VmExit.NmiWindow(g.engine().readReg(X86Reg.RIP)); // the VMM unblocks and injects
                    }
                    controls.unblockNmis();
                }
                if (trap == null && (g.engine().readReg(X86Reg.RFLAGS) & Rflags.RF) != 0) {
                    yield resumedInstruction(g, controls, d.rip());
                }
                yield trap;
            }
            case IretEmulation.Outcome.Fault f -> raise(g, controls, f.fault());
            case IretEmulation.Outcome.StackFault sf -> {
                int cpl = g.mode().cpl();
                long rflags = g.engine().readReg(X86Reg.RFLAGS);
                PageWalker.Result walk = PageWalker.walk(g.memory(), g.state().paging(), sf.linear(),
                        PageWalker.LinearAccess.explicit(PageWalker.AccessType.READ, cpl, (rflags & (1L << 18)) != 0, 0));
                long errorCode = walk instanceof PageWalker.PageFault pf ? pf.errorCode() : (cpl == 3 ? PageWalker.PF_USER : 0);
                g.engine().writeReg(X86Reg.CR2, sf.linear());
                yield pageFault(g, controls, errorCode, sf.linear(), rip);
            }
        };
    }

    /**
     * The IRET popped RF: it suppresses the instruction breakpoints of the next instruction only,
     * and the CPU clears it once that instruction completes (SDM 17.3.1.1). The engine keeps RF to
     * the end of its block, where it would suppress a breakpoint on a later instruction and where
     * its PUSHF would copy it (the SDM clears RF and VM in PUSHF's image). So that one instruction
     * runs as a step of its own, with RF, and RF is cleared after it; a PUSHF's image loses it.
     */
    private VmExit resumedInstruction(GuestEngine g, GuestControls controls, long rip) {
        Unicorn uc = g.engine();
        long rflags = uc.readReg(X86Reg.RFLAGS);
        boolean guestTf = (rflags & Rflags.TF) != 0;
        X86Instruction insn = g.instructionAt(rip);
        uc.writeReg(X86Reg.RFLAGS, rflags | Rflags.TF);
        EngineEvent stepped = int1(g, g.runDeferringKicks());
        clearResumeFlag(uc, insn);
        restoreTrapFlag(g, insn, guestTf, stepped instanceof EngineEvent.SingleStep);
        if (stepped instanceof EngineEvent.SingleStep s) {
            if (insn != null && insn.operation() instanceof Operation.Flags f && !f.pop() && f.operandSize() > 2) {
                clearPushedFlag(g, Rflags.RF);
            }
            return debugTrap(g, controls, List.of(), guestTf, s.rip(), false);
        }
        // The instruction did not complete (an exception, an intercept, I/O): handle that instead.
        return handle(g, controls, stepped);
    }

    /** The instruction at RIP as the CPU decodes it in its current mode, or null when its bytes do not make one. */
    private static X86Instruction decode(GuestEngine g, byte[] code) {
        return X86Decoder.decode(code, 0, g.state().executionMode()) instanceof X86Decoder.DecodeResult.Decoded d
                ? d.instruction() : null;
    }

    /** Bytes that do not decode: the fetch faulted where they end, or they are #UD (more than 15 bytes). */
    private VmExit undecodable(GuestEngine g, GuestControls controls, long rip, byte[] code) {
        return code.length < X86Decoder.MAX_LENGTH ? fetchFault(g, controls, rip, code.length)
                : raise(g, controls, Event.fault(ExceptionVector.UD).at(rip));
    }

    /** MOV DR: a VM exit when the VMM intercepts it, otherwise executed on the hardware registers. */
    private VmExit movDr(GuestEngine g, GuestControls controls, long rip) {
        byte[] code = g.readCode(rip, X86Decoder.MAX_LENGTH);
        X86Instruction insn = decode(g, code);
        if (insn == null) {
            return undecodable(g, controls, rip, code);
        }
        if (!(insn.operation() instanceof Operation.MovDr mov) || insn.prefixes().lock() || mov.debugRegister() > 7) {
            return raise(g, controls, Event.fault(ExceptionVector.UD).at(rip));
        }
        Unicorn uc = g.engine();
        CpuMode mode = g.mode();
        MovDrDirection direction = mov.toDebugRegister() ? MovDrDirection.TO_DR : MovDrDirection.FROM_DR;
        Optional<MovDrQualification> exit = controls.movDrExit(mode, mov.debugRegister(), direction, mov.gpr());
        if (exit.isPresent()) {
            return new VmExit.MovDr(exit.get(), rip, insn.length());
        }
        boolean tf = (uc.readReg(X86Reg.RFLAGS) & Rflags.TF) != 0;
        MovDrOutcome outcome = mov.toDebugRegister()
                ? hardware.movToDr(mode, mov.debugRegister(), uc.readReg(GPRS[mov.gpr()]))
                : hardware.movFromDr(mode, mov.debugRegister());
        return switch (outcome) {
            case MovDrOutcome.Completed c -> {
                if (!mov.toDebugRegister()) {
                    uc.writeReg(GPRS[mov.gpr()], c.value());
                }
                uc.writeReg(X86Reg.RIP, rip + insn.length());
                yield tf ? debugTrap(g, controls, List.of(), true, rip + insn.length(), false) : null;
            }
            case MovDrOutcome.GeneralDetect gd -> debugException(g, controls, gd.exception(), rip);
            case MovDrOutcome.Fault f -> raise(g, controls, Event.exception(f.vector(), 0, 0).at(rip)); // #GP(0) or #UD
        };
    }

    /** MOV to CR3 is intercepted so data breakpoints follow the new page tables; the CPU part is done here. */
    private VmExit movToCr3(GuestEngine g, GuestControls controls, long rip) {
        byte[] code = g.readCode(rip, X86Decoder.MAX_LENGTH);
        X86Instruction insn = decode(g, code);
        if (insn == null) {
            return undecodable(g, controls, rip, code);
        }
        if (!(insn.operation() instanceof Operation.MovCr mov) || !mov.toControlRegister() || mov.controlRegister() != 3) {
            return raise(g, controls, Event.fault(ExceptionVector.UD).at(rip));
        }
        Unicorn uc = g.engine();
        boolean tf = (uc.readReg(X86Reg.RFLAGS) & Rflags.TF) != 0;
        long value = uc.readReg(GPRS[mov.gpr()]);
        uc.writeReg(X86Reg.CR3, g.state().executionMode().is64Bit() ? value : value & 0xFFFF_FFFFL);
        uc.writeReg(X86Reg.RIP, rip + insn.length());
        return tf ? debugTrap(g, controls, List.of(), true, rip + insn.length(), false) : null;
    }

    /**
     * MOV to CR4, checked as the CPU checks it (SDM MOV CR, KVM's kvm_is_valid_cr4/kvm_set_cr4):
     * #GP(0) for a bit CPUID does not allow, for clearing PAE in IA-32e mode, for setting PCIDE
     * outside IA-32e mode or with CR3[11:0] non-zero, and for toggling LA57 in IA-32e mode; else
     * the engine's CR4 takes the value (its TLB flushed as the change requires).
     */
    private VmExit movToCr4(GuestEngine g, GuestControls controls, long rip) {
        byte[] code = g.readCode(rip, X86Decoder.MAX_LENGTH);
        X86Instruction insn = decode(g, code);
        if (insn == null) {
            return undecodable(g, controls, rip, code);
        }
        if (!(insn.operation() instanceof Operation.MovCr mov) || !mov.toControlRegister() || mov.controlRegister() != 4) {
            return raise(g, controls, Event.fault(ExceptionVector.UD).at(rip));
        }
        Unicorn uc = g.engine();
        long value = uc.readReg(GPRS[mov.gpr()]);
        if (!g.state().executionMode().is64Bit()) {
            value &= 0xFFFF_FFFFL;
        }
        long old = uc.readReg(X86Reg.CR4);
        boolean lma = (g.state().efer() & EFER_LMA) != 0;
        if ((value & controls.cr4ReservedBits()) != 0
                || lma && (value & CR4_PAE) == 0
                || (value & CR4_PCIDE) != 0 && (old & CR4_PCIDE) == 0 && (!lma || (uc.readReg(X86Reg.CR3) & 0xFFF) != 0)
                || lma && ((value ^ old) & CR4_LA57) != 0) {
            return raise(g, controls, Event.fault(ExceptionVector.GP).errorCode(0).at(rip));
        }
        boolean tf = (uc.readReg(X86Reg.RFLAGS) & Rflags.TF) != 0;
        uc.writeReg(X86Reg.CR4, value);
        uc.writeReg(X86Reg.RIP, rip + insn.length());
        return tf ? debugTrap(g, controls, List.of(), true, rip + insn.length(), false) : null;
    }

    /** MOV to or from CR8: an exit, for the VMM to reach the local APIC's TPR. */
    private VmExit movCr8(GuestEngine g, GuestControls controls, long rip) {
        byte[] code = g.readCode(rip, X86Decoder.MAX_LENGTH);
        X86Instruction insn = decode(g, code);
        if (insn == null) {
            return undecodable(g, controls, rip, code);
        }
        if (!(insn.operation() instanceof Operation.MovCr mov) || mov.controlRegister() != 8) {
            return raise(g, controls, Event.fault(ExceptionVector.UD).at(rip));
        }
        return new VmExit.CrAccess(8, mov.toControlRegister(), mov.gpr(), rip, insn.length());
    }

    private VmExit invalidInstruction(GuestEngine g, GuestControls controls, long rip) {
        byte[] code = g.readCode(rip, 4);
        if (code.length == 0) {
            return fetchFault(g, controls, rip, 0);
        }
        if (starts(code, 0x0F, 0x01, 0xC1) && controls.vmcallExits()) {
            return new VmExit.Vmcall(rip, 3);
        }
        if (starts(code, 0x66, 0x0F, 0x01, 0xCC) && controls.tdcallExits()) {
            return new VmExit.Tdcall(rip, 4);
        }
        // The engine raises #UD for ICEBP (INT1), prefixed or not: a trap #DB that sets no DR6 condition bit.
        X86Instruction insn = g.instructionAt(rip);
        if (insn != null && insn.operation() instanceof Operation.SoftwareInterrupt si
                && si.instruction() == Event.Instruction.INT1) {
            DebugException icebp = hardware.icebp();
            if (controls.exceptionExits(ExceptionVector.DB)) {
                return new VmExit.ExceptionNmi(ExceptionVector.DB, -1, icebp.pending(), rip, insn.length(), true, 0, List.of());
            }
            hardware.deliver(icebp);
            return deliver(g, Event.trap(ExceptionVector.DB).after(rip + insn.length()));
        }
        // The engine's CPU model has no RDTSCP and raises #UD before its intercept check: the CPU's
        // checks are made here (CR4.TSD at CPL > 0 is #GP(0)), then RDTSCP exits like RDTSC.
        if (insn != null && insn.operation() instanceof Operation.Named n && n.name() == Operation.Name.RDTSCP
                && !insn.prefixes().lock() && controls.rdtscpEnabled()) {
            if ((g.engine().readReg(X86Reg.CR4) & CR4_TSD) != 0 && g.mode().cpl() != 0) {
                return raise(g, controls, Event.fault(ExceptionVector.GP).errorCode(0).at(rip));
            }
            return new VmExit.Rdtscp(rip, insn.length());
        }
        VmExit rdpid = rdpid(g, controls, rip);
        if (rdpid != NOT_RDPID) {
            return rdpid;
        }
        return raise(g, controls, Event.fault(ExceptionVector.UD).at(rip));
    }

    /** Marks "the #UD was not for RDPID" (null means the RDPID completed and the guest runs on). */
    private static final VmExit NOT_RDPID = new VmExit.ExternalInterrupt(-1);

    /**
     * RDPID (F3 [REX] 0F C7 /7, register form), which the engine's CPU model lacks: IA32_TSC_AUX
     * into the register (64 bits in 64-bit mode, else 32). It never exits (VMX has no RDPID
     * exiting). {@link #NOT_RDPID} when the bytes are something else or RDPID is not offered.
     */
    private VmExit rdpid(GuestEngine g, GuestControls controls, long rip) {
        byte[] code = g.readCode(rip, 5);
        boolean is64 = g.state().executionMode().is64Bit();
        int at = 1;
        int rex = 0;
        if (code.length > 1 && is64 && (code[1] & 0xF0) == 0x40) {
            rex = code[1];
            at = 2;
        }
        if (code.length < at + 3 || (code[0] & 0xFF) != 0xF3 || (code[at] & 0xFF) != 0x0F || (code[at + 1] & 0xFF) != 0xC7
                || (code[at + 2] & 0xF8) != 0xF8 || !controls.rdpidEnabled()) {
            return NOT_RDPID;
        }
        Unicorn uc = g.engine();
        boolean tf = (uc.readReg(X86Reg.RFLAGS) & Rflags.TF) != 0;
        long aux = g.readEngineMsr(MSR_TSC_AUX);
        uc.writeReg(GPRS[(code[at + 2] & 7) | ((rex & 1) << 3)], is64 ? aux : aux & 0xFFFF_FFFFL);
        long next = rip + at + 3;
        uc.writeReg(X86Reg.RIP, next);
        return tf ? debugTrap(g, controls, List.of(), true, next, false) : null;
    }

    private static boolean starts(byte[] code, int... bytes) {
        if (code.length < bytes.length) {
            return false;
        }
        for (int i = 0; i < bytes.length; i++) {
            if ((code[i] & 0xFF) != bytes[i]) {
                return false;
            }
        }
        return true;
    }

    private VmExit portIo(GuestEngine g, GuestControls controls, PortIo io, long rip) {
        Unicorn uc = g.engine();
        int port = io.port() >= 0 ? io.port() : (int) (uc.readReg(X86Reg.RDX) & 0xFFFF);
        IoQualification q = new IoQualification(io.size(), io.in(), io.string(), io.rep(), io.port() >= 0, port);
        if (!controls.ioPassthrough(port)) {
            return new VmExit.Io(q, io.addressSize(), rip, io.length());
        }
        // Passed through to no device: reads float high, writes vanish. INS/OUTS go one iteration
        // at a time: each is an I/O access and a memory access, both matched against the
        // breakpoints, and a trap after an iteration with more to go leaves RIP on the instruction
        // and pushes RF=1 (SDM 17.3.1.1), so the engine comes back here for the next one.
        boolean tf = (uc.readReg(X86Reg.RFLAGS) & Rflags.TF) != 0;
        return switch (PortIoEmulation.perform(g, q, io.addressSize(), PortIoEmulation.NOTHING, 1)) {
            case PortIoEmulation.Outcome.PageFault f -> {
                uc.writeReg(X86Reg.CR2, f.address());
                yield pageFault(g, controls, f.errorCode(), f.address(), rip);
            }
            case PortIoEmulation.Outcome.Done d -> {
                long resume = d.more() ? rip : rip + io.length();
                uc.writeReg(X86Reg.RIP, resume);
                yield debugTrap(g, controls, d.accesses(), tf, resume, d.more());
            }
        };
    }

    /**
     * The TLB fill for an access of the instruction at {@code rip} was refused (it touches a page
     * holding an enabled data breakpoint, or may fault): run exactly that instruction with the
     * engine's own page walk and record its accesses to watched ranges, then raise the trap #DB if
     * one of them meets a breakpoint (data breakpoints are traps: RIP is the next instruction), or
     * handle whatever else stopped it (a page fault, exact as ever).
     */
    private VmExit stepWatched(GuestEngine g, GuestControls controls, long rip, boolean fetch) {
        Unicorn uc = g.engine();
        long rflags = uc.readReg(X86Reg.RFLAGS);
        boolean guestTf = (rflags & Rflags.TF) != 0;
        X86Instruction insn = g.instructionAt(rip);
        DrEnforcer enforcer = g.enforcer();
        if (fetch && (rflags & Rflags.RF) == 0) {
            // A refused fetch comes before the instruction's execute-breakpoint check, which the
            // step below skips (RF): make that check here.
            Optional<DebugException> db = hardware.checkInstructionFetch(rip, false, g.mode());
            if (db.isPresent()) {
                return debugException(g, controls, db.get(), rip);
            }
        }
        List<X86Decoder.Candidate> candidates = candidatePages(g, insn, rip);
        enforcer.openForStep();
        // RF: the instruction already passed its instruction-breakpoint check (when it started and
        // stopped at its memory access, or just above), so an execute breakpoint on it must not
        // fire again for the re-run. The engine clears RF once the instruction completes.
        uc.writeReg(X86Reg.RFLAGS, rflags | Rflags.TF | Rflags.RF);
        EngineEvent stepped;
        List<DrEnforcer.PhysicalAccess> physical;
        try {
            stepped = int1(g, g.runDeferringKicks());
        } finally {
            physical = enforcer.closeAfterStep();
        }
        List<Access.DataAccess> accesses = toLinear(g, physical, candidates);
        clearResumeFlag(uc, insn);
        restoreTrapFlag(g, insn, guestTf, stepped instanceof EngineEvent.SingleStep);
        if (stepped instanceof EngineEvent.SingleStep s) {
            // A REP string instruction that stopped on its own address has iterations left: the
            // trap after a non-final iteration pushes RF=1 (SDM "Instruction-Breakpoint Exception
            // Condition", rules for the RF value pushed), so that resuming it skips its instruction
            // breakpoint.
            return debugTrap(g, controls, accesses, guestTf, s.rip(), s.rip() == rip && isRepString(insn));
        }
        if (insn != null && insn.operation() instanceof Operation.LoadSs && !accesses.isEmpty()) {
            Optional<DebugException> data = hardware.checkAfterInstruction(accesses, false, g.mode());
            if (data.isPresent()) {
                return afterMovSsShadow(g, controls, stepped, data.get());
            }
        }
        // The instruction did not complete (an exception, an intercept, I/O): handle that instead.
        return handle(g, controls, stepped);
    }

    /**
     * MOV SS and POP SS hold the #DB their own data breakpoint raises until the instruction after
     * them completes (SDM 6.8.3, "Masking Exceptions and Interrupts When Switching Stacks"), and
     * the engine, which suppresses the single step after them, ran that instruction in the same
     * step; here it ended in an event instead of completing quietly. ICEBP reports the held
     * conditions in its own #DB (one delivery); any other event (INT n, INT3, an exception) is
     * delivered first and the held #DB follows before the handler's first instruction.
     */
    private VmExit afterMovSsShadow(GuestEngine g, GuestControls controls, EngineEvent stepped, DebugException held) {
        if (stepped instanceof EngineEvent.InvalidInstruction ii) {
            X86Instruction next = g.instructionAt(ii.rip());
            if (next != null && next.operation() instanceof Operation.SoftwareInterrupt si
                    && si.instruction() == Event.Instruction.INT1) {
                PendingDebug merged = hardware.icebp().pending().or(held.pending());
                if (controls.exceptionExits(ExceptionVector.DB)) {
                    return new VmExit.ExceptionNmi(ExceptionVector.DB, -1, merged, ii.rip(), next.length(), true, 0, List.of());
                }
                hardware.deliver(new DebugException(held.vector(), EventClass.TRAP, merged, hardware.dr6().deliver(merged)));
                return deliver(g, Event.trap(ExceptionVector.DB).after(ii.rip() + next.length()));
            }
        }
        VmExit exit = handle(g, controls, stepped);
        if (exit != null) {
            LOG.debug("cpu{}: the #DB held by MOV SS ({}) is dropped: the next instruction ended in a VM exit", id,
                    held.pending());
            return exit;
        }
        return debugException(g, controls, held, g.engine().readReg(X86Reg.RIP));
    }

    /**
     * The linear pages the instruction at {@code rip} may touch (its operand, string registers,
     * stack), each with its physical page, computed before it runs (it may change the registers).
     * Data breakpoints match linear addresses while the engine reports physical ones; this is how
     * an access through another mapping of a watched page is told apart from the watched address.
     */
    private static List<X86Decoder.Candidate> candidatePages(GuestEngine g, X86Instruction insn, long rip) {
        if (insn == null) {
            return List.of();
        }
        return insn.candidates(g.instructionRegisters(), rip);
    }

    /** Physical accesses to watched ranges as the linear accesses the instruction made (see {@link #candidatePages}). */
    private static List<Access.DataAccess> toLinear(GuestEngine g, List<DrEnforcer.PhysicalAccess> physical,
                                                    List<X86Decoder.Candidate> candidates) {
        if (physical.isEmpty()) {
            return List.of();
        }
        List<Access.DataAccess> out = new java.util.ArrayList<>(physical.size());
        for (DrEnforcer.PhysicalAccess a : physical) {
            long page = a.physical() & -DrEnforcer.PAGE;
            X86Decoder.Role preferred = a.kind() == DataAccessKind.WRITE ? X86Decoder.Role.DESTINATION : X86Decoder.Role.SOURCE;
            long linear = -1;
            for (X86Decoder.Candidate c : candidates) {
                long cp = g.toPhysical(c.linear());
                if (cp < 0 || (cp & -DrEnforcer.PAGE) != page) {
                    continue;
                }
                long l = (c.linear() & -DrEnforcer.PAGE) + (a.physical() - page);
                if (linear < 0 || c.role() == preferred) {
                    linear = l;
                }
            }
            if (linear < 0) {
                linear = g.enforcer().linearThroughWatch(a.physical());
                LOG.debug("no operand of the instruction maps physical 0x{}; taking the watch's own mapping",
                        Long.toHexString(a.physical()));
            }
            out.add(new Access.DataAccess(linear, a.size(), a.kind()));
        }
        return out;
    }

    /** Clears the RF set for a one-instruction step (as completing an instruction does), unless it was an IRET that loaded RF. */
    private static void clearResumeFlag(Unicorn uc, X86Instruction insn) {
        if (insn != null && insn.operation() instanceof Operation.Iret) {
            return;
        }
        uc.writeReg(X86Reg.RFLAGS, uc.readReg(X86Reg.RFLAGS) & ~Rflags.RF);
    }

    /**
     * Undoes the TF tdemu forced for a one-instruction step, unless the instruction completed and
     * itself set RFLAGS. An instruction that did not complete in the step (an intercepted IRET, a
     * fault) loaded nothing: the guest's own TF goes back, or the VMM's IRET would see tdemu's TF
     * as the guest's and owe it a single-step trap.
     */
    private static void restoreTrapFlag(GuestEngine g, X86Instruction insn, boolean guestTf, boolean completed) {
        Unicorn uc = g.engine();
        Operation op = insn == null ? null : insn.operation();
        if (completed && (op instanceof Operation.Iret || op instanceof Operation.Flags f && f.pop())) {
            return; // POPF / IRET loaded RFLAGS from memory: TF is what the guest stored.
        }
        if (completed && op instanceof Operation.Flags && !guestTf) {
            clearPushedFlag(g, Rflags.TF); // PUSHF saw tdemu's TF: the guest's copy must not
        }
        long rflags = uc.readReg(X86Reg.RFLAGS);
        uc.writeReg(X86Reg.RFLAGS, guestTf ? rflags | Rflags.TF : rflags & ~Rflags.TF);
    }

    /** Clears {@code flag} (one RFLAGS bit) in the flags image PUSHF just left at SS:RSP. */
    private static void clearPushedFlag(GuestEngine g, long flag) {
        CpuState state = g.state();
        long sp = g.engine().readReg(X86Reg.RSP);
        long linear;
        if (state.executionMode() == dev.tdemu.core.x86.ExecutionMode.LONG_64) {
            linear = sp;
        } else {
            dev.tdemu.core.x86.Segment ss = state.segment(dev.tdemu.core.x86.Sreg.SS);
            linear = (ss.base() + (sp & (ss.defaultBig() ? 0xFFFF_FFFFL : 0xFFFFL))) & 0xFFFF_FFFFL;
        }
        int bit = Long.numberOfTrailingZeros(flag);
        long physical = g.toPhysical(linear + bit / 8);
        if (physical >= 0 && g.memory().contains(physical, 1)) {
            g.memory().write8(physical, g.memory().read8(physical) & ~(1 << (bit % 8)));
        }
    }

    /** Whether {@code insn} is a REP/REPNE-prefixed string instruction (MOVS, CMPS, STOS, LODS, SCAS, INS, OUTS). */
    static boolean isRepString(X86Instruction insn) {
        return insn != null && switch (insn.operation()) {
            case Operation.StringOp op -> op.repeat() != Operation.Repeat.NONE;
            case Operation.PortIo io -> io.string() && io.rep();
            default -> false;
        };
    }

    /**
     * The instruction at {@code rip} is intercepted (or invalid), but its bytes from
     * {@code rip + readable} on are not mapped by the page tables as they are now: the guest
     * changed the tables of the page it runs from, and the engine still held the old translation.
     * The CPU may drop a translation at any time, so the architectural outcome is the fetch's #PF
     * (CR2 = the first byte it could not fetch, the error code of that fetch), never a #UD for
     * bytes tdemu could not read.
     */
    private VmExit fetchFault(GuestEngine g, GuestControls controls, long rip, int readable) {
        CpuState state = g.state();
        long linear = state.codeLinear(rip) + readable;
        int cpl = g.mode().cpl();
        long rflags = g.engine().readReg(X86Reg.RFLAGS);
        PageWalker.Result walk = PageWalker.walk(g.memory(), state.paging(), linear,
                PageWalker.LinearAccess.explicit(PageWalker.AccessType.FETCH, cpl, (rflags & (1L << 18)) != 0, 0));
        // A walk that succeeds means the bytes lie outside guest RAM: report a not-present fetch there.
        long errorCode = walk instanceof PageWalker.PageFault pf ? pf.errorCode() : (cpl == 3 ? PageWalker.PF_USER : 0);
        g.engine().writeReg(X86Reg.CR2, linear);
        return pageFault(g, controls, errorCode, linear, rip);
    }

    /** #PF (CR2 already holds {@code linear}): to the VMM when intercepted, else delivered through the guest's IDT. */
    private VmExit pageFault(GuestEngine g, GuestControls controls, long errorCode, long linear, long rip) {
        return raise(g, controls, Event.pageFault((int) errorCode, linear).at(rip));
    }

    /**
     * After an instruction completed: one trap #DB for its data/I/O breakpoint hits and single step.
     * {@code iterationsLeft}: the instruction was a non-final iteration of a REP string instruction.
     */
    private VmExit debugTrap(GuestEngine g, GuestControls controls, List<? extends Access> accesses, boolean singleStep,
                                long nextRip, boolean iterationsLeft) {
        Optional<DebugException> db = hardware.checkAfterInstruction(accesses, singleStep, g.mode());
        return db.map(e -> debugException(g, controls, e, nextRip, iterationsLeft, accesses)).orElse(null);
    }

    private VmExit debugException(GuestEngine g, GuestControls controls, DebugException e, long rip) {
        return debugException(g, controls, e, rip, false, List.of());
    }

    /**
     * The single-step trap (DR6.BS) for an instruction that something other than this CPU completed
     * for the guest (the TDX module, for a TD) while RFLAGS.TF was set: delivered now, or the exit
     * when #DB is intercepted; null to keep running.
     */
    public VmExit singleStepTrap(GuestEngine g, GuestControls controls, long nextRip) {
        return debugTrap(g, controls, List.of(), true, nextRip, false);
    }

    /**
     * A #DB raised by the debug architecture: to the VMM if intercepted (DR6 untouched), else delivered.
     * The RF value the frame gets follows the SDM: 1 for a fault other than an instruction breakpoint
     * (general detect) and for a trap after a non-final REP iteration, else 0. A VM exit saves that
     * same value in the guest's RFLAGS, and the VMM's re-injection pushes it from there. An exit
     * carries the instruction's accesses (a debugger's read watchpoint needs to know it read).
     */
    private VmExit debugException(GuestEngine g, GuestControls controls, DebugException e, long rip,
                                     boolean iterationsLeft, List<? extends Access> accesses) {
        boolean fault = e.eventClass() == EventClass.FAULT;
        boolean rf = fault ? e.pending().bd() : iterationsLeft;
        if (controls.exceptionExits(ExceptionVector.DB)) {
            if (rf) {
                Unicorn uc = g.engine();
                uc.writeReg(X86Reg.RFLAGS, uc.readReg(X86Reg.RFLAGS) | Rflags.RF);
            }
            return new VmExit.ExceptionNmi(ExceptionVector.DB, -1, e.pending(), rip, 0, false, 0, List.copyOf(accesses));
        }
        hardware.deliver(e);
        return deliver(g, (fault ? Event.fault(ExceptionVector.DB).at(rip) : Event.trap(ExceptionVector.DB).after(rip))
                .withResumeFlag(rf));
    }

    /**
     * An exception or software interrupt raised at an instruction: a VM exit when the VMM
     * intercepts its vector (the exit reports the instruction's RIP, its length for INT3, INTO or
     * INT n, the error code and #PF's CR2), else delivered through the guest's IDT now.
     */
    private VmExit raise(GuestEngine g, GuestControls controls, EventDelivery delivery) {
        ExceptionVector intercepted = switch (delivery.event()) {
            case Event.HardwareException e -> e.exception();
            case Event.SoftwareInterrupt s when ExceptionVector.isDefined(s.vector()) -> ExceptionVector.fromVector(s.vector());
            default -> null;
        };
        if (intercepted != null && controls.exceptionExits(intercepted)) {
            int length = delivery.event() instanceof Event.SoftwareInterrupt s ? s.length() : 0;
            long errorCode = -1, cr2 = 0;
            if (delivery.event() instanceof Event.HardwareException e) {
                errorCode = e.errorCode().isPresent() ? Integer.toUnsignedLong(e.errorCode().getAsInt()) : -1;
                cr2 = e.cr2().orElse(0);
            }
            return new VmExit.ExceptionNmi(intercepted, errorCode, PendingDebug.NONE, delivery.instructionRip(), length, false,
                    cr2, List.of());
        }
        return deliver(g, delivery);
    }

    /**
     * Delivers {@code event} through the guest's IDT now; null to keep running, or the triple fault.
     * The VMM uses this to inject events at VM entry too.
     */
    public VmExit deliver(GuestEngine g, EventDelivery event) {
        return switch (IdtDelivery.deliver(new EngineIdtCpu(g), event)) {
            case IdtDelivery.Result.Delivered d -> {
                if (LOG.isTraceEnabled()) {
                    LOG.trace("cpu{}: delivered {} to 0x{}", id, d.delivered(), Long.toHexString(d.handler()));
                }
                yield null;
            }
            case IdtDelivery.Result.TripleFault t -> new VmExit.TripleFault(t.reason(), event.returnRip());
        };
    }
}
