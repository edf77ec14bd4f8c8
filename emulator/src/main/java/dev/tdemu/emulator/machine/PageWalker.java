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
     * write, each with a compare-and-set as the CPU's locked update (an entry that changed
     * meanwhile ends the walk with {@code null}). The grant allows writes only once Dirty is set,
     * so the first write through an entry made for a read comes back here to set it. Returns {@code null} when the access faults, when
     * a table or the page lies outside {@code mem}, or when it needs a rule not modelled here:
     * callers let the engine's own page walk decide those (it raises the exact #PF).
     */
    public static Grant walkForAccess(GuestMemory mem, long cr3, long linear, AccessType type, AccessContext ctx) {
        Walk w = walk(mem, cr3, linear);
        if (w == null) {
            return null;
        }
        for (int i = 0; i < w.levels; i++) {
            if ((w.entries[i] & XD) != 0) {
                return null; // XD without NXE is a reserved bit
            }
        }
        long physicalPage = w.physical(linear) & ~0xFFFL;
        if (!mem.contains(physicalPage, 4096)) {
            return null;
        }
        boolean supervisor = ctx.cpl() < 3;
        boolean user = w.all(US);
        if (!supervisor && !user || user && ctx.userPageGuards()) {
            return null;
        }
        boolean mayWrite = w.all(RW) || supervisor && !ctx.writeProtect();
        if (type == AccessType.WRITE && !mayWrite) {
            return null;
        }
        for (int i = 0; i < w.levels; i++) {
            long set = i == w.levels - 1 && type == AccessType.WRITE ? ACCESSED | DIRTY : ACCESSED;
            long entry = w.entries[i];
            if ((entry & set) != set && !mem.compareAndSet64(w.entryAt[i], entry, entry | set)) {
                return null; // the entry changed under the walk (another vCPU): let the engine walk again
            }
        }
        boolean dirty = type == AccessType.WRITE || (w.leaf() & DIRTY) != 0;
        return new Grant(physicalPage, mayWrite && dirty);
    }

    public static boolean isCanonical(long linear) {
        return (linear >> 47) == 0 || (linear >> 47) == -1;
    }

    /** The translation of {@code linear}, or {@code null} when it is not mapped (a #PF on real hardware). */
    public static Translation translate(GuestMemory mem, long cr3, long linear) {
        Walk w = walk(mem, cr3, linear);
        if (w == null) {
            return null;
        }
        long pageBase = w.physical(linear) & -w.pageSize();
        return new Translation(w.physical(linear), pageBase, w.pageSize(), w.all(RW), w.all(US));
    }

    /** The entries a walk read, from the PML4E down to the leaf, with their addresses. */
    private record Walk(int levels, long[] entryAt, long[] entries) {
        long leaf() {
            return entries[levels - 1];
        }

        /** 4 KiB below four levels, 2 MiB below three (a PDE with PS). */
        long pageSize() {
            return levels == 4 ? 4096 : 2L << 20;
        }

        long physical(long linear) {
            return (leaf() & ADDRESS_MASK & -pageSize()) | (linear & (pageSize() - 1));
        }

        /** Whether every level has {@code bit} (R/W, U/S) set. */
        boolean all(long bit) {
            for (int i = 0; i < levels; i++) {
                if ((entries[i] & bit) == 0) {
                    return false;
                }
            }
            return true;
        }
    }

    /**
     * Reads the entries that map {@code linear}; {@code null} when it is not mapped: not
     * canonical, a table outside {@code mem}, an entry not present, or PS in a PDPTE.
     */
    private static Walk walk(GuestMemory mem, long cr3, long linear) {
        if (!isCanonical(linear)) {
            return null;
        }
        long[] entryAt = new long[4], entries = new long[4];
        long table = cr3 & ADDRESS_MASK;
        for (int level = 4, n = 0; level >= 1; level--) {
            long entryAddress = table + 8 * ((linear >>> (12 + 9 * (level - 1))) & 0x1FF);
            if (!mem.contains(entryAddress, 8)) {
                return null;
            }
            long entry = mem.read64(entryAddress);
            // 2 MiB pages only: the CPU model (and CPUID) has no 1 GiB pages, so PS in a PDPTE is
            // reserved and the walk fails, exactly as the engine's own walk does.
            if ((entry & P) == 0 || level == 3 && (entry & PS) != 0) {
                return null;
            }
            entryAt[n] = entryAddress;
            entries[n++] = entry;
            if (level == 1 || level == 2 && (entry & PS) != 0) {
                return new Walk(n, entryAt, entries);
            }
            table = entry & ADDRESS_MASK;
        }
        throw new AssertionError("unreachable");
    }
}
