package dev.tdemu.core.svm;

import dev.tdemu.core.x86.DebugRegisters;

/**
 * The debug part of an SEV-ES vCPU's VMSA (the encrypted guest save area): the guest's DR0–3, DR6,
 * DR7 and DR address masks as VMRUN loads them and #VMEXIT saves them, and the SEV_FEATURES the
 * CPU obeys. KVM can read none of it once the guest runs.
 */
public final class Vmsa {

    private SevFeatures sevFeatures;
    private DebugRegisters debugRegisters = DebugRegisters.INIT;
    private final long[] drAddrMask = new long[4];

    public Vmsa(SevFeatures sevFeatures) {
        this.sevFeatures = sevFeatures;
    }

    /** The SEV_FEATURES this VMSA actually holds (what the CPU does). */
    public SevFeatures sevFeatures() {
        return sevFeatures;
    }

    /**
     * SNP AP Creation: the guest hands KVM a VMSA whose SEV_FEATURES it chose itself. On CPUs
     * without ALLOWED_SEV_FEATURES nothing checks them against KVM's view.
     */
    public void apCreate(SevFeatures chosenByGuest) {
        sevFeatures = chosenByGuest;
    }

    public DebugRegisters debugRegisters() {
        return debugRegisters;
    }

    public void setDebugRegisters(DebugRegisters value) {
        debugRegisters = value;
    }

    public long drAddrMask(int n) {
        return drAddrMask[slot(n)];
    }

    public void setDrAddrMask(int n, long value) {
        drAddrMask[slot(n)] = value;
    }

    private static int slot(int n) {
        return DrAddrMask.checkSlot(n);
    }
}
