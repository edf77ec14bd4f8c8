package dev.tdemu.core.x86;

/**
 * The LEN field of a DR7 slot. The encoding is not monotonic: 10 is eight bytes and 11 is four.
 *
 * <p>Modelling decision: LEN=10 means eight bytes in every mode. The SDM calls it undefined outside
 * 64-bit mode on old processors; all processors tdemu models accept it.
 */
public enum BreakpointLength {
    ONE(0b00, 1),
    TWO(0b01, 2),
    EIGHT(0b10, 8),
    FOUR(0b11, 4);

    private final int field;
    private final int bytes;

    BreakpointLength(int field, int bytes) {
        this.field = field;
        this.bytes = bytes;
    }

    /** The two-bit encoding in DR7. */
    public int field() {
        return field;
    }

    /** How many bytes the watched range covers; the range starts at the address aligned down to this. */
    public int bytes() {
        return bytes;
    }

    public static BreakpointLength fromField(int field) {
        return switch (field & 0b11) {
            case 0b00 -> ONE;
            case 0b01 -> TWO;
            case 0b10 -> EIGHT;
            default -> FOUR;
        };
    }

    public static BreakpointLength ofBytes(int bytes) {
        for (BreakpointLength l : values()) {
            if (l.bytes == bytes) {
                return l;
            }
        }
        throw new IllegalArgumentException("a breakpoint covers 1, 2, 4 or 8 bytes, not " + bytes);
    }
}
