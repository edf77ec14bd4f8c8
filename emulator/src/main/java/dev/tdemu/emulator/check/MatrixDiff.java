package dev.tdemu.emulator.check;

import dev.tdemu.core.kvm.ExitObservation;
import dev.tdemu.core.kvm.PolicyDiff;
import dev.tdemu.core.kvm.PolicyProgram;
import dev.tdemu.proto.CellResult;
import dev.tdemu.proto.GuestMode;
import dev.tdemu.proto.Scenario;
import dev.tdemu.proto.TdxDrBehaviour;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.function.IntConsumer;
import java.util.function.Predicate;

/**
 * `tdemu check --diff A B`: two policies over the whole matrix (guest cells and model cells), and
 * only the cells where they part: a different verdict, or the same verdict reached through
 * different DR or DEBUGCTL accesses. Each change names the first exit where the runs differ
 * ({@link PolicyDiff#firstDifference}, per vCPU; the earliest vCPU exit of the VM wins).
 */
public final class MatrixDiff {
    private MatrixDiff() {}

    /**
     * One cell where A and B part.
     *
     * @param where the cell without its policy: scenario, mode, module behaviour, (model)
     * @param a     A's verdict ("not run" when A does not run that guest kind)
     * @param b     B's verdict
     * @param first where their runs first differ, if both ran and anything differs
     */
    public record Change(String where, String a, String b, Optional<String> first) {
        @Override
        public String toString() {
            return where + ": " + (a.equals(b) ? "both " + a : a + " -> " + b) + first.map(f -> "; " + f).orElse("");
        }
    }

    /** The result of a diff: the changes, out of how many cells. */
    public record Result(List<Change> changes, int cells) {}

    private record Pair(String where, Object a, Object b) {}

    /**
     * Runs {@code a} and {@code b} over every cell of {@code scenarios} that {@code keep} selects
     * (guests, on {@code jobs} threads) and over every model cell {@code modelKeep} selects.
     */
    public static Result run(PolicyProgram a, PolicyProgram b, List<Scenario> scenarios, Predicate<Cell> keep,
                             Predicate<ModelCells.Cell> modelKeep, int jobs, IntConsumer progress) {
        List<Cell> ca = Cell.matrix(scenarios, List.of(a)).stream().filter(keep).toList();
        List<Cell> cb = Cell.matrix(scenarios, List.of(b)).stream().filter(keep).toList();
        List<Cell> all = new ArrayList<>(ca);
        all.addAll(cb);
        List<CellRunner.Outcome> outcomes = CheckRun.observed(all, jobs, progress);
        Map<String, CellRunner.Outcome[]> pairs = new LinkedHashMap<>();
        for (int i = 0; i < all.size(); i++) {
            Cell c = all.get(i);
            String where = c.scenario().getName() + " " + Names.mode(c.mode())
                    + (c.mode() == GuestMode.GUEST_MODE_TD ? " " + Names.behaviour(c.tdxDr()) : "");
            pairs.computeIfAbsent(where, k -> new CellRunner.Outcome[2])[i < ca.size() ? 0 : 1] = outcomes.get(i);
        }
        Map<String, Boolean> severalVcpus = new LinkedHashMap<>();
        for (Cell c : all) {
            severalVcpus.put(c.scenario().getName(), c.scenario().getVcpus() > 1);
        }
        List<Change> changes = new ArrayList<>();
        for (var e : pairs.entrySet()) {
            CellRunner.Outcome x = e.getValue()[0], y = e.getValue()[1];
            CellResult rx = x == null ? null : x.result(), ry = y == null ? null : y.result();
            Optional<String> first = x != null && y != null ? firstGuestDifference(x.observations(), y.observations())
                    : Optional.empty();
            if (severalVcpus.get(e.getKey().substring(0, e.getKey().indexOf(' ')))) {
                // Several vCPUs interleave with the host's timing (one spins while the other works),
                // so their exits differ from run to run under one policy: only a verdict tells.
                if (text(rx).equals(text(ry))) {
                    continue;
                }
                first = first.map(f -> f + "; several vCPUs: exit numbers vary with host timing");
            }
            add(changes, e.getKey(), rx, ry, first);
        }
        int cells = pairs.size();
        {
            Map<String, ModelCells.Cell[]> modelPairs = new LinkedHashMap<>();
            for (int side = 0; side < 2; side++) {
                for (ModelCells.Cell m : ModelCells.matrix(List.of(side == 0 ? a : b)).stream().filter(modelKeep).toList()) {
                    String where = m.column().name() + " " + Names.mode(ModelCells.mode(m.world()))
                            + (m.world() == dev.tdemu.core.kvm.GuestWorld.TDX ? " " + Names.behaviour(TdxDrBehaviour.TDX_DR_BEHAVIOUR_INIT_ON_EXIT) : "")
                            + " (model)";
                    modelPairs.computeIfAbsent(where, k -> new ModelCells.Cell[2])[side] = m;
                }
            }
            for (var e : modelPairs.entrySet()) {
                ModelCells.Cell x = e.getValue()[0], y = e.getValue()[1];
                CellResult rx = x == null ? null : ModelCells.run(x);
                CellResult ry = y == null ? null : ModelCells.run(y);
                Optional<String> first = Optional.empty();
                if (rx != null && ry != null && rx.getVerdict() != dev.tdemu.proto.Verdict.NOT_MODELLED
                        && ry.getVerdict() != dev.tdemu.proto.Verdict.NOT_MODELLED) {
                    first = PolicyDiff.firstDifference(x.observations(), y.observations()).map(MatrixDiff::describe);
                }
                add(changes, e.getKey(), rx, ry, first);
            }
            cells += modelPairs.size();
        }
        return new Result(changes, cells);
    }

    private static void add(List<Change> changes, String where, CellResult x, CellResult y, Optional<String> first) {
        String a = text(x), b = text(y);
        if (!a.equals(b) || first.isPresent()) {
            changes.add(new Change(where, a, b, first));
        }
    }

    private static String text(CellResult r) {
        return r == null ? "not run" : MatrixPrinter.cellText(r.toBuilder().setMatchesExpected(true).build());
    }

    /**
     * The first exit at which some vCPU's two runs differ: the lowest exit number of any vCPU, the
     * lowest vCPU on a tie. (Per vCPU, not by the VM's exit order: which vCPU exits first is the
     * host's timing, and the diff must say the same thing every time.)
     */
    static Optional<String> firstGuestDifference(CellRunner.Observations x, CellRunner.Observations y) {
        PolicyDiff.Difference best = null;
        int bestVcpu = -1;
        TreeSet<Integer> vcpus = new TreeSet<>(x.byVcpu().keySet());
        vcpus.addAll(y.byVcpu().keySet());
        for (int v : vcpus) {
            Optional<PolicyDiff.Difference> d = PolicyDiff.firstDifference(x.byVcpu().getOrDefault(v, List.of()),
                    y.byVcpu().getOrDefault(v, List.of()));
            if (d.isPresent() && (best == null || d.get().exit() < best.exit())) {
                best = d.get();
                bestVcpu = v;
            }
        }
        if (best == null) {
            return Optional.empty();
        }
        return Optional.of(describe(best) + (vcpus.size() > 1 ? " (vCPU " + bestVcpu + ")" : ""));
    }

    private static String describe(PolicyDiff.Difference d) {
        return "first at exit " + d.exit() + ": " + d.what() + " " + clip(d.a()) + " vs " + clip(d.b());
    }

    private static String clip(String s) {
        return s.length() <= 160 ? s : s.substring(0, 157) + "...";
    }
}
