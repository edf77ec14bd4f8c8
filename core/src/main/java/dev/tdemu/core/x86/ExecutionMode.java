package dev.tdemu.core.x86;

/**
 * The mode code executes in, as far as instruction decoding and event delivery depend on it: the
 * processor's operating mode (CR0.PE, RFLAGS.VM, EFER.LMA) and the current code segment's L and D
 * bits (SDM Vol. 3 2.2 and Vol. 1 3.6 "Operand-size and address-size attributes").
 *
 * <p>"Unreal" variants (real mode with a 32-bit CS cache left over from protected mode) are not
 * modelled: real mode is taken as 16-bit, as after every architectural entry to it.
 */
public enum ExecutionMode {
    /** Real-address mode (CR0.PE=0): 16-bit, no protection, the IVT. */
    REAL(2, 2, false),
    /** Virtual-8086 mode (RFLAGS.VM=1 in protected mode): 16-bit code under protected-mode rules. */
    VIRTUAL_8086(2, 2, true),
    /** Protected mode (or IA-32e compatibility mode) with CS.D=0. */
    PROTECTED_16(2, 2, true),
    /** Protected mode (or IA-32e compatibility mode) with CS.D=1. */
    PROTECTED_32(4, 4, true),
    /** IA-32e 64-bit mode (EFER.LMA=1 and CS.L=1). */
    LONG_64(4, 8, true);

    private final int operandSize;
    private final int addressSize;
    private final boolean protectedMode;

    ExecutionMode(int operandSize, int addressSize, boolean protectedMode) {
        this.operandSize = operandSize;
        this.addressSize = addressSize;
        this.protectedMode = protectedMode;
    }

    /**
     * The mode from the control state.
     *
     * @param cr0Pe   CR0.PE
     * @param vm      RFLAGS.VM
     * @param lma     EFER.LMA
     * @param csL     the L bit of the CS descriptor cache
     * @param csD     the D bit of the CS descriptor cache
     */
    public static ExecutionMode of(boolean cr0Pe, boolean vm, boolean lma, boolean csL, boolean csD) {
        if (!cr0Pe) {
            return REAL;
        }
        if (lma && csL) {
            if (csD) {
                throw new IllegalArgumentException("CS with L=1 and D=1 is reserved (a load of it is #GP)");
            }
            return LONG_64;
        }
        if (vm && !lma) {
            return VIRTUAL_8086;
        }
        return csD ? PROTECTED_32 : PROTECTED_16;
    }

    /** Operand size without prefixes, in bytes: 2 or 4 (64-bit mode's default is 4; REX.W makes 8). */
    public int defaultOperandSize() {
        return operandSize;
    }

    /** Address size without a 0x67 prefix, in bytes: 2, 4 or 8. */
    public int defaultAddressSize() {
        return addressSize;
    }

    public boolean is64Bit() {
        return this == LONG_64;
    }

    /** Protected-mode rules apply (everything but real mode, including virtual-8086 mode). */
    public boolean isProtected() {
        return protectedMode;
    }

    /** Real or virtual-8086 mode: 16-bit code in which VEX, EVEX and the protected-mode-only instructions do not exist. */
    public boolean isReal8086() {
        return this == REAL || this == VIRTUAL_8086;
    }
}
