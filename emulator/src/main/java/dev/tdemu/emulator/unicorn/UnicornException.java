package dev.tdemu.emulator.unicorn;

/**
 * A Unicorn call failed. Carries the {@code uc_err} ({@link #error()}, its C name and number) and
 * the engine's own description ({@code uc_strerror}). {@link #error()} is null only for failures
 * that did not come from an engine return code (see {@link UnicornUnavailableException}).
 */
public class UnicornException extends RuntimeException {
    private final UcError error;
    private final int code;
    private final String description;

    /** {@code operation} names the call and its arguments, e.g. {@code "uc_mem_map(0x1000, 0x2000)"}. */
    UnicornException(String operation, int code) {
        this(operation, code, Uc.describe(code));
    }

    private UnicornException(String operation, int code, String description) {
        super(operation + ": " + name(code) + " (" + code + "): " + description);
        this.error = UcError.of(code);
        this.code = code;
        this.description = description;
    }

    /** A failure without an engine error code (library missing, engine too old, calibration). */
    UnicornException(String message, UcError error, Throwable cause) {
        super(message, cause);
        this.error = error;
        this.code = error == null ? -1 : error.code();
        this.description = message;
    }

    private static String name(int code) {
        UcError e = UcError.of(code);
        return e == null ? "uc_err " + code : e.cName();
    }

    /** The engine's error, or null when the failure did not come from an engine call. */
    public UcError error() {
        return error;
    }

    /** The numeric {@code uc_err}, or -1 when the failure did not come from an engine call. */
    public int code() {
        return code;
    }

    /** {@code uc_strerror}'s text for the error (or the message for failures without one). */
    public String description() {
        return description;
    }
}
