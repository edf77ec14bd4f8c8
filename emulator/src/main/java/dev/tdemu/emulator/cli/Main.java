package dev.tdemu.emulator.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Entry point of the {@code tdemu} command line. */
@Command(name = "tdemu", mixinStandardHelpOptions = true, version = "tdemu 0.1.0",
        description = "Intel TDX/VMX guest emulator with KVM debug-register switching and a GDB stub.",
        subcommands = {CheckCommand.class, RunCommand.class, TraceCommand.class, GuestsCommand.class})
public final class Main implements Runnable {
    @Option(names = "--log", paramLabel = "SUBSYSTEM=LEVEL",
            description = "Log level per subsystem (repeatable), e.g. --log gdbstub=debug --log cpu=trace. "
                    + "Subsystems: tdemu, core, unicorn, cpu, vm, check, gdbstub, rsp. Also read from TDEMU_LOG.")
    List<String> log = new ArrayList<>();

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    static CommandLine commandLine() {
        Main main = new Main();
        CommandLine cl = new CommandLine(main);
        cl.setExecutionStrategy(parse -> {
            List<String> problems = Logging.apply(main.log, System.getenv("TDEMU_LOG"));
            if (!problems.isEmpty()) {
                PrintWriter err = parse.commandSpec().commandLine().getErr();
                problems.forEach(p -> err.println("tdemu: " + p));
                return 2;
            }
            return new CommandLine.RunLast().execute(parse);
        });
        cl.setExecutionExceptionHandler((e, commandLine, parse) -> {
            if (isUserError(e)) {
                commandLine.getErr().println("tdemu: " + describe(e));
                return 2;
            }
            commandLine.getErr().println("tdemu: internal error: " + e);
            return 70;
        });
        return cl;
    }

    /** Bad input the user can fix: a plain message, no stack trace. */
    static boolean isUserError(Exception e) {
        return e instanceof dev.tdemu.emulator.elf.ElfFormatException || e instanceof java.io.IOException
                || e instanceof IllegalArgumentException;
    }

    static String describe(Exception e) {
        return switch (e) {
            case java.nio.file.NoSuchFileException n -> n.getFile() + ": no such file";
            case java.nio.file.AccessDeniedException a -> a.getFile() + ": permission denied";
            case java.nio.file.FileSystemException f -> "cannot read " + f.getFile() + ": " + f.getReason();
            case java.io.IOException io -> io.getMessage();
            default -> e.getMessage();
        };
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(new CommandLine(this), "missing subcommand (try tdemu --help)");
    }
}
