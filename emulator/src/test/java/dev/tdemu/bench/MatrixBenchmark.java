package dev.tdemu.bench;

import dev.tdemu.emulator.check.Cell;
import dev.tdemu.emulator.check.ModelCells;
import dev.tdemu.emulator.check.CheckRun;
import dev.tdemu.emulator.check.Scenarios;
import dev.tdemu.proto.CellResult;
import dev.tdemu.proto.CheckReport;
import dev.tdemu.proto.FaultInjection;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The whole default matrix of `tdemu check` (every scenario, policy, TDX module behaviour and
 * mode), on one thread and on as many as `tdemu check` uses by default; BenchMain reports the
 * wall time, cells per second and the parallel speed-up (the baseline is the one-thread run).
 */
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 1)
@Measurement(iterations = 3)
public class MatrixBenchmark {
    /** The number of cells, for BenchMain (a constant of the built-in scenarios). */
    public static int cells() {
        return Cell.matrix(Scenarios.builtin(), Cell.builtinPolicies()).size() + ModelCells.matrix(Cell.builtinPolicies()).size();
    }

    @State(Scope.Benchmark)
    public static class Jobs {
        /** 0 = the number of CPUs, as `tdemu check` defaults to. */
        @Param({"1", "0"})
        public int jobs;
    }

    @Benchmark
    public CheckReport defaultMatrix(Jobs j) {
        List<Cell> cells = Cell.matrix(Scenarios.builtin(), Cell.builtinPolicies());
        int jobs = j.jobs == 0 ? Runtime.getRuntime().availableProcessors() : j.jobs;
        CheckReport report = CheckRun.run(cells, ModelCells.matrix(Cell.builtinPolicies()), java.util.Set.of(), jobs,
                FaultInjection.FAULT_INJECTION_NONE, Scenarios.expected(), n -> { });
        for (CellResult r : report.getCellsList()) {
            if (!r.getMatchesExpected()) {
                throw new IllegalStateException("a cell did not match its expected verdict: " + r.getKey() + " " + r.getDetail());
            }
        }
        return report;
    }
}
