package dev.tdemu.emulator.vm;

import dev.tdemu.core.x86.Event;
import dev.tdemu.core.kvm.DebugExceptionResult;
import dev.tdemu.core.kvm.DebugStop;
import dev.tdemu.core.kvm.HandleDrResult;
import dev.tdemu.core.kvm.HypercallResult;
import dev.tdemu.core.kvm.KvmHypercall;
import dev.tdemu.core.kvm.VmEnd;
import dev.tdemu.core.pc.CpuidResult;
import dev.tdemu.core.pc.MsrRead;
import dev.tdemu.core.pc.MsrWrite;
import dev.tdemu.core.vmx.DebugExitQualification;
import dev.tdemu.core.x86.ExceptionVector;
import dev.tdemu.core.x86.Gpr;
import dev.tdemu.emulator.cpu.PortIoEmulation;
import dev.tdemu.emulator.cpu.VmExit;
import java.util.List;

/**
 * KVM's VMX exit handlers ({@code kvm_vmx_exit_handlers[]} in arch/x86/kvm/vmx/vmx.c and the
 * common {@code kvm_emulate_*} helpers they call), one per exit reason, reached through one
 * exhaustive switch. They see the vCPU only through {@link ExitContext}.
 */
final class VmxExitHandlers {
    private static final org.apache.logging.log4j.Logger LOG = org.apache.logging.log4j.LogManager.getLogger("dev.tdemu.emulator.vm");

    private VmxExitHandlers() {}

    /** Handles one exit; false when this vCPU stops (it halted for good, or the VM ended). */
    static boolean handle(ExitContext v, VmExit exit) {
        boolean keepRunning = switch (exit) {
            case VmExit.Cpuid c -> kvmEmulateCpuid(v, c);
            case VmExit.Hlt h -> kvmEmulateHalt(v, h);
            case VmExit.Rdmsr r -> kvmEmulateRdmsr(v, r);
            case VmExit.Wrmsr w -> kvmEmulateWrmsr(v, w);
            case VmExit.Rdtsc r -> kvmEmulateRdtsc(v, r, false);
            case VmExit.Rdtscp r -> kvmEmulateRdtsc(v, r, true);
            case VmExit.Vmcall c -> kvmEmulateHypercall(v, c);
            case VmExit.PauseInstruction p -> handlePause(v, p);
            case VmExit.Io io -> handleIo(v, io);
            case VmExit.IoPerformed p -> true; // the engine already performed it through the devices
            case VmExit.MovDr m -> handleDr(v, m);
            case VmExit.ExceptionNmi e -> handleExceptionNmi(v, e);
            case VmExit.EptViolation e -> handleEptViolation(v, e);
            case VmExit.ApicAccess a -> handleApicAccess(v, a);
            case VmExit.EptMisconfig m -> handleEptMisconfig(v, m);
            case VmExit.TripleFault t -> handleTripleFault(v, t);
            case VmExit.ExternalInterrupt x -> true; // the kick did its work: re-enter
            case VmExit.InterruptWindow w -> true; // handle_interrupt_window: the interrupt goes in at the next entry
            case VmExit.CrAccess c -> handleCr(v, c);
            case VmExit.NmiWindow w -> handleNmiWindow(v);
            case VmExit.Tdcall t -> throw new IllegalStateException("a VMX guest's TDCALL is #UD in the guest, never an exit");
            case VmExit.Vmgexit g -> throw new IllegalStateException("a VMX guest's VMMCALL is #UD in the guest, never an exit");
        };
        return keepRunning && !v.vmFinished();
    }

    /**
     * {@code handle_nmi_window}: the guest's IRET ended NMI blocking, or the STI/MOV SS shadow that
     * held an NMI ended (NMIs were not blocked then, so unblocking changes nothing); a latched NMI
     * goes in at the next entry.
     */
    static boolean handleNmiWindow(ExitContext v) {
        v.nmiUnblocked();
        return true;
    }

    /**
     * {@code handle_pause}: the PAUSE is skipped and the vCPU yields ({@code kvm_vcpu_on_spin}).
     * The yield is the exit itself: the vCPU gave the engine up when its run ended, and the
     * engine lock is fair, so the vCPU that was waiting for it (a PAUSE-loop exit needs one) runs
     * before this one enters again. The PLE window is fixed (no grow_ple_window/shrink_ple_window).
     */
    static boolean handlePause(ExitContext v, VmExit.PauseInstruction p) {
        v.skipInstruction(p);
        return true;
    }

    /**
     * {@code handle_cr} for CR8 (the only control register a PC's VMCB intercepts): MOV from CR8
     * reads TPR[7:4] (kvm_get_cr8), MOV to CR8 sets TPR (kvm_set_cr8), #GP(0) for bits 63:4.
     */
    static boolean handleCr(ExitContext v, VmExit.CrAccess c) {
        if (c.controlRegister() != 8) {
            throw new IllegalStateException("CR" + c.controlRegister() + " access exits are not requested");
        }
        Gpr gpr = Gpr.fromIndex(c.gpr());
        if (c.toControlRegister()) {
            long value = v.read(gpr);
            if ((value & ~0xFL) != 0) {
                v.queueException(Event.fault(ExceptionVector.GP).errorCode(0).at(c.rip()));
                return true;
            }
            v.setCr8((int) value);
        } else {
            v.write(gpr, v.cr8());
        }
        v.skipInstruction(c);
        return true;
    }

    /** {@code kvm_emulate_cpuid}: EAX (leaf) and ECX (subleaf) in, EAX..EDX out, zero-extended. */
    static boolean kvmEmulateCpuid(ExitContext v, VmExit.Cpuid c) {
        CpuidResult r = v.vmm().cpuid((int) v.read(Gpr.RAX), (int) v.read(Gpr.RCX));
        v.write(Gpr.RAX, Integer.toUnsignedLong(r.eax()));
        v.write(Gpr.RBX, Integer.toUnsignedLong(r.ebx()));
        v.write(Gpr.RCX, Integer.toUnsignedLong(r.ecx()));
        v.write(Gpr.RDX, Integer.toUnsignedLong(r.edx()));
        v.skipInstruction(c);
        return true;
    }

    /**
     * {@code kvm_emulate_halt}. On a machine with an interrupt controller (a PC) the vCPU halts
     * until something wakes it: an interrupt it can take (RFLAGS.IF set), an NMI, INIT (SDM "HLT":
     * NMI, SMI and INIT resume a halted processor whatever IF says). tdemu's own guests have one
     * interrupt source: with RFLAGS.IF set the timer wakes the vCPU at once (vector
     * {@link Hypercalls#TIMER_VECTOR}, RIP after the HLT); with IF clear nothing can wake it, and
     * it stops for good.
     */
    static boolean kvmEmulateHalt(ExitContext v, VmExit.Hlt h) {
        long next = h.rip() + h.length();
        if (v.hasInterruptController()) {
            v.skipInstruction(h); // kvm_skip_emulated_instruction: with TF set, the single-step #DB is owed
            v.halt(); // until an interrupt it can take, an NMI or INIT, or at once for an owed #DB
            return true;
        }
        v.setRip(next);
        if ((v.rflags() & 0x200) != 0) {
            v.queueException(Event.externalInterrupt(Hypercalls.TIMER_VECTOR).at(next));
            return true;
        }
        v.haltForGood(h.rip());
        return false;
    }

    /** {@code kvm_emulate_rdmsr}: ECX in, EDX:EAX out, or #GP(0). */
    static boolean kvmEmulateRdmsr(ExitContext v, VmExit.Rdmsr r) {
        if (performRdmsr(v)) {
            v.skipInstruction(r);
        } else {
            v.queueException(Event.fault(ExceptionVector.GP).errorCode(0).at(r.rip()));
        }
        return true;
    }

    /** RDMSR of ECX into EDX:EAX on the vCPU's MSRs, RIP untouched; false for #GP. */
    static boolean performRdmsr(ExitContext v) {
        return switch (v.vmm().readMsr((int) v.read(Gpr.RCX))) {
            case MsrRead.Value value -> {
                v.write(Gpr.RAX, value.value() & 0xFFFF_FFFFL);
                v.write(Gpr.RDX, value.value() >>> 32);
                yield true;
            }
            case MsrRead.Gp gp -> {
                LOG.debug("vCPU {}: RDMSR #GP: {}", v.vcpuIndex(), gp.reason());
                yield false;
            }
        };
    }

    /** WRMSR of EDX:EAX to ECX on the vCPU's MSRs, RIP untouched; false for #GP. */
    static boolean performWrmsr(ExitContext v) {
        long value = (v.read(Gpr.RDX) << 32) | (v.read(Gpr.RAX) & 0xFFFF_FFFFL);
        return switch (v.vmm().writeMsr((int) v.read(Gpr.RCX), value)) {
            case MsrWrite.Done done -> true;
            case MsrWrite.Gp gp -> {
                LOG.debug("vCPU {}: WRMSR #GP: {}", v.vcpuIndex(), gp.reason());
                yield false;
            }
        };
    }

    /** {@code kvm_emulate_wrmsr}: ECX and EDX:EAX in, or #GP(0). */
    static boolean kvmEmulateWrmsr(ExitContext v, VmExit.Wrmsr w) {
        LOG.trace("vCPU {}: WRMSR 0x{} = 0x{} at RIP 0x{}", v.vcpuIndex(), Long.toHexString(v.read(Gpr.RCX) & 0xFFFF_FFFFL),
                Long.toHexString((v.read(Gpr.RDX) << 32) | (v.read(Gpr.RAX) & 0xFFFF_FFFFL)), Long.toHexString(w.rip()));
        if (performWrmsr(v)) {
            v.skipInstruction(w);
        } else {
            v.queueException(Event.fault(ExceptionVector.GP).errorCode(0).at(w.rip()));
        }
        return true;
    }

    /**
     * RDTSC / RDTSCP: the guest's TSC (IA32_TIME_STAMP_COUNTER as the machine models it) in
     * EDX:EAX, and for RDTSCP IA32_TSC_AUX in ECX. Exits only on a PC, whose TSC follows the
     * machine's virtual clock.
     */
    static boolean kvmEmulateRdtsc(ExitContext v, VmExit.Instruction exit, boolean withAux) {
        long tsc = v.vmm().readMsr(MSR_IA32_TSC) instanceof MsrRead.Value t ? t.value() : 0;
        if (withAux) {
            if (!(v.vmm().readMsr(MSR_TSC_AUX) instanceof MsrRead.Value aux)) {
                v.queueException(Event.fault(ExceptionVector.UD).at(exit.rip())); // RDTSCP without the feature
                return true;
            }
            v.write(Gpr.RCX, aux.value() & 0xFFFF_FFFFL);
        }
        v.write(Gpr.RAX, tsc & 0xFFFF_FFFFL);
        v.write(Gpr.RDX, tsc >>> 32);
        v.skipInstruction(exit);
        return true;
    }

    static final int MSR_IA32_TSC = 0x10, MSR_TSC_AUX = 0xC0000103;

    /** {@code kvm_emulate_hypercall}: tdemu's hypercalls, number in RAX, arguments in RDI, RSI, RDX. */
    static boolean kvmEmulateHypercall(ExitContext v, VmExit.Vmcall c) {
        HypercallResult r = KvmHypercall.handleVmcall(v.read(Gpr.RAX), v.read(Gpr.RDI), v.read(Gpr.RSI), v.read(Gpr.RDX), v.vmm());
        switch (r) {
            case HypercallResult.Returned ret -> {
                v.write(Gpr.RAX, ret.value());
                v.skipInstruction(c);
            }
            case HypercallResult.Ends e -> end(v, e.end(), "exit hypercall");
        }
        return true;
    }

    /** The VM ends because the guest asked (an exit hypercall, a TD's fatal error report). */
    static void end(ExitContext v, VmEnd end, String how) {
        switch (end) {
            case VmEnd.Exited x -> v.finish(VmResult.Outcome.EXITED, how, x.status());
            case VmEnd.TdFatalError f -> v.finish(VmResult.Outcome.FATAL_ERROR,
                    String.format("TD vCPU %d reported a fatal error, code 0x%x", v.vcpuIndex(), f.errorCode()), -1);
        }
    }

    /** {@code handle_io}: IN, OUT, INS and OUTS on the devices, completed or faulting as the CPU would. */
    static boolean handleIo(ExitContext v, VmExit.Io io) {
        switch (v.emulateIo(io)) {
            case PortIoEmulation.Outcome.Done d -> v.skipInstruction(io);
            case PortIoEmulation.Outcome.PageFault f -> {
                // The iteration that touched unmapped memory faults; the completed ones stay done.
                v.setCr2(f.address());
                v.queueException(Event.pageFault((int) f.errorCode(), f.address()).at(io.rip()));
            }
        }
        return true;
    }

    /** {@code handle_dr}: the MOV-DR exit, decided by KVM's model. */
    static boolean handleDr(ExitContext v, VmExit.MovDr m) {
        Gpr gpr = Gpr.fromIndex(m.movDr().gpr());
        HandleDrResult r = v.kvm().handleDr(m.movDr(), v.mode(), v.read(gpr), m.rip());
        switch (r) {
            case HandleDrResult.ReExecute re -> { } // lazy switch: MOV-DR exiting is off, the guest re-runs it
            case HandleDrResult.Emulated e -> {
                if (e.gprValue().isPresent()) {
                    v.write(Gpr.fromIndex(e.gpr()), e.gprValue().getAsLong());
                }
                v.skipInstruction(m);
            }
            case HandleDrResult.InjectDb db -> v.queueDebugException(m.rip(), true);
            case HandleDrResult.InjectGp gp -> v.queueException(Event.fault(ExceptionVector.GP).errorCode(0).at(m.rip()));
            case HandleDrResult.InjectUd ud -> v.queueException(Event.fault(ExceptionVector.UD).at(m.rip()));
            case HandleDrResult.ReportToDebugger d -> v.reportDebugStop(d.stop(), List.of());
        }
        return true;
    }

    /**
     * {@code handle_exception_nmi}: #DB through KVM's handler (the debugger's, or re-injected);
     * #BP to the debugger when it is one of its INT3s, else back to the guest; anything else the
     * exception bitmap sent here goes back to the guest unchanged. A TD's intercepted exceptions
     * take the same path.
     */
    static boolean handleExceptionNmi(ExitContext v, VmExit.ExceptionNmi e) {
        if (e.vector() == ExceptionVector.DB) {
            DebugExceptionResult r = v.kvm().handleDebugException(new DebugExitQualification(e.pending()), e.rip());
            switch (r) {
                case DebugExceptionResult.ReportToDebugger d -> v.reportDebugStop(d.stop(), e.accesses());
                // The CPU layer chose the frame's RIP (instruction for faults, next one for traps);
                // an instruction-breakpoint fault pushes RF clear like a trap does.
                case DebugExceptionResult.Reinject re -> v.queueDebugException(e.icebp() ? e.rip() + e.length() : e.rip(), false);
            }
        } else if (e.vector() == ExceptionVector.BP && v.debuggerOwnsSoftwareBreakpoint(e.rip())) {
            v.reportDebugStop(new DebugStop(ExceptionVector.BP, e.rip(), v.kvm().guestView().dr6(), v.kvm().effectiveDr7()),
                    List.of());
        } else {
            // The exception goes back to the guest at the next entry; a debugger that catches it
            // sees the vCPU stopped before that, at the faulting instruction.
            if (e.length() > 0) {
                // INT3 or INTO (kvm_queue_exception: a software exception, its frame saves the next RIP)
                v.queueException(Event.exception(e.vector(), 0, 0).at(e.rip() + e.length()).withResumeFlag(false));
            } else {
                // A fault goes back as it came, error code and #PF's CR2 with it (kvm_queue_exception_e/_p)
                v.queueException(Event.exception(e.vector(), (int) e.errorCode(), e.cr2()).at(e.rip()).withResumeFlag(true));
            }
            v.stopForCaughtException(e);
        }
        return true;
    }

    /**
     * {@code handle_apic_access}: KVM emulates the instruction, whose access to the page reaches
     * the local APIC's MMIO handlers. The engine executes the instruction; the access is the
     * VMM's part, made here on the vCPU's local APIC.
     */
    static boolean handleApicAccess(ExitContext v, VmExit.ApicAccess a) {
        v.emulateMmioAccess(a);
        return true;
    }

    /**
     * {@code handle_ept_misconfig}: an MMIO access, emulated through KVM's emulator to the device
     * (the I/O APIC in the kernel, the rest in user space). The engine executes the instruction;
     * the access is the VMM's part, made here on the machine's MMIO bus.
     */
    static boolean handleEptMisconfig(ExitContext v, VmExit.EptMisconfig m) {
        v.emulateMmioAccess(m);
        return true;
    }

    /** {@code handle_ept_violation}: nothing backs that guest-physical address; tdemu's VMM has no memory to map there. */
    static boolean handleEptViolation(ExitContext v, VmExit.EptViolation e) {
        v.finish(VmResult.Outcome.MEMORY_FAULT, describe(v, e), -1);
        return false;
    }

    static String describe(ExitContext v, VmExit.EptViolation e) {
        boolean td = v.kvm().isTd();
        String what = switch (e.ept().access()) {
            case READ -> "read";
            case WRITE -> "write";
            case FETCH -> "fetch";
        };
        return String.format("%s vCPU %d: %s of %d byte(s) at guest-physical 0x%x, outside %s RAM, at RIP 0x%x",
                td ? "TD" : "VMX", v.vcpuIndex(), what, e.size(), e.gpa(), td ? "the TD's" : "guest", e.rip());
    }

    /** {@code handle_triple_fault}: KVM_EXIT_SHUTDOWN. */
    static boolean handleTripleFault(ExitContext v, VmExit.TripleFault t) {
        String detail = String.format("%svCPU %d triple fault at RIP 0x%x: %s",
                v.kvm().isTd() ? "TD " : "", v.vcpuIndex(), t.rip(), t.why());
        return shutdown(v, detail, t.rip());
    }

    /**
     * The vCPU shuts down (a triple fault): with a debugger connected it stops for it first and
     * the VM ends when the debugger lets it go on (true: keep running until then); else now.
     */
    static boolean shutdown(ExitContext v, String detail, long rip) {
        if (v.stopForDebuggerBeforeShutdown(detail, rip)) {
            return true;
        }
        v.finish(VmResult.Outcome.TRIPLE_FAULT, detail, -1);
        return false;
    }
}
