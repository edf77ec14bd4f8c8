package dev.tdemu.gdbstub;

/** The five kinds of the {@code Z}/{@code z} packets. */
public enum BreakpointType {
    /** Z0: software breakpoint (INT3); {@code kind} is the breakpoint length, 1 on x86. */
    SOFTWARE(0),
    /** Z1: hardware execute breakpoint (a debug register); {@code kind} is 1 on x86. */
    HARDWARE(1),
    /** Z2: write watchpoint; {@code kind} is the watched length in bytes. */
    WRITE_WATCHPOINT(2),
    /** Z3: read watchpoint; {@code kind} is the watched length in bytes. */
    READ_WATCHPOINT(3),
    /** Z4: access (read or write) watchpoint; {@code kind} is the watched length in bytes. */
    ACCESS_WATCHPOINT(4);

    private final int zType;

    BreakpointType(int zType) {
        this.zType = zType;
    }

    /** The number after {@code Z} in the packet. */
    public int zType() {
        return zType;
    }

    public boolean isWatchpoint() {
        return zType >= 2;
    }

    /** The type for a Z packet number, or {@code null} for numbers gdb does not define (5 and up). */
    public static BreakpointType fromZType(int zType) {
        return switch (zType) {
            case 0 -> SOFTWARE;
            case 1 -> HARDWARE;
            case 2 -> WRITE_WATCHPOINT;
            case 3 -> READ_WATCHPOINT;
            case 4 -> ACCESS_WATCHPOINT;
            default -> null;
        };
    }
}
