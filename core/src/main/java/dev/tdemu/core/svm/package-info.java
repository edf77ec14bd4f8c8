/**
 * AMD SEV-ES and SEV-SNP as a second confidential-VM world: the VMSA's swapped debug state, the
 * host save area's Type-B fields, the DR address-mask MSRs, SEV_FEATURES.DebugSwap (set by KVM, or
 * by the guest itself through SNP AP Creation), and what VMRUN and #VMEXIT do with them. KVM's side
 * is a {@link dev.tdemu.core.kvm.KvmVcpu} with an SEV-ES backing running a policy program.
 */
package dev.tdemu.core.svm;
