package dev.tdemu.emulator.unicorn;

/**
 * A memory-management register (GDTR, IDTR, LDTR or TR) as Unicorn's {@code uc_x86_mmr}:
 * the selector and flags (descriptor attributes) are meaningful for LDTR and TR only; GDTR and IDTR
 * limits are 16 bits.
 */
public record X86Mmr(int selector, long base, int limit, int flags) {
    public X86Mmr {
        if (selector < 0 || selector > 0xffff) {
            throw new IllegalArgumentException("selector out of range: 0x" + Integer.toHexString(selector));
        }
    }

    /** A descriptor-table register value (GDTR/IDTR): base and limit only. */
    public static X86Mmr table(long base, int limit) {
        return new X86Mmr(0, base, limit, 0);
    }

    @Override
    public String toString() {
        return String.format("X86Mmr[selector=0x%x, base=0x%x, limit=0x%x, flags=0x%x]", selector, base, limit, flags);
    }
}
