package dev.tdemu.emulator.vm;

import dev.tdemu.core.kvm.DebugExceptionResult;
import dev.tdemu.core.kvm.HandleDrResult;
import dev.tdemu.core.vmx.DebugExitQualification;
import dev.tdemu.core.vmx.ExitReason;
import dev.tdemu.emulator.cpu.GuestExit;
import dev.tdemu.emulator.cpu.PhysicalCpu;
import dev.tdemu.emulator.machine.X86Exception;
import dev.tdemu.emulator.unicorn.X86Reg;

/** KVM's VMX exit handlers and the VMM behind them (devices, hypercalls, CPUID, MSRs). */
final class VmxExits implements Vcpu.ExitHandler {
    private static final long MSR_EFER = 0xC0000080L, MSR_DEBUGCTL = 0x1D9, MSR_TSC = 0x10, MSR_APIC_BASE = 0x1B;

    @Override
    public boolean handleInGuest(Vcpu v, GuestExit exit) {
        return false; // everything a VMX guest does that reaches the VMM is a VM exit
    }

    @Override
    public ExitReason reason(GuestExit exit) {
        return switch (exit) {
            case GuestExit.Instruction i -> switch (i.kind()) {
                case CPUID -> ExitReason.CPUID;
                case HLT -> ExitReason.HLT;
                case RDMSR -> ExitReason.RDMSR;
                case WRMSR -> ExitReason.WRMSR;
                case VMCALL -> ExitReason.VMCALL;
                case TDCALL -> ExitReason.EXCEPTION_NMI; // #UD outside a TD: tdemu reflects it as an exception exit
            };
            case GuestExit.PortIoExit p -> ExitReason.IO_INSTRUCTION;
            case GuestExit.ImprecisePortIo p -> ExitReason.IO_INSTRUCTION;
            case GuestExit.MovDrExit m -> ExitReason.MOV_DR;
            case GuestExit.ExceptionExit e -> ExitReason.EXCEPTION_NMI;
            case GuestExit.MemoryFault f -> ExitReason.EPT_VIOLATION;
            case GuestExit.TripleFault t -> ExitReason.TRIPLE_FAULT;
            case GuestExit.Stopped s -> ExitReason.EXTERNAL_INTERRUPT;
        };
    }

    @Override
    public long qualification(GuestExit exit) {
        return switch (exit) {
            case GuestExit.MovDrExit m -> m.qualification().bits();
            case GuestExit.ExceptionExit e -> e.vector() == X86Exception.DB ? new DebugExitQualification(e.pending()).bits() : 0;
            case GuestExit.PortIoExit p -> (p.io().size() - 1) | (p.io().in() ? 8 : 0) | (p.io().string() ? 16 : 0)
                    | (p.io().rep() ? 32 : 0) | (p.io().port() >= 0 ? 64 : 0) | ((long) p.port() << 16);
            case GuestExit.ImprecisePortIo p -> (p.size() - 1) | (p.in() ? 8 : 0) | ((long) p.port() << 16);
            case GuestExit.MemoryFault f -> f.type().name().contains("WRITE") ? 2 : f.type().name().contains("FETCH") ? 4 : 1;
            default -> 0;
        };
    }

    @Override
    public long tdcallLeaf(Vcpu v, GuestExit exit) {
        return 0;
    }

    @Override
    public boolean handleExit(Vcpu v, GuestExit exit) {
        switch (exit) {
            case GuestExit.Instruction i -> {
                return instruction(v, i);
            }
            case GuestExit.PortIoExit p -> v.emulatePortIo(p.io(), p.port(), p.rip());
            case GuestExit.ImprecisePortIo p -> { } // performed by the engine through the VMM's devices
            case GuestExit.MovDrExit m -> handleDr(v, m);
            case GuestExit.ExceptionExit e -> exception(v, e);
            case GuestExit.MemoryFault f -> v.vm.finish(VmResult.Outcome.MEMORY_FAULT, Vm.describe(v, f), -1);
            case GuestExit.TripleFault t -> v.vm.finish(VmResult.Outcome.TRIPLE_FAULT, String.format(
                    "vCPU %d triple fault at RIP 0x%x: %s", v.index, t.rip(), t.reason()), -1);
            case GuestExit.Stopped s -> { }
        }
        return !v.vm.finished();
    }

    private boolean instruction(Vcpu v, GuestExit.Instruction i) {
        switch (i.kind()) {
            case CPUID -> {
                long[] r = CpuidTable.lookup(v.reg(X86Reg.RAX) & 0xFFFF_FFFFL, v.reg(X86Reg.RCX) & 0xFFFF_FFFFL, Mode.VMX,
                        v.index, v.vm.vcpuCount());
                v.setReg(X86Reg.RAX, r[0]);
                v.setReg(X86Reg.RBX, r[1]);
                v.setReg(X86Reg.RCX, r[2]);
                v.setReg(X86Reg.RDX, r[3]);
                v.skipInstruction(i.rip(), i.length());
            }
            case HLT -> {
                v.setReg(X86Reg.RIP, i.rip() + 1);
                if ((v.reg(X86Reg.RFLAGS) & 0x200) != 0) {
                    v.inject(X86Exception.trap(Hypercalls.TIMER_VECTOR, i.rip() + 1)); // woken by the timer
                    return !v.vm.finished();
                }
                v.vm.vcpuHalted(v, i.rip()); // interrupts off: nothing can wake it
                return false;
            }
            case VMCALL -> {
                long result = v.hypercall(v.reg(X86Reg.RAX), v.reg(X86Reg.RDI), v.reg(X86Reg.RSI), v.reg(X86Reg.RDX));
                v.setReg(X86Reg.RAX, result);
                v.skipInstruction(i.rip(), i.length());
            }
            case RDMSR -> {
                long msr = v.reg(X86Reg.RCX) & 0xFFFF_FFFFL;
                Long value = readMsr(v, msr);
                if (value == null) {
                    v.inject(X86Exception.fault(X86Exception.GP, 0, i.rip()));
                } else {
                    v.setReg(X86Reg.RAX, value & 0xFFFF_FFFFL);
                    v.setReg(X86Reg.RDX, value >>> 32);
                    v.skipInstruction(i.rip(), i.length());
                }
            }
            case WRMSR -> {
                long msr = v.reg(X86Reg.RCX) & 0xFFFF_FFFFL;
                long value = (v.reg(X86Reg.RDX) << 32) | (v.reg(X86Reg.RAX) & 0xFFFF_FFFFL);
                if (!writeMsr(v, msr, value)) {
                    v.inject(X86Exception.fault(X86Exception.GP, 0, i.rip()));
                } else {
                    v.skipInstruction(i.rip(), i.length());
                }
            }
            case TDCALL -> v.inject(X86Exception.fault(X86Exception.UD, i.rip())); // TDCALL outside a TD
        }
        return !v.vm.finished();
    }

    static Long readMsr(Vcpu v, long msr) {
        if (msr == MSR_EFER) {
            // Never read the engine's MSRs in guest mode (SvmGuestMode); the guest's EFER never changes.
            return dev.tdemu.emulator.machine.BootStructures.EFER;
        }
        if (msr == MSR_DEBUGCTL) {
            // After the exit the CPU's DEBUGCTL is the host's (VM exit cleared it); the guest's is
            // in the VMCS (KVM: vmcs_read64(GUEST_IA32_DEBUGCTL)). A TD's is the module's business:
            // tdemu keeps it per vCPU.
            return v.kvm.isTd() ? v.tdDebugctl : v.kvm.vmcs().guestDebugctl();
        }
        if (msr == MSR_TSC) {
            return System.nanoTime();
        }
        if (msr == MSR_APIC_BASE) {
            return 0xFEE00900L;
        }
        return null;
    }

    static boolean writeMsr(Vcpu v, long msr, long value) {
        if (msr == MSR_DEBUGCTL) {
            if (v.kvm.isTd()) {
                v.tdDebugctl = value;
            } else {
                v.kvm.vmcs().setGuestDebugctl(value);
            }
            return true;
        }
        if (msr == MSR_EFER) {
            return value == dev.tdemu.emulator.machine.BootStructures.EFER; // guests stay in long mode with the boot EFER
        }
        return false;
    }

    /** MOV-DR exit: KVM's handle_dr. */
    private void handleDr(Vcpu v, GuestExit.MovDrExit m) {
        long gprValue = v.reg(PhysicalCpu.gpr(m.instruction().gpr()));
        HandleDrResult r = v.kvm.handleDr(m.qualification(), v.engine.mode(), gprValue, m.rip());
        switch (r) {
            case HandleDrResult.ReExecute re -> { } // lazy switch: MOV-DR exiting is off, the guest re-runs it
            case HandleDrResult.Emulated e -> {
                if (e.gprValue().isPresent()) {
                    v.setReg(PhysicalCpu.gpr(e.gpr()), e.gprValue().getAsLong());
                }
                v.skipInstruction(m.rip(), m.instruction().length());
            }
            case HandleDrResult.InjectDb db -> v.injectDebug(m.rip(), true);
            case HandleDrResult.InjectGp gp -> v.inject(X86Exception.fault(X86Exception.GP, 0, m.rip()));
            case HandleDrResult.InjectUd ud -> v.inject(X86Exception.fault(X86Exception.UD, m.rip()));
            case HandleDrResult.ReportToDebugger d -> v.vm.debugStop(v, d.stop(), java.util.List.of());
        }
    }

    /** Exception exits: #DB through KVM's handler, #BP to the debugger or back to the guest. */
    static void exception(Vcpu v, GuestExit.ExceptionExit e) {
        if (e.vector() == X86Exception.DB) {
            DebugExceptionResult r = v.kvm.handleDebugException(new DebugExitQualification(e.pending()), e.rip());
            switch (r) {
                case DebugExceptionResult.ReportToDebugger d -> v.vm.debugStop(v, d.stop(), e.accesses());
                case DebugExceptionResult.Reinject re -> {
                    // The CPU layer chose the frame's RIP (instruction for faults, next one for traps);
                    // an instruction-breakpoint fault pushes RF clear like a trap does.
                    v.injectDebug(e.icebp() ? e.rip() + e.instructionLength() : e.rip(), false);
                }
            }
        } else if (e.vector() == X86Exception.BP && v.vm.debuggerOwnsSoftwareBreakpoint(v, e.rip())) {
            v.vm.debugStop(v, new dev.tdemu.core.kvm.DebugStop(dev.tdemu.core.x86.ExceptionVector.BP, e.rip(),
                    v.cpu.hardware().dr6(), v.kvm.effectiveDr7()), java.util.List.of());
        } else if (e.instructionLength() > 0) {
            v.inject(X86Exception.trap(e.vector(), e.rip() + e.instructionLength()));
        } else {
            v.inject(new X86Exception(e.vector(), e.errorCode(), true, e.rip(), 0));
        }
    }
}
