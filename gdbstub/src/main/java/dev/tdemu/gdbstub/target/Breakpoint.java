package dev.tdemu.gdbstub.target;

import java.util.Objects;
import java.util.Optional;

/**
 * A breakpoint or watchpoint as gdb asks for it with {@code Z}/{@code z}: the one type from the
 * packet through the session to {@link Breakpoints}, and the key the session remembers it by.
 */
public sealed interface Breakpoint {

    /** The address the breakpoint is set at (the first watched byte for a watchpoint). */
    long address();

    /** The number after {@code Z} in the packet. */
    int zType();

    /**
     * {@code Z0}: a software breakpoint (INT3 on x86).
     *
     * @param kind the breakpoint kind gdb sends: the length of the breakpoint instruction, 1 on x86
     */
    record Software(long address, int kind) implements Breakpoint {
        @Override
        public int zType() {
            return 0;
        }
    }

    /**
     * {@code Z1}: a hardware execute breakpoint (a debug register on x86).
     *
     * @param kind as for {@link Software}, 1 on x86
     */
    record Hardware(long address, int kind) implements Breakpoint {
        @Override
        public int zType() {
            return 1;
        }
    }

    /**
     * {@code Z2}/{@code Z3}/{@code Z4}: a data watchpoint; it fires after the access.
     *
     * @param kind   which accesses it reacts to
     * @param length the watched length in bytes
     */
    record Watchpoint(WatchKind kind, long address, int length) implements Breakpoint {
        public Watchpoint {
            Objects.requireNonNull(kind, "kind");
        }

        @Override
        public int zType() {
            return kind.zType();
        }
    }

    /**
     * The breakpoint a {@code Z}/{@code z} packet names, or empty for the type numbers gdb does not
     * define for breakpoints (5 and up).
     *
     * @param kind the packet's third field: the breakpoint kind for types 0 and 1, the length for 2-4
     */
    static Optional<Breakpoint> fromPacket(int zType, long address, int kind) {
        return Optional.ofNullable(switch (zType) {
            case 0 -> new Software(address, kind);
            case 1 -> new Hardware(address, kind);
            case 2 -> new Watchpoint(WatchKind.WRITE, address, kind);
            case 3 -> new Watchpoint(WatchKind.READ, address, kind);
            case 4 -> new Watchpoint(WatchKind.ACCESS, address, kind);
            default -> null;
        });
    }
}
