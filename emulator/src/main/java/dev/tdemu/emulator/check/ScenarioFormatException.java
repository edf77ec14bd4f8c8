package dev.tdemu.emulator.check;

import dev.tdemu.emulator.io.BadInputException;

/** A scenario file that is not a valid scenario; the message names the file and the problem. */
public final class ScenarioFormatException extends BadInputException {
    public ScenarioFormatException(String message) {
        super(message);
    }
}
