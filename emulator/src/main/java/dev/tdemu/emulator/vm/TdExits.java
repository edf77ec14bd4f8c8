package dev.tdemu.emulator.vm;

import dev.tdemu.core.vmx.DebugExitQualification;
import dev.tdemu.core.vmx.ExitReason;
import dev.tdemu.emulator.cpu.GuestExit;
import dev.tdemu.emulator.machine.X86Exception;
import dev.tdemu.emulator.unicorn.X86Reg;

/**
 * A trust domain's events. The TDX module handles some inside the TD (it answers TDG.VP.INFO,
 * TDG.VP.VEINFO.GET and CPUID leaf 0x21, and turns CPUID, HLT, port I/O and MSR accesses into
 * #VE, as the TDX architecture does); only TDG.VP.VMCALL, intercepted exceptions of a debug TD
 * and fatal conditions leave the TD, and KVM handles the TDG.VP.VMCALL leaves of the GHCI.
 */
final class TdExits implements Vcpu.ExitHandler {
    static final long TDCALL_VP_VMCALL = 0, TDCALL_VP_INFO = 1, TDCALL_VP_VEINFO_GET = 3;
    static final long TDX_SUCCESS = 0, TDX_OPERAND_INVALID = 0xC000_0100_0000_0000L, TDX_NO_VALID_VE_INFO = 0xC000_0704_0000_0000L;
    static final long GHCI_SUCCESS = 0, GHCI_INVALID_OPERAND = 0x8000_0000_0000_0000L;
    static final long GHCI_CPUID = 10, GHCI_HLT = 12, GHCI_IO = 30, GHCI_RDMSR = 31, GHCI_WRMSR = 32, GHCI_MMIO = 48,
            GHCI_MAP_GPA = 0x10001, GHCI_REPORT_FATAL_ERROR = 0x10003;

    /** The #VE information of the last virtualization exception (TDG.VP.VEINFO.GET), valid until read. */
    private boolean veValid;
    private long veReason, veQualification, veLength;

    @Override
    public boolean handleInGuest(Vcpu v, GuestExit exit) {
        switch (exit) {
            case GuestExit.Instruction i -> {
                switch (i.kind()) {
                    case CPUID -> {
                        long leaf = v.reg(X86Reg.RAX) & 0xFFFF_FFFFL;
                        if (leaf == 0x21) {
                            long[] r = CpuidTable.lookup(leaf, v.reg(X86Reg.RCX), Mode.TD, v.index, v.vm.vcpuCount());
                            v.setReg(X86Reg.RAX, r[0]);
                            v.setReg(X86Reg.RBX, r[1]);
                            v.setReg(X86Reg.RCX, r[2]);
                            v.setReg(X86Reg.RDX, r[3]);
                            completeInGuest(v, i.rip(), i.length());
                        } else {
                            virtualizationException(v, ExitReason.CPUID.basic(), 0, i.rip(), i.length());
                        }
                        return true;
                    }
                    case HLT -> virtualizationException(v, ExitReason.HLT.basic(), 0, i.rip(), i.length());
                    case RDMSR -> virtualizationException(v, ExitReason.RDMSR.basic(), 0, i.rip(), i.length());
                    case WRMSR -> virtualizationException(v, ExitReason.WRMSR.basic(), 0, i.rip(), i.length());
                    case VMCALL -> deliver(v, X86Exception.fault(X86Exception.UD, i.rip()));
                    case TDCALL -> {
                        return moduleCall(v, i.rip());
                    }
                }
                return true;
            }
            case GuestExit.PortIoExit p -> {
                long q = (p.io().size() - 1) | (p.io().in() ? 8 : 0) | ((long) p.port() << 16);
                virtualizationException(v, ExitReason.IO_INSTRUCTION.basic(), q, p.rip(), p.io().length());
                return true;
            }
            case GuestExit.ImprecisePortIo p -> {
                return true; // the engine already did it through the VMM's devices
            }
            default -> {
                return false;
            }
        }
    }

    /** TDCALL leaves the TDX module answers itself; false for TDG.VP.VMCALL, which exits to KVM. */
    private boolean moduleCall(Vcpu v, long rip) {
        long leaf = v.reg(X86Reg.RAX);
        if (leaf == TDCALL_VP_VMCALL) {
            return false;
        }
        if (leaf == TDCALL_VP_INFO) {
            v.setReg(X86Reg.RCX, 48);                                                   // GPA width
            v.setReg(X86Reg.RDX, v.kvm.tdVcpu().attributes().bits());                   // ATTRIBUTES
            v.setReg(X86Reg.R8, ((long) v.vm.vcpuCount() << 32) | v.vm.vcpuCount());    // NUM_VCPUS, MAX_VCPUS
            v.setReg(X86Reg.R9, v.index);                                               // VCPU_INDEX
            v.setReg(X86Reg.R10, 0);
            v.setReg(X86Reg.R11, 0);
            v.setReg(X86Reg.RAX, TDX_SUCCESS);
        } else if (leaf == TDCALL_VP_VEINFO_GET) {
            if (veValid) {
                v.setReg(X86Reg.RCX, veReason);
                v.setReg(X86Reg.RDX, veQualification);
                v.setReg(X86Reg.R8, 0);
                v.setReg(X86Reg.R9, 0);
                v.setReg(X86Reg.R10, veLength);
                v.setReg(X86Reg.RAX, TDX_SUCCESS);
                veValid = false;
            } else {
                v.setReg(X86Reg.RAX, TDX_NO_VALID_VE_INFO);
            }
        } else {
            v.setReg(X86Reg.RAX, TDX_OPERAND_INVALID);
        }
        completeInGuest(v, rip, 4);
        return true;
    }

    /**
     * The TDX module completes an instruction inside the TD: RIP past it and, when RFLAGS.TF was
     * set, the single-step trap the instruction owes (the module sets BS in the TD's pending debug
     * exceptions, as any VMM that completes an instruction must).
     */
    private static void completeInGuest(Vcpu v, long rip, int length) {
        boolean tf = (v.reg(X86Reg.RFLAGS) & 0x100) != 0;
        v.setReg(X86Reg.RIP, rip + length);
        if (tf) {
            v.inGuestExit = v.cpu.singleStepTrap(v.engine, v.controls, rip + length);
        }
    }

    /** #VE: the TDX module's report of an instruction the TD may not execute natively (a fault). */
    private void virtualizationException(Vcpu v, int reason, long qualification, long rip, int length) {
        veValid = true;
        veReason = reason;
        veQualification = qualification;
        veLength = length;
        deliver(v, new X86Exception(X86Exception.VE, -1, true, rip, 0));
    }

    private static void deliver(Vcpu v, X86Exception e) {
        GuestExit triple = v.cpu.deliver(v.engine, e);
        if (triple instanceof GuestExit.TripleFault t) {
            v.vm.finish(VmResult.Outcome.TRIPLE_FAULT, String.format("TD vCPU %d triple fault at RIP 0x%x: %s", v.index,
                    t.rip(), t.reason()), -1);
        }
    }

    @Override
    public ExitReason reason(GuestExit exit) {
        return switch (exit) {
            case GuestExit.Instruction i when i.kind() == GuestExit.Kind.TDCALL -> ExitReason.TDCALL;
            case GuestExit.ExceptionExit e -> ExitReason.EXCEPTION_NMI;
            case GuestExit.MemoryFault f -> ExitReason.EPT_VIOLATION;
            case GuestExit.TripleFault t -> ExitReason.TRIPLE_FAULT;
            default -> ExitReason.EXTERNAL_INTERRUPT;
        };
    }

    @Override
    public long qualification(GuestExit exit) {
        return exit instanceof GuestExit.ExceptionExit e && e.vector() == X86Exception.DB
                ? new DebugExitQualification(e.pending()).bits() : 0;
    }

    @Override
    public long tdcallLeaf(Vcpu v, GuestExit exit) {
        return exit instanceof GuestExit.Instruction i && i.kind() == GuestExit.Kind.TDCALL ? v.reg(X86Reg.R11) : 0;
    }

    @Override
    public boolean handleExit(Vcpu v, GuestExit exit) {
        switch (exit) {
            case GuestExit.Instruction i when i.kind() == GuestExit.Kind.TDCALL -> {
                return vpVmcall(v, i.rip());
            }
            case GuestExit.ExceptionExit e -> VmxExits.exception(v, e);
            case GuestExit.MemoryFault f -> v.vm.finish(VmResult.Outcome.MEMORY_FAULT, Vm.describe(v, f), -1);
            case GuestExit.TripleFault t -> v.vm.finish(VmResult.Outcome.TRIPLE_FAULT, String.format(
                    "TD vCPU %d triple fault at RIP 0x%x: %s", v.index, t.rip(), t.reason()), -1);
            default -> { }
        }
        return !v.vm.finished();
    }

    /** KVM's handling of TDG.VP.VMCALL: the GHCI leaves and tdemu's vendor leaf. */
    private boolean vpVmcall(Vcpu v, long rip) {
        long r10 = v.reg(X86Reg.R10), r11 = v.reg(X86Reg.R11), r12 = v.reg(X86Reg.R12), r13 = v.reg(X86Reg.R13),
                r14 = v.reg(X86Reg.R14), r15 = v.reg(X86Reg.R15);
        long status = GHCI_SUCCESS;
        boolean keepRunning = true;
        if (r10 == Hypercalls.TD_VENDOR_LEAF) {
            v.setReg(X86Reg.R11, v.hypercall(r11, r12, r13, r14));
        } else if (r10 != 0) {
            status = GHCI_INVALID_OPERAND;
        } else if (r11 == GHCI_CPUID) {
            long[] r = CpuidTable.lookup(r12 & 0xFFFF_FFFFL, r13 & 0xFFFF_FFFFL, Mode.TD, v.index, v.vm.vcpuCount());
            v.setReg(X86Reg.R12, r[0]);
            v.setReg(X86Reg.R13, r[1]);
            v.setReg(X86Reg.R14, r[2]);
            v.setReg(X86Reg.R15, r[3]);
        } else if (r11 == GHCI_HLT) {
            if (r12 == 0) {
                // R12 = "interrupts blocked" flag: clear means the TD can take the timer interrupt.
                v.inject(X86Exception.trap(Hypercalls.TIMER_VECTOR, rip + 4));
            } else {
                v.vm.vcpuHalted(v, rip);
                keepRunning = false;
            }
        } else if (r11 == GHCI_IO) {
            int size = (int) r12, port = (int) (r14 & 0xFFFF);
            if (size != 1 && size != 2 && size != 4) {
                status = GHCI_INVALID_OPERAND;
            } else if (r13 == 1) {
                v.portOut(port, size, r15 & (size == 4 ? 0xFFFF_FFFFL : (1L << (8 * size)) - 1));
            } else {
                v.setReg(X86Reg.R11, v.portIn(port, size));
            }
        } else if (r11 == GHCI_RDMSR) {
            Long value = VmxExits.readMsr(v, r12);
            if (value == null) {
                status = GHCI_INVALID_OPERAND;
            } else {
                v.setReg(X86Reg.R11, value);
            }
        } else if (r11 == GHCI_WRMSR) {
            if (!VmxExits.writeMsr(v, r12, r13)) {
                status = GHCI_INVALID_OPERAND;
            }
        } else if (r11 == GHCI_MAP_GPA) {
            status = GHCI_SUCCESS; // all TD memory is private and stays so
        } else if (r11 == GHCI_REPORT_FATAL_ERROR) {
            v.vm.finish(VmResult.Outcome.FATAL_ERROR, String.format("TD vCPU %d reported a fatal error, code 0x%x", v.index, r12),
                    -1);
            return false;
        } else {
            status = GHCI_INVALID_OPERAND; // MMIO has no device behind it in tdemu
        }
        v.setReg(X86Reg.R10, status);
        v.setReg(X86Reg.RAX, TDX_SUCCESS);
        v.setReg(X86Reg.RIP, rip + 4);
        if ((v.reg(X86Reg.RFLAGS) & 0x100) != 0) {
            v.pendingSingleStepRip = rip + 4;
        }
        return keepRunning && !v.vm.finished();
    }
}
