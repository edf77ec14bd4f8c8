package dev.tdemu.emulator.unicorn;

/**
 * Translates one page for the engine's TLB while the engine is in virtual-TLB mode
 * ({@link Unicorn#useVirtualTlb(boolean)}): {@code UC_HOOK_TLB_FILL}. Called on every TLB miss
 * with the page of the access (the engine passes the page address, not the exact one) and the
 * access type ({@link MemType#READ}, {@link MemType#WRITE} or {@link MemType#FETCH}).
 *
 * <p>Return {@link #entry(long, Protection)} to fill the TLB, or {@link #REFUSE}: the engine then
 * ends the run with {@link UcError#EXCEPTION} and RIP exactly at the instruction that made the
 * access (state restored as for a page fault; the instruction did not complete), whatever code
 * it was in. That precision is what the engine's protection faults lack without memory hooks.
 */
@FunctionalInterface
public interface TlbFillHook {
    /** The fill fails (the run ends at the accessing instruction). */
    long REFUSE = -1;

    /** The encoded TLB entry for a page at {@code physicalPage} with {@code perms}. */
    static long entry(long physicalPage, Protection perms) {
        if ((physicalPage & 0xFFF) != 0 || physicalPage < 0) {
            throw new IllegalArgumentException(String.format("not a page address: 0x%x", physicalPage));
        }
        return physicalPage | perms.bits();
    }

    long fill(Unicorn uc, long virtualPage, MemType type);
}
