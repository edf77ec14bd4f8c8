package dev.tdemu.core.kvm;

/** The outcome of one of tdemu's hypercalls, the same for VMCALL and the TD vendor leaf. */
public sealed interface HypercallResult {

    /** The hypercall returns {@code value} (0 or more: success; negative: -errno as KVM's hypercalls return). */
    record Returned(long value) implements HypercallResult {
    }

    /** The hypercall ends the VM. */
    record Ends(VmEnd end) implements HypercallResult {
    }
}
