package dev.tdemu.emulator.check;

import dev.tdemu.proto.CellResult;
import dev.tdemu.proto.CheckReport;
import dev.tdemu.proto.GuestMode;
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
 * Prints a check report as tables, one per guest kind and TDX module behaviour: policies as rows,
 * scenarios as columns. A cell reads PASS, FAIL invariant@exit or ERROR; a cell that differs from
 * its expected verdict is marked with "!" and listed below the tables.
 */
public final class MatrixPrinter {
    private MatrixPrinter() {}

    public static String cellText(CellResult r) {
        return switch (r.getVerdict()) {
            case PASS -> "PASS";
            case FAIL -> "FAIL " + Names.invariant(r.getInvariant())
                    + (r.getFirstFailingExit() > 0 ? "@" + r.getFirstFailingExit() : "");
            default -> "ERROR";
        } + (r.getMatchesExpected() ? "" : " !");
    }

    public static void print(CheckReport report, PrintWriter out) {
        Map<String, List<CellResult>> blocks = new LinkedHashMap<>();
        Set<String> scenarios = new LinkedHashSet<>();
        for (CellResult r : report.getCellsList()) {
            String block = r.getKey().getMode() == GuestMode.GUEST_MODE_TD
                    ? "TD guests, TDX module " + Names.behaviour(r.getKey().getTdxDr()) : "VMX guests";
            blocks.computeIfAbsent(block, k -> new ArrayList<>()).add(r);
            scenarios.add(r.getKey().getScenario());
        }
        for (var block : blocks.entrySet()) {
            List<String> cols = new ArrayList<>();
            for (String s : scenarios) {
                if (block.getValue().stream().anyMatch(r -> r.getKey().getScenario().equals(s))) {
                    cols.add(s);
                }
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
            out.println();
            out.println(block.getKey());
            StringBuilder head = new StringBuilder(String.format("  %-16s", "policy"));
            cols.forEach(c -> head.append("  ").append(pad(c, width.get(c))));
            out.println(head.toString().stripTrailing());
            for (var policy : Cell.POLICIES) {
                StringBuilder row = new StringBuilder(String.format("  %-16s", Names.policy(policy)));
                for (String c : cols) {
                    String text = block.getValue().stream()
                            .filter(r -> r.getKey().getScenario().equals(c) && r.getKey().getPolicy() == policy)
                            .map(MatrixPrinter::cellText).findFirst().orElse("-");
                    row.append("  ").append(pad(text, width.get(c)));
                }
                out.println(row.toString().stripTrailing());
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
                out.printf("  %s %s %s%s: %s, expected %s%s%n    %s%n", r.getKey().getScenario(), Names.mode(r.getKey().getMode()),
                        Names.policy(r.getKey().getPolicy()),
                        r.getKey().getTdxDr() == TdxDrBehaviour.TDX_DR_BEHAVIOUR_UNSPECIFIED ? "" : " " + Names.behaviour(r.getKey().getTdxDr()),
                        cellText(r).replace(" !", ""), r.getExpected(),
                        r.getExpected() == Verdict.FAIL && !r.getExpectedInvariant().isEmpty() ? " " + Names.invariant(r.getExpectedInvariant()) : "",
                        r.getDetail().isEmpty() ? "(no detail)" : r.getDetail());
            }
        }
        out.flush();
    }

    private static String pad(String s, int w) {
        return s.length() >= w ? s : s + " ".repeat(w - s.length());
    }
}
