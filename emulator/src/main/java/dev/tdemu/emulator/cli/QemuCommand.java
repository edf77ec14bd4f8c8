package dev.tdemu.emulator.cli;

import dev.tdemu.emulator.qemu.QemuCommandLine;
import dev.tdemu.emulator.qemu.QemuOptionException;
import dev.tdemu.emulator.qemu.QemuRequest;
import dev.tdemu.emulator.vm.VmResult;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Unmatched;

/**
 * {@code tdemu qemu}: a qemu-system-x86_64 command line (the subset kvm-unit-tests' runner
 * passes, see {@link QemuCommandLine}) run as {@code tdemu run --machine pc} would run it, with
 * QEMU's exit statuses (see {@link #exitStatus}). tdemu's own options come from
 * {@value #OPTIONS_VARIABLE}, so a runner that only knows QEMU's options can still ask for a KVM
 * policy, host breakpoints or a trace.
 */
@Command(name = "qemu", description = {
    "Run a Multiboot kernel with qemu-system-x86_64's options (the ones kvm-unit-tests' runner passes).",
    "tdemu qemu -help lists them; tdemu's own run options come from the environment variable " + QemuCommand.OPTIONS_VARIABLE + "."})
final class QemuCommand implements Callable<Integer> {
    /** The environment variable with tdemu run's own options for a QEMU command line. */
    static final String OPTIONS_VARIABLE = "TDEMU_QEMU_OPTIONS";
    /** The run options a QEMU command line decides; the environment may not set them too. */
    private static final List<String> DECIDED_BY_QEMU_OPTIONS = List.of("--machine", "--append", "--initrd", "--serial",
            "--memory", "--vcpus", "--gdb", "--wait", "--help", "--version");

    @Spec
    CommandSpec spec;

    @Unmatched
    List<String> arguments = new ArrayList<>();

    private final Main.Streams streams;

    QemuCommand(Main.Streams streams) {
        this.streams = streams;
    }

    @Override
    public Integer call() throws Exception {
        QemuRequest request = QemuCommandLine.parse(arguments, Main.VERSION);
        return switch (request) {
            case QemuRequest.Information info -> {
                PrintWriter out = spec.commandLine().getOut();
                out.print(info.text());
                out.flush();
                yield 0;
            }
            case QemuRequest.Boot boot -> boot(boot);
        };
    }

    private int boot(QemuRequest.Boot boot) throws Exception {
        // QEMU's words, which kvm-unit-tests' runner looks for to tell "could not even start" from a failing test.
        loadable(boot.kernel(), "kernel");
        for (Path initrd : boot.initrds()) {
            loadable(initrd, "initrd");
        }
        RunCommand run = new RunCommand(streams);
        CommandLine cl = new CommandLine(run);
        cl.setOut(spec.commandLine().getOut());
        cl.setErr(spec.commandLine().getErr());
        cl.setExpandAtFiles(false);
        List<String> args = new ArrayList<>(tdemuOptions());
        args.add("--");
        args.add(boot.kernel().toString());
        CommandLine.ParseResult parsed;
        try {
            parsed = cl.parseArgs(args.toArray(String[]::new));
        } catch (CommandLine.ParameterException e) {
            throw new IllegalArgumentException(OPTIONS_VARIABLE + ": " + e.getMessage());
        }
        for (String option : DECIDED_BY_QEMU_OPTIONS) {
            if (parsed.hasMatchedOption(option)) {
                throw new IllegalArgumentException(OPTIONS_VARIABLE + ": " + option + " is for the QEMU options to say (tdemu "
                        + "qemu -help)");
            }
        }
        VmOptions vm = run.vmOptions;
        vm.machine = "pc";
        vm.append = boot.append();
        vm.initrds = new ArrayList<>(boot.initrds());
        vm.serial = boot.serialStdio() ? "stdio" : "out";
        vm.memory = Long.toString(boot.memoryBytes());
        vm.vcpus = boot.cpus();
        vm.defaultTimeout = "0"; // QEMU runs until the guest ends; kvm-unit-tests' runner brings its own timeout
        run.gdbPort = boot.gdbPort();
        run.waitForGdb = boot.startStopped();
        // QEMU says nothing about -s or -gdb tcp::PORT, and the runner reads stderr as failure; only
        // a port the system chose (tcp::0) must be told.
        run.announceGdb = boot.gdbPort() != null && boot.gdbPort() == 0;
        return run.execute(QemuCommand::exitStatus);
    }

    /** The words of {@value #OPTIONS_VARIABLE} (split at white space; no quoting). */
    private List<String> tdemuOptions() {
        String text = streams.environment().getOrDefault(OPTIONS_VARIABLE, "").strip();
        if (text.contains("\"") || text.contains("'") || text.contains("\\")) {
            throw new IllegalArgumentException(OPTIONS_VARIABLE + ": quoting is not supported (words are split at white space)");
        }
        return text.isEmpty() ? List.of() : List.of(text.split("\\s+"));
    }

    private static void loadable(Path file, String what) {
        String problem = !Files.exists(file) ? "no such file" : Files.isDirectory(file) ? "a directory"
                : !Files.isReadable(file) ? "permission denied" : null;
        if (problem != null) {
            throw new QemuOptionException("could not load " + what + " '" + file + "': " + problem);
        }
    }

    /**
     * QEMU's exit status for how the run ended: isa-debug-exit's (V << 1) | 1 (its low byte, as
     * a process sees it); 0 when the guest ended the machine without it (ACPI power-off; a triple
     * fault, which QEMU with -no-reboot also answers with a shutdown; every vCPU halted for good,
     * where QEMU would hang; a debugger's kill), which kvm-unit-tests' runner reads as a failure;
     * 124 when tdemu's own --timeout stopped it (what timeout(1) returns); 134, QEMU's abort(), when
     * tdemu could not go on (something not modelled, an access it cannot serve, a bug). Signals
     * are 128 + N before this is asked.
     */
    static int exitStatus(VmResult r) {
        return switch (r.outcome()) {
            case EXITED -> r.exitStatus() & 0xFF;
            case HALTED, TRIPLE_FAULT, FATAL_ERROR, KILLED -> 0;
            case TIMEOUT -> 124;
            case INTERRUPTED, MEMORY_FAULT, NOT_MODELLED, INTERNAL_ERROR -> 134;
        };
    }
}
