package dev.tdemu.core.svm;

/**
 * SEV_FEATURES of a VMSA: the SEV-ES/SNP features a vCPU runs with. The CPU obeys the VMSA's value,
 * whoever wrote it: KVM for the boot vCPU, the guest itself for a vCPU it creates through SNP AP
 * Creation (SVM_VMGEXIT_AP_CREATE), so KVM's view ({@link SevGuest#vmsaFeatures()}) can be wrong.
 */
public record SevFeatures(long bits) {

    /** SVM_SEV_FEAT_SNP_ACTIVE. */
    public static final long SNP_ACTIVE = 1L;
    /** SVM_SEV_FEAT_DEBUG_SWAP: DR0–3, DR6, DR7 and the DR address masks are swapped by hardware. */
    public static final long DEBUG_SWAP = 1L << 5;

    public static final SevFeatures NONE = new SevFeatures(0);

    public static SevFeatures of(long... flags) {
        long b = 0;
        for (long f : flags) {
            b |= f;
        }
        return new SevFeatures(b);
    }

    public boolean debugSwap() {
        return (bits & DEBUG_SWAP) != 0;
    }

    public boolean snpActive() {
        return (bits & SNP_ACTIVE) != 0;
    }

    public SevFeatures with(long flag) {
        return new SevFeatures(bits | flag);
    }

    public SevFeatures without(long flag) {
        return new SevFeatures(bits & ~flag);
    }

    @Override
    public String toString() {
        return "SevFeatures[" + (snpActive() ? "SNP_ACTIVE " : "") + (debugSwap() ? "DEBUG_SWAP" : "") + "]";
    }
}
