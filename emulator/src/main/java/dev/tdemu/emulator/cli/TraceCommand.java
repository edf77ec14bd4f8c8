package dev.tdemu.emulator.cli;

import com.google.protobuf.StringValue;
import com.google.protobuf.util.JsonFormat;
import dev.tdemu.emulator.io.InputFiles;
import dev.tdemu.emulator.vm.ExitFormat;
import dev.tdemu.emulator.vm.TraceFormatException;
import dev.tdemu.emulator.vm.TraceReader;
import dev.tdemu.proto.ExitRecord;
import dev.tdemu.proto.TraceEnd;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "trace", mixinStandardHelpOptions = true, description = "Work with exit traces written by `tdemu run --trace FILE`.",
        subcommands = TraceCommand.Show.class)
final class TraceCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new picocli.CommandLine.ParameterException(spec.commandLine(), "missing subcommand (try tdemu trace show FILE)");
    }

    /**
     * Prints a trace as it reads it, one record at a time: memory stays the same however long the
     * trace, and output stops as soon as nobody reads it (exit status 141, as a shell reports a
     * process that SIGPIPE ended). A trace that ends early (truncated, damaged, never finished)
     * has every complete exit printed, then a warning on stderr and exit status 2.
     */
    @Command(name = "show", mixinStandardHelpOptions = true, description = "Print an exit trace, one exit per block (or JSON with --json).")
    static final class Show implements Callable<Integer> {
        /** 128 + SIGPIPE: what the exit status of a process ended by a closed pipe reads as. */
        static final int CLOSED_PIPE = 141;
        /** How many exits are printed between two checks that stdout is still read. */
        private static final int CHECK_EVERY = 64;

        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "FILE")
        Path file;

        @Option(names = "--json", description = "One JSON document: the header, every exit record, and the end record.")
        boolean json;

        @Option(names = "--violations", description = "Only exits where an invariant failed.")
        boolean violationsOnly;

        @Option(names = "--vcpu", paramLabel = "N", description = "Only exits of this vCPU.")
        Integer vcpu;

        @Override
        public Integer call() throws IOException, TraceFormatException {
            if (vcpu != null && vcpu < 0) {
                throw new IllegalArgumentException("--vcpu must be a vCPU index (0 or more), not " + vcpu);
            }
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            JsonFormat.Printer printer = JsonFormat.printer().preservingProtoFieldNames();
            try (TraceReader trace = TraceReader.open(file)) {
                var c = trace.header().getConfig();
                if (json) {
                    out.println("{\"header\": " + printer.print(trace.header()) + ",");
                    out.print("\"exits\": [");
                } else {
                    out.printf("trace of %s: %s, policy %s, TDX DR behaviour %s, %d vCPU(s)%n", c.getGuestImage(),
                            c.getMode(), c.getPolicyName().isEmpty() ? c.getPolicy() : c.getPolicyName(), c.getTdxDr(),
                            Math.max(1, c.getVcpus()));
                }
                long shown = 0;
                for (ExitRecord r; (r = trace.next()) != null; ) {
                    if ((vcpu != null && r.getVcpu() != vcpu)
                            || (violationsOnly && r.getVerdictsList().stream().allMatch(v -> v.getHolds()))) {
                        continue;
                    }
                    if (json) {
                        out.print(shown == 0 ? "\n" : ",\n");
                        out.print(printer.print(r));
                    } else {
                        out.print(ExitFormat.format(r));
                    }
                    if (++shown % CHECK_EVERY == 0 && out.checkError()) {
                        return CLOSED_PIPE;
                    }
                }
                Optional<String> problem = trace.problem();
                TraceEnd end = trace.ending() instanceof TraceReader.Ending.Complete(TraceEnd e) ? e : null;
                if (json) {
                    out.println("\n],");
                    out.print("\"end\": " + (end != null ? printer.print(end) : "null"));
                    if (problem.isPresent()) {
                        out.print(",\n\"problem\": " + printer.print(StringValue.of(problem.get())));
                    }
                    out.println("}");
                } else {
                    out.printf("%d exit(s)%s%s%n", trace.exitsRead(),
                            shown != trace.exitsRead() ? ", " + shown + " shown" : "",
                            end != null && !end.getEndedBy().isEmpty() ? "; the run ended: " + end.getEndedBy() : "");
                    if (end != null && end.getExitsNotRecorded() > 0) {
                        out.printf("the trace was cut at its size limit (%s): %d later exit(s) were not recorded%n",
                                InputFiles.describeSize(end.getSizeLimit()), end.getExitsNotRecorded());
                    }
                }
                if (out.checkError()) {
                    return CLOSED_PIPE;
                }
                if (problem.isPresent()) {
                    err.println("tdemu: warning: " + problem.get());
                    return 2;
                }
                return 0;
            }
        }
    }
}
