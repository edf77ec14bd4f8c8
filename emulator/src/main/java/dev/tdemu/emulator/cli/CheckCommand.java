package dev.tdemu.emulator.cli;

import com.google.protobuf.util.JsonFormat;
import dev.tdemu.emulator.check.Cell;
import dev.tdemu.emulator.check.CellRunner;
import dev.tdemu.emulator.check.CheckRun;
import dev.tdemu.emulator.check.MatrixPrinter;
import dev.tdemu.emulator.check.MatrixDiff;
import dev.tdemu.emulator.check.ModelCells;
import dev.tdemu.emulator.check.Names;
import dev.tdemu.emulator.check.PolicyFiles;
import dev.tdemu.core.kvm.PolicyProgram;
import dev.tdemu.emulator.check.Scenarios;
import dev.tdemu.emulator.elf.ElfImage;
import dev.tdemu.emulator.io.BadInputException;
import dev.tdemu.emulator.io.InputFiles;
import dev.tdemu.emulator.vm.ExitEvent;
import dev.tdemu.emulator.vm.ExitFormat;
import dev.tdemu.emulator.vm.VmSpec;
import dev.tdemu.proto.CellResult;
import dev.tdemu.proto.CheckReport;
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
    "Run the validation matrix: every scenario under every built-in KVM policy file and TDX module behaviour "
        + "(guests run in the emulator), then the model's tables (DEBUGCTL, DR6, the pre-entry DR7 clear, SEV-ES DebugSwap).",
    "With --scenario/--policy/--tdx-dr/--mode narrowed to one cell, show that cell's exits around its first violation.",
    "With --policy-file, add your own KVM variant as a row of every table (shown, not judged).",
    "With --diff A B, run two policies over the whole matrix and print only the cells that change.",
    "With --guest and --config, run your own guest and scenario through the same machinery."})
final class CheckCommand implements Callable<Integer> {
    /** Each job is a VM with its own engines; beyond this a machine only thrashes. */
    static final int MAX_JOBS = 256;

    @Spec
    CommandSpec spec;

    @Option(names = "--scenario", paramLabel = "NAME", description = "Only this scenario (see the table's columns).")
    String scenario;

    @Option(names = "--policy", paramLabel = "POLICY", description = "Only this policy's row: a built-in one (pre-tdx, "
            + "v1-skip-restore, v5-as-posted, dr7-only, upstream, upstream-6-17, sev-upstream, ...; see the tables) or the "
            + "name inside a --policy-file.")
    String policy;

    @Option(names = "--policy-file", paramLabel = "FILE.textproto", description = "Your own KVM variant (a tdemu.KvmPolicy "
            + "in text format; see docs/examples/) as a row beside the built-in ones in every table of the guest kinds it "
            + "runs; repeatable. Its cells are shown but not judged (no expected verdicts); its failures are listed "
            + "under the tables. Use --diff to compare it with the policy it changes.")
    List<Path> policyFiles = new java.util.ArrayList<>();

    @Option(names = "--diff", arity = "2", paramLabel = "POLICY", description = "Run two policies (built-in names or "
            + "policy files) over the whole matrix and print only the cells that change, each with the first exit where "
            + "the runs differ. Exit status 0 when no cell changes, 1 when some do.")
    List<String> diff;

    @Option(names = "--tdx-dr", paramLabel = "BEHAVIOUR", description = "Only this TDX module behaviour (TD cells).")
    String tdxDr;

    @Option(names = "--mode", paramLabel = "vmx|td", description = "Only VMX or only TD cells (sev-es: not implemented; "
            + "the SEV-ES table is judged in the model).")
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
        mode(); // a bad --mode (or sev-es) is refused before any work
        if (diff != null) {
            return diff(out, err);
        }
        List<PolicyProgram> policies = new java.util.ArrayList<>(Cell.builtinPolicies());
        java.util.Set<String> yours = new java.util.LinkedHashSet<>();
        for (Path f : policyFiles) {
            PolicyProgram p = PolicyFiles.load(f);
            if (policies.stream().anyMatch(q -> q.name().equals(p.name()))) {
                throw new IllegalArgumentException(f + ": its policy is called " + p.name() + ", as "
                        + (yours.contains(p.name()) ? "another --policy-file's" : "a built-in one")
                        + "; give it its own name (name: \"...\") so that its row can be told apart");
            }
            policies.add(p);
            yours.add(p.name());
        }
        if (policy != null) {
            String want = policy.toUpperCase(Locale.ROOT).replace('-', '_');
            policies = policies.stream().filter(p -> p.name().equalsIgnoreCase(want) || p.name().equalsIgnoreCase(policy)).toList();
            if (policies.isEmpty()) {
                throw new IllegalArgumentException("--policy: no policy '" + policy + "' (built-in: "
                        + String.join(", ", Cell.builtinPolicies().stream().map(p -> PolicyFiles.spelling(p.name())).toList())
                        + (yours.isEmpty() ? "" : "; yours: " + String.join(", ", yours)) + ")");
            }
        }
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
            scenarios = builtinScenarios();
            expected = Scenarios.expected();
        }
        List<Cell> cells = Cell.matrix(scenarios, policies).stream().filter(c -> selected(c.mode(), c.tdxDr())).toList();
        // The model's tables belong to the built-in scenarios (a user's guest and scenario are judged alone).
        List<ModelCells.Cell> modelCells = config != null ? List.of() : ModelCells.matrix(policies).stream()
                .filter(m -> scenario == null || m.column().name().equals(scenario))
                .filter(m -> selected(m.key().getMode(), m.key().getTdxDr())).toList();
        if (cells.isEmpty() && modelCells.size() == 1) {
            return singleModel(modelCells.getFirst(), expected, yours, out);
        }
        if (cells.isEmpty() && modelCells.isEmpty()) {
            throw new IllegalArgumentException("no cell matches those options (a VMX cell has no --tdx-dr; "
                    + "check the scenario's modes)");
        }
        if (cells.size() == 1 && modelCells.isEmpty()) {
            return single(cells.getFirst(), expected, yours, out);
        }
        int threads = threads();
        Progress progress = new Progress(err, Math.max(1, cells.size()));
        CheckReport r = CheckRun.run(cells, modelCells, yours, threads, FaultInjection.FAULT_INJECTION_NONE, expected,
                progress::done);
        progress.finish();
        MatrixPrinter.print(r, out);
        writeReport(r, out);
        return r.getMismatches() == 0 ? 0 : 1;
    }

    /** The guest scenarios --scenario selects: all, one, or none when it names a model column. */
    private List<Scenario> builtinScenarios() {
        if (scenario == null) {
            return Scenarios.builtin();
        }
        if (ModelCells.isColumn(scenario)) {
            return List.of();
        }
        try {
            return List.of(Scenarios.builtin(scenario));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(e.getMessage().replaceFirst("\\)$", "; in the model: "
                    + String.join(", ", dev.tdemu.core.kvm.ModelMatrix.COLUMNS.stream().map(c -> c.name()).toList()) + ")"), e);
        }
    }

    private int threads() {
        int threads = jobs != null ? jobs : Runtime.getRuntime().availableProcessors();
        if (threads < 1 || threads > MAX_JOBS) {
            throw new IllegalArgumentException("--jobs must be 1.." + MAX_JOBS + ", not " + threads);
        }
        return threads;
    }

    /** --mode as a guest mode, or null for every mode. */
    private GuestMode mode() {
        if (mode == null) {
            return null;
        }
        return switch (mode.toLowerCase(Locale.ROOT)) {
            case "vmx" -> GuestMode.GUEST_MODE_VMX;
            case "td" -> GuestMode.GUEST_MODE_TD;
            case "sev-es" -> throw new IllegalArgumentException(dev.tdemu.emulator.vm.Mode.SEV_ES_NOT_IMPLEMENTED);
            default -> throw new IllegalArgumentException("--mode must be vmx or td, not '" + mode + "'");
        };
    }

    private boolean selected(GuestMode m, TdxDrBehaviour b) {
        if (tdxDr != null && b != VmOptions.enumValue(TdxDrBehaviour.class, "TDX_DR_BEHAVIOUR_", tdxDr, "--tdx-dr")) {
            return false;
        }
        return mode == null || m == mode();
    }

    /** One model cell: its verdict and why. */
    private int singleModel(ModelCells.Cell cell, ExpectedVerdicts expected, java.util.Set<String> yours, PrintWriter out)
            throws IOException {
        CellResult r = CheckRun.compare(ModelCells.run(cell), expected == null ? java.util.Map.of() : CheckRun.index(expected), yours);
        out.printf("%s: %s%s (in the model, %d exits)%n", cell, MatrixPrinter.cellText(r).replace(" !", ""),
                r.getExpected() == dev.tdemu.proto.Verdict.VERDICT_UNSPECIFIED ? ", not judged"
                        : r.getMatchesExpected() ? ", as expected" : ", expected " + r.getExpected()
                        + (r.getExpectedInvariant().isEmpty() ? "" : " " + r.getExpectedInvariant()), r.getExits());
        out.println("  " + cell.column().description());
        if (!r.getDetail().isEmpty()) {
            out.println("  " + r.getDetail());
        }
        out.flush();
        writeReport(CheckReport.newBuilder().addCells(r).setMismatches(r.getMatchesExpected() ? 0 : 1).build(), out);
        return r.getMatchesExpected() ? 0 : 1;
    }

    /** --diff A B: both over the whole matrix, only the cells that change. */
    private int diff(PrintWriter out, PrintWriter err) throws IOException, BadInputException {
        if (config != null || guest != null || !policyFiles.isEmpty() || policy != null || report != null) {
            throw new IllegalArgumentException("--diff takes its two policies alone (with --scenario, --mode, --tdx-dr "
                    + "or --jobs at most); not with --policy, --policy-file, --guest, --config or --report");
        }
        if (diff.size() != 2) {
            throw new IllegalArgumentException("--diff compares two policies, once: --diff A B");
        }
        PolicyProgram a = PolicyFiles.resolve(diff.get(0), "--diff");
        PolicyProgram b = PolicyFiles.resolve(diff.get(1), "--diff");
        List<Scenario> scenarios = builtinScenarios();
        int guestCells = (int) Cell.matrix(scenarios, List.of(a, b)).stream().filter(c -> selected(c.mode(), c.tdxDr())).count();
        Progress progress = new Progress(err, Math.max(1, guestCells));
        MatrixDiff.Result r = MatrixDiff.run(a, b, scenarios, c -> selected(c.mode(), c.tdxDr()),
                m -> (scenario == null || m.column().name().equals(scenario)) && selected(m.key().getMode(), m.key().getTdxDr()),
                threads(), progress::done);
        progress.finish();
        List<MatrixDiff.Change> changes = r.changes();
        out.printf("%s (%s) vs %s (%s): %d of %d cells change%s%n", a.name(), a.source(), b.name(), b.source(),
                changes.size(), r.cells(), changes.isEmpty() ? "" : ":");
        changes.forEach(c -> out.println("  " + c));
        out.flush();
        return changes.isEmpty() ? 0 : 1;
    }

    /** One cell: its verdict, and the exits around its first violation. */
    private int single(Cell cell, ExpectedVerdicts expected, java.util.Set<String> yours, PrintWriter out) throws IOException {
        CellRunner.Outcome o = CellRunner.run(cell, FaultInjection.FAULT_INJECTION_NONE);
        CellResult r = CheckRun.compare(o.result(), expected == null ? java.util.Map.of() : CheckRun.index(expected), yours);
        out.printf("%s: %s%s (%d exits)%n", cell, MatrixPrinter.cellText(r).replace(" !", ""),
                r.getExpected() == dev.tdemu.proto.Verdict.VERDICT_UNSPECIFIED ? ", not judged"
                : r.getMatchesExpected() ? ", as expected" : ", expected " + r.getExpected()
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
