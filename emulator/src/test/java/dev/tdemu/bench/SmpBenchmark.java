package dev.tdemu.bench;

import dev.tdemu.emulator.vm.Vm;
import dev.tdemu.emulator.vm.VmResult;
import dev.tdemu.emulator.vm.VmSpec;
import dev.tdemu.proto.Machine;
import dev.tdemu.proto.VmConfig;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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
 * Issue #17's SMP figures, tdemu against QEMU TCG on the same kernels: the IPI round trip between
 * two vCPUs, the time the application processors take to come up, and each vCPU's progress with N
 * vCPUs against one vCPU's alone. Four testguests kernels,
 * run back to back on each side in every invocation: pc64-boot-idle on one vCPU (boot and exit),
 * pc64-boot-smp on N vCPUs (the same plus INIT/SIPI bring-up of N-1 APs to long mode) and
 * pc64-boot-ipi on N vCPUs (the same plus {@link #ROUNDS} rounds of IPI ping-pong between the BSP
 * and APIC ID 1, the BSP halted while it waits). Differences of wall times leave each side's
 * start-up out: round trip = (ipi - smp) / ROUNDS, AP start = smp - idle. pc64-boot-progress gives
 * every CPU the same share of work, run on one vCPU and on N: per-vCPU progress = (progress on 1 -
 * idle) / (progress on N - smp), 1.0 when N vCPUs progress as fast as one alone (tdemu runs one
 * vCPU at a time, GuestScheduler, so 1/N is its ceiling; QEMU's multi-threaded TCG runs them in
 * parallel on as many host cores as there are). tdemu runs a new
 * {@link Vm} in this JVM (the JVM's own start-up is BootBenchmark's subject); QEMU as
 * kvm-unit-tests' runner starts it. Each kernel must end with status 1 (its checks passed).
 */
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 1)
@Measurement(iterations = 5)
public class SmpBenchmark {
    /** pc64-boot-ipi's rounds (its ROUNDS; pc64-boot-smp is the same kernel with none). */
    static final int ROUNDS = 20_000;

    /** The three kernels, extracted for QEMU and the VMs to read. */
    @State(Scope.Benchmark)
    public static class Kernels {
        @Param({"2", "4"})
        public int vcpus;
        Path dir;
        Path idle;
        Path smp;
        Path ipi;
        Path progress;

        @Setup(Level.Trial)
        public void extract() throws IOException {
            dir = Files.createTempDirectory("tdemu-smp-bench");
            idle = extract("pc64-boot-idle.flat");
            smp = extract("pc64-boot-smp.flat");
            ipi = extract("pc64-boot-ipi.flat");
            progress = extract("pc64-boot-progress.flat");
        }

        private Path extract(String name) throws IOException {
            try (InputStream in = SmpBenchmark.class.getResourceAsStream("/guests/multiboot/" + name)) {
                if (in == null) {
                    throw new IllegalStateException("kernel guests/multiboot/" + name + " missing: build testguests");
                }
                return Files.write(dir.resolve(name), in.readAllBytes());
            }
        }

        @TearDown(Level.Trial)
        public void delete() throws IOException {
            for (Path p : List.of(idle, smp, ipi, progress)) {
                Files.deleteIfExists(p);
            }
            Files.deleteIfExists(dir);
        }
    }

    /** One invocation's derived figures (aux counters). */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class Figures {
        public double tdemuIpiRoundTripUs;
        public double qemuIpiRoundTripUs;
        public double ipiRoundTripOverQemu;
        public double tdemuApStartMs;
        public double qemuApStartMs;
        public double apStartOverQemu;
        public double tdemuPerVcpuProgress;
        public double qemuPerVcpuProgress;
        public double perVcpuProgressOverQemu;
        int invocation;
    }

    /** The three kernels on tdemu and on QEMU, the two sides alternating which goes first. */
    @Benchmark
    public int paired(Kernels k, Figures f) throws Exception {
        Path qemu = BootBenchmark.Qemu.locate().orElseThrow(() -> new IllegalStateException(BootBenchmark.Qemu.MISSING));
        double[] tdemu = new double[5];
        double[] q = new double[5];
        boolean qemuFirst = f.invocation++ % 2 == 0;
        for (int side = 0; side < 2; side++) {
            boolean onQemu = (side == 0) == qemuFirst;
            Path[] kernels = {k.idle, k.smp, k.ipi, k.progress, k.progress};
            for (int i = 0; i < kernels.length; i++) {
                int vcpus = i == 0 || i == 3 ? 1 : k.vcpus;
                long start = System.nanoTime();
                if (onQemu) {
                    qemu(qemu, kernels[i], vcpus);
                } else {
                    tdemu(kernels[i], vcpus);
                }
                (onQemu ? q : tdemu)[i] = (System.nanoTime() - start) / 1e6;
            }
        }
        f.tdemuIpiRoundTripUs = (tdemu[2] - tdemu[1]) * 1e3 / ROUNDS;
        f.qemuIpiRoundTripUs = (q[2] - q[1]) * 1e3 / ROUNDS;
        f.ipiRoundTripOverQemu = f.tdemuIpiRoundTripUs / f.qemuIpiRoundTripUs;
        f.tdemuApStartMs = tdemu[1] - tdemu[0];
        f.qemuApStartMs = q[1] - q[0];
        f.apStartOverQemu = f.tdemuApStartMs / f.qemuApStartMs;
        // one share on one vCPU (boot left out) against N shares on N vCPUs (bring-up left out)
        f.tdemuPerVcpuProgress = (tdemu[3] - tdemu[0]) / (tdemu[4] - tdemu[1]);
        f.qemuPerVcpuProgress = (q[3] - q[0]) / (q[4] - q[1]);
        f.perVcpuProgressOverQemu = f.tdemuPerVcpuProgress / f.qemuPerVcpuProgress;
        return BootBenchmark.PASSED;
    }

    /** A new VM in this JVM: boot, run, exit, close; its checks must have passed. */
    private static void tdemu(Path kernel, int vcpus) throws Exception {
        VmConfig config = VmConfig.newBuilder().setGuestImage(kernel.toString()).setMachine(Machine.MACHINE_PC)
                .setMemoryBytes(BootBenchmark.MEMORY).setVcpus(vcpus).setTimeoutMs(120_000).build();
        try (Vm vm = new Vm(VmSpec.from(config), Vm.Options.quiet())) {
            VmResult r = vm.run();
            if (r.exitStatus() != BootBenchmark.PASSED) {
                throw new IllegalStateException(kernel.getFileName() + " on " + vcpus + " vCPUs ended with " + r.outcome() + " "
                        + r.exitStatus() + ", not " + BootBenchmark.PASSED + ": " + r.detail());
            }
        }
    }

    private static void qemu(Path qemu, Path kernel, int vcpus) throws Exception {
        List<String> command = new ArrayList<>(List.of(qemu.toString(), "-nodefaults", "-device",
                "isa-debug-exit,iobase=0xf4,iosize=0x4", "-vnc", "none", "-display", "none", "-serial", "none", "-machine",
                "accel=tcg", "-m", BootBenchmark.MEMORY_OPTION, "-smp", Integer.toString(vcpus), "-kernel", kernel.toString()));
        BootBenchmark.run("QEMU", command);
    }
}
