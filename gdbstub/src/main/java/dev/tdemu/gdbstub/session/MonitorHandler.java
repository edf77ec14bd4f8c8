package dev.tdemu.gdbstub.session;

import dev.tdemu.gdbstub.command.Command;
import dev.tdemu.gdbstub.target.DebugTarget;
import dev.tdemu.gdbstub.target.MonitorCommands;
import dev.tdemu.gdbstub.target.MonitorReply;

import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * {@code qRcmd} (gdb's {@code monitor}): the command's text goes to gdb's console as {@code O}
 * packets, then {@code OK}, or {@code E01} when the command failed (gdb's reply parser for
 * {@code qRcmd} takes only {@code Enn}). A target without monitor commands says so in one line.
 */
final class MonitorHandler {
    private final Link link;
    private final Optional<MonitorCommands> commands;

    MonitorHandler(Link link, DebugTarget target) {
        this.link = link;
        this.commands = target.monitorCommands();
    }

    CompletionStage<Void> handle(Command.MonitorCommand command) {
        return switch (command) {
            case Command.Monitor m -> {
                CompletableFuture<MonitorReply> reply = commands.isPresent()
                        ? link.call("monitor", () -> commands.get().run(m.command()))
                        : CompletableFuture.completedFuture(MonitorReply.failed(
                                "This target has no monitor commands (got \"" + m.command() + "\").\n"));
                yield link.reply(m, reply, r -> {
                    link.sendConsole(r.output());
                    return r.success() ? "OK" : "E01";
                });
            }
        };
    }
}
