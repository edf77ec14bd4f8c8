package dev.tdemu.gdbstub.target;

/**
 * A request the target cannot honour (unreadable memory, a refused register write, a non-debug
 * TD). Complete a future with it to make the stub send an {@code E} reply; no stack trace is
 * logged for it because it is an expected outcome, not a bug.
 */
public class TargetException extends RuntimeException {
    private final int errno;

    /** An error with the generic code {@code E01}. */
    public TargetException(String message) {
        this(1, message);
    }

    /**
     * @param errno   the two-hex-digit code for {@code Enn} replies (gdb prints but does not
     *                interpret it); 0x0e (EFAULT) suits bad addresses
     * @param message the human-readable reason, sent as {@code E.message} where gdb accepts it
     */
    public TargetException(int errno, String message) {
        super(message, null, false, false);
        if (errno < 0 || errno > 0xff) {
            throw new IllegalArgumentException("errno is 0..255, got " + errno);
        }
        this.errno = errno;
    }

    public int errno() {
        return errno;
    }
}
