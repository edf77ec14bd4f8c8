package dev.tdemu.bench;

import dev.tdemu.emulator.elf.ElfImage;
import dev.tdemu.emulator.gdb.StubbedVm;
import dev.tdemu.gdbstub.RspClient;
import dev.tdemu.proto.GuestMode;
import dev.tdemu.proto.VmConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The debugger's speed, end to end: a Java RSP client (and, for stepi, the real gdb in batch
 * mode) against the GDB stub in front of a VMX guest (bench-debug, which calls bench_func
 * forever). Baselines in the same run: an RSP round trip that does no VM work ({@code qC}), and
 * the same memory read straight through the debug target, without the protocol.
 */
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@Warmup(iterations = 6, time = 1)
@Measurement(iterations = 3, time = 2)
public class GdbBenchmark {
    static final long FUNC;
    static final long MEMORY = 16L << 20, MEMORY_BYTES = 16L << 20;
    /** What gdb asks for per {@code m} packet with the stub's 128 KiB PacketSize (hex doubles it). */
    static final int READ_CHUNK = 0xFFF0 / 2 * 2;

    static {
        try {
            FUNC = ElfImage.builtin("bench-debug").symbol("bench_func").orElseThrow();
        } catch (Exception e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** A stopped VM behind a stub, with a connected client in no-ack mode (as gdb uses it). */
    @State(Scope.Benchmark)
    public static class Stub {
        StubbedVm vm;
        RspClient client;
        /** Whether the stub offers gdb the guest's ELF (gdb then looks symbols up at every stop). */
        boolean offerExecutable;

        @Setup(Level.Trial)
        public void start() throws Exception {
            vm = StubbedVm.start(VmConfig.newBuilder().setGuestImage("builtin:bench-debug").setMode(GuestMode.GUEST_MODE_VMX)
                    .setMemoryBytes(64L << 20).setTimeoutMs(0).build(), offerExecutable);
            client = RspClient.connect(vm.port());
            client.request("qSupported:multiprocess+;swbreak+;hwbreak+;vContSupported+");
            client.startNoAckMode();
            expectStop(client.request("?"));
            // Memory that looks like code and data, not zeros (which run-length encoding would shrink).
            byte[] noise = new byte[(int) MEMORY_BYTES];
            new java.util.Random(1).nextBytes(noise);
            vm.target.writeMemory(1, MEMORY, noise).toCompletableFuture().get();
        }

        @TearDown(Level.Trial)
        public void stop() throws Exception {
            client.close();
            vm.close();
        }
    }

    /** The same, with a hardware breakpoint on bench_func. */
    @State(Scope.Benchmark)
    public static class StubWithBreakpoint extends Stub {
        @Setup(Level.Trial)
        public void breakpoint() throws Exception {
            String ok = client.request("Z1," + Long.toHexString(FUNC) + ",1");
            if (!ok.equals("OK")) {
                throw new IllegalStateException("Z1 refused: " + ok);
            }
        }
    }

    static String expectStop(String reply) {
        if (!reply.startsWith("T") && !reply.startsWith("S")) {
            throw new IllegalStateException("expected a stop reply, got " + reply);
        }
        return reply;
    }

    /** Baseline: one RSP request and reply that touch no guest state. */
    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    public String rspPing(Stub s) throws IOException {
        return s.client.request("qC");
    }

    /** One stepi as gdb sends it: resume one vCPU for one instruction, wait for its stop reply. */
    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    public String stepi(Stub s) throws IOException {
        return expectStop(s.client.request("vCont;s:1"));
    }

    /** Continue until the breakpoint on bench_func stops the guest again: resume, run, hit, report. */
    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public String breakpointHit(StubWithBreakpoint s) throws IOException {
        String stop = expectStop(s.client.request("vCont;c"));
        if (!stop.contains("hwbreak")) {
            throw new IllegalStateException("not the breakpoint: " + stop);
        }
        return stop;
    }

    /** 16 MiB of guest memory through {@code m} packets as large as the advertised PacketSize allows. */
    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    @OperationsPerInvocation(16)
    public byte[] readMemory16MiB(Stub s) throws IOException {
        return s.client.readMemory(MEMORY, (int) MEMORY_BYTES, READ_CHUNK);
    }

    /** Baseline: the same 16 MiB straight from the debug target (no protocol, no socket). */
    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    @OperationsPerInvocation(16)
    public byte[] readMemory16MiBDirect(Stub s) throws Exception {
        return s.vm.target.readMemory(1, MEMORY, (int) MEMORY_BYTES).toCompletableFuture().get();
    }

    /**
     * The real gdb: connect, {@code stepi STEPS}, detach. The difference between 4001 and 1 steps
     * is what 4000 stepi cost in gdb (BenchMain derives the rate); the rest is gdb's start-up.
     * Each run serves a fresh VM and stub in the same JVM, so the warm-up runs are what lets the
     * JIT compile the step path, as it does early in a long debugging session. Without symbols
     * (the figure and QEMU's) gdb does the least work of its own per step; with the
     * guest's symbols, which the stub offers, gdb also looks the PC up at every stop.
     */
    @State(Scope.Benchmark)
    public static class GdbRun {
        @Param({"1", "4001"})
        public int steps;
        @Param({"false", "true"})
        public boolean symbols;
        Stub stub;

        @Setup(Level.Invocation)
        public void start() throws Exception {
            if (!Files.isExecutable(Path.of("/usr/bin/gdb"))) {
                throw new IllegalStateException("gdb is not installed (./tdemu setup installs it)");
            }
            stub = new Stub();
            stub.offerExecutable = symbols;
            stub.start();
            stub.client.close(); // gdb connects instead
        }

        @TearDown(Level.Invocation)
        public void stop() throws Exception {
            stub.vm.close();
        }
    }

    @Benchmark
    @BenchmarkMode(Mode.SingleShotTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    @Warmup(iterations = 6)
    @Measurement(iterations = 8)
    public int gdbStepi(GdbRun g) throws Exception {
        Process p = new ProcessBuilder(List.of("/usr/bin/gdb", "-nx", "-batch", "-ex", "set pagination off",
                "-ex", "set confirm off", "-ex", "target remote 127.0.0.1:" + g.stub.vm.port(),
                "-ex", "stepi " + g.steps, "-ex", "detach")).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException("gdb failed: " + out);
        }
        return out.length();
    }
}
