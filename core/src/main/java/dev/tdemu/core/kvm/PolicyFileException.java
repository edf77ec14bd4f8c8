package dev.tdemu.core.kvm;

/**
 * A policy file that cannot be used. The message is one line, {@code FILE:LINE[:COLUMN]: reason},
 * so that a command line can print it as it is.
 */
public final class PolicyFileException extends IllegalArgumentException {

    private final String file;
    private final int line;
    private final int column;

    public PolicyFileException(String file, int line, int column, String reason) {
        super(file + ":" + line + (column > 0 ? ":" + column : "") + ": " + reason);
        this.file = file;
        this.line = line;
        this.column = column;
    }

    public String file() {
        return file;
    }

    /** 1-based line of the offending text. */
    public int line() {
        return line;
    }

    /** 1-based column, or 0 when only the line is known. */
    public int column() {
        return column;
    }
}
