package dev.tdemu.core.x86;

/**
 * The parts of the processor mode that the debug-register rules depend on.
 *
 * @param cpl      current privilege level, 0..3; MOV DR needs 0
 * @param cr4De    CR4.DE: DR4/DR5 are #UD instead of aliases, and R/W=10 means I/O
 * @param longMode 64-bit mode: MOV DR moves 64 bits and rejects 1s in bits 63:32 of DR6/DR7
 */
public record CpuMode(int cpl, boolean cr4De, boolean longMode) {

    /** Ring 0 in 64-bit mode with CR4.DE set, as Linux runs (host kernel and a 64-bit guest kernel). */
    public static final CpuMode KERNEL_64 = new CpuMode(0, true, true);

    /** Ring 3 in 64-bit mode with CR4.DE set. */
    public static final CpuMode USER_64 = new CpuMode(3, true, true);

    public CpuMode {
        if (cpl < 0 || cpl > 3) {
            throw new IllegalArgumentException("CPL is 0..3, not " + cpl);
        }
    }
}
