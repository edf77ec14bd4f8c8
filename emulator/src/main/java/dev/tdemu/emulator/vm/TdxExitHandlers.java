package dev.tdemu.emulator.vm;

import dev.tdemu.core.x86.ExceptionVector;
import dev.tdemu.core.x86.EventDelivery;
import dev.tdemu.core.x86.Event;
import dev.tdemu.core.x86.Rflags;

import dev.tdemu.core.kvm.TdVmcallResult;
import dev.tdemu.core.kvm.TdxVmcall;
import dev.tdemu.core.tdx.GprUpdates;
import dev.tdemu.core.tdx.TdEvent;
import dev.tdemu.core.tdx.TdEventResult;
import dev.tdemu.core.tdx.TdVcpu;
import dev.tdemu.core.tdx.TdVmcallArgs;
import dev.tdemu.core.tdx.TdcallRegs;
import dev.tdemu.core.tdx.TdcallResult;
import dev.tdemu.core.tdx.TdxModule;
import dev.tdemu.core.vmx.IoQualification;
import dev.tdemu.core.x86.Gpr;
import dev.tdemu.emulator.cpu.VmExit;
import java.util.Map;

/**
 * A trust domain's exits, in the two places the TDX architecture handles them. Inside the TD, the
 * TDX module ({@code core.tdx.TdxModule}) answers TDCALL leaves and CPUID leaf 0x21 and turns
 * CPUID, HLT, port I/O, MSR accesses and EPT violations into #VE; only TDG.VP.VMCALL, a debug TD's
 * intercepted exceptions and what the module cannot handle leave the TD. On the host, KVM's
 * {@code tdx_handle_exit} handles those: TDG.VP.VMCALL through {@code core.kvm.TdxVmcall}. This
 * class only adapts the module's and KVM's decisions to the vCPU. One per TD vCPU.
 */
final class TdxExitHandlers {
    private final TdxModule module;
    private final TdVcpu tdVcpu;
    private final int gpaw;
    /** KVM's TDG.VP.VMCALL handling for this vCPU, made with the vCPU's Vmm at its first exit. */
    private TdxVmcall kvmTdx;
    private String lastVirtualizationException;
    /** The registers of the TDG.VP.VMCALL the TD exited with, until KVM answers it. */
    private TdVmcallArgs vmcall;

    TdxExitHandlers(TdxModule module, TdVcpu tdVcpu, int gpaw) {
        this.module = module;
        this.tdVcpu = tdVcpu;
        this.gpaw = gpaw;
    }

    /** What the TDX module does with an exit inside the TD. */
    sealed interface InTd {
        /** The module handled it: the TD runs on, after {@code then} if it is not null (a #DB or #VE to deliver). */
        record Handled(InTdEvent then) implements InTd {}

        /** A TD exit to the host. */
        record ExitToHost(VmExit exit) implements InTd {}

        /** The module cannot go on (a leaf or case tdemu does not model, a private EPT violation). */
        record Stop(VmResult.Outcome outcome, String why) implements InTd {}
    }

    /** Something the TD takes right away, inside the TD, before it runs on. */
    sealed interface InTdEvent {
        /** Deliver this exception (#VE, #GP, #DF) through the TD's IDT. */
        record Deliver(EventDelivery event) implements InTdEvent {}

        /** The single-step #DB an instruction the module completed owes (RFLAGS.TF was set). */
        record SingleStep(long nextRip) implements InTdEvent {}
    }

    /** The TDX module's side of {@code exit}, in the TD. */
    InTd handleInTd(ExitContext v, VmExit exit) {
        return switch (exit) {
            case VmExit.Cpuid c -> event(v, new TdEvent.Cpuid(c.rip(), c.length(), v.rflags(), v.mode().cpl(), v.read(Gpr.RAX),
                    v.read(Gpr.RCX)));
            case VmExit.Hlt h -> event(v, new TdEvent.Hlt(h.rip(), h.length()));
            case VmExit.Rdmsr r -> event(v, new TdEvent.Rdmsr(r.rip(), r.length(), v.read(Gpr.RCX) & 0xFFFF_FFFFL, v.rflags()), r);
            case VmExit.Wrmsr w -> event(v, new TdEvent.Wrmsr(w.rip(), w.length(), v.read(Gpr.RCX) & 0xFFFF_FFFFL), w);
            case VmExit.Io io -> {
                IoQualification q = io.io();
                yield event(v, new TdEvent.PortIo(io.rip(), io.length(), q.port(), q.size(), q.in(), q.string(), q.rep(),
                        q.immediate()));
            }
            case VmExit.IoPerformed p -> new InTd.Handled(null); // the engine already did it through the VMM's devices
            // The TSC is virtualized by the CPU for a TD; tdemu's module answers from the machine's clock.
            case VmExit.Rdtsc r -> {
                VmxExitHandlers.kvmEmulateRdtsc(v, r, false);
                yield new InTd.Handled(null);
            }
            case VmExit.Rdtscp r -> {
                VmxExitHandlers.kvmEmulateRdtsc(v, r, true);
                yield new InTd.Handled(null);
            }
            case VmExit.Tdcall t -> tdcall(v, t);
            case VmExit.EptViolation e -> switch (module.handleTdEvent(tdVcpu,
                    new TdEvent.EptViolation(e.rip(), e.gpa(), -1, e.qualification()))) {
                case TdEventResult.ExitToHost x -> new InTd.ExitToHost(e);
                case TdEventResult other -> afterEvent(v, other);
            };
            case VmExit.Vmcall c -> throw new IllegalStateException("a TD's VMCALL is #UD in the TD, never an exit");
            // The TDX module enables no PAUSE-loop exiting (such an exit would be fatal to a
            // non-debug TD); tdemu hands a spinning TD vCPU's engine on without an exit.
            case VmExit.PauseInstruction p -> throw new IllegalStateException("a TD's PAUSE never exits (no PAUSE-loop exiting)");
            case VmExit.Vmgexit g -> throw new IllegalStateException("a TD's VMMCALL is #UD in the TD, never an exit");
            case VmExit.MovDr m -> throw new IllegalStateException("a TD's MOV DR never exits (KVM_DEBUGREG_AUTO_SWITCH)");
            case VmExit.ExceptionNmi e -> new InTd.ExitToHost(e);
            case VmExit.TripleFault t -> new InTd.ExitToHost(t);
            case VmExit.ExternalInterrupt x -> new InTd.ExitToHost(x);
            case VmExit.InterruptWindow w -> new InTd.ExitToHost(w);
            case VmExit.NmiWindow w -> throw new IllegalStateException("a TD's IRET never exits (tdemu's own intercepts)");
            // A TD reaches devices through TDG.VP.VMCALL<#VE.RequestMMIO>; its vCPUs take no MMIO exits.
            case VmExit.ApicAccess a -> throw new IllegalStateException("a TD's local APIC is in x2APIC mode: no APIC-access exits");
            case VmExit.EptMisconfig m -> throw new IllegalStateException("a TD's device memory is reached through TDG.VP.VMCALL, never an exit");
            // A TD runs with tdemu's own intercepts, which leave CR8 to the engine: the TDX module virtualizes the TPR.
            case VmExit.CrAccess c -> throw new IllegalStateException("a TD's MOV CR8 never exits (TPR virtualization)");
        };
    }

    private InTd event(ExitContext v, TdEvent event) {
        TdEventResult result = module.handleTdEvent(tdVcpu, event);
        if (result instanceof TdEventResult.InjectVe || result instanceof TdEventResult.InjectDf) {
            lastVirtualizationException = String.format("%s at RIP 0x%x", describe(event), v.rip());
        }
        return afterEvent(v, result);
    }

    /** What the last #VE (or the #DF that replaced one) was for, for the report of a TD that dies of it; null before any. */
    String lastVirtualizationException() {
        return lastVirtualizationException;
    }

    private static String describe(TdEvent event) {
        return switch (event) {
            case TdEvent.Cpuid c -> String.format("CPUID leaf 0x%x", c.rax() & 0xFFFF_FFFFL);
            case TdEvent.Hlt h -> "HLT";
            case TdEvent.PortIo p -> String.format("%s port 0x%x", p.in() ? "IN from" : "OUT to", p.port());
            case TdEvent.Rdmsr r -> String.format("RDMSR 0x%x", r.ecx());
            case TdEvent.Wrmsr w -> String.format("WRMSR 0x%x", w.ecx());
            case TdEvent.EptViolation e -> String.format("an EPT violation at guest-physical 0x%x", e.gpa());
        };
    }

    /** RDMSR or WRMSR: performed on the vCPU's own MSRs when the TD's MSR bitmap passes it through, else as the module says. */
    private InTd event(ExitContext v, TdEvent event, VmExit.Instruction msrExit) {
        TdEventResult result = module.handleTdEvent(tdVcpu, event);
        if (!(result instanceof TdEventResult.NativeMsrAccess access)) {
            return afterEvent(v, result);
        }
        boolean ok = access.write() ? VmxExitHandlers.performWrmsr(v) : VmxExitHandlers.performRdmsr(v);
        if (!ok) {
            return new InTd.Handled(new InTdEvent.Deliver(Event.fault(ExceptionVector.GP).errorCode(0).at(msrExit.rip())));
        }
        long next = msrExit.rip() + msrExit.length();
        v.setRip(next);
        return new InTd.Handled((v.rflags() & Rflags.TF) != 0 ? new InTdEvent.SingleStep(next) : null);
    }

    private InTd afterEvent(ExitContext v, TdEventResult result) {
        return switch (result) {
            case TdEventResult.AnsweredByModule a -> {
                apply(v, a.updates());
                v.setRip(a.nextRip());
                yield new InTd.Handled(a.singleStepTrap() ? new InTdEvent.SingleStep(a.nextRip()) : null);
            }
            // #VE is a fault: the return RIP is the instruction's, the pushed RFLAGS has RF set.
            case TdEventResult.InjectVe ve -> new InTd.Handled(new InTdEvent.Deliver(
                    Event.fault(ExceptionVector.VE).at(v.rip())));
            case TdEventResult.InjectDf df -> new InTd.Handled(new InTdEvent.Deliver(
                    Event.abort(ExceptionVector.DF).errorCode(0).at(v.rip())));
            case TdEventResult.InjectGp gp -> new InTd.Handled(new InTdEvent.Deliver(Event.fault(ExceptionVector.GP).errorCode(0).at(v.rip())));
            case TdEventResult.NativeMsrAccess n -> throw new IllegalStateException("only RDMSR and WRMSR are native: " + n);
            case TdEventResult.ExitToHost x -> new InTd.Stop(VmResult.Outcome.MEMORY_FAULT, String.format(
                    "TD vCPU %d: EPT violation at guest-physical 0x%x that the TDX module sends to the host, at RIP 0x%x",
                    v.vcpuIndex(), x.gpa(), v.rip()));
        };
    }

    private InTd tdcall(ExitContext v, VmExit.Tdcall t) {
        long[] gprs = new long[16];
        for (Gpr r : Gpr.values()) {
            gprs[r.index()] = v.read(r);
        }
        TdcallResult r = module.tdcall(tdVcpu, TdcallRegs.of(gprs, t.rip(), v.rflags(), v.mode()));
        return switch (r) {
            case TdcallResult.Completed c -> {
                apply(v, c.updates());
                v.setRip(c.nextRip());
                yield new InTd.Handled(c.singleStepTrap() ? new InTdEvent.SingleStep(c.nextRip()) : null);
            }
            case TdcallResult.InjectGp gp -> new InTd.Handled(new InTdEvent.Deliver(Event.fault(ExceptionVector.GP).errorCode(0).at(t.rip())));
            case TdcallResult.VmcallExit x -> {
                vmcall = x.args();
                yield new InTd.ExitToHost(t);
            }
            case TdcallResult.EptViolationExit e -> new InTd.Stop(VmResult.Outcome.MEMORY_FAULT, String.format(
                    "TD vCPU %d: TDG.MEM.PAGE.ACCEPT of guest-physical 0x%x, which no private memory backs, at RIP 0x%x",
                    v.vcpuIndex(), e.gpa(), t.rip()));
            case TdcallResult.NotModelled n -> new InTd.Stop(VmResult.Outcome.NOT_MODELLED, String.format(
                    "TD vCPU %d at RIP 0x%x: %s", v.vcpuIndex(), t.rip(), n.what()));
        };
    }

    /** For the exit trace: the TDG.VP.VMCALL subfunction (R11) of a TDCALL exit, else 0. */
    long tdcallLeaf(VmExit exit) {
        return exit instanceof VmExit.Tdcall && vmcall != null ? vmcall.r11() : 0;
    }

    /** KVM's {@code tdx_handle_exit}: what leaves the TD. Returns false when this vCPU stops. */
    boolean handleOnHost(ExitContext v, VmExit exit) {
        boolean keepRunning = switch (exit) {
            case VmExit.Tdcall t -> tdgVpVmcall(v);
            case VmExit.ExceptionNmi e -> VmxExitHandlers.handleExceptionNmi(v, e);
            case VmExit.EptViolation e -> VmxExitHandlers.handleEptViolation(v, e);
            case VmExit.TripleFault t -> {
                if (lastVirtualizationException == null) {
                    yield VmxExitHandlers.handleTripleFault(v, t);
                }
                // The usual way a kernel that does not know it runs in a TD dies: its first #VE.
                String detail = String.format("TD vCPU %d triple fault at RIP 0x%x: %s; the TD's last "
                        + "#VE was for %s (a TD reaches devices, MSRs and CPUID leaves the TDX module does not answer through "
                        + "TDG.VP.VMCALL, GHCI; a kernel that is not TD-aware cannot run here)", v.vcpuIndex(), t.rip(), t.why(),
                        lastVirtualizationException);
                yield VmxExitHandlers.shutdown(v, detail, t.rip());
            }
            case VmExit.ExternalInterrupt x -> true;
            case VmExit.InterruptWindow w -> true;
            case VmExit.Cpuid c -> unreachable(c);
            case VmExit.Hlt h -> unreachable(h);
            case VmExit.Rdmsr r -> unreachable(r);
            case VmExit.Wrmsr w -> unreachable(w);
            case VmExit.Rdtsc r -> unreachable(r);
            case VmExit.Rdtscp r -> unreachable(r);
            case VmExit.Io io -> unreachable(io);
            case VmExit.IoPerformed p -> unreachable(p);
            case VmExit.Vmcall c -> unreachable(c);
            case VmExit.PauseInstruction p -> unreachable(p);
            case VmExit.Vmgexit g -> unreachable(g);
            case VmExit.MovDr m -> unreachable(m);
            case VmExit.CrAccess c -> unreachable(c);
            case VmExit.NmiWindow w -> unreachable(w);
            case VmExit.ApicAccess a -> unreachable(a);
            case VmExit.EptMisconfig m -> unreachable(m);
        };
        return keepRunning && !v.vmFinished();
    }

    private static boolean unreachable(VmExit exit) {
        throw new IllegalStateException("the TDX module handles " + exit + " inside the TD; it never reaches KVM");
    }

    /** KVM's {@code handle_tdvmcall}, then the TDX module's return to the TD at the next TDH.VP.ENTER. */
    private boolean tdgVpVmcall(ExitContext v) {
        TdVmcallArgs args = vmcall;
        vmcall = null;
        if (kvmTdx == null) {
            kvmTdx = new TdxVmcall(v.vmm(), gpaw);
        }
        return switch (kvmTdx.handleTdvmcall(args)) {
            case TdVmcallResult.Completed c -> {
                returnToTd(v, c.registers());
                yield true;
            }
            case TdVmcallResult.Halt h -> {
                long next = returnToTd(v, h.registers());
                if (v.hasInterruptController()) {
                    // A PC: until the interrupt controller has an interrupt for the TD (not with its
                    // interrupts blocked: then an NMI, or nothing, wakes it; the VM ends when no vCPU can).
                    v.haltTd(h.interruptsBlocked());
                    yield true;
                }
                if (h.interruptsBlocked()) {
                    v.haltForGood(next - TdcallRegs.TDCALL_LENGTH);
                    yield false;
                }
                // tdemu's own guests have one interrupt source: the timer wakes the vCPU at once.
                v.queueException(Event.externalInterrupt(Hypercalls.TIMER_VECTOR).at(next));
                yield true;
            }
            case TdVmcallResult.Ends e -> {
                VmxExitHandlers.end(v, e.end(), "exit hypercall");
                yield false;
            }
            case TdVmcallResult.NotModelled n -> {
                v.finish(VmResult.Outcome.NOT_MODELLED, String.format("TD vCPU %d: %s", v.vcpuIndex(), n.what()), -1);
                yield false;
            }
        };
    }

    /** The module completes the TDCALL with KVM's answer; returns the RIP after it. */
    private long returnToTd(ExitContext v, GprUpdates hostRegisters) {
        TdcallResult.Completed c = module.vmcallReturn(tdVcpu, hostRegisters);
        apply(v, c.updates());
        v.setRip(c.nextRip());
        if (c.singleStepTrap()) {
            // The module completes the TDCALL with BS in the TD's pending debug exceptions.
            v.queueSingleStepTrap(c.nextRip());
        }
        return c.nextRip();
    }

    private static void apply(ExitContext v, GprUpdates updates) {
        for (Map.Entry<Gpr, Long> e : updates.asMap().entrySet()) {
            v.write(e.getKey(), e.getValue());
        }
    }
}
