package dev.tdemu.emulator.machine;

import dev.tdemu.core.platform.NotModelledException;

/**
 * The control state a linear-address translation depends on (SDM Vol. 3 4.1): CR0 (PG, WP), CR3,
 * CR4 (PSE, PAE, SMEP, SMAP, PKE), EFER (LME/LMA, NXE) and the CPU model's MAXPHYADDR.
 *
 * @param maxPhysAddr MAXPHYADDR (CPUID 0x80000008 EAX[7:0]), 32..52: paging-entry address bits at
 *                    and above it are reserved
 */
public record PagingState(long cr0, long cr3, long cr4, long efer, int maxPhysAddr) {
    public static final long CR0_PE = 1L, CR0_WP = 1L << 16, CR0_PG = 1L << 31;
    public static final long CR4_PSE = 1L << 4, CR4_PAE = 1L << 5, CR4_LA57 = 1L << 12, CR4_SMEP = 1L << 20,
            CR4_SMAP = 1L << 21, CR4_PKE = 1L << 22, CR4_PKS = 1L << 24;
    public static final long EFER_LME = 1L << 8, EFER_LMA = 1L << 10, EFER_NXE = 1L << 11;

    /** The four paging modes (SDM Table 4-1). */
    public enum Mode {
        /** CR0.PG=0: linear addresses are physical. */
        NONE,
        /** 32-bit paging: two levels of 4-byte entries, 4 KiB pages and, with CR4.PSE, 4 MiB pages. */
        BITS_32,
        /** PAE paging: four PDPTEs, then two levels of 8-byte entries; 4 KiB and 2 MiB pages. */
        PAE,
        /** 4-level paging (IA-32e): 48-bit linear addresses, 4 KiB and 2 MiB pages (no 1 GiB pages in the CPU model). */
        LEVEL_4
    }

    public PagingState {
        if (maxPhysAddr < 32 || maxPhysAddr > 52) {
            throw new IllegalArgumentException("MAXPHYADDR is 32..52, not " + maxPhysAddr);
        }
    }

    /**
     * CR0.PG, CR4.PAE and EFER.LME/LMA decide. 5-level paging (CR4.LA57) and supervisor protection
     * keys (CR4.PKS) are not in the CPU model and fail loudly; so does the state a MOV to CR0
     * refuses (PG with LME but without PAE).
     */
    public Mode mode() {
        if ((cr0 & CR0_PG) == 0) {
            return Mode.NONE;
        }
        if ((cr4 & (CR4_LA57 | CR4_PKS)) != 0) {
            throw new NotModelledException("page walker", (cr4 & CR4_LA57) != 0 ? "5-level paging (CR4.LA57)"
                    : "supervisor protection keys (CR4.PKS)");
        }
        boolean ia32e = (efer & (EFER_LME | EFER_LMA)) != 0;
        if ((cr4 & CR4_PAE) == 0) {
            if (ia32e) {
                throw new IllegalStateException("CR0.PG with EFER.LME but not CR4.PAE: MOV to CR0 raises #GP before this");
            }
            return Mode.BITS_32;
        }
        return ia32e ? Mode.LEVEL_4 : Mode.PAE;
    }

    public boolean wp() {
        return (cr0 & CR0_WP) != 0;
    }

    public boolean pse() {
        return (cr4 & CR4_PSE) != 0;
    }

    /** EFER.NXE: XD (bit 63) is the execute-disable bit; otherwise it is reserved. 32-bit paging has no XD. */
    public boolean nxe() {
        return (efer & EFER_NXE) != 0;
    }

    public boolean smep() {
        return (cr4 & CR4_SMEP) != 0;
    }

    public boolean smap() {
        return (cr4 & CR4_SMAP) != 0;
    }

    /** CR4.PKE: user-page protection keys, 4-level paging only. */
    public boolean pke() {
        return (cr4 & CR4_PKE) != 0;
    }
}
