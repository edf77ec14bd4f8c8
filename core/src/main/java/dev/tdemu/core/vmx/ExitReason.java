package dev.tdemu.core.vmx;

/** VMX basic exit reasons (SDM Vol. 3C, appendix C) that tdemu produces. */
public enum ExitReason {
    EXCEPTION_NMI(0),
    /** An external event ended guest execution (tdemu: a pause, a timeout, the VM ending). */
    EXTERNAL_INTERRUPT(1),
    TRIPLE_FAULT(2),
    CPUID(10),
    HLT(12),
    VMCALL(18),
    MOV_DR(29),
    IO_INSTRUCTION(30),
    RDMSR(31),
    WRMSR(32),
    EPT_VIOLATION(48),
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
