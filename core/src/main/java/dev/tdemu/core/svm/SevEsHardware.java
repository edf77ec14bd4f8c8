package dev.tdemu.core.svm;

import dev.tdemu.core.x86.DebugRegisterFile;
import dev.tdemu.core.x86.DebugRegisters;
import dev.tdemu.core.x86.Dr6;
import dev.tdemu.core.x86.Dr7;

/**
 * What an AMD CPU does to the debug state on VMRUN and #VMEXIT of an SEV-ES guest, following the
 * VMSA's own SEV_FEATURES (not KVM's view of them).
 *
 * <p>With DebugSwap the guest's DR0–3, DR6, DR7 and DR address masks are Type-A guest state:
 * loaded from the VMSA by VMRUN and saved to it by #VMEXIT; the host's DR0–3 and masks are Type-B:
 * #VMEXIT loads them from the host save area, where only software puts them. Without DebugSwap only
 * DR6 and DR7 are swapped: the guest runs on the host's DR0–3 and masks, and whatever it writes to
 * them is still there after #VMEXIT.
 *
 * <p>Modelling decision: #VMEXIT leaves DR7 = 0x400 and DR6 = 0xFFFF0FF0 (their reset values) in
 * either case; "DR7 is reset on #VMEXIT" is what KVM relies on (b2653cd3b75f), and KVM restores
 * DR6 itself whenever the host has breakpoints.
 */
public final class SevEsHardware {

    private SevEsHardware() {
    }

    /** VMRUN: load the guest's swapped state from the VMSA. */
    public static void vmrun(Vmsa vmsa, DebugRegisterFile cpu) {
        DebugRegisters guest = vmsa.debugRegisters();
        if (vmsa.sevFeatures().debugSwap()) {
            cpu.load(guest);
            for (int n = 0; n < 4; n++) {
                cpu.setDrAddrMask(n, vmsa.drAddrMask(n));
            }
        } else {
            DebugRegisters hw = cpu.snapshot();
            cpu.load(hw.withDr6(guest.dr6()).withDr7(guest.dr7()));
        }
    }

    /** #VMEXIT: save the guest's swapped state into the VMSA, then load the host's Type-B state. */
    public static void vmexit(Vmsa vmsa, HostSaveArea hostsa, DebugRegisterFile cpu) {
        DebugRegisters hw = cpu.snapshot();
        if (vmsa.sevFeatures().debugSwap()) {
            vmsa.setDebugRegisters(hw);
            long[] hostDr = new long[4];
            for (int n = 0; n < 4; n++) {
                vmsa.setDrAddrMask(n, cpu.drAddrMask(n));
                hostDr[n] = hostsa.dr(n);
                cpu.setDrAddrMask(n, hostsa.drAddrMask(n));
            }
            cpu.load(DebugRegisters.of(hostDr, Dr6.RESET, Dr7.RESET));
        } else {
            vmsa.setDebugRegisters(vmsa.debugRegisters().withDr6(hw.dr6()).withDr7(hw.dr7()));
            cpu.load(hw.withDr6(Dr6.RESET).withDr7(Dr7.RESET));
        }
    }
}
