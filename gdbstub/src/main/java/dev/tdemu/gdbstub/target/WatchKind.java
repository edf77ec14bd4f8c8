package dev.tdemu.gdbstub.target;

/**
 * Which accesses a data watchpoint reacts to: the one spelling from the {@code Z2}/{@code Z3}/{@code Z4}
 * packet through {@link Breakpoint.Watchpoint} to the stop reply's {@code watch}/{@code rwatch}/{@code awatch}.
 */
public enum WatchKind {
    /** A write: {@code Z2}, reported as {@code watch:ADDR;}. */
    WRITE(2, "watch"),
    /** A read: {@code Z3}, reported as {@code rwatch:ADDR;}. */
    READ(3, "rwatch"),
    /** A read or a write: {@code Z4}, reported as {@code awatch:ADDR;}. */
    ACCESS(4, "awatch");

    private final int zType;
    private final String stopReplyKey;

    WatchKind(int zType, String stopReplyKey) {
        this.zType = zType;
        this.stopReplyKey = stopReplyKey;
    }

    /** The number after {@code Z} in the packet. */
    public int zType() {
        return zType;
    }

    /** The key of the stop-reply field, e.g. {@code "rwatch"}. */
    public String stopReplyKey() {
        return stopReplyKey;
    }
}
