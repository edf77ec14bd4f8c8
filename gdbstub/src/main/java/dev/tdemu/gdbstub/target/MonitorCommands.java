package dev.tdemu.gdbstub.target;

import java.util.concurrent.CompletionStage;

/**
 * gdb's {@code monitor} commands ({@code qRcmd}), an optional capability of a {@link DebugTarget}
 * ({@link DebugTarget#monitorCommands()}); a target without it answers every command with one
 * line saying so.
 */
public interface MonitorCommands {

    /** Runs one command line; the reply's text is shown by gdb as it is. Must not block. */
    CompletionStage<MonitorReply> run(String command);
}
