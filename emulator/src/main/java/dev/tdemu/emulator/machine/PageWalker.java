package dev.tdemu.emulator.machine;

/**
 * Linear to guest-physical translation through 4-level IA-32e paging, as the CPU walks it. Debug
 * registers hold linear addresses while the engine's memory hooks see physical ones, so data
 * breakpoints are translated here (and re-translated when CR3 or the tables change).
 */
public final class PageWalker {
    private static final long ADDRESS_MASK = 0x000F_FFFF_FFFF_F000L;
    private static final long P = 1, RW = 2, US = 4, ACCESSED = 0x20, DIRTY = 0x40, PS = 0x80, XD = 1L << 63;

    /** A present mapping: the physical address and the page that holds it. */
    public record Translation(long physical, long pageBase, long pageSize, boolean writable, boolean user) {
        /** Bytes from {@code physical} to the end of its page. */
        public long bytesToPageEnd() {
            return pageBase + pageSize - physical;
        }
    }

    private PageWalker() {}

    /** The kind of access a walk is for. */
    public enum AccessType { READ, WRITE, FETCH }

    /**
     * The processor state that decides whether an access is allowed: the CPL, CR0.WP, and whether
     * any of CR4.SMEP, SMAP or PKE is set (their rules are not modelled here: with one set, every
     * access to a user page is left to the caller's fallback). EFER.NXE is clear in every tdemu
     * guest (the boot EFER, which WRMSR cannot change), so XD is a reserved bit.
     */
    public record AccessContext(int cpl, boolean writeProtect, boolean userPageGuards) {}

    /**
     * The physical 4 KiB page of an allowed access, and whether the TLB entry may allow writes
     * (reads and fetches always: without NXE nothing present is non-executable).
     */
    public record Grant(long physicalPage, boolean writable) {}

    /**
     * Walks for one access as the CPU does when it fills its TLB: the access is checked against
     * U/S (by CPL), R/W (with CR0.WP for supervisor writes) and reserved bits, and only when it is
     * allowed are the Accessed flags of every level set, and the Dirty flag of the leaf for a
     * write, each with a compare-and-set as the CPU's locked update (an entry that changed meanwhile
     * ends the walk with {@code null}). The grant allows writes only once Dirty is set, so the first write through an entry
     * made for a read comes back here to set it. Returns {@code null} when the access faults, when
     * a table or the page lies outside {@code mem}, or when it needs a rule not modelled here:
     * callers let the engine's own page walk decide those (it raises the exact #PF).
     */
    public static Grant walkForAccess(GuestMemory mem, long cr3, long linear, AccessType type, AccessContext ctx) {
        if (!isCanonical(linear)) {
            return null;
        }
        long[] entryAt = new long[4], entries = new long[4];
        int levels = 0;
        long table = cr3 & ADDRESS_MASK;
        boolean writable = true, user = true;
        long leaf = 0, physicalPage = -1;
        for (int level = 4; level >= 1; level--) {
            int shift = 12 + 9 * (level - 1);
            long entryAddress = table + 8 * ((linear >>> shift) & 0x1FF);
            if (!mem.contains(entryAddress, 8)) {
                return null;
            }
            long entry = mem.read64(entryAddress);
            if ((entry & P) == 0 || (entry & XD) != 0 || (level == 3 && (entry & PS) != 0)) {
                return null; // not present, or a reserved bit (XD without NXE, PS in a PDPTE)
            }
            entryAt[levels] = entryAddress;
            entries[levels++] = entry;
            writable &= (entry & RW) != 0;
            user &= (entry & US) != 0;
            boolean large = level == 2 && (entry & PS) != 0;
            if (large || level == 1) {
                long pageSize = 1L << shift;
                physicalPage = (entry & ADDRESS_MASK & ~(pageSize - 1)) | (linear & (pageSize - 1) & ~0xFFFL);
                leaf = entry;
                break;
            }
            table = entry & ADDRESS_MASK;
        }
        if (!mem.contains(physicalPage, 4096)) {
            return null;
        }
        boolean supervisor = ctx.cpl() < 3;
        if (!supervisor && !user || user && ctx.userPageGuards()) {
            return null;
        }
        boolean mayWrite = writable || supervisor && !ctx.writeProtect();
        if (type == AccessType.WRITE && !mayWrite) {
            return null;
        }
        for (int i = 0; i < levels; i++) {
            long set = i == levels - 1 && type == AccessType.WRITE ? ACCESSED | DIRTY : ACCESSED;
            if ((entries[i] & set) != set && !mem.compareAndSet64(entryAt[i], entries[i], entries[i] | set)) {
                return null; // the entry changed under the walk (another vCPU): let the engine walk again
            }
        }
        boolean dirty = type == AccessType.WRITE || (leaf & DIRTY) != 0;
        return new Grant(physicalPage, mayWrite && dirty);
    }

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
