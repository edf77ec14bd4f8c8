package dev.tdemu.core.vmx;

/** VMX basic exit reasons (SDM Vol. 3C, appendix C) that tdemu produces. */
public enum ExitReason {
    EXCEPTION_NMI(0),
    /** An external event ended guest execution (tdemu: a pause, a timeout, the VM ending, a kick). */
    EXTERNAL_INTERRUPT(1),
    TRIPLE_FAULT(2),
    INIT_SIGNAL(3),
    STARTUP_IPI(4),
    /** RFLAGS.IF became 1 with "interrupt-window exiting" set: an interrupt can be injected. */
    INTERRUPT_WINDOW(7),
    /** NMIs became unblocked with "NMI-window exiting" set. */
    NMI_WINDOW(8),
    CPUID(10),
    HLT(12),
    INVLPG(14),
    RDTSC(16),
    VMCALL(18),
    /** MOV to or from a control register, CLTS or LMSW ({@link CrAccessQualification}). */
    CR_ACCESS(28),
    MOV_DR(29),
    /** IN, OUT, INS, OUTS ({@link IoQualification}). */
    IO_INSTRUCTION(30),
    RDMSR(31),
    WRMSR(32),
    /**
     * PAUSE-loop exiting: the guest ran PAUSE in a spin loop for longer than the PLE window (tdemu:
     * a vCPU of a VM with several, while another waits for the engine). RIP on the PAUSE.
     */
    PAUSE_INSTRUCTION(40),
    /** A guest access to the APIC-access page (tdemu: the xAPIC page of a VMX guest; {@link ApicAccessQualification}). */
    APIC_ACCESS(44),
    /** A guest-physical access the EPT does not allow ({@link EptViolationQualification}). */
    EPT_VIOLATION(48),
    /**
     * A guest-physical access through a misconfigured EPT entry: how KVM finds emulated MMIO (its
     * MMIO sptes), so every access to a device other than the local APIC exits so (tdemu: a VMX
     * guest's access to device memory outside its xAPIC page). No exit qualification.
     */
    EPT_MISCONFIG(49),
    RDTSCP(51),
    TDCALL(77);

    private final int basic;

    ExitReason(int basic) {
        this.basic = basic;
    }

    /** The basic exit reason number (bits 15:0 of the exit-reason field). */
    public int basic() {
        return basic;
    }

    public static ExitReason fromBasic(int basic) {
        for (ExitReason r : values()) {
            if (r.basic == basic) {
                return r;
            }
        }
        throw new IllegalArgumentException("exit reason not modelled: " + basic);
    }
}
