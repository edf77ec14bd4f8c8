package dev.tdemu.core.vmx;

import dev.tdemu.core.x86.CpuMode;
import dev.tdemu.core.x86.DebugRegisterFile;
import dev.tdemu.core.x86.Dr7;
import dev.tdemu.core.x86.ExceptionVector;

import java.util.Optional;

/**
 * What the processor does to the debug state on VM entry and VM exit, and which guest events
 * exit. DR0–DR3 and DR6 are never touched by entry or exit: the hypervisor switches them itself.
 */
public final class VmxHardware {

    private VmxHardware() {
    }

    /**
     * VM entry: with "load debug controls", DR7 ← VMCS guest DR7 and IA32_DEBUGCTL ← VMCS guest
     * DEBUGCTL; without it, DR7 and DEBUGCTL keep whatever the host left (that is why KVM sets it).
     */
    public static void vmEntry(Vmcs vmcs, DebugRegisterFile cpu) {
        if (vmcs.entryControls().loadDebugControls()) {
            cpu.loadDr7(vmcs.guestDr7());
            cpu.setDebugctl(vmcs.guestDebugctl());
        }
    }

    /**
     * VM exit: records reason and qualification; with "save debug controls", VMCS guest DR7 ← DR7
     * and guest DEBUGCTL ← DEBUGCTL; then, unconditionally, DR7 ← 0x400 and DEBUGCTL ← 0.
     */
    public static void vmExit(Vmcs vmcs, DebugRegisterFile cpu, ExitReason reason, long qualification) {
        vmcs.recordExit(reason, qualification);
        if (vmcs.exitControls().saveDebugControls()) {
            vmcs.setGuestDr7(cpu.dr7());
            vmcs.setGuestDebugctl(cpu.debugctl());
        }
        cpu.loadDr7(Dr7.RESET);
        cpu.setDebugctl(0);
    }

    /**
     * Whether a guest MOV DR exits, and with which qualification. #GP for CPL>0 and #UD for
     * DR4/DR5 with CR4.DE=1 take priority over the exit (the executor raises them in the guest);
     * the exit takes priority over the GD #DB, which is why KVM must emulate GD itself.
     */
    public static Optional<MovDrQualification> movDrExit(Vmcs vmcs, CpuMode guestMode, int dr,
                                                         MovDrDirection direction, int gpr) {
        if (!vmcs.movDrExiting() || guestMode.cpl() != 0 || ((dr == 4 || dr == 5) && guestMode.cr4De())) {
            return Optional.empty();
        }
        return Optional.of(new MovDrQualification(dr, direction, gpr));
    }

    /** Whether the exception causes a VM exit (basic reason 0) instead of being delivered in the guest. */
    public static boolean exceptionExits(Vmcs vmcs, ExceptionVector vector) {
        return vmcs.exceptionBitmap().intercepts(vector);
    }
}
