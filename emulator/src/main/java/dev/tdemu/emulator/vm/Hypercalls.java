package dev.tdemu.emulator.vm;

/** The tdemu hypercall ABI (docs/guest-abi.md): VMCALL in a VMX guest, a vendor TDG.VP.VMCALL leaf in a TD. */
public final class Hypercalls {
    public static final int EXIT = 0x100;
    public static final int WRITE = 0x101;
    public static final int HOST_WORKLOAD = 0x102;
    public static final int READ_HOST_DRS = 0x103;
    /** R10 value marking a vendor-specific TDG.VP.VMCALL (0 is a GHCI standard leaf). */
    public static final long TD_VENDOR_LEAF = 0x7464;
    /** KVM's answer to an unknown hypercall. */
    public static final long ENOSYS = -1000;
    /** A bad argument (TDEMU_HC_WRITE longer than {@link #WRITE_MAX}). */
    public static final long EINVAL = -22;
    /** An address the guest's page tables do not map. */
    public static final long EFAULT = -14;
    /** The most bytes one TDEMU_HC_WRITE may print. */
    public static final long WRITE_MAX = 1 << 20;

    public static final int CONSOLE_PORT = 0xE9;
    public static final int EXIT_PORT = 0xF4;
    public static final int POST_PORT = 0x80;
    /** HLT with interrupts enabled is woken by a timer interrupt on this vector. */
    public static final int TIMER_VECTOR = 0x20;

    private Hypercalls() {}
}
