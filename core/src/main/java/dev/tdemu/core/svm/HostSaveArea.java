package dev.tdemu.core.svm;


/**
 * The debug fields of the host save area (struct sev_es_save_area at VM_HSAVE_PA) that are
 * Type-B state with DebugSwap: VMRUN does not save them, #VMEXIT loads them. KVM must write them
 * itself (sev_es_prepare_switch_to_guest); a field KVM never wrote holds 0 (the page starts zeroed)
 * or whatever was written last.
 *
 * <p>Modelling decision: one host save area per SEV-ES vCPU, as if the vCPU always ran on one
 * physical CPU (KVM has one per CPU).
 */
public final class HostSaveArea {

    private final long[] dr = new long[4];
    private final long[] drAddrMask = new long[4];

    public long dr(int n) {
        return dr[slot(n)];
    }

    public void setDr(int n, long value) {
        dr[slot(n)] = value;
    }

    public long drAddrMask(int n) {
        return drAddrMask[slot(n)];
    }

    public void setDrAddrMask(int n, long value) {
        drAddrMask[slot(n)] = value;
    }

    @Override
    public String toString() {
        return String.format("hostsa[dr 0x%x 0x%x 0x%x 0x%x, masks 0x%x 0x%x 0x%x 0x%x]", dr[0], dr[1], dr[2], dr[3],
                drAddrMask[0], drAddrMask[1], drAddrMask[2], drAddrMask[3]);
    }

    private static int slot(int n) {
        return DrAddrMask.checkSlot(n);
    }
}
