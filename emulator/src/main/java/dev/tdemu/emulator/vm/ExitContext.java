package dev.tdemu.emulator.vm;

import dev.tdemu.core.x86.EventDelivery;
import dev.tdemu.core.kvm.DebugStop;
import dev.tdemu.core.kvm.KvmVcpu;
import dev.tdemu.core.kvm.Vmm;
import dev.tdemu.core.x86.Access;
import dev.tdemu.core.x86.CpuMode;
import dev.tdemu.core.x86.Gpr;
import dev.tdemu.emulator.cpu.PortIoEmulation;
import dev.tdemu.emulator.cpu.VmExit;
import java.util.List;

/**
 * What an exit handler may do with the vCPU whose exit it handles, named as KVM names it: read
 * and write its registers ({@code kvm_register_read}/{@code write}, {@code kvm_rip_write}),
 * complete the instruction ({@code kvm_skip_emulated_instruction}), queue an event for the next
 * entry ({@code kvm_queue_exception}), report to the debugger ({@code KVM_EXIT_DEBUG}), reach the
 * devices, MSRs, CPUID and hypercalls (the {@link Vmm}), halt the vCPU, end the VM. Nothing else
 * of the vCPU: its engine, its physical CPU and its run loop stay the {@link Vcpu}'s.
 */
interface ExitContext {
    int vcpuIndex();

    /** KVM's state for this vCPU. */
    KvmVcpu kvm();

    /** {@code kvm_register_read}. */
    long read(Gpr r);

    /** {@code kvm_register_write}. */
    void write(Gpr r, long value);

    long rip();

    void setRip(long rip);

    long rflags();

    /** CPL, CR4.DE, long mode. */
    CpuMode mode();

    /**
     * {@code kvm_skip_emulated_instruction}: RIP past the exiting instruction and, when the guest
     * had RFLAGS.TF set, the single-step #DB the completed instruction owes.
     */
    void skipInstruction(VmExit.Instruction exit);

    /** {@code kvm_queue_exception}: delivered through the guest's IDT at the next entry. */
    void queueException(EventDelivery event);

    /**
     * Queues #DB for the next entry (KVM has already put the bits in the guest's view of DR6):
     * a fault at {@code rip}, or a trap whose frame gets the guest's RFLAGS.RF as it stands.
     */
    void queueDebugException(long rip, boolean fault);

    /**
     * A single-step trap (DR6.BS) owed to the guest right after the next entry, at {@code nextRip}:
     * an instruction completed for the guest by someone other than the CPU while RFLAGS.TF was set
     * (the TDX module completing a TDG.VP.VMCALL), delivered inside the guest with its own DR6.
     */
    void queueSingleStepTrap(long nextRip);

    /**
     * The vCPU would shut down (triple fault): with a debugger connected it stops for it first,
     * state intact, and the VM ends with {@code detail} once the debugger lets it go on. False
     * (nothing done) without a debugger.
     */
    boolean stopForDebuggerBeforeShutdown(String detail, long rip);

    /**
     * The guest raised an exception the debugger catches ({@code monitor catch}): the vCPU stops
     * for it before delivery (the caller has queued the delivery for the next entry). False
     * (nothing done) without a debugger or when the vector is not caught.
     */
    boolean stopForCaughtException(VmExit.ExceptionNmi e);

    /** {@code KVM_EXIT_DEBUG}: the debugger's event; every vCPU stops. */
    void reportDebugStop(DebugStop stop, List<Access> accesses);

    /** Whether the #BP at {@code rip} is one of the debugger's INT3s (KVM_GUESTDBG_USE_SW_BP). */
    boolean debuggerOwnsSoftwareBreakpoint(long rip);

    /** The devices, MSRs, CPUID and hypercalls behind this vCPU. */
    Vmm vmm();

    /** Performs the I/O instruction of an I/O exit on the devices, REP count and all ({@code handle_io}). */
    PortIoEmulation.Outcome emulateIo(VmExit.Io io);

    /**
     * {@code kvm_emulate_instruction} for an APIC-access or EPT-misconfiguration exit: the engine
     * executes the instruction and exited inside its device access, which this performs on the
     * devices (the vCPU's local APIC, the MMIO bus), as KVM's emulator does through
     * {@code vcpu_mmio_read}/{@code write}; a read's value goes back into the instruction.
     */
    void emulateMmioAccess(VmExit exit);

    /** Writes CR2 (before a #PF is queued). */
    void setCr2(long linear);

    /** Whether the machine has an interrupt controller whose interrupts wake HLT (a PC). */
    boolean hasInterruptController();

    /**
     * HLT: the vCPU is halted (KVM_MP_STATE_HALTED) until an interrupt it can take (RFLAGS.IF set),
     * an NMI it can take or INIT is pending.
     */
    void halt();

    /**
     * TDG.VP.VMCALL&lt;Instruction.HLT&gt; on a machine with an interrupt controller (KVM's
     * {@code tdx_protected_apic_has_interrupt}): halted as {@link #halt()}, but an interrupt wakes it
     * unless the TD said its interrupts are blocked (R12), whatever RFLAGS.IF is inside the TDCALL.
     */
    void haltTd(boolean interruptsBlocked);

    /** HLT with nothing that can ever wake the vCPU: it stops for good. */
    void haltForGood(long rip);

    /** Ends the VM (the first reason wins). */
    void finish(VmResult.Outcome outcome, String detail, int status);

    boolean vmFinished();

    /** The guest's IRET ended NMI blocking (an NMI-window exit). */
    void nmiUnblocked();

    /** MOV from CR8: the local APIC's TPR[7:4]. */
    int cr8();

    /** MOV to CR8 of 0-15. */
    void setCr8(int value);
}
