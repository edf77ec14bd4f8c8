package dev.tdemu.emulator.machine;

/**
 * Linear to guest-physical translation as the CPU walks the paging structures, in every paging
 * mode ({@link PagingState.Mode}): paging off, 32-bit paging (4 KiB and, with CR4.PSE, 4 MiB
 * pages; PSE-36 is not in the CPU model, so bits 20:13 of a 4 MiB PDE are reserved), PAE paging
 * (4 KiB and 2 MiB) and 4-level paging (4 KiB and 2 MiB). The CPU model advertises no 1 GiB
 * pages, so PS in a PDPTE is a reserved bit. {@link #walk} applies the access rights of SDM 4.6
 * (U/S, R/W with CR0.WP, XD with EFER.NXE, SMEP, SMAP with RFLAGS.AC and implicit supervisor
 * accesses, user protection keys with PKRU) and reserved bits, sets Accessed and Dirty, and
 * gives the translation or the page fault with its SDM 4.7 error code. Not modelled, and failing
 * loudly in {@link PagingState#mode()}: 5-level paging, supervisor protection keys; never set in
 * an error code: SS, HLAT, SGX. Debug registers hold linear addresses while the engine's memory
 * hooks see physical ones, so data breakpoints are translated here too.
 */
public final class PageWalker {
    private static final long ADDRESS_MASK = 0x000F_FFFF_FFFF_F000L;
    private static final long P = 1, RW = 2, US = 4, ACCESSED = 0x20, DIRTY = 0x40, PS = 0x80, XD = 1L << 63;

    /** A present mapping: the physical address and the page that holds it. */
    // superseded by Mapped; callers migrate in the structure change
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
    // superseded by PagingState and LinearAccess; callers migrate in the structure change
    public record AccessContext(int cpl, boolean writeProtect, boolean userPageGuards) {}

    /**
     * The physical 4 KiB page of an allowed access, and whether the TLB entry may allow writes
     * (reads and fetches always: without NXE nothing present is non-executable).
     */
    // superseded by Mapped (writable() and dirty()); callers migrate in the structure change
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
    // superseded by walk(mem, PagingState, linear, LinearAccess); callers migrate in the structure change
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

    /** Bits 63:47 all equal (4-level paging). */
    public static boolean isCanonical(long linear) {
        return isCanonical(linear, false);
    }

    /** Bits 63:47 all equal with 4-level paging, bits 63:56 with 5-level paging (CR4.LA57). */
    public static boolean isCanonical(long linear, boolean la57) {
        int unused = la57 ? 7 : 16;
        return linear == (linear << unused >> unused);
    }

    /** The translation of {@code linear}, or {@code null} when it is not mapped (a #PF on real hardware). */
    // superseded by lookup(mem, PagingState, linear); callers migrate in the structure change
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

    // ---- Every paging mode ----------------------------------------------------------------

    /** #PF error code bits (SDM 4.7). */
    public static final int PF_P = 1, PF_WRITE = 2, PF_USER = 4, PF_RSVD = 8, PF_FETCH = 16, PF_PK = 32;

    /**
     * One access to translate.
     *
     * @param type               read, write or instruction fetch
     * @param user               a user-mode access: CPL 3 and not an implicit supervisor access
     * @param implicitSupervisor an access the CPU makes itself to a system structure (GDT, LDT,
     *                           IDT, TSS), supervisor-mode whatever the CPL, and never allowed to
     *                           user pages under SMAP
     * @param ac                 RFLAGS.AC: lets explicit supervisor accesses reach user pages under SMAP
     * @param pkru               PKRU, for user-page protection keys (CR4.PKE)
     */
    public record LinearAccess(AccessType type, boolean user, boolean implicitSupervisor, boolean ac, int pkru) {
        public LinearAccess {
            if (user && implicitSupervisor) {
                throw new IllegalArgumentException("an implicit supervisor access is not a user-mode access");
            }
        }

        /** An access an instruction makes at {@code cpl} with RFLAGS.AC = {@code ac}. */
        public static LinearAccess explicit(AccessType type, int cpl, boolean ac, int pkru) {
            return new LinearAccess(type, cpl == 3, false, ac, pkru);
        }

        /** An access the CPU makes to a system structure (event delivery, descriptor loads). */
        public static LinearAccess implicitSupervisor(AccessType type) {
            return new LinearAccess(type, false, true, false, 0);
        }
    }

    /** What a walk gave. */
    public sealed interface Result {}

    /**
     * A translation.
     *
     * @param physical   the physical address of the linear one
     * @param pageSize   4 KiB, 2 MiB or 4 MiB (paging off: 4 KiB)
     * @param writable   R/W set at every level
     * @param user       U/S set at every level
     * @param executable no XD at any level (always with NXE clear or 32-bit paging)
     * @param dirty      the leaf's Dirty flag after the walk (always with paging off)
     */
    public record Mapped(long physical, long pageSize, boolean writable, boolean user, boolean executable, boolean dirty)
            implements Result {
        public long pageBase() {
            return physical & -pageSize;
        }

        /** Bytes from {@code physical} to the end of its page. */
        public long bytesToPageEnd() {
            return pageBase() + pageSize - physical;
        }
    }

    /** The access raises #PF: CR2 = {@code linear}, the error code as the CPU pushes it. */
    public record PageFault(int errorCode, long linear, String reason) implements Result {
        /** The event to deliver for this fault at the instruction at {@code rip}. */
        public dev.tdemu.core.x86.EventDelivery at(long rip) {
            return dev.tdemu.core.x86.Event.pageFault(errorCode, linear).at(rip);
        }
    }

    /**
     * No translation and no #PF the walker can stand behind: a non-canonical address (#GP or #SS
     * for the caller), a table outside guest RAM, a PAE PDPTE with reserved bits (the MOV that
     * loaded CR3 would have raised #GP), or entries that kept changing under the walk.
     */
    public record Unwalkable(String reason) implements Result {}

    /**
     * Walks for {@code access} as the CPU does: the walk stops at the first entry not present
     * (P=0 in the error code) or with a reserved bit set (RSVD); then the access rights of every
     * level are checked; only an allowed access sets the Accessed flags of every level and Dirty
     * in the leaf for a write, each with a compare-and-set as the CPU's locked update (an entry
     * that changed meanwhile makes the walk start again).
     */
    public static Result walk(GuestMemory mem, PagingState state, long linear, LinearAccess access) {
        for (int attempt = 0; attempt < 16; attempt++) {
            Result r = walkOnce(mem, state, linear, java.util.Objects.requireNonNull(access));
            if (r != null) {
                return r;
            }
        }
        return new Unwalkable(String.format("the paging entries for 0x%x kept changing under the walk", linear));
    }

    /**
     * The translation without checking rights or setting Accessed/Dirty (a debugger's view, or
     * breakpoint addresses): a {@link PageFault} only for an entry not present or a reserved bit.
     */
    public static Result lookup(GuestMemory mem, PagingState state, long linear) {
        return walkOnce(mem, state, linear, null);
    }

    /** One level of a walk: the entry's address and value. */
    private record Level(long at, long entry, int size) {}

    /** null: an entry changed under the walk, start again. */
    private static Result walkOnce(GuestMemory mem, PagingState s, long linear, LinearAccess access) {
        PagingState.Mode mode = s.mode();
        if (mode == PagingState.Mode.NONE) {
            return new Mapped(linear & 0xFFFF_FFFFL, 4096, true, true, true, true);
        }
        if (mode == PagingState.Mode.LEVEL_4 && !isCanonical(linear)) {
            return new Unwalkable(String.format("0x%x is not canonical", linear));
        }
        if (mode != PagingState.Mode.LEVEL_4) {
            linear &= 0xFFFF_FFFFL;
        }
        long physMask = (1L << s.maxPhysAddr()) - 1;
        // Bits 51:MAXPHYADDR of an 8-byte entry, and XD without NXE.
        long reservedHigh = (((1L << 52) - 1) & ~physMask) | (s.nxe() ? 0 : XD);
        java.util.List<Level> levels = new java.util.ArrayList<>(4);
        long pageSize;
        long frame;
        switch (mode) {
            case BITS_32 -> {
                long pdeAt = (s.cr3() & 0xFFFF_F000L) + 4 * (linear >>> 22);
                Object pde = read(mem, pdeAt, 4, linear, levels);
                if (!(pde instanceof Long e)) {
                    return (Result) pde;
                }
                if ((e & P) == 0) {
                    return fault(0, linear, access, s, mode, "PDE not present");
                }
                if ((e & PS) != 0 && s.pse()) {
                    if ((e & 0x3F_E000L) != 0) { // bits 21:13: no PSE-36 in the CPU model
                        return fault(PF_RSVD | PF_P, linear, access, s, mode, "reserved bits in a 4 MiB PDE");
                    }
                    pageSize = 4L << 20;
                    frame = e & 0xFFC0_0000L;
                } else {
                    Object pte = read(mem, (e & 0xFFFF_F000L) + 4 * ((linear >>> 12) & 0x3FF), 4, linear, levels);
                    if (!(pte instanceof Long t)) {
                        return (Result) pte;
                    }
                    if ((t & P) == 0) {
                        return fault(0, linear, access, s, mode, "PTE not present");
                    }
                    pageSize = 4096;
                    frame = t & 0xFFFF_F000L;
                }
            }
            case PAE -> {
                long pdpteAt = (s.cr3() & 0xFFFF_FFE0L) + 8 * (linear >>> 30);
                if (!mem.contains(pdpteAt, 8)) {
                    return new Unwalkable(String.format("PDPTE at 0x%x lies outside guest RAM", pdpteAt));
                }
                long pdpte = mem.read64(pdpteAt);
                if ((pdpte & P) == 0) {
                    return fault(0, linear, access, s, mode, "PDPTE not present");
                }
                if ((pdpte & (0x1E6L | ~physMask & ~0xFFFL)) != 0) { // bits 2:1, 8:5, 63:MAXPHYADDR
                    return new Unwalkable(String.format("PDPTE %d (0x%x) has reserved bits set: loading CR3 would have raised #GP",
                            linear >>> 30, pdpte));
                }
                Object r = walkLongEntries(mem, s, linear, pdpte & physMask & ~0xFFFL, 2, reservedHigh, levels, access, mode);
                if (r instanceof Result res) {
                    return res;
                }
                long[] leaf = (long[]) r;
                pageSize = leaf[0];
                frame = leaf[1];
            }
            case LEVEL_4 -> {
                Object r = walkLongEntries(mem, s, linear, s.cr3() & physMask & ~0xFFFL, 4, reservedHigh, levels, access, mode);
                if (r instanceof Result res) {
                    return res;
                }
                long[] leaf = (long[]) r;
                pageSize = leaf[0];
                frame = leaf[1];
            }
            default -> throw new AssertionError(mode);
        }
        boolean writable = true, user = true, executable = true;
        for (Level l : levels) {
            writable &= (l.entry() & RW) != 0;
            user &= (l.entry() & US) != 0;
            executable &= !(s.nxe() && l.size() == 8 && (l.entry() & XD) != 0);
        }
        long physical = frame | (linear & (pageSize - 1));
        Level leaf = levels.get(levels.size() - 1);
        if (access == null) {
            return new Mapped(physical, pageSize, writable, user, executable, (leaf.entry() & DIRTY) != 0);
        }
        String denied = denied(s, mode, access, writable, user, executable);
        boolean pk = pkDenied(s, mode, access, user, leaf.entry());
        if (denied != null || pk) {
            return fault(PF_P | (pk ? PF_PK : 0), linear, access, s, mode, denied != null ? denied : "protection key");
        }
        for (int i = 0; i < levels.size(); i++) {
            Level l = levels.get(i);
            long set = i == levels.size() - 1 && access.type() == AccessType.WRITE ? ACCESSED | DIRTY : ACCESSED;
            if ((l.entry() & set) != set && !setFlags(mem, l, set)) {
                return null;
            }
        }
        boolean dirty = access.type() == AccessType.WRITE || (leaf.entry() & DIRTY) != 0;
        return new Mapped(physical, pageSize, writable, user, executable, dirty);
    }

    /**
     * The 8-byte levels of PAE ({@code count} = 2: PD, PT) and 4-level paging (4: PML4 … PT).
     * Returns {page size, frame}, or the Result that ends the walk.
     */
    private static Object walkLongEntries(GuestMemory mem, PagingState s, long linear, long table, int count,
                                          long reservedHigh, java.util.List<Level> levels, LinearAccess access,
                                          PagingState.Mode mode) {
        long physMask = (1L << s.maxPhysAddr()) - 1;
        for (int level = count; level >= 1; level--) {
            long at = table + 8 * ((linear >>> (12 + 9 * (level - 1))) & 0x1FF);
            Object read = read(mem, at, 8, linear, levels);
            if (!(read instanceof Long e)) {
                return read;
            }
            String name = switch (level) {
                case 4 -> "PML4E";
                case 3 -> "PDPTE";
                case 2 -> "PDE";
                default -> "PTE";
            };
            if ((e & P) == 0) {
                return fault(0, linear, access, s, mode, name + " not present");
            }
            boolean ps = (e & PS) != 0 && (level == 2 || level == 3);
            long reserved = reservedHigh | (level == 4 ? PS : 0) | (level == 3 && (e & PS) != 0 ? PS : 0)
                    | (level == 2 && ps ? 0x1F_E000L : 0); // 2 MiB PDE: bits 20:13
            if ((e & reserved) != 0) {
                String why = level == 3 && (e & PS) != 0 ? "PS in a PDPTE (no 1 GiB pages in the CPU model)"
                        : "reserved bits in a " + name;
                return fault(PF_RSVD | PF_P, linear, access, s, mode, why);
            }
            if (level == 1 || ps) {
                long size = level == 1 ? 4096 : 2L << 20;
                return new long[] {size, e & physMask & -size};
            }
            table = e & physMask & ~0xFFFL;
        }
        throw new AssertionError("unreachable");
    }

    /** The entry at {@code at} (4 or 8 bytes) appended to {@code levels}, or Unwalkable. */
    private static Object read(GuestMemory mem, long at, int size, long linear, java.util.List<Level> levels) {
        if (!mem.contains(at, size)) {
            return new Unwalkable(String.format("the paging entry for 0x%x at 0x%x lies outside guest RAM", linear, at));
        }
        long e = size == 4 ? mem.read32(at) : mem.read64(at);
        levels.add(new Level(at, e, size));
        return e;
    }

    /** Why SDM 4.6 refuses the access, or null. */
    private static String denied(PagingState s, PagingState.Mode mode, LinearAccess a, boolean writable, boolean user,
                                 boolean executable) {
        boolean supervisor = !a.user();
        // SMAP: supervisor data accesses to user pages need AC=1, and implicit ones are never allowed.
        boolean smapBlocks = supervisor && user && s.smap() && (a.implicitSupervisor() || !a.ac());
        return switch (a.type()) {
            case FETCH -> !executable ? "XD page"
                    : a.user() && !user ? "supervisor page fetched in user mode"
                    : supervisor && user && s.smep() ? "user page fetched in supervisor mode with SMEP" : null;
            case READ -> a.user() && !user ? "supervisor page read in user mode"
                    : smapBlocks ? "user page read in supervisor mode with SMAP" : null;
            case WRITE -> a.user() && !user ? "supervisor page written in user mode"
                    : a.user() && !writable ? "read-only page written in user mode"
                    : smapBlocks ? "user page written in supervisor mode with SMAP"
                    : supervisor && s.wp() && !writable ? "read-only page written in supervisor mode with CR0.WP" : null;
        };
    }

    /** User-page protection keys (4-level paging, CR4.PKE): PKRU's AD and WD bits for the leaf's key. */
    private static boolean pkDenied(PagingState s, PagingState.Mode mode, LinearAccess a, boolean user, long leaf) {
        if (mode != PagingState.Mode.LEVEL_4 || !s.pke() || !user || a.type() == AccessType.FETCH) {
            return false;
        }
        int key = (int) ((leaf >>> 59) & 0xF);
        boolean ad = ((a.pkru() >>> (2 * key)) & 1) != 0;
        boolean wd = ((a.pkru() >>> (2 * key + 1)) & 1) != 0;
        return ad || a.type() == AccessType.WRITE && wd && (a.user() || s.wp());
    }

    /** The #PF for {@code access} with {@code bits} (P, RSVD, PK) and the W/R, U/S and I/D bits it implies. */
    private static Result fault(int bits, long linear, LinearAccess a, PagingState s, PagingState.Mode mode, String reason) {
        if (a == null) { // a lookup: describe the access as a supervisor read
            return new PageFault(bits, linear, reason);
        }
        boolean fetchReported = s.smep() || mode != PagingState.Mode.BITS_32 && s.nxe();
        int code = bits | (a.type() == AccessType.WRITE ? PF_WRITE : 0) | (a.user() ? PF_USER : 0)
                | (a.type() == AccessType.FETCH && fetchReported ? PF_FETCH : 0);
        return new PageFault(code, linear, reason);
    }

    /** Sets {@code flags} in the entry with a locked compare-and-set; false when it changed meanwhile. */
    private static boolean setFlags(GuestMemory mem, Level l, long flags) {
        if (l.size() == 8) {
            return mem.compareAndSet64(l.at(), l.entry(), l.entry() | flags);
        }
        long word = l.at() & ~7L;
        int shift = (int) (l.at() & 4) * 8;
        long current = mem.read64(word);
        if (((current >>> shift) & 0xFFFF_FFFFL) != l.entry()) {
            return false;
        }
        return mem.compareAndSet64(word, current, current | (flags << shift));
    }
}
