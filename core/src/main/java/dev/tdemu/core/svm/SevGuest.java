package dev.tdemu.core.svm;

/**
 * KVM's view of an SEV-ES/SEV-SNP VM, what its DR handling decides on: the SEV_FEATURES KVM put in
 * the VMSAs it created ({@code sev->vmsa_features}, read by sev_vcpu_has_debug_swap()), whether it
 * is an SNP guest, and whether the CPU supports DebugSwap (X86_FEATURE_DEBUG_SWAP).
 */
public record SevGuest(SevFeatures vmsaFeatures, boolean snp, boolean cpuHasDebugSwap) {

    /** sev_vcpu_has_debug_swap(): what KVM believes, not what the VMSA says. */
    public boolean kvmSeesDebugSwap() {
        return vmsaFeatures.debugSwap();
    }
}
