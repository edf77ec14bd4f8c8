package dev.tdemu.emulator.check;

import dev.tdemu.proto.CellKey;
import dev.tdemu.proto.CellResult;
import dev.tdemu.proto.CheckReport;
import dev.tdemu.proto.ExpectedCell;
import dev.tdemu.proto.ExpectedVerdicts;
import dev.tdemu.proto.FaultInjection;
import dev.tdemu.proto.Verdict;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.IntConsumer;

/** Runs many cells in parallel and compares each with its expected verdict. */
public final class CheckRun {
    private CheckRun() {}

    /** Every cell's expected verdict: PASS unless the table lists it. */
    public static Map<CellKey, ExpectedCell> index(ExpectedVerdicts expected) {
        Map<CellKey, ExpectedCell> map = new HashMap<>();
        for (ExpectedCell c : expected.getCellsList()) {
            map.put(c.getKey(), c);
        }
        return map;
    }

    public static CellResult compare(CellResult r, Map<CellKey, ExpectedCell> expected) {
        return compare(r, expected, Set.of());
    }

    /**
     * Compares {@code r} with its expected verdict. A row of {@code unjudged} (a user's policy file,
     * which tdemu has no expectations for) is shown but not judged: its expected verdict stays
     * unspecified and it never counts as a mismatch.
     */
    public static CellResult compare(CellResult r, Map<CellKey, ExpectedCell> expected, Set<String> unjudged) {
        if (unjudged.contains(Names.policy(r.getKey()))) {
            return r.toBuilder().setExpected(Verdict.VERDICT_UNSPECIFIED).setMatchesExpected(true).build();
        }
        ExpectedCell e = expected.get(r.getKey());
        Verdict v = e == null ? Verdict.PASS : e.getVerdict();
        String inv = e == null ? "" : e.getInvariant();
        boolean match = r.getVerdict() == v && (v != Verdict.FAIL || inv.isEmpty() || inv.equals(r.getInvariant()));
        return r.toBuilder().setExpected(v).setExpectedInvariant(inv).setMatchesExpected(match).build();
    }

    /**
     * Runs {@code cells} on {@code jobs} threads; {@code progress} gets the number done after each.
     * With {@code expected} null every cell is expected to PASS.
     */
    public static CheckReport run(List<Cell> cells, int jobs, FaultInjection fault, ExpectedVerdicts expected,
                                  IntConsumer progress) {
        return run(cells, List.of(), Set.of(), jobs, fault, expected, progress);
    }

    /**
     * Runs the guest {@code cells} on {@code jobs} threads and the model cells, and compares every
     * one with its expected verdict (rows of {@code unjudged} policies excepted).
     */
    public static CheckReport run(List<Cell> cells, List<ModelCells.Cell> modelCells, Set<String> unjudged, int jobs,
                                  FaultInjection fault, ExpectedVerdicts expected, IntConsumer progress) {
        long start = System.nanoTime();
        Map<CellKey, ExpectedCell> want = expected == null ? Map.of() : index(expected);
        ExecutorService pool = Executors.newFixedThreadPool(jobs, r -> {
            Thread t = new Thread(r, "check");
            t.setDaemon(true);
            return t;
        });
        List<Future<CellResult>> futures = new ArrayList<>();
        int[] done = {0};
        for (Cell c : cells) {
            futures.add(pool.submit(() -> {
                CellResult r = CellRunner.run(c, fault).result();
                synchronized (done) {
                    progress.accept(++done[0]);
                }
                return r;
            }));
        }
        CheckReport.Builder report = CheckReport.newBuilder().setTdemuVersion("0.1.0").setJobs(jobs);
        int mismatches = 0;
        try {
            for (Future<CellResult> f : futures) {
                CellResult r = compare(f.get(), want, unjudged);
                mismatches += r.getMatchesExpected() ? 0 : 1;
                report.addCells(r);
            }
            for (ModelCells.Cell m : modelCells) {
                CellResult r = compare(ModelCells.run(m), want, unjudged);
                mismatches += r.getMatchesExpected() ? 0 : 1;
                report.addCells(r);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("a cell crashed the check run: " + e.getCause(), e.getCause());
        } finally {
            pool.shutdownNow();
        }
        return report.setMismatches(mismatches).setWallMs((System.nanoTime() - start) / 1_000_000).build();
    }

    /** Runs {@code cells} on {@code jobs} threads, keeping every exit's observation (for `check --diff`); in cell order. */
    public static List<CellRunner.Outcome> observed(List<Cell> cells, int jobs, IntConsumer progress) {
        ExecutorService pool = Executors.newFixedThreadPool(jobs, r -> {
            Thread t = new Thread(r, "check");
            t.setDaemon(true);
            return t;
        });
        List<Future<CellRunner.Outcome>> futures = new ArrayList<>();
        int[] done = {0};
        for (Cell c : cells) {
            futures.add(pool.submit(() -> {
                CellRunner.Outcome o = CellRunner.run(c, FaultInjection.FAULT_INJECTION_NONE, true);
                synchronized (done) {
                    progress.accept(++done[0]);
                }
                return o;
            }));
        }
        List<CellRunner.Outcome> out = new ArrayList<>();
        try {
            for (Future<CellRunner.Outcome> f : futures) {
                out.add(f.get());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("a cell crashed the check run: " + e.getCause(), e.getCause());
        } finally {
            pool.shutdownNow();
        }
        return out;
    }
}
