package dev.tdemu.bench;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * A soak: {@code tdemu run builtin:soak-cpuid} (10,000,000 CPUID exits in a VMX guest, policy
 * UPSTREAM) in a child process started as the launcher starts the CLI (same JVM flags, the CLI's
 * own classpath), once without and once with {@code --trace} (the real TraceWriter, into a
 * temporary directory, with a limit the trace never reaches). While the child runs, its resident
 * memory ({@code VmRSS} in /proc/PID/status) is read ten times a second.
 *
 * <p>Each op is one exit: the score is the whole {@code tdemu run} (JVM start and exit included,
 * about a second of a minute or two) divided by 10 M. The aux counters are the RSS at 10 % of the
 * run's wall time ("start": the JVM is up and the exit path compiled), at 50 % ("middle") and at
 * 90 % ("end"), the peak ({@code VmHWM}), end/middle and, traced, the trace's bytes per exit.
 * Not the last reading as "end": that may fall after the guest, when the VM has released the
 * engine and guest RAM and the RSS shrinks. Memory that an exit leaves behind grows with the
 * exits, and 40 % of them (4 M) run between middle and end, so a flat RSS is end/middle near 1.
 * BenchMain reports that ratio for both runs and the traced exit rate against the untraced one.
 *
 * <p>One run of each, no warm-up (each child is a fresh JVM anyway): 0.5-1 and 1.5-3 minutes on
 * this shared 2-core machine. The traced run writes about 2.6 GB into java.io.tmpdir and deletes it.
 */
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@OperationsPerInvocation(SoakBenchmark.EXITS)
@Warmup(iterations = 0)
@Measurement(iterations = 1, time = 1)
public class SoakBenchmark {
    /** The CPUID exits soak-cpuid makes. */
    static final int EXITS = 10_000_000;
    /** The JVM flags ./tdemu's run_cli gives the CLI for `run` without --gdb. */
    static final List<String> CLI_JVM_FLAGS = List.of("--enable-native-access=ALL-UNNAMED", "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1");
    /** Far above the 2.6 GB the trace takes, so that nothing is cut. */
    static final String TRACE_LIMIT = "16G";
    /** Refuse to start the traced run with less than this free beside the trace. */
    static final long TRACE_ROOM = 4L << 30;
    static final long SAMPLE_MILLIS = 100;
    static final Pattern EXIT_COUNT = Pattern.compile("guest exited with status 0 after (\\d+) exit\\(s\\)");

    /** Resident memory of the child, in MiB (aux counters: reset by JMH before each iteration). */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class Rss {
        public double rssStartMiB;
        public double rssMiddleMiB;
        public double rssEndMiB;
        public double rssPeakMiB;
        public double rssEndOverMiddle;
    }

    /** The traced run's trace size (aux counter). */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class TraceSize {
        public double traceBytesPerExit;
    }

    @Benchmark
    public long cpuidExits(Rss rss) throws Exception {
        return soak(rss, null);
    }

    @Benchmark
    public long cpuidExitsTraced(Rss rss, TraceSize size) throws Exception {
        return soak(rss, size);
    }

    /** Runs the child, samples its RSS until it ends, checks it ran to completion; returns the exits it made. */
    private static long soak(Rss rss, TraceSize size) throws Exception {
        Path dir = Files.createTempDirectory("tdemu-soak");
        Process child = null;
        try {
            Path trace = dir.resolve("soak.trace");
            Path stderr = dir.resolve("stderr.txt");
            if (size != null && Files.getFileStore(dir).getUsableSpace() < TRACE_ROOM) {
                throw new IllegalStateException("the traced soak needs " + (TRACE_ROOM >> 30) + " GiB free in " + dir
                        + " (the trace takes about 2.6 GB); set java.io.tmpdir elsewhere (-jvmArgsAppend -Djava.io.tmpdir=DIR)");
            }
            List<String> command = new ArrayList<>();
            command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            command.addAll(CLI_JVM_FLAGS);
            command.addAll(List.of("-cp", cliClasspath(), "dev.tdemu.emulator.cli.Main", "run", "-v", "--timeout", "10m"));
            if (size != null) {
                command.addAll(List.of("--trace", trace.toString(), "--trace-limit", TRACE_LIMIT));
            }
            command.add("builtin:soak-cpuid");
            long started = System.nanoTime();
            child = new ProcessBuilder(command).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(stderr.toFile()).start();
            List<long[]> samples = new ArrayList<>(); // {nanoTime, VmRSS KiB}
            long peakKiB = 0;
            Path status = Path.of("/proc", Long.toString(child.pid()), "status");
            do {
                long[] kib = residentKiB(status);
                if (kib != null) {
                    samples.add(new long[] {System.nanoTime(), kib[0]});
                    peakKiB = Math.max(peakKiB, kib[1]);
                }
            } while (!child.waitFor(SAMPLE_MILLIS, TimeUnit.MILLISECONDS)
                    && System.nanoTime() - started < TimeUnit.MINUTES.toNanos(11));
            if (child.isAlive()) {
                throw new IllegalStateException("tdemu run did not end within 11 minutes (its --timeout is 10m)");
            }
            String err = Files.readString(stderr, StandardCharsets.UTF_8);
            Matcher m = EXIT_COUNT.matcher(err);
            if (child.exitValue() != 0 || !m.find() || Long.parseLong(m.group(1)) < EXITS) {
                throw new IllegalStateException("tdemu run of soak-cpuid did not make its " + EXITS + " exits (status "
                        + child.exitValue() + "): " + err.strip());
            }
            if (size != null) {
                if (err.contains("--trace-limit") || !Files.isRegularFile(trace)) {
                    throw new IllegalStateException("the soak's trace was cut or not written: " + err.strip());
                }
                size.traceBytesPerExit = (double) Files.size(trace) / EXITS;
            }
            if (samples.size() < 20) {
                throw new IllegalStateException("only " + samples.size() + " RSS readings of a run that should take a minute");
            }
            long first = samples.getFirst()[0], last = samples.getLast()[0];
            rss.rssStartMiB = at(samples, first + (last - first) / 10) / 1024.0;
            rss.rssMiddleMiB = at(samples, first + (last - first) / 2) / 1024.0;
            rss.rssEndMiB = at(samples, first + (last - first) / 10 * 9) / 1024.0;
            rss.rssPeakMiB = peakKiB / 1024.0;
            rss.rssEndOverMiddle = rss.rssEndMiB / rss.rssMiddleMiB;
            System.out.println(series(samples, first, last));
            return Long.parseLong(m.group(1));
        } finally {
            if (child != null && child.isAlive()) {
                child.destroyForcibly().waitFor();
            }
            try (Stream<Path> files = Files.walk(dir)) { // the trace, or its temporary file if the child was killed
                for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    /** The RSS of the first reading at or after {@code nanos}. */
    private static long at(List<long[]> samples, long nanos) {
        for (long[] s : samples) {
            if (s[0] >= nanos) {
                return s[1];
            }
        }
        return samples.getLast()[1];
    }

    /** One line for the benchmark's output: the RSS at each tenth of the run. */
    private static String series(List<long[]> samples, long first, long last) {
        StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "soak: %.0f s, RSS (MiB) at each tenth:",
                (last - first) / 1e9));
        for (int tenth = 0; tenth <= 10; tenth++) {
            line.append(String.format(Locale.ROOT, " %.0f", at(samples, first + (last - first) / 10 * tenth) / 1024.0));
        }
        return line.toString();
    }

    /** {VmRSS, VmHWM} in KiB, or null once the process is gone (or a zombie, which has neither). */
    private static long[] residentKiB(Path status) throws IOException {
        List<String> lines;
        try {
            lines = Files.readAllLines(status);
        } catch (IOException e) { // gone (ENOENT, or ESRCH between open and read)
            return null;
        }
        long rss = -1, hwm = -1;
        for (String line : lines) {
            if (line.startsWith("VmRSS:")) {
                rss = Long.parseLong(line.replaceAll("[^0-9]", ""));
            } else if (line.startsWith("VmHWM:")) {
                hwm = Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return rss < 0 || hwm < 0 ? null : new long[] {rss, hwm};
    }

    /** The CLI's runtime classpath, as ./tdemu runs it: its classes and target/classpath.txt beside them. */
    static String cliClasspath() throws IOException, URISyntaxException {
        Path classes = Path.of(dev.tdemu.emulator.cli.Main.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Path list = classes.resolveSibling("classpath.txt");
        if (!Files.isDirectory(classes) || !Files.isRegularFile(list)) {
            throw new IllegalStateException("the CLI's classpath " + list + " is missing: build with ./tdemu (mvn package)");
        }
        return classes + java.io.File.pathSeparator + Files.readString(list, StandardCharsets.UTF_8).strip();
    }
}
