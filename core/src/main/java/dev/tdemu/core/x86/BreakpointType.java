package dev.tdemu.core.x86;

/** The R/W field of a DR7 slot: which kind of access the slot watches. */
public enum BreakpointType {
    /** R/W=00: instruction fetch (execution). */
    EXECUTE(0b00),
    /** R/W=01: data writes only. */
    WRITE(0b01),
    /** R/W=10: I/O reads and writes; only defined when CR4.DE=1. */
    IO(0b10),
    /** R/W=11: data reads and writes, but not instruction fetches. */
    READ_WRITE(0b11);

    private final int field;

    BreakpointType(int field) {
        this.field = field;
    }

    /** The two-bit encoding in DR7. */
    public int field() {
        return field;
    }

    private static final BreakpointType[] BY_FIELD = values(); // values() copies its array: DR7 is decoded on every exit

    public static BreakpointType fromField(int field) {
        return BY_FIELD[field & 0b11];
    }

    public static BreakpointType fromProto(dev.tdemu.proto.BreakpointKind kind) {
        return switch (kind) {
            case BREAKPOINT_KIND_EXECUTE -> EXECUTE;
            case BREAKPOINT_KIND_WRITE -> WRITE;
            case BREAKPOINT_KIND_IO -> IO;
            case BREAKPOINT_KIND_READ_WRITE -> READ_WRITE;
            default -> throw new IllegalArgumentException("no breakpoint kind given: " + kind);
        };
    }
}
