package dev.tdemu.bench;

import dev.tdemu.emulator.vm.Vm;
import dev.tdemu.emulator.vm.VmResult;
import dev.tdemu.emulator.vm.VmSpec;
import dev.tdemu.proto.Machine;
import dev.tdemu.proto.VmConfig;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Boot to exit of the same Multiboot kernel on tdemu and on QEMU TCG, wall time (issue #16's
 * benchmark; goal: tdemu / QEMU at most 1.0). The kernels are testguests' pc64-boot-idle (long
 * mode, one line on COM1, isa-debug-exit) and pc64-boot-sieve (the same, after about a second of
 * computing on QEMU), as ELF32 files, which both accept. Each must end with status 1 (its checks
 * passed) on each side, so both computed the same thing.
 *
 * <p>tdemu three ways: {@code ./tdemu run} (the launcher script and a fresh JVM: what a user or a
 * test runner waits for), the CLI in a fresh JVM without the launcher (the launcher's own cost is
 * the difference), and a new {@link Vm} in this JVM per invocation (the JVM's start-up, class
 * loading and JIT warm-up left out). QEMU as kvm-unit-tests' runner starts it, COM1 off
 * ({@code -serial none}; tdemu's COM1 output, its stdout, is discarded). Both with 128 MiB.
 *
 * <p>On a shared machine the load drifts between benchmarks that JMH runs one after another, so
 * {@link #paired} also runs QEMU, {@code ./tdemu run} and the in-process VM back to back in each
 * invocation (in a rotating order) and records each one's wall time and the two ratios of that
 * invocation as aux counters: BenchMain reports those ratios first.
 *
 * <p>Without a qemu-system-x86_64 (a real one: the project's bin/qemu-system-x86_64 is tdemu
 * itself) the QEMU benchmark fails with a message saying so and BenchMain reports no ratio;
 * {@code ./tdemu setup --bench} installs it. TDEMU_BENCH_QEMU=PATH picks another QEMU binary.
 */
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2)
@Measurement(iterations = 5)
public class BootBenchmark {
    static final long MEMORY = 128L << 20;
    static final String MEMORY_OPTION = "128M";
    /** isa-debug-exit with 0: (0 << 1) | 1, "every check passed". */
    static final int PASSED = 1;

    /** The kernel, written to a temporary file for the processes to read. */
    @State(Scope.Benchmark)
    public static class Kernel {
        @Param({"idle", "sieve"})
        public String kernel;
        Path dir;
        Path file;

        @Setup(Level.Trial)
        public void extract() throws IOException {
            String name = "pc64-boot-" + kernel + ".flat";
            dir = Files.createTempDirectory("tdemu-boot-bench");
            try (InputStream in = BootBenchmark.class.getResourceAsStream("/guests/multiboot/" + name)) {
                if (in == null) {
                    throw new IllegalStateException("kernel guests/multiboot/" + name + " missing: build testguests");
                }
                file = Files.write(dir.resolve(name), in.readAllBytes());
            }
        }

        @TearDown(Level.Trial)
        public void delete() throws IOException {
            Files.deleteIfExists(file);
            Files.deleteIfExists(dir);
        }
    }

    /** QEMU TCG, as kvm-unit-tests' x86/run starts it. */
    @Benchmark
    public int qemu(Kernel k) throws Exception {
        Path qemu = Qemu.locate().orElseThrow(() -> new IllegalStateException(Qemu.MISSING));
        return run("QEMU", List.of(qemu.toString(), "-nodefaults", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x4",
                "-vnc", "none", "-display", "none", "-serial", "none", "-machine", "accel=tcg", "-m", MEMORY_OPTION,
                "-kernel", k.file.toString()));
    }

    /** {@code ./tdemu run}: the launcher script (JDK and freshness checks) and a fresh JVM. */
    @Benchmark
    public int tdemuRun(Kernel k) throws Exception {
        return run("./tdemu run", List.of(launcher().toString(), "run", "--memory", MEMORY_OPTION, k.file.toString()));
    }

    /** The CLI in a fresh JVM with the launcher's flags, without the launcher script. */
    @Benchmark
    public int tdemuJvm(Kernel k) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(SoakBenchmark.CLI_JVM_FLAGS);
        command.addAll(List.of("-cp", SoakBenchmark.cliClasspath(), "dev.tdemu.emulator.cli.Main", "run", "--memory",
                MEMORY_OPTION, k.file.toString()));
        return run("tdemu's CLI", command);
    }

    /** A new VM in this JVM: boot, run, exit, close. */
    @Benchmark
    public int tdemuInProcess(Kernel k) throws Exception {
        VmConfig config = VmConfig.newBuilder().setGuestImage(k.file.toString()).setMachine(Machine.MACHINE_PC)
                .setMemoryBytes(MEMORY).setTimeoutMs(120_000).build();
        try (Vm vm = new Vm(VmSpec.from(config), Vm.Options.quiet())) {
            VmResult r = vm.run();
            if (r.exitStatus() != PASSED) {
                throw new IllegalStateException("the in-process VM ended with " + r.outcome() + " " + r.exitStatus()
                        + ", not " + PASSED + ": " + r.detail());
            }
            return r.exitStatus();
        }
    }

    /** The wall times (ms) of one paired invocation and its ratios (aux counters, one invocation per iteration). */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class Pair {
        public double qemuMs;
        public double tdemuRunMs;
        public double inProcessMs;
        public double runOverQemu;
        public double inProcessOverQemu;
        int invocation;
    }

    /** QEMU, ./tdemu run and a new Vm in this JVM back to back, in a rotating order. */
    @Benchmark
    public int paired(Kernel k, Pair pair) throws Exception {
        Path qemu = Qemu.locate().orElseThrow(() -> new IllegalStateException(Qemu.MISSING));
        double[] ms = new double[3];
        for (int i = 0; i < 3; i++) {
            int which = (i + pair.invocation) % 3;
            long start = System.nanoTime();
            switch (which) {
                case 0 -> run("QEMU", List.of(qemu.toString(), "-nodefaults", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x4",
                        "-vnc", "none", "-display", "none", "-serial", "none", "-machine", "accel=tcg", "-m", MEMORY_OPTION,
                        "-kernel", k.file.toString()));
                case 1 -> tdemuRun(k);
                default -> tdemuInProcess(k);
            }
            ms[which] = (System.nanoTime() - start) / 1e6;
        }
        pair.invocation++;
        pair.qemuMs = ms[0];
        pair.tdemuRunMs = ms[1];
        pair.inProcessMs = ms[2];
        pair.runOverQemu = ms[1] / ms[0];
        pair.inProcessOverQemu = ms[2] / ms[0];
        return PASSED;
    }

    /** Runs {@code command} to its end (stdout discarded) and checks that the kernel's checks passed. */
    static int run(String what, List<String> command) throws Exception {
        File err = File.createTempFile("tdemu-boot-bench", ".err");
        try {
            Process p = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(err).start();
            if (!p.waitFor(2, TimeUnit.MINUTES)) {
                p.destroyForcibly().waitFor();
                throw new IllegalStateException(what + " did not end within 2 minutes: " + String.join(" ", command));
            }
            if (p.exitValue() != PASSED) {
                throw new IllegalStateException(what + " ended with status " + p.exitValue() + ", not " + PASSED + ": "
                        + Files.readString(err.toPath(), StandardCharsets.UTF_8).strip());
            }
            return p.exitValue();
        } finally {
            Files.deleteIfExists(err.toPath());
        }
    }

    /** The project's launcher, beside the emulator module (emulator/target/classes, three levels down). */
    static Path launcher() throws Exception {
        Path classes = Path.of(dev.tdemu.emulator.cli.Main.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Path script = classes.getParent().getParent().getParent().resolve("tdemu");
        if (!Files.isExecutable(script)) {
            throw new IllegalStateException("the launcher " + script + " is missing or not executable");
        }
        return script;
    }

    /** Where QEMU is, if it is installed. */
    static final class Qemu {
        static final String MISSING = (System.getenv("TDEMU_BENCH_QEMU") != null
                ? "TDEMU_BENCH_QEMU (" + System.getenv("TDEMU_BENCH_QEMU") + ") is not a qemu-system-x86_64 program"
                : "qemu-system-x86_64 is not installed") + ": QEMU's side is NOT measured and no tdemu/QEMU ratio can be "
                + "given (./tdemu setup --bench installs it: apt-get install qemu-system-x86)";

        private Qemu() {}

        /**
         * The QEMU that TDEMU_BENCH_QEMU names, if set (nothing when that is not a program);
         * otherwise the first qemu-system-x86_64 on PATH (then /usr/bin, /usr/local/bin) that
         * is a program: scripts are skipped, as the project's bin/qemu-system-x86_64 (tdemu in
         * QEMU's place) may be on PATH.
         */
        static Optional<Path> locate() {
            String chosen = System.getenv("TDEMU_BENCH_QEMU");
            if (chosen != null) {
                Path q = Path.of(chosen);
                return Files.isRegularFile(q) && Files.isExecutable(q) && !isScript(q) ? Optional.of(q) : Optional.empty();
            }
            List<String> dirs = new ArrayList<>();
            String path = System.getenv("PATH");
            if (path != null) {
                dirs.addAll(List.of(path.split(File.pathSeparator)));
            }
            dirs.addAll(List.of("/usr/bin", "/usr/local/bin"));
            for (String dir : dirs) {
                if (dir.isEmpty()) {
                    continue;
                }
                Path candidate = Path.of(dir, "qemu-system-x86_64");
                if (Files.isRegularFile(candidate) && Files.isExecutable(candidate) && !isScript(candidate)) {
                    return Optional.of(candidate);
                }
            }
            return Optional.empty();
        }

        private static boolean isScript(Path file) {
            try (InputStream in = Files.newInputStream(file)) {
                byte[] head = in.readNBytes(2);
                return head.length == 2 && head[0] == '#' && head[1] == '!';
            } catch (IOException e) {
                return true; // unreadable: not one we can use
            }
        }
    }
}
