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

    /**
     * "NMI-window exiting": whether the IRET that ends NMI blocking exits ({@link VmExit.NmiWindow}),
     * so the VMM sees NMIs unblocked. Only a machine whose VMCB intercepts IRET (a PC) can honour it.
     */
    default boolean nmiWindowExiting() {
        return false;
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
}
