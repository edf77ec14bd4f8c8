package dev.tdemu.emulator.machine;

/**
 * Linear to guest-physical translation through 4-level IA-32e paging, as the CPU walks it. Debug
 * registers hold linear addresses while the engine's memory hooks see physical ones, so data
 * breakpoints are translated here (and re-translated when CR3 or the tables change).
 */
public final class PageWalker {
    private static final long ADDRESS_MASK = 0x000F_FFFF_FFFF_F000L;
    private static final long P = 1, RW = 2, US = 4, PS = 0x80;

    /** A present mapping: the physical address and the page that holds it. */
    public record Translation(long physical, long pageBase, long pageSize, boolean writable, boolean user) {
        /** Bytes from {@code physical} to the end of its page. */
        public long bytesToPageEnd() {
            return pageBase + pageSize - physical;
        }
    }

    private PageWalker() {}

    public static boolean isCanonical(long linear) {
        return (linear >> 47) == 0 || (linear >> 47) == -1;
    }

    /** The translation of {@code linear}, or {@code null} when it is not mapped (a #PF on real hardware). */
    public static Translation translate(GuestMemory mem, long cr3, long linear) {
        if (!isCanonical(linear)) {
            return null;
        }
        long table = cr3 & ADDRESS_MASK;
        boolean writable = true, user = true;
        for (int level = 4; level >= 1; level--) {
            int shift = 12 + 9 * (level - 1);
            long entryAddress = table + 8 * ((linear >>> shift) & 0x1FF);
            if (!mem.contains(entryAddress, 8)) {
                return null;
            }
            long entry = mem.read64(entryAddress);
            if ((entry & P) == 0) {
                return null;
            }
            writable &= (entry & RW) != 0;
            user &= (entry & US) != 0;
            // 2 MiB pages only: the CPU model (and CPUID) has no 1 GiB pages, so PS in a PDPTE is
            // reserved and the walk fails, exactly as the engine's own walk does.
            if (level == 3 && (entry & PS) != 0) {
                return null;
            }
            boolean large = level == 2 && (entry & PS) != 0;
            if (large || level == 1) {
                long pageSize = 1L << shift;
                long pageBase = entry & ADDRESS_MASK & ~(pageSize - 1);
                long physical = pageBase | (linear & (pageSize - 1));
                return new Translation(physical, pageBase, pageSize, writable, user);
            }
            table = entry & ADDRESS_MASK;
        }
        throw new AssertionError("unreachable");
    }
}
