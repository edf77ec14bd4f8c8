package dev.tdemu.emulator.gdb;

import java.util.ArrayList;
import java.util.List;
import java.util.function.LongUnaryOperator;

/**
 * Every mapping of IA-32e 4-level paging (SDM Vol. 3 4.5), walked from CR3 through guest-physical
 * memory without touching Accessed or Dirty: what QEMU's {@code info tlb} and {@code info mem}
 * show. A leaf's rights are those of the whole walk (writable and user only if every level says
 * so, executable unless a level sets XD with EFER.NXE). Entries with reserved bits are skipped and
 * counted, as the CPU would fault on them.
 */
final class PageTableDump {
    static final long P = 1, RW = 2, US = 4, A = 1L << 5, D = 1L << 6, PS = 1L << 7, G = 1L << 8, XD = 1L << 63;

    /** One mapped page. */
    record Page(long linear, long physical, long size, boolean writable, boolean user, boolean executable, boolean global,
                boolean accessed, boolean dirty) {
        String flags() {
            return (writable ? "w" : "-") + (user ? "u" : "-") + (executable ? "x" : "-") + (global ? "g" : "-")
                    + (accessed ? "a" : "-") + (dirty ? "d" : "-");
        }
    }

    /** The pages found (in linear-address order), and how many entries were skipped for reserved bits. */
    record Dump(List<Page> pages, int reserved, boolean truncated) {
    }

    private final LongUnaryOperator read64;
    private final long addressMask;
    private final boolean nxe;
    private final int limit;
    private final List<Page> pages = new ArrayList<>();
    private int reserved;
    private boolean truncated;

    /**
     * @param read64       the 8 bytes at a guest-physical address
     * @param maxPhysAddr  MAXPHYADDR: entry bits from it up to 51 are reserved
     * @param nxe          EFER.NXE: bit 63 is XD (else reserved)
     * @param limit        at most this many pages are listed
     */
    private PageTableDump(LongUnaryOperator read64, int maxPhysAddr, boolean nxe, int limit) {
        this.read64 = read64;
        this.addressMask = ((1L << maxPhysAddr) - 1) & ~0xFFFL;
        this.nxe = nxe;
        this.limit = limit;
    }

    static Dump of(long cr3, LongUnaryOperator read64, int maxPhysAddr, boolean nxe, int limit) {
        PageTableDump d = new PageTableDump(read64, maxPhysAddr, nxe, limit);
        d.table(cr3 & d.addressMask, 4, 0, true, true, true);
        return new Dump(List.copyOf(d.pages), d.reserved, d.truncated);
    }

    /** Walks the table at {@code base} of {@code level} (4: PML4 .. 1: page table) for linear addresses from {@code start}. */
    private void table(long base, int level, long start, boolean writable, boolean user, boolean executable) {
        int shift = 12 + 9 * (level - 1);
        for (int i = 0; i < 512 && !truncated; i++) {
            long e = read64.applyAsLong(base + 8L * i);
            if ((e & P) == 0) {
                continue;
            }
            if (reservedBits(e, level) != 0) {
                reserved++;
                continue;
            }
            long linear = canonical(start | ((long) i << shift));
            boolean w = writable && (e & RW) != 0;
            boolean u = user && (e & US) != 0;
            boolean x = executable && !(nxe && (e & XD) != 0);
            boolean leaf = level == 1 || (level <= 3 && (e & PS) != 0);
            if (!leaf) {
                table(e & addressMask, level - 1, linear, w, u, x);
                continue;
            }
            long size = 1L << shift;
            if (pages.size() == limit) {
                truncated = true;
                return;
            }
            pages.add(new Page(linear, e & addressMask & -size, size, w, u, x, (e & G) != 0, (e & A) != 0, (e & D) != 0));
        }
    }

    /** Bits the CPU faults on: above MAXPHYADDR (and XD without NXE), PS in a PML4E, a large page's low address bits. */
    private long reservedBits(long e, int level) {
        long r = e & ~addressMask & 0x000F_FFFF_FFFF_F000L;
        if (!nxe) {
            r |= e & XD;
        }
        if (level == 4) {
            r |= e & PS;
        } else if (level >= 2 && (e & PS) != 0) {
            long size = 1L << (12 + 9 * (level - 1));
            r |= e & (size - 1) & ~0x1FFFL; // bits 12 (PAT) and up to the page size must be 0 apart from PAT
        }
        return r;
    }

    private static long canonical(long linear) {
        return (linear << 16) >> 16;
    }
}
