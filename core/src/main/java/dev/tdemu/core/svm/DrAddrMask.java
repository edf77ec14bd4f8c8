package dev.tdemu.core.svm;

/**
 * The AMD breakpoint address-mask MSRs (Breakpoint Extensions): a set bit in DRn_ADDR_MASK makes
 * the corresponding address bit of DRn "don't care". The MSR numbers are not in slot order.
 */
public final class DrAddrMask {

    public static final int MSR_F16H_DR0_ADDR_MASK = 0xC0011027;
    public static final int MSR_F16H_DR1_ADDR_MASK = 0xC0011019;
    public static final int MSR_F16H_DR2_ADDR_MASK = 0xC001101A;
    public static final int MSR_F16H_DR3_ADDR_MASK = 0xC001101B;

    private DrAddrMask() {
    }

    /** The MSR holding slot {@code n}'s mask. */
    public static int msr(int n) {
        return switch (n) {
            case 0 -> MSR_F16H_DR0_ADDR_MASK;
            case 1 -> MSR_F16H_DR1_ADDR_MASK;
            case 2 -> MSR_F16H_DR2_ADDR_MASK;
            case 3 -> MSR_F16H_DR3_ADDR_MASK;
            default -> throw new IllegalArgumentException("DR address masks exist for slots 0..3, not " + n);
        };
    }

    /** Checks a breakpoint slot number (0..3). */
    static int checkSlot(int n) {
        if (n < 0 || n > 3) {
            throw new IllegalArgumentException("breakpoint slot is 0..3, not " + n);
        }
        return n;
    }
}
