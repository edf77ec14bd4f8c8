package dev.tdemu.emulator.cli;

import com.google.protobuf.util.JsonFormat;
import dev.tdemu.emulator.vm.ExitFormat;
import dev.tdemu.emulator.vm.TraceWriter;
import dev.tdemu.proto.ExitRecord;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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

    @Command(name = "show", mixinStandardHelpOptions = true, description = "Print an exit trace, one exit per block (or JSON with --json).")
    static final class Show implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "FILE")
        Path file;

        @Option(names = "--json", description = "One JSON document: the header and every exit record.")
        boolean json;

        @Option(names = "--violations", description = "Only exits where an invariant failed.")
        boolean violationsOnly;

        @Option(names = "--vcpu", paramLabel = "N", description = "Only exits of this vCPU.")
        Integer vcpu;

        @Override
        public Integer call() throws IOException {
            TraceWriter.Trace trace = TraceWriter.read(file);
            PrintWriter out = spec.commandLine().getOut();
            List<ExitRecord> exits = new ArrayList<>();
            for (ExitRecord r : trace.exits()) {
                if ((vcpu == null || r.getVcpu() == vcpu)
                        && (!violationsOnly || r.getVerdictsList().stream().anyMatch(v -> !v.getHolds()))) {
                    exits.add(r);
                }
            }
            if (json) {
                JsonFormat.Printer printer = JsonFormat.printer().preservingProtoFieldNames();
                out.println("{\"header\": " + printer.print(trace.header()) + ",");
                out.println("\"exits\": [");
                for (int i = 0; i < exits.size(); i++) {
                    out.print(printer.print(exits.get(i)));
                    out.println(i + 1 < exits.size() ? "," : "");
                }
                out.println("]}");
                out.flush();
                return 0;
            }
            var c = trace.header().getConfig();
            out.printf("trace of %s: %s, policy %s, TDX DR behaviour %s, %d vCPU(s); %d exit(s)%s%n", c.getGuestImage(),
                    c.getMode(), c.getPolicy(), c.getTdxDr(), Math.max(1, c.getVcpus()), trace.exits().size(),
                    exits.size() != trace.exits().size() ? " (" + exits.size() + " shown)" : "");
            for (ExitRecord r : exits) {
                out.print(ExitFormat.format(r));
            }
            out.flush();
            return 0;
        }
    }
}
