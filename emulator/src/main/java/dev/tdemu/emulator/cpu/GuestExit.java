package dev.tdemu.emulator.cpu;

import dev.tdemu.core.vmx.MovDrQualification;
import dev.tdemu.core.x86.PendingDebug;
import dev.tdemu.emulator.machine.MovDrInstruction;
import dev.tdemu.emulator.unicorn.MemType;

/**
 * What ends a stretch of guest execution on a {@link PhysicalCpu}: something only the VMM can
 * handle. Everything the CPU itself would do (exceptions delivered through the guest's IDT, MOV DR
 * that does not exit, debug-register semantics) has already happened. RIPs point at the
 * instruction concerned, which has not run, unless a record says otherwise.
 */
public sealed interface GuestExit {
    long rip();

    enum Kind { CPUID, HLT, RDMSR, WRMSR, VMCALL, TDCALL }

    /** An instruction that always exits (VMX) or goes to the TDX module (TD): the VMM emulates it. */
    record Instruction(Kind kind, long rip, int length) implements GuestExit {}

    /** Port I/O that is not passed through; the VMM emulates it (RIP on the instruction). */
    record PortIoExit(PortIo io, int port, long rip) implements GuestExit {}

    /**
     * Port I/O in code the scan did not cover: the engine already performed it through the VMM's
     * device callbacks and RIP is wherever the engine stopped after it.
     */
    record ImprecisePortIo(boolean in, int port, int size, long value, long rip) implements GuestExit {}

    /** MOV DR while the VMCS asks for MOV-DR exiting (basic reason 29). */
    record MovDrExit(MovDrQualification qualification, MovDrInstruction instruction, long rip) implements GuestExit {}

    /**
     * An exception the VMCS exception bitmap (or a debug TD's #DB intercept) sends to the host:
     * {@code pending} are the #DB conditions (DR6 is not updated); {@code instructionLength} is
     * non-zero for software exceptions (INT3, ICEBP) whose instruction starts at {@code rip};
     * {@code accesses} are the data and I/O accesses of the instruction that raised a trap #DB.
     */
    record ExceptionExit(int vector, long errorCode, PendingDebug pending, long rip, int instructionLength,
                         boolean icebp, java.util.List<dev.tdemu.core.x86.Access> accesses) implements GuestExit {
        public ExceptionExit {
            accesses = java.util.List.copyOf(accesses);
        }
    }

    /** An access to memory that is not guest RAM (an EPT violation on real hardware). */
    record MemoryFault(MemType type, long physical, int size, long rip) implements GuestExit {}

    /** Delivering an exception faulted while delivering #DF: the VM cannot continue. */
    record TripleFault(String reason, long rip) implements GuestExit {}

    /** Stopped from outside (timeout, pause) or out of time. */
    record Stopped(long rip) implements GuestExit {}
}
