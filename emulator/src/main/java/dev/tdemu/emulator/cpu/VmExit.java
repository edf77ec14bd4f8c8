package dev.tdemu.emulator.cpu;

import dev.tdemu.core.vmx.ApicAccessQualification;
import dev.tdemu.core.vmx.DebugExitQualification;
import dev.tdemu.core.vmx.EptViolationQualification;
import dev.tdemu.core.vmx.ExitReason;
import dev.tdemu.core.vmx.IoQualification;
import dev.tdemu.core.vmx.MovDrQualification;
import dev.tdemu.core.x86.Access;
import dev.tdemu.core.x86.ExceptionVector;
import dev.tdemu.core.x86.PendingDebug;
import java.util.List;

/**
 * One VM exit, classified once where the {@link PhysicalCpu} saw it happen: the basic exit
 * reason and its exit qualification as the VMCS would hold them, and whatever else the exit
 * carries (the VM-exit instruction length, the interruption information). Everything the CPU
 * itself would do (exceptions delivered through the guest's IDT, a MOV DR that does not exit,
 * debug-register semantics) has already happened. {@link #rip()} is the guest RIP saved by the
 * exit: on the instruction concerned, which has not run, unless a record says otherwise.
 * KVM's exit handlers switch on this type once, exhaustively.
 */
public sealed interface VmExit {
    long rip();

    /** The basic exit reason. */
    ExitReason reason();

    /** The exit qualification (0 for the reasons for which the SDM defines none). */
    default long qualification() {
        return 0;
    }

    /** An instruction that always exits and that the VMM emulates, with its VM-exit instruction length. */
    sealed interface Instruction extends VmExit {
        int length();
    }

    record Cpuid(long rip, int length) implements Instruction {
        @Override
        public ExitReason reason() {
            return ExitReason.CPUID;
        }
    }

    record Hlt(long rip, int length) implements Instruction {
        @Override
        public ExitReason reason() {
            return ExitReason.HLT;
        }
    }

    /** RDMSR; the index is in ECX. */
    record Rdmsr(long rip, int length) implements Instruction {
        @Override
        public ExitReason reason() {
            return ExitReason.RDMSR;
        }
    }

    /** WRMSR; the index is in ECX, the value in EDX:EAX. */
    record Wrmsr(long rip, int length) implements Instruction {
        @Override
        public ExitReason reason() {
            return ExitReason.WRMSR;
        }
    }

    /** RDTSC, intercepted on a PC so that the TSC follows the machine's virtual clock. */
    record Rdtsc(long rip, int length) implements Instruction {
        @Override
        public ExitReason reason() {
            return ExitReason.RDTSC;
        }
    }

    /** RDTSCP: RDTSC plus IA32_TSC_AUX in ECX. */
    record Rdtscp(long rip, int length) implements Instruction {
        @Override
        public ExitReason reason() {
            return ExitReason.RDTSCP;
        }
    }

    /**
     * PAUSE-loop exiting (SDM vol. 3C, "PAUSE-Loop Exiting"): the PAUSE at {@link #rip()}, which
     * has not run, ended a spin loop that went on past the PLE window while another vCPU was
     * waiting to run (see {@link GuestEngine#enablePauseLoopExiting}). The VMM skips it and
     * yields (KVM's handle_pause).
     */
    record PauseInstruction(long rip, int length) implements Instruction {
        @Override
        public ExitReason reason() {
            return ExitReason.PAUSE_INSTRUCTION;
        }
    }

    record Vmcall(long rip, int length) implements Instruction {
        @Override
        public ExitReason reason() {
            return ExitReason.VMCALL;
        }
    }

    /**
     * VMGEXIT ({@code rep vmmcall}, F3 0F 01 D9) from an SEV-ES guest: the automatic exit the
     * guest asks for once its GHCB (MSR or page) holds the request. The exit trace, which speaks
     * VMX exit reasons, records it as VMCALL, the nearest.
     */
    record Vmgexit(long rip, int length) implements Instruction {
        @Override
        public ExitReason reason() {
            return ExitReason.VMCALL;
        }
    }

    /** TDCALL from a TD (only a TD's controls let it exit; elsewhere it is #UD in the guest). */
    record Tdcall(long rip, int length) implements Instruction {
        @Override
        public ExitReason reason() {
            return ExitReason.TDCALL;
        }
    }

    /**
     * IN, OUT, INS or OUTS that is not passed through. {@code addressSize} (2, 4, 8) is the
     * width of RSI/RDI/RCX for the string forms.
     */
    record Io(IoQualification io, int addressSize, long rip, int length) implements Instruction {
        @Override
        public ExitReason reason() {
            return ExitReason.IO_INSTRUCTION;
        }

        @Override
        public long qualification() {
            return io.bits();
        }
    }

    /**
     * Port I/O in code the scan for I/O instructions did not cover: the engine already performed
     * it through the VMM's devices ({@code value}: what an IN read), and RIP is wherever the engine
     * stopped after it. Reported so that it still counts as the I/O exit it is.
     */
    record IoPerformed(IoQualification io, long value, long rip) implements VmExit {
        @Override
        public ExitReason reason() {
            return ExitReason.IO_INSTRUCTION;
        }

        @Override
        public long qualification() {
            return io.bits();
        }
    }

    /**
     * MOV to or from a control register the VMCS intercepts (CR8, the TPR's view, on a PC). The
     * exit qualification: CR number in bits 3:0, access type in 5:4 (0 MOV to CR, 1 MOV from
     * CR), the general-purpose register in 11:8.
     */
    record CrAccess(int controlRegister, boolean toControlRegister, int gpr, long rip, int length) implements Instruction {
        @Override
        public ExitReason reason() {
            return ExitReason.CR_ACCESS;
        }

        @Override
        public long qualification() {
            return controlRegister | (toControlRegister ? 0 : 1L << 4) | ((long) gpr << 8);
        }
    }

    /** MOV DR while the VMCS asks for MOV-DR exiting. */
    record MovDr(MovDrQualification movDr, long rip, int length) implements Instruction {
        @Override
        public ExitReason reason() {
            return ExitReason.MOV_DR;
        }

        @Override
        public long qualification() {
            return movDr.bits();
        }
    }

    /**
     * An exception the exception bitmap (or a debug TD's #DB intercept) sends to the host:
     * {@code pending} are the #DB conditions (DR6 is not updated by the CPU); {@code length} is
     * non-zero for software exceptions (INT3, ICEBP) whose instruction starts at {@code rip};
     * {@code accesses} are the data and I/O accesses of the instruction that raised a trap #DB; for
     * #PF, {@code cr2} is the faulting linear address.
     */
    record ExceptionNmi(ExceptionVector vector, long errorCode, PendingDebug pending, long rip, int length, boolean icebp,
                        long cr2, List<Access> accesses) implements VmExit {
        public ExceptionNmi {
            accesses = List.copyOf(accesses);
        }

        @Override
        public ExitReason reason() {
            return ExitReason.EXCEPTION_NMI;
        }

        /** #DB: the pending debug conditions; #PF: the linear address (SDM, "Exit Qualification for Exceptions"). */
        @Override
        public long qualification() {
            return switch (vector) {
                case DB -> new DebugExitQualification(pending).bits();
                case PF -> cr2;
                default -> 0;
            };
        }
    }

    /** An access to guest-physical memory that is neither RAM nor a device. */
    record EptViolation(EptViolationQualification ept, long gpa, int size, long rip) implements VmExit {
        @Override
        public ExitReason reason() {
            return ExitReason.EPT_VIOLATION;
        }

        @Override
        public long qualification() {
            return ept.bits();
        }
    }

    /**
     * A VMX guest's load or store to its local APIC's xAPIC page, the APIC-access page (SDM
     * "APIC-Access VM Exits"; KVM's {@code handle_apic_access}, which emulates the instruction).
     * The engine executes the instruction itself and exits inside its access to the page, which
     * the VMM performs for it; {@link #rip()} is on the instruction. {@code size} is the access's
     * width in bytes, which KVM's emulator learns by decoding the instruction.
     */
    record ApicAccess(ApicAccessQualification access, int size, long rip) implements VmExit {
        @Override
        public ExitReason reason() {
            return ExitReason.APIC_ACCESS;
        }

        @Override
        public long qualification() {
            return access.bits();
        }
    }

    /**
     * A VMX guest's load or store to device memory other than its xAPIC page (the I/O APIC, the
     * PC's other MMIO devices, addresses nothing answers): KVM finds emulated MMIO through EPT
     * entries it misconfigures on purpose ({@code handle_ept_misconfig}, then its emulator and the
     * in-kernel or user-space device). Exits inside the access as {@link ApicAccess} does; the SDM
     * defines no qualification, the guest-physical address is {@code gpa}.
     */
    record EptMisconfig(long gpa, int size, boolean write, long rip) implements VmExit {
        @Override
        public ExitReason reason() {
            return ExitReason.EPT_MISCONFIG;
        }
    }

    /** Delivering an exception faulted while delivering #DF: the vCPU cannot continue. */
    record TripleFault(String why, long rip) implements VmExit {
        @Override
        public ExitReason reason() {
            return ExitReason.TRIPLE_FAULT;
        }
    }

    /** RFLAGS.IF became 1 outside any interrupt shadow while "interrupt-window exiting" was requested. */
    record InterruptWindow(long rip) implements VmExit {
        @Override
        public ExitReason reason() {
            return ExitReason.INTERRUPT_WINDOW;
        }
    }

    /**
     * "NMI-window exiting": an IRET completed while NMIs were blocked (NMIs are unblocked from
     * here on; {@link #rip()} is after the IRET), or an STI/MOV SS shadow that held a pending NMI
     * ended. Either way a latched NMI can go in at the next entry.
     */
    record NmiWindow(long rip) implements VmExit {
        @Override
        public ExitReason reason() {
            return ExitReason.NMI_WINDOW;
        }
    }

    /**
     * Guest execution ended from outside: a kick (another vCPU wants the engine, the debugger's
     * all-stop, an interrupt to deliver), a timeout, the VM ending. On hardware, an external
     * interrupt or an IPI that kicked the vCPU out.
     */
    record ExternalInterrupt(long rip) implements VmExit {
        @Override
        public ExitReason reason() {
            return ExitReason.EXTERNAL_INTERRUPT;
        }
    }
}
