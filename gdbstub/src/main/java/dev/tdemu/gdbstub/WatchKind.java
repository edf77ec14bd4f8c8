package dev.tdemu.gdbstub;

/** Which accesses a data watchpoint reacted to; decides the stop reply's {@code watch/rwatch/awatch} field. */
public enum WatchKind {
    /** A write (Z2, reported as {@code watch:ADDR;}). */
    WRITE("watch"),
    /** A read (Z3, reported as {@code rwatch:ADDR;}). */
    READ("rwatch"),
    /** A read or a write (Z4, reported as {@code awatch:ADDR;}). */
    ACCESS("awatch");

    private final String stopReplyKey;

    WatchKind(String stopReplyKey) {
        this.stopReplyKey = stopReplyKey;
    }

    /** The key of the stop-reply field, e.g. {@code "rwatch"}. */
    public String stopReplyKey() {
        return stopReplyKey;
    }
}
