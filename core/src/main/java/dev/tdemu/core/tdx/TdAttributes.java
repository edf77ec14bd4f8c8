package dev.tdemu.core.tdx;

/**
 * TD ATTRIBUTES (TD_PARAMS), reported to the TD by TDG.VP.INFO (RDX) and TDG.VM.RD. Only DEBUG
 * changes what tdemu's module does; the other bits are carried for the TD to read.
 */
public record TdAttributes(long bits) {

    /** Bit 0: off-TD debug; the host may read and write the TD's state through the module. */
    public static final long DEBUG = 1L;
    /** Bit 28: an EPT violation on a pending private page exits to the host instead of #VE. */
    public static final long SEPT_VE_DISABLE = 1L << 28;
    /** Bit 30: the TD may use protection keys for supervisor pages. */
    public static final long PKS = 1L << 30;
    /** Bit 31: the TD may use Key Locker. */
    public static final long KL = 1L << 31;
    /** Bit 63: the TD may use the performance monitoring counters. */
    public static final long PERFMON = 1L << 63;

    public static final TdAttributes NON_DEBUG = new TdAttributes(0);
    public static final TdAttributes DEBUG_TD = new TdAttributes(DEBUG);

    /** Whether the host may read and write the TD's state (DRs, exception bitmap) through the module. */
    public boolean debug() {
        return (bits & DEBUG) != 0;
    }

    public boolean septVeDisable() {
        return (bits & SEPT_VE_DISABLE) != 0;
    }
}
