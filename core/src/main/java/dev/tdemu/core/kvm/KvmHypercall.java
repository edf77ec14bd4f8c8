package dev.tdemu.core.kvm;

/**
 * KVM's hypercall emulation ({@code kvm_emulate_hypercall}) for tdemu's hypercalls: a VMX
 * guest's VMCALL, and the vendor leaf of a TD's TDG.VP.VMCALL ({@link TdxVmcall}) both end here,
 * so the two guest kinds get the same validation and the same answers.
 */
public final class KvmHypercall {

    private KvmHypercall() {
    }

    /**
     * VMCALL in a VMX guest: number in RAX, arguments in RDI, RSI, RDX. The result goes to RAX and
     * RIP moves past the VMCALL (with the single-step trap TF owes: the caller's skipInstruction).
     */
    public static HypercallResult handleVmcall(long rax, long rdi, long rsi, long rdx, Vmm vmm) {
        return kvmEmulateHypercall(rax, rdi, rsi, rdx, vmm);
    }

    /** One tdemu hypercall, decoded by {@link TdemuHypercall#decode} and then performed through {@code vmm}. */
    public static HypercallResult kvmEmulateHypercall(long nr, long a0, long a1, long a2, Vmm vmm) {
        return switch (TdemuHypercall.decode(nr, a0, a1, a2)) {
            case TdemuHypercall.Exit e -> new HypercallResult.Ends(new VmEnd.Exited(e.status()));
            case TdemuHypercall.Write w -> new HypercallResult.Returned(
                    w.length() == 0 || vmm.consoleWrite(w.address(), w.length()) ? 0 : -TdemuHypercall.KVM_EFAULT);
            case TdemuHypercall.HostWorkload h -> new HypercallResult.Returned(vmm.hostWorkload());
            case TdemuHypercall.ReadHostDrs r -> new HypercallResult.Returned(
                    vmm.storeHostDebugRegisters(r.address()) ? 0 : -TdemuHypercall.KVM_EFAULT);
            case TdemuHypercall.Invalid i -> new HypercallResult.Returned(-i.error());
        };
    }
}
