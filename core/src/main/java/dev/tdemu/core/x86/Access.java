package dev.tdemu.core.x86;

/** One access an instruction makes that a breakpoint slot can watch. */
public sealed interface Access {

    /** The fetch of an instruction starting (prefixes included) at {@code linearAddress}. */
    record InstructionFetch(long linearAddress) implements Access {
    }

    /** A data access of {@code size} bytes starting at {@code linearAddress}. */
    record DataAccess(long linearAddress, int size, DataAccessKind kind) implements Access {
        public DataAccess {
            if (size < 1) {
                throw new IllegalArgumentException("a data access is at least one byte, not " + size);
            }
        }
    }

    /** An IN/OUT (or string I/O element) of {@code size} bytes at I/O {@code port}. */
    record IoAccess(int port, int size) implements Access {
        public IoAccess {
            if (port < 0 || port > 0xFFFF) {
                throw new IllegalArgumentException("I/O port is 0..0xFFFF, not " + port);
            }
            if (size != 1 && size != 2 && size != 4) {
                throw new IllegalArgumentException("I/O access is 1, 2 or 4 bytes, not " + size);
            }
        }
    }
}
