package dev.tdemu.emulator.cpu;

import dev.tdemu.core.vmx.MovDrDirection;
import dev.tdemu.core.vmx.MovDrQualification;
import dev.tdemu.core.x86.CpuMode;
import dev.tdemu.core.x86.ExceptionVector;
import java.util.Optional;

/** The VMM's execution controls a {@link PhysicalCpu} consults while a guest runs. */
public interface GuestControls {
    /** The MOV-DR exit qualification when this access exits, empty when it runs on the hardware DRs. */
    Optional<MovDrQualification> movDrExit(CpuMode mode, int dr, MovDrDirection direction, int gpr);

    /** Whether exception {@code vector} exits to the host instead of being delivered in the guest. */
    boolean exceptionExits(ExceptionVector vector);

    /** Whether port I/O to {@code port} runs in the guest without an exit (no device answers it). */
    boolean ioPassthrough(int port);

    /** Whether VMCALL exits (a VMX guest); otherwise it is #UD in the guest (a TD). */
    boolean vmcallExits();

    /** Whether TDCALL exits to the TDX module (a TD); otherwise it is #UD in the guest. */
    boolean tdcallExits();

    /** Whether VMGEXIT ({@code rep vmmcall}) exits (an SEV-ES guest); otherwise VMMCALL is #UD in the guest. */
    default boolean vmgexitExits() {
        return false;
    }

    /**
     * Whether NMIs are blocked (an NMI was delivered and no IRET has completed since). Only a
     * machine whose VMCB intercepts IRET (a PC) tracks it.
     */
    default boolean nmiBlocked() {
        return false;
    }

    /**
     * "NMI-window exiting" as KVM sets it (enable_nmi_window): an NMI waits while NMIs are
     * blocked, so the IRET that unblocks them exits ({@link VmExit.NmiWindow}) and the VMM injects
     * it. Without one the IRET unblocks NMIs through {@link #unblockNmis()} and the guest goes on.
     */
    default boolean nmiWindowExiting() {
        return false;
    }

    /** The guest completed an IRET while NMIs were blocked and no NMI-window exit was wanted: NMIs are unblocked. */
    default void unblockNmis() {
        throw new IllegalStateException("this machine delivers no NMIs");
    }

    /** SECONDARY_EXEC_ENABLE_RDTSCP: whether RDTSCP exists for the guest (it exits with RDTSC exiting); else #UD. */
    default boolean rdtscpEnabled() {
        return false;
    }

    /** Whether RDPID exists for the guest (CPUID.07H:ECX.RDPID; VMX also wants "enable RDTSCP"); else #UD. */
    default boolean rdpidEnabled() {
        return false;
    }

    /**
     * The CR4 bits a MOV to CR4 may not set (#GP(0)): reserved bits and the enables of features the
     * guest's CPUID does not offer. Consulted where the VMCB intercepts MOV to CR4 (a PC).
     */
    default long cr4ReservedBits() {
        return 0;
    }

    /**
     * Called between runs, after every run of the guest and before its event is handled: exits
     * the VMM took inside the run (in a device callback, see {@link GuestEngine#endRunAtNextBlock})
     * whose exit path could not run there are completed now, in the order they came.
     */
    default void afterRun() {
    }

    /**
     * KVM's {@code vmx_exit_handlers_fastpath}: completes {@code exit} inside the engine's hook,
     * the engine still running, when nothing the run loop does between an exit and the next entry
     * could come out differently; {@link ExitFastpath#EXIT_FASTPATH_NONE} leaves the exit to the
     * run loop. Called on the engine's thread, inside a run, for the exits {@link PhysicalCpu}
     * offers (CPUID), RIP still on the instruction.
     */
    default ExitFastpath exitHandlersFastpath(VmExit exit) {
        return ExitFastpath.EXIT_FASTPATH_NONE;
    }
}
