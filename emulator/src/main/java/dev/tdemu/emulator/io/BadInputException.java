package dev.tdemu.emulator.io;

/**
 * Input tdemu cannot use (a file, a format, a value), with a one-line message that names the
 * input and the problem. The CLI prints the message and exits with status 2; nothing else about
 * it is worth a stack trace. Subclasses say which kind of input it was.
 */
public class BadInputException extends Exception {
    /** Messages quote what they found in the input; a hostile input must not make them huge. */
    private static final int MAX_MESSAGE = 1000;

    public BadInputException(String message) {
        super(oneLine(message), null, false, false);
    }

    /** The message folded onto one line (line breaks become spaces) and bounded in length. */
    public static String oneLine(String message) {
        String m = message == null ? "" : message.strip().replaceAll("\\s*\\R\\s*", " ");
        return m.length() > MAX_MESSAGE ? m.substring(0, MAX_MESSAGE) + "…" : m;
    }
}
