package dev.tdemu.emulator.cli;

import com.google.protobuf.util.JsonFormat;
import dev.tdemu.emulator.check.Cell;
import dev.tdemu.emulator.check.CellRunner;
import dev.tdemu.emulator.check.CheckRun;
import dev.tdemu.emulator.check.MatrixPrinter;
import dev.tdemu.emulator.check.Names;
import dev.tdemu.emulator.check.Scenarios;
import dev.tdemu.emulator.elf.ElfImage;
import dev.tdemu.emulator.io.BadInputException;
import dev.tdemu.emulator.io.InputFiles;
import dev.tdemu.emulator.vm.ExitEvent;
import dev.tdemu.emulator.vm.ExitFormat;
import dev.tdemu.emulator.vm.VmSpec;
import dev.tdemu.proto.CellResult;
import dev.tdemu.proto.CheckReport;
import dev.tdemu.proto.DrSwitchPolicy;
import dev.tdemu.proto.ExpectedVerdicts;
import dev.tdemu.proto.FaultInjection;
import dev.tdemu.proto.GuestMode;
import dev.tdemu.proto.Scenario;
import dev.tdemu.proto.TdxDrBehaviour;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * tdemu's main job: the validation matrix. Every scenario × every KVM DR switch policy × every TDX
 * module behaviour (TD scenarios) × mode, each cell judged by the scenario's invariants and
 * compared with its expected verdict. Exit status 0 when every cell is as expected.
 */
@Command(name = "check", mixinStandardHelpOptions = true, description = {
    "Run the validation matrix: every scenario under every KVM DR switch policy and TDX module behaviour.",
    "With --scenario/--policy/--tdx-dr/--mode narrowed to one cell, show that cell's exits around its first violation.",
    "With --guest and --config, run your own guest and scenario through the same machinery."})
final class CheckCommand implements Callable<Integer> {
    /** Each job is a VM with its own engines; beyond this a machine only thrashes. */
    static final int MAX_JOBS = 256;

    @Spec
    CommandSpec spec;

    @Option(names = "--scenario", paramLabel = "NAME", description = "Only this scenario (see the table's columns).")
    String scenario;

    @Option(names = "--policy", paramLabel = "POLICY", description = "Only this policy: pre-tdx, v1-skip-restore, v5-as-posted, dr7-only, upstream.")
    String policy;

    @Option(names = "--tdx-dr", paramLabel = "BEHAVIOUR", description = "Only this TDX module behaviour (TD cells).")
    String tdxDr;

    @Option(names = "--mode", paramLabel = "vmx|td", description = "Only VMX or only TD cells.")
    String mode;

    @Option(names = "--guest", paramLabel = "FILE", description = "Your own guest (with --config): an ELF64 guest of tdemu's "
            + "ABI, or a Multiboot kernel (a PC: kvm-unit-tests' .flat files), whose exit status must be the scenario's "
            + "expected_exit_status (default 1 for a PC kernel: every check passed).")
    Path guest;

    @Option(names = "--config", paramLabel = "FILE.textproto", description = "Your own scenario (a tdemu.Scenario in text format).")
    Path config;

    @Option(names = "--jobs", paramLabel = "N", description = "Cells run in parallel (default: the number of CPUs).")
    Integer jobs;

    @Option(names = "--report", paramLabel = "PATH", description = "Also write the full report: PATH (protobuf) and PATH.json.")
    Path report;

    @Override
    public Integer call() throws IOException, BadInputException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        List<Scenario> scenarios;
        ExpectedVerdicts expected;
        if (config != null || guest != null) {
            if (config == null || guest == null) {
                throw new IllegalArgumentException("--guest and --config go together");
            }
            Scenario s = Scenarios.load(config).toBuilder().setGuestImage(guest.toString()).build();
            // Everything about the pair that can be wrong is said once, here, not once per cell. A
            // Multiboot kernel runs on the PC machine (its own exit status and the invariants both count).
            boolean pcKernel = dev.tdemu.emulator.boot.MultibootProbe.isMultiboot(guest);
            Scenarios.debuggerAddresses(s, pcKernel ? null : ElfImage.load(guest, VmSpec.DEFAULT_MEMORY));
            if (report != null) {
                for (Path input : List.of(guest, config)) {
                    if (InputFiles.sameFile(report, input) || InputFiles.sameFile(Path.of(report + ".json"), input)) {
                        throw new BadInputException("--report " + report + " would overwrite " + input
                                + ", which this check reads; give the report another name");
                    }
                }
            }
            scenarios = List.of(s);
            expected = null;
        } else {
            scenarios = scenario != null ? List.of(Scenarios.builtin(scenario)) : Scenarios.builtin();
            expected = Scenarios.expected();
        }
        List<Cell> cells = Cell.matrix(scenarios).stream().filter(this::selected).toList();
        if (cells.isEmpty()) {
            throw new IllegalArgumentException("no cell matches those options (a VMX cell has no --tdx-dr; "
                    + "check the scenario's modes)");
        }
        if (cells.size() == 1) {
            return single(cells.getFirst(), expected, out);
        }
        int threads = jobs != null ? jobs : Runtime.getRuntime().availableProcessors();
        if (threads < 1 || threads > MAX_JOBS) {
            throw new IllegalArgumentException("--jobs must be 1.." + MAX_JOBS + ", not " + threads);
        }
        Progress progress = new Progress(err, cells.size());
        CheckReport r = CheckRun.run(cells, threads, FaultInjection.FAULT_INJECTION_NONE, expected, progress::done);
        progress.finish();
        MatrixPrinter.print(r, out);
        writeReport(r, out);
        return r.getMismatches() == 0 ? 0 : 1;
    }

    private boolean selected(Cell c) {
        if (policy != null && c.policy() != VmOptions.enumValue(DrSwitchPolicy.class, "DR_SWITCH_POLICY_", policy, "--policy")) {
            return false;
        }
        if (tdxDr != null && c.tdxDr() != VmOptions.enumValue(TdxDrBehaviour.class, "TDX_DR_BEHAVIOUR_", tdxDr, "--tdx-dr")) {
            return false;
        }
        if (mode != null) {
            GuestMode m = switch (mode.toLowerCase(Locale.ROOT)) {
                case "vmx" -> GuestMode.GUEST_MODE_VMX;
                case "td" -> GuestMode.GUEST_MODE_TD;
                default -> throw new IllegalArgumentException("--mode must be vmx or td, not '" + mode + "'");
            };
            return c.mode() == m;
        }
        return true;
    }

    /** One cell: its verdict, and the exits around its first violation. */
    private int single(Cell cell, ExpectedVerdicts expected, PrintWriter out) throws IOException {
        CellRunner.Outcome o = CellRunner.run(cell, FaultInjection.FAULT_INJECTION_NONE);
        CellResult r = expected == null ? CheckRun.compare(o.result(), java.util.Map.of())
                : CheckRun.compare(o.result(), CheckRun.index(expected));
        out.printf("%s: %s%s (%d exits)%n", cell, MatrixPrinter.cellText(r).replace(" !", ""),
                r.getMatchesExpected() ? ", as expected" : ", expected " + r.getExpected()
                        + (r.getExpectedInvariant().isEmpty() ? "" : " " + r.getExpectedInvariant()), r.getExits());
        if (!r.getDetail().isEmpty()) {
            out.println("  " + r.getDetail());
        }
        if (!o.context().isEmpty()) {
            out.printf("%nexits around the first violation (#%d):%n", r.getFirstFailingExit());
            for (ExitEvent e : o.context()) {
                out.print(ExitFormat.format(e.toProto()));
            }
        }
        if (o.vm() != null && r.getVerdict() != dev.tdemu.proto.Verdict.PASS && !o.vm().console().isBlank()) {
            out.println("\nguest console:");
            o.vm().console().lines().limit(20).forEach(l -> out.println("  " + l));
        }
        out.flush();
        writeReport(CheckReport.newBuilder().addCells(r).setMismatches(r.getMatchesExpected() ? 0 : 1).build(), out);
        return r.getMatchesExpected() ? 0 : 1;
    }

    private void writeReport(CheckReport r, PrintWriter out) throws IOException {
        if (report == null) {
            return;
        }
        Files.write(report, r.toByteArray());
        Path json = Path.of(report + ".json");
        Files.writeString(json, JsonFormat.printer().preservingProtoFieldNames().print(r) + "\n");
        out.printf("report written to %s and %s%n", report, json);
        out.flush();
    }

    /** A progress bar on stderr, only when stderr is a terminal. */
    private static final class Progress {
        private final PrintWriter err;
        private final int total;
        private final boolean tty = System.console() != null && System.console().isTerminal();

        Progress(PrintWriter err, int total) {
            this.err = err;
            this.total = total;
        }

        void done(int n) {
            if (!tty) {
                return;
            }
            int width = 40, filled = n * width / total;
            err.printf("\r[%s%s] %d/%d cells", "#".repeat(filled), ".".repeat(width - filled), n, total);
            err.flush();
        }

        void finish() {
            if (tty) {
                err.print("\r" + " ".repeat(60) + "\r");
                err.flush();
            }
        }
    }

}
