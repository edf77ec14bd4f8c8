package dev.tdemu.emulator.vm;

import dev.tdemu.emulator.io.BadInputException;

/** A file that cannot be read as an exit trace at all (no trace magic, another format version, no header). */
public final class TraceFormatException extends BadInputException {
    public TraceFormatException(String message) {
        super(message);
    }
}
