package dev.tdemu.core.tdx;

/** TD ATTRIBUTES; only DEBUG (bit 0) matters here. */
public record TdAttributes(long bits) {

    public static final long DEBUG = 1L;

    public static final TdAttributes NON_DEBUG = new TdAttributes(0);
    public static final TdAttributes DEBUG_TD = new TdAttributes(DEBUG);

    /** Whether the host may read and write the TD's state (DRs, exception bitmap) through the module. */
    public boolean debug() {
        return (bits & DEBUG) != 0;
    }
}
