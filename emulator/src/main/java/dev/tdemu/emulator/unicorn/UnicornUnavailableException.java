package dev.tdemu.emulator.unicorn;

/**
 * The Unicorn engine cannot be used on this machine: libunicorn.so.2 is missing, older than 2.1,
 * or behaves differently from what the binding calibrated for. The message says what to install.
 * {@link #error()} is {@link UcError#VERSION} for a too-old engine and null otherwise.
 */
public final class UnicornUnavailableException extends UnicornException {
    UnicornUnavailableException(String message, UcError error, Throwable cause) {
        super(message, error, cause);
    }
}
