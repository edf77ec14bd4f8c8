package dev.tdemu.emulator.cli;

import dev.tdemu.emulator.io.BadInputException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Entry point of the {@code tdemu} command line. */
@Command(name = "tdemu", mixinStandardHelpOptions = true, version = "tdemu " + Main.VERSION,
        description = "Intel TDX/VMX guest emulator with KVM debug-register switching and a GDB stub.",
        subcommands = {CheckCommand.class, RunCommand.class, QemuCommand.class, TraceCommand.class, GuestsCommand.class})
public final class Main implements Runnable {
    static final String VERSION = "0.1.0";

    @Option(names = "--log", paramLabel = "SUBSYSTEM=LEVEL",
            description = "Log level per subsystem (repeatable), e.g. --log gdbstub=debug --log cpu=trace. "
                    + "Subsystems: tdemu, core, unicorn, cpu, vm, check, gdbstub, rsp. Also read from TDEMU_LOG.")
    List<String> log = new ArrayList<>();

    /**
     * The standard streams as the commands use them: text through picocli's writers, and the
     * guest's console as raw bytes on {@code out} (a byte stream, never re-encoded).
     *
     * @param outIsTerminal stdout is a terminal: the console is flushed at every newline
     * @param in            stdin, read only for a guest's serial input (--serial stdio)
     * @param environment   the environment variables the commands read (tdemu qemu: TDEMU_QEMU_OPTIONS)
     */
    record Streams(PrintStream out, PrintStream err, boolean outIsTerminal, java.io.InputStream in,
                   java.util.Map<String, String> environment) {
        Streams {
            environment = java.util.Map.copyOf(environment);
        }

        /** No stdin and an empty environment (tests). */
        Streams(PrintStream out, PrintStream err, boolean outIsTerminal) {
            this(out, err, outIsTerminal, java.io.InputStream.nullInputStream(), java.util.Map.of());
        }

        static Streams system() {
            java.io.Console c = System.console();
            return new Streams(System.out, System.err, c != null && c.isTerminal(), System.in, System.getenv());
        }
    }

    public static void main(String[] args) {
        CommandLine cl = commandLine(Streams.system());
        int status = cl.execute(args);
        cl.getOut().flush();
        cl.getErr().flush();
        System.exit(status);
    }

    static CommandLine commandLine(Streams streams) {
        Main main = new Main();
        CommandLine cl = new CommandLine(main, new Factory(streams));
        // Over the PrintStream itself, so that checkError() sees a closed pipe (EPIPE); flushed by
        // the commands and at exit, not at every line (a trace can have millions of them).
        cl.setOut(new PrintWriter(streams.out(), false, streams.out().charset()));
        cl.setErr(new PrintWriter(streams.err(), true, streams.err().charset()));
        cl.setExecutionStrategy(parse -> {
            List<String> problems = Logging.apply(main.log, System.getenv("TDEMU_LOG"));
            if (!problems.isEmpty()) {
                PrintWriter err = parse.commandSpec().commandLine().getErr();
                problems.forEach(p -> err.println("tdemu: " + p));
                return 2;
            }
            return new CommandLine.RunLast().execute(parse);
        });
        cl.setParameterExceptionHandler((e, args) -> {
            cl.getErr().println("tdemu: " + BadInputException.oneLine(e.getMessage()) + " (see "
                    + e.getCommandLine().getCommandSpec().qualifiedName() + " --help)");
            return 2;
        });
        cl.setExecutionExceptionHandler((e, commandLine, parse) -> {
            if (isUserError(e)) {
                commandLine.getErr().println("tdemu: " + describe(e));
                return 2;
            }
            commandLine.getErr().println("tdemu: internal error: " + BadInputException.oneLine(e.toString()));
            return 70;
        });
        return cl;
    }

    /** Creates the commands that write the guest's console with the streams to write it to. */
    private record Factory(Streams streams) implements CommandLine.IFactory {
        @Override
        public <K> K create(Class<K> type) throws Exception {
            if (type == RunCommand.class) {
                return type.cast(new RunCommand(streams));
            }
            if (type == QemuCommand.class) {
                return type.cast(new QemuCommand(streams));
            }
            return CommandLine.defaultFactory().create(type);
        }
    }

    /** Bad input the user can fix: a plain message, no stack trace. */
    static boolean isUserError(Exception e) {
        return e instanceof BadInputException || e instanceof java.io.IOException || e instanceof IllegalArgumentException;
    }

    /** The one line that says what was wrong. */
    static String describe(Exception e) {
        return BadInputException.oneLine(switch (e) {
            case java.nio.file.NoSuchFileException n -> n.getFile() + ": no such file";
            case java.nio.file.AccessDeniedException a -> a.getFile() + ": permission denied";
            case java.nio.file.FileSystemException f -> f.getFile() + ": " + f.getReason();
            case java.io.IOException io -> io.getMessage() != null ? io.getMessage() : io.toString();
            default -> e.getMessage() != null ? e.getMessage() : e.toString();
        });
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(new CommandLine(this), "missing subcommand (try tdemu --help)");
    }
}
