package dev.tdemu.emulator.check;

import dev.tdemu.proto.CellKey;
import dev.tdemu.proto.CellResult;
import dev.tdemu.proto.CheckReport;
import dev.tdemu.proto.TdxDrBehaviour;
import dev.tdemu.proto.Verdict;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Prints a check report as tables, one per guest kind and TDX module behaviour, first the guests the
 * emulator ran, then the model's (DEBUGCTL, DR6, the pre-entry DR7 clear, SEV-ES): policies as rows,
 * scenarios as columns. A cell reads PASS, FAIL invariant@exit, n/m (the row's policy does not model
 * what the column judges) or ERROR; a cell that differs from its expected verdict is marked with "!"
 * and listed below the tables, and a user's policy (not judged) has its failures listed there too.
 */
public final class MatrixPrinter {
    private MatrixPrinter() {}

    public static String cellText(CellResult r) {
        return switch (r.getVerdict()) {
            case PASS -> "PASS";
            case FAIL -> "FAIL " + Names.invariant(r.getInvariant())
                    + (r.getFirstFailingExit() > 0 ? "@" + r.getFirstFailingExit() : "");
            case NOT_MODELLED -> "n/m";
            default -> "ERROR";
        } + (r.getMatchesExpected() ? "" : " !");
    }

    /** The title of the table a cell is printed in. */
    static String block(CellResult r) {
        CellKey k = r.getKey();
        String guests = switch (k.getMode()) {
            case GUEST_MODE_TD -> "TD guests, TDX module " + Names.behaviour(k.getTdxDr());
            case GUEST_MODE_SEV_ES -> "SEV-ES/SEV-SNP guests";
            default -> "VMX guests";
        };
        if (!r.getInModel()) {
            return guests;
        }
        return guests + ", in the model (no guest code): " + switch (k.getMode()) {
            case GUEST_MODE_SEV_ES -> "DebugSwap and the host's DR state";
            default -> "the pre-entry DR7 clear, IA32_DEBUGCTL and DR6";
        };
    }

    public static void print(CheckReport report, PrintWriter out) {
        Map<String, List<CellResult>> blocks = new LinkedHashMap<>();
        Set<String> scenarios = new LinkedHashSet<>();
        boolean notModelled = false;
        for (CellResult r : report.getCellsList()) {
            blocks.computeIfAbsent(block(r), k -> new ArrayList<>()).add(r);
            scenarios.add(r.getKey().getScenario());
            notModelled |= r.getVerdict() == Verdict.NOT_MODELLED;
        }
        for (var block : blocks.entrySet()) {
            List<String> cols = new ArrayList<>();
            for (String s : scenarios) {
                if (block.getValue().stream().anyMatch(r -> r.getKey().getScenario().equals(s))) {
                    cols.add(s);
                }
            }
            Set<String> rows = new LinkedHashSet<>();
            int rowWidth = "policy".length();
            for (CellResult r : block.getValue()) {
                rows.add(Names.policy(r.getKey()));
                rowWidth = Math.max(rowWidth, Names.policy(r.getKey()).length());
            }
            Map<String, Integer> width = new LinkedHashMap<>();
            for (String c : cols) {
                int w = c.length();
                for (CellResult r : block.getValue()) {
                    if (r.getKey().getScenario().equals(c)) {
                        w = Math.max(w, cellText(r).length());
                    }
                }
                width.put(c, w);
            }
            String rowFormat = "  %-" + rowWidth + "s";
            out.println();
            out.println(block.getKey());
            StringBuilder head = new StringBuilder(String.format(rowFormat, "policy"));
            cols.forEach(c -> head.append("  ").append(pad(c, width.get(c))));
            out.println(head.toString().stripTrailing());
            for (String policy : rows) {
                StringBuilder row = new StringBuilder(String.format(rowFormat, policy));
                for (String c : cols) {
                    String text = block.getValue().stream()
                            .filter(r -> r.getKey().getScenario().equals(c) && Names.policy(r.getKey()).equals(policy))
                            .map(MatrixPrinter::cellText).findFirst().orElse("-");
                    row.append("  ").append(pad(text, width.get(c)));
                }
                out.println(row.toString().stripTrailing());
            }
        }
        if (notModelled) {
            out.println();
            out.println("n/m: the row's policy file does not model what the column judges (its `aspects`).");
        }
        List<CellResult> unjudged = report.getCellsList().stream()
                .filter(r -> r.getExpected() == Verdict.VERDICT_UNSPECIFIED && r.getVerdict() != Verdict.PASS
                        && r.getVerdict() != Verdict.NOT_MODELLED).toList();
        if (!unjudged.isEmpty()) {
            out.println();
            out.printf("Your policies (shown, not judged: tdemu has no expected verdicts for them) fail %d cell(s):%n",
                    unjudged.size());
            for (CellResult r : unjudged) {
                out.printf("  %s: %s%n    %s%n", where(r), cellText(r), r.getDetail().isEmpty() ? "(no detail)" : r.getDetail());
            }
        }
        List<CellResult> wrong = report.getCellsList().stream().filter(r -> !r.getMatchesExpected()).toList();
        out.println();
        if (wrong.isEmpty()) {
            out.printf("%d cells, every one as expected (%.1f s on %d thread(s)).%n", report.getCellsCount(),
                    report.getWallMs() / 1000.0, report.getJobs());
        } else {
            out.printf("%d of %d cells differ from their expected verdict:%n", wrong.size(), report.getCellsCount());
            for (CellResult r : wrong) {
                out.printf("  %s: %s, expected %s%s%n    %s%n", where(r), cellText(r).replace(" !", ""), r.getExpected(),
                        r.getExpected() == Verdict.FAIL && !r.getExpectedInvariant().isEmpty() ? " " + Names.invariant(r.getExpectedInvariant()) : "",
                        r.getDetail().isEmpty() ? "(no detail)" : r.getDetail());
            }
        }
        out.flush();
    }

    /** A cell's coordinates in one line: scenario, mode, policy, module behaviour, (model). */
    public static String where(CellResult r) {
        CellKey k = r.getKey();
        return k.getScenario() + " " + Names.mode(k.getMode()) + " " + Names.policy(k)
                + (k.getTdxDr() == TdxDrBehaviour.TDX_DR_BEHAVIOUR_UNSPECIFIED ? "" : " " + Names.behaviour(k.getTdxDr()))
                + (r.getInModel() ? " (model)" : "");
    }

    private static String pad(String s, int w) {
        return s.length() >= w ? s : s + " ".repeat(w - s.length());
    }
}
