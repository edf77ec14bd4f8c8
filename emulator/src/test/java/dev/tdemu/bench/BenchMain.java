package dev.tdemu.bench;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.CommandLineOptionException;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * {@code ./tdemu bench}: runs the JMH benchmarks (all, or those the JMH-style arguments select) and
 * then prints each declared ratio between a benchmark and its baseline measured in the same run,
 * next to its goal. Speed is only ever judged this way, never by timed assertions in tests.
 */
public final class BenchMain {
    /** {@code value / baseline} (both as throughput), with the goal from the issue that asked for it. */
    record Ratio(String what, String value, String baseline, String goal) {}

    static final List<Ratio> RATIOS = List.of(
            new Ratio("guest MIPS, 4 execute breakpoints armed and unhit / none", "CpuBenchmark.registerLoop[exec4]",
                    "CpuBenchmark.registerLoop[none]", ">= 0.95"),
            new Ratio("guest MIPS, 1 data breakpoint armed / none (register loop)", "CpuBenchmark.registerLoop[watch1]",
                    "CpuBenchmark.registerLoop[none]", "report, >= 0.2"),
            new Ratio("guest MIPS, 1 data breakpoint armed / none (memory loop)", "CpuBenchmark.memoryLoop[watch1]",
                    "CpuBenchmark.memoryLoop[none]", "report, >= 0.2"),
            new Ratio("loop iterations, write breakpoint on an untouched address of the page the loop writes / none (slowdown <= 40x: 5x QEMU's 7.9x)",
                    "HotPageWatchBenchmark.storeLoop[samePage]", "HotPageWatchBenchmark.storeLoop[none]", ">= 0.025"),
            new Ratio("full KVM-model CPUID exit rate / bare engine hlt round-trip rate", "ExitBenchmark.cpuidExitRoundTrip[GUEST_MODE_VMX]",
                    "BindingBenchmark.hltRoundTrip", "report"),
            new Ratio("the same in the steady state (10 M exits in one VM, set-up negligible)",
                    "ExitBenchmark.cpuidExitSteadyState[GUEST_MODE_VMX]", "BindingBenchmark.hltRoundTrip", "report"),
            new Ratio("guest MIPS with one unhit one-address code hook / without", "BindingBenchmark.regLoopWithUnhitCodeHook",
                    "BindingBenchmark.regLoopNoHooks", ">= 0.95"),
            new Ratio("OUT hook upcall rate / hlt enter-exit round-trip rate", "BindingBenchmark.outHookUpcall",
                    "BindingBenchmark.hltRoundTrip", "report"),
            new Ratio("default matrix cells/s, all CPUs / one thread", "MatrixBenchmark.defaultMatrix[0]",
                    "MatrixBenchmark.defaultMatrix[1]", "report (speed-up)"),
            new Ratio("RSP stepi round trips / RSP qC round trips (no VM work)", "GdbBenchmark.stepi",
                    "GdbBenchmark.rspPing", "report"),
            new Ratio("16 MiB read over RSP / the same read from the debug target directly", "GdbBenchmark.readMemory16MiB",
                    "GdbBenchmark.readMemory16MiBDirect", "report"),
            new Ratio("RSP qC round trips beside one busy process per CPU / idle", "GdbBenchmark.rspPingBusy",
                    "GdbBenchmark.rspPing", "report"),
            new Ratio("RSP stepi round trips beside one busy process per CPU / idle", "GdbBenchmark.stepiBusy",
                    "GdbBenchmark.stepi", "report"),
            new Ratio("RSP stepi round trips, stub following the client's CPU / staying put", "GdbBenchmark.stepiFollowing",
                    "GdbBenchmark.stepi", "report"),
            new Ratio("the same beside one busy process per CPU (following must not be worse)", "GdbBenchmark.stepiFollowingBusy",
                    "GdbBenchmark.stepiBusy", ">= 0.9"),
            new Ratio("guest speed under --gdb, client attached, guest continued / no --gdb", "GdbBenchmark.loopGdbContinue",
                    "GdbBenchmark.loopWithoutGdb", ">= 0.95"),
            new Ratio("guest speed under --gdb, no client connected / no --gdb", "GdbBenchmark.loopGdbListening",
                    "GdbBenchmark.loopWithoutGdb", ">= 0.95"),
            new Ratio("exits/s, tdemu run with --trace / without (soak: 10 M CPUID exits)", "SoakBenchmark.cpuidExitsTraced",
                    "SoakBenchmark.cpuidExits", "report"));

    private BenchMain() {}

    public static void main(String[] args) throws RunnerException, java.io.IOException {
        CommandLineOptions cli;
        try {
            cli = new CommandLineOptions(args);
        } catch (CommandLineOptionException e) {
            System.err.println("tdemu bench: " + e.getMessage());
            System.exit(2);
            return;
        }
        if (cli.shouldHelp() || cli.shouldList()) {
            org.openjdk.jmh.Main.main(args);
            return;
        }
        OptionsBuilder builder = new OptionsBuilder();
        builder.parent(cli);
        if (cli.getIncludes().isEmpty()) {
            builder.include("dev\\.tdemu\\.bench\\..*");
        }
        Options options = builder.build();
        Collection<RunResult> results = new Runner(options).run();
        Map<String, RunResult> byName = new LinkedHashMap<>();
        for (RunResult r : results) {
            String label = r.getParams().getBenchmark();
            label = label.substring(label.lastIndexOf('.', label.lastIndexOf('.') - 1) + 1);
            List<String> params = new ArrayList<>();
            for (String key : new java.util.TreeSet<>(r.getParams().getParamsKeys())) { // by name: steps, symbols
                params.add(r.getParams().getParam(key));
            }
            byName.put(params.isEmpty() ? label : label + "[" + String.join(",", params) + "]", r);
        }
        System.out.println();
        System.out.println("Ratios (each against a baseline measured in this run)");
        List<String> missing = new ArrayList<>();
        for (Ratio ratio : RATIOS) {
            RunResult v = byName.get(ratio.value()), b = byName.get(ratio.baseline());
            if (v == null || b == null) {
                missing.add(ratio.what());
                continue;
            }
            double value = throughput(v), base = throughput(b);
            System.out.printf(Locale.ROOT, "  %-70s %8.3f   goal %s%n", ratio.what(), value / base, ratio.goal());
        }
        if (!missing.isEmpty()) {
            System.out.println("  (not measured in this run: " + String.join("; ", missing) + ")");
        }
        System.out.println();
        System.out.println("Against the issues' goals");
        RunResult matrix = byName.get("MatrixBenchmark.defaultMatrix[0]");
        if (matrix != null) {
            double seconds = 1 / throughput(matrix);
            int cells = MatrixBenchmark.cells();
            System.out.printf(Locale.ROOT, "  %-70s %8.1f s    goal < 30 s (%d cells, %.1f cells/s, %d CPUs)%n",
                    "default matrix wall time (tdemu check)", seconds, cells, cells / seconds,
                    Runtime.getRuntime().availableProcessors());
        }
        RunResult stepi = byName.get("GdbBenchmark.stepi");
        if (stepi != null) {
            System.out.printf(Locale.ROOT, "  %-70s %8.0f /s   goal >= 7500/s with gdb%n", "stepi round trips, Java RSP client",
                    throughput(stepi));
        }
        for (String symbols : List.of("false", "true")) {
            RunResult gdb1 = byName.get("GdbBenchmark.gdbStepi[1," + symbols + "]");
            RunResult gdbMany = byName.get("GdbBenchmark.gdbStepi[4001," + symbols + "]");
            if (gdb1 != null && gdbMany != null) {
                double seconds = 1 / throughput(gdbMany) - 1 / throughput(gdb1);
                if (symbols.equals("false")) {
                    System.out.printf(Locale.ROOT, "  %-70s %8.0f /s   goal >= 7500/s (QEMU 7.2 TCG: 3750/s)%n",
                            "stepi with gdb (stepi 4001 minus stepi 1, batch mode)", 4000 / seconds);
                } else {
                    System.out.printf(Locale.ROOT, "  %-70s %8.0f /s   report (gdb's symbol lookups per stop)%n",
                            "  the same with the guest's symbols loaded (qXfer:exec-file)", 4000 / seconds);
                }
            }
        }
        RunResult follow1 = byName.get("GdbBenchmark.gdbStepiFollowing[1,false]");
        RunResult followMany = byName.get("GdbBenchmark.gdbStepiFollowing[4001,false]");
        if (follow1 != null && followMany != null) {
            double seconds = 1 / throughput(followMany) - 1 / throughput(follow1);
            System.out.printf(Locale.ROOT, "  %-70s %8.0f /s   report (run --gdb-follow-cpu)%n",
                    "  the same, the stub's thread following gdb's CPU", 4000 / seconds);
        }
        for (String which : List.of("firstReply", "firstReplyBusy")) {
            RunResult first = byName.get("GdbBenchmark." + which);
            if (first != null) {
                System.out.printf(Locale.ROOT, "  %-70s %8.2f ms   goal <= 10 ms under any load (worst %.2f ms)%n",
                        which.equals("firstReply") ? "first reply to a new connection (qSupported), fresh JVMs"
                                : "  the same beside one busy process per CPU",
                        1e3 / throughput(first), first.getPrimaryResult().getStatistics().getMax());
            }
        }
        RunResult flood = byName.get("GdbBenchmark.floodWithoutReading");
        if (flood != null && flood.getSecondaryResults().get("rssGrowthMiB") != null) {
            System.out.printf(Locale.ROOT, "  %-70s %8.1f MiB  goal < 64 MiB%n",
                    "resident memory growth, 30 s of a client that never reads",
                    flood.getSecondaryResults().get("rssGrowthMiB").getScore());
        }
        RunResult hit = byName.get("GdbBenchmark.breakpointHit");
        if (hit != null) {
            System.out.printf(Locale.ROOT, "  %-70s %8.3f ms   goal <= 0.5 ms (QEMU: 0.73 ms)%n",
                    "breakpoint hit: continue -> stop reply", 1e3 / throughput(hit));
        }
        for (String which : List.of("loopWithoutGdb", "loopGdbListening", "loopGdbContinue")) {
            RunResult loop = byName.get("GdbBenchmark." + which);
            if (loop != null) {
                System.out.printf(Locale.ROOT, "  %-70s %8.1f ns   report (issue #18: 22 ns without --gdb, QEMU TCG 26 ns)%n",
                        switch (which) {
                            case "loopWithoutGdb" -> "bench-loop iteration, no --gdb";
                            case "loopGdbListening" -> "  the same, --gdb listening, no client";
                            default -> "  the same, --gdb with a client attached, guest continued";
                        }, 1e9 / throughput(loop));
            }
        }
        RunResult loopPair = byName.get("GdbBenchmark.loopPaired");
        if (loopPair != null) {
            Map<String, org.openjdk.jmh.results.Result> aux = loopPair.getSecondaryResults();
            System.out.printf(Locale.ROOT, "  %-70s %8.3f      goal >= 0.95 (mean of %d back-to-back pairs: %.1f vs %.1f ns per "
                            + "iteration, worst %.3f)%n", "guest speed under --gdb attached and continued / no --gdb, paired",
                    mean(aux, "speedRatio"), aux.get("speedRatio").getStatistics().getN(), mean(aux, "gdbContinueNs"),
                    mean(aux, "withoutGdbNs"), aux.get("speedRatio").getStatistics().getMin());
        }
        RunResult ctrlC = byName.get("GdbBenchmark.ctrlC");
        if (ctrlC != null) {
            var stats = ctrlC.getPrimaryResult().getStatistics();
            System.out.printf(Locale.ROOT, "  %-70s %8.3f ms   goal <= 10 ms (p99 %.3f ms, worst %.3f ms, %d samples)%n",
                    "Ctrl-C: interrupt byte -> stop reply, guest running", stats.getMean(), stats.getPercentile(99),
                    stats.getMax(), stats.getN());
        }
        RunResult read = byName.get("GdbBenchmark.readMemory16MiB");
        if (read != null) {
            System.out.printf(Locale.ROOT, "  %-70s %8.1f MB/s goal >= 90 MB/s (QEMU: 18 MB/s)%n",
                    "16 MiB memory read over RSP (m packets)", throughput(read) * (1 << 20) / 1e6);
        }
        for (String which : List.of("cpuidExits", "cpuidExitsTraced")) {
            RunResult soak = byName.get("SoakBenchmark." + which);
            if (soak != null) {
                printSoak(soak, which.equals("cpuidExitsTraced"));
            }
        }
        printBoot(byName);
        printSmp(byName);
        RunResult exit = byName.get("ExitBenchmark.cpuidExitRoundTrip[GUEST_MODE_VMX]");
        if (exit != null) {
            System.out.printf(Locale.ROOT, "  %-70s %8.0f ns   goal <= 1000 ns%n", "VM exit round trip through the full KVM model (CPUID, UPSTREAM)",
                    1e9 / throughput(exit));
        }
    }

    /** SmpBenchmark's figures per vCPU count: IPI round trip, AP start and per-vCPU progress, tdemu / QEMU TCG. */
    private static void printSmp(Map<String, RunResult> byName) {
        for (String vcpus : List.of("2", "4")) {
            RunResult pair = byName.get("SmpBenchmark.paired[" + vcpus + "]");
            if (pair == null) {
                continue;
            }
            Map<String, org.openjdk.jmh.results.Result> aux = pair.getSecondaryResults();
            System.out.printf(Locale.ROOT, "  %-70s %8.2f      (tdemu %.1f us, QEMU TCG %.1f us, worst ratio %.2f)%n",
                    "IPI round trip BSP <-> AP, " + vcpus + " vCPUs, tdemu / QEMU TCG, paired", mean(aux, "ipiRoundTripOverQemu"),
                    mean(aux, "tdemuIpiRoundTripUs"), mean(aux, "qemuIpiRoundTripUs"),
                    aux.get("ipiRoundTripOverQemu").getStatistics().getMax());
            System.out.printf(Locale.ROOT, "  %-70s %8.2f      (tdemu %.0f ms, QEMU TCG %.0f ms, worst ratio %.2f)%n",
                    (Integer.parseInt(vcpus) - 1) + " APs up by INIT/SIPI (smp - idle), tdemu / QEMU TCG, paired",
                    mean(aux, "apStartOverQemu"), mean(aux, "tdemuApStartMs"), mean(aux, "qemuApStartMs"),
                    aux.get("apStartOverQemu").getStatistics().getMax());
            System.out.printf(Locale.ROOT, "  %-70s %8.2f      (QEMU TCG %.2f; tdemu / QEMU %.2f; tdemu's ceiling 1/%s: one vCPU at a time)%n",
                    "per-vCPU progress, " + vcpus + " vCPUs / 1 vCPU, tdemu", mean(aux, "tdemuPerVcpuProgress"),
                    mean(aux, "qemuPerVcpuProgress"), mean(aux, "perVcpuProgressOverQemu"), vcpus);
        }
    }

    /**
     * Boot to exit of the same kernel on tdemu and QEMU TCG (BootBenchmark): each side's mean wall
     * time and tdemu / QEMU. Without QEMU's figure no ratio is printed, and the reason is.
     */
    private static void printBoot(Map<String, RunResult> byName) {
        for (String kernel : List.of("idle", "sieve")) {
            RunResult qemu = byName.get("BootBenchmark.qemu[" + kernel + "]");
            List<String[]> tdemu = List.of(new String[] {"tdemuRun", "./tdemu run (launcher + fresh JVM)"},
                    new String[] {"tdemuJvm", "the CLI in a fresh JVM, no launcher"},
                    new String[] {"tdemuInProcess", "a new Vm in a warm JVM"});
            boolean any = qemu != null || byName.containsKey("BootBenchmark.paired[" + kernel + "]");
            for (String[] t : tdemu) {
                any |= byName.containsKey("BootBenchmark." + t[0] + "[" + kernel + "]");
            }
            if (!any) {
                continue;
            }
            RunResult pair = byName.get("BootBenchmark.paired[" + kernel + "]");
            if (pair != null) {
                Map<String, org.openjdk.jmh.results.Result> aux = pair.getSecondaryResults();
                System.out.printf(Locale.ROOT, "  %-70s %8.2f      goal <= 1.0 (mean of %d back-to-back triples: QEMU %.0f ms, "
                                + "./tdemu run %.0f ms, worst ratio %.2f)%n", "boot to exit, pc64-boot-" + kernel
                                + ", ./tdemu run / QEMU TCG, paired", mean(aux, "runOverQemu"),
                        aux.get("runOverQemu").getStatistics().getN(), mean(aux, "qemuMs"), mean(aux, "tdemuRunMs"),
                        aux.get("runOverQemu").getStatistics().getMax());
                System.out.printf(Locale.ROOT, "  %-70s %8.2f      goal <= 1.0 (new Vm in a warm JVM %.0f ms, worst ratio %.2f)%n",
                        "  the same, a new Vm in a warm JVM / QEMU TCG, paired", mean(aux, "inProcessOverQemu"),
                        mean(aux, "inProcessMs"), aux.get("inProcessOverQemu").getStatistics().getMax());
            }
            String title = "boot to exit, pc64-boot-" + kernel + (kernel.equals("idle") ? " (long mode, one line)"
                    : " (3 sieves below 2^24)");
            if (qemu != null) {
                System.out.printf(Locale.ROOT, "  %-70s %8.0f ms   QEMU TCG, -serial none%n", title, 1e3 / throughput(qemu));
            } else if (pair == null) {
                System.out.printf(Locale.ROOT, "  %-70s %s%n", title, BootBenchmark.Qemu.locate().isEmpty()
                        ? "QEMU: " + BootBenchmark.Qemu.MISSING : "QEMU: its benchmark failed or was not selected in this run: no ratio");
            }
            for (String[] t : tdemu) {
                RunResult r = byName.get("BootBenchmark." + t[0] + "[" + kernel + "]");
                if (r == null) {
                    continue;
                }
                double ms = 1e3 / throughput(r);
                if (qemu != null) {
                    System.out.printf(Locale.ROOT, "  %-70s %8.0f ms   tdemu/QEMU %6.2f   goal <= 1.0%n", "  " + t[1], ms,
                            ms / (1e3 / throughput(qemu)));
                } else {
                    System.out.printf(Locale.ROOT, "  %-70s %8.0f ms   tdemu/QEMU not measured (no QEMU figure)%n", "  " + t[1], ms);
                }
            }
        }
    }

    /**
     * The soak's figures: its exit rate, and whether the child's resident memory stayed flat from
     * the middle of the run (50 % of its wall time) to its end (90 %). Aux counters are summed over
     * iterations in their score, so each figure is the mean of its iterations, the ratio's worst.
     */
    private static void printSoak(RunResult soak, boolean traced) {
        Map<String, org.openjdk.jmh.results.Result> aux = soak.getSecondaryResults();
        String run = traced ? "tdemu run --trace" : "tdemu run";
        System.out.printf(Locale.ROOT, "  %-70s %8.0f /s   report (%s)%n", "soak, " + run + ": CPUID exits per second, "
                + "start-up included", throughput(soak), traced ? String.format(Locale.ROOT, "%.0f trace bytes per exit",
                mean(aux, "traceBytesPerExit")) : "child process, the launcher's JVM flags");
        if (aux.get("rssEndOverMiddle") != null) {
            System.out.printf(Locale.ROOT, "  %-70s %8.3f      goal <= 1.05, flat (RSS %.0f -> %.0f -> %.0f MiB, peak %.0f)%n",
                    "  RSS growth middle -> end (at 90 % / 50 % of the run: 4 M exits)",
                    aux.get("rssEndOverMiddle").getStatistics().getMax(), mean(aux, "rssStartMiB"),
                    mean(aux, "rssMiddleMiB"), mean(aux, "rssEndMiB"), mean(aux, "rssPeakMiB"));
        }
    }

    private static double mean(Map<String, org.openjdk.jmh.results.Result> aux, String name) {
        org.openjdk.jmh.results.Result r = aux.get(name);
        return r == null ? Double.NaN : r.getStatistics().getMean();
    }

    /** Operations per second whatever mode the benchmark ran in ("ops/ms" or "ns/op" style units). */
    static double throughput(RunResult r) {
        double score = r.getPrimaryResult().getScore();
        String unit = r.getPrimaryResult().getScoreUnit();
        boolean perOp = unit.endsWith("/op");
        String time = perOp ? unit.substring(0, unit.indexOf('/')) : unit.substring(unit.indexOf('/') + 1);
        double perSecond = switch (time) {
            case "s" -> 1;
            case "ms" -> 1e3;
            case "us" -> 1e6;
            case "ns" -> 1e9;
            default -> throw new IllegalStateException("unexpected score unit " + unit);
        };
        return perOp ? perSecond / score : score * perSecond;
    }

}
