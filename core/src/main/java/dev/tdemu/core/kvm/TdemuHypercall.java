package dev.tdemu.core.kvm;

/**
 * tdemu's hypercalls (docs/guest-abi.md), decoded and validated in one place for both guest
 * kinds: a VMX guest's VMCALL (RAX = number; RDI, RSI, RDX) and a TD's vendor TDG.VP.VMCALL
 * (R10 = {@link #TD_VENDOR_LEAF}, R11 = number; R12, R13, R14). Every argument is the guest's;
 * a bad one is answered with a KVM hypercall error, never an exception.
 */
public sealed interface TdemuHypercall {

    int TDEMU_HC_EXIT = 0x100;
    int TDEMU_HC_WRITE = 0x101;
    int TDEMU_HC_HOST_WORKLOAD = 0x102;
    int TDEMU_HC_READ_HOST_DRS = 0x103;
    /** R10 of a TDG.VP.VMCALL to tdemu's vendor leaf ("td"). */
    long TD_VENDOR_LEAF = 0x7464;

    /** KVM's hypercall errors (include/uapi/linux/kvm_para.h): returned negated. */
    long KVM_ENOSYS = 1000;
    long KVM_EFAULT = 14;
    long KVM_EINVAL = 22;

    /** The most bytes one TDEMU_HC_WRITE writes. */
    int WRITE_MAX = 1 << 20;
    /** TDEMU_HC_READ_HOST_DRS stores six qwords. */
    int HOST_DRS_BYTES = 48;

    record Exit(int status) implements TdemuHypercall {
    }

    record Write(long address, int length) implements TdemuHypercall {
    }

    record HostWorkload() implements TdemuHypercall {
    }

    record ReadHostDrs(long address) implements TdemuHypercall {
    }

    /** A refused call: the hypercall returns {@code -error} without doing anything. */
    record Invalid(long error) implements TdemuHypercall {
    }

    /**
     * Decodes and validates a call: an unknown number is -KVM_ENOSYS; an exit status above 255,
     * a WRITE longer than {@link #WRITE_MAX} (or "negative") is -KVM_EINVAL; a guest range that
     * wraps around the address space is -KVM_EFAULT.
     */
    static TdemuHypercall decode(long nr, long a0, long a1, long a2) {
        if (nr == TDEMU_HC_EXIT) {
            return Long.compareUnsigned(a0, 0xFF) > 0 ? new Invalid(KVM_EINVAL) : new Exit((int) a0);
        }
        if (nr == TDEMU_HC_WRITE) {
            if (Long.compareUnsigned(a1, WRITE_MAX) > 0) {
                return new Invalid(KVM_EINVAL);
            }
            if (a1 != 0 && Long.compareUnsigned(a0 + a1 - 1, a0) < 0) {
                return new Invalid(KVM_EFAULT);
            }
            return new Write(a0, (int) a1);
        }
        if (nr == TDEMU_HC_HOST_WORKLOAD) {
            return new HostWorkload();
        }
        if (nr == TDEMU_HC_READ_HOST_DRS) {
            if (Long.compareUnsigned(a0 + HOST_DRS_BYTES - 1, a0) < 0) {
                return new Invalid(KVM_EFAULT);
            }
            return new ReadHostDrs(a0);
        }
        return new Invalid(KVM_ENOSYS);
    }
}
