package dev.tdemu.gdbstub.target;

import java.util.Objects;

/**
 * The result of a {@code monitor} command: its text is shown by gdb (sent as {@code O} packets).
 *
 * @param output  text for the user, may be empty; a trailing newline is up to the target
 * @param success false makes gdb report the command as failed after printing the text
 */
public record MonitorReply(String output, boolean success) {
    public MonitorReply {
        Objects.requireNonNull(output, "output");
    }

    public static MonitorReply ok(String output) {
        return new MonitorReply(output, true);
    }

    public static MonitorReply failed(String output) {
        return new MonitorReply(output, false);
    }
}
