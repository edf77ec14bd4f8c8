package dev.tdemu.bench;

import dev.tdemu.emulator.elf.ElfImage;
import dev.tdemu.emulator.gdb.StubbedVm;
import dev.tdemu.emulator.gdb.VmDebugTarget;
import dev.tdemu.emulator.vm.Vm;
import dev.tdemu.emulator.vm.VmResult;
import dev.tdemu.emulator.vm.VmSpec;
import dev.tdemu.gdbstub.GdbServer;
import dev.tdemu.gdbstub.GdbServerOptions;
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
 *
 * <p>Guest speed under a debugger (issue #18 item 1): bench-loop (bench-debug's loop, a fixed
 * 40 M times, then exits) run to its end on a new VM without a debugger, behind a listening stub
 * that no client connected to, and behind a stub whose client continued it ({@code vCont;c}) and
 * waits for the exit; and Ctrl-C: the interrupt byte to the stop reply while bench-debug runs.
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
        /** Whether the stub's thread follows the client's CPU (off by default). */
        boolean follow;

        @Setup(Level.Trial)
        public void start() throws Exception {
            vm = StubbedVm.start(VmConfig.newBuilder().setGuestImage("builtin:bench-debug").setMode(GuestMode.GUEST_MODE_VMX)
                    .setMemoryBytes(64L << 20).setTimeoutMs(0).build(), offerExecutable,
                    GdbServerOptions.defaults().withFollowClientCpu(follow));
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

    /** The same with the stub's thread following the client's CPU ({@code run --gdb-follow-cpu}). */
    @State(Scope.Benchmark)
    public static class FollowingStub extends Stub {
        public FollowingStub() {
            follow = true;
        }
    }

    /**
     * One busy process per CPU ({@code sh -c 'while :; do :; done'}), at ordinary priority, for
     * the length of a trial: a machine that also compiles, or runs other guests.
     */
    @State(Scope.Benchmark)
    public static class BusyMachine {
        final List<Process> loops = new java.util.ArrayList<>();

        @Setup(Level.Trial)
        public void start() throws IOException {
            for (int i = 0; i < Runtime.getRuntime().availableProcessors(); i++) {
                loops.add(new ProcessBuilder("sh", "-c", "while :; do :; done").start());
            }
        }

        @TearDown(Level.Trial)
        public void stop() throws InterruptedException {
            for (Process p : loops) {
                p.destroyForcibly().waitFor();
            }
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

    /** The same beside one busy process per CPU. */
    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    public String rspPingBusy(Stub s, BusyMachine busy) throws IOException {
        return s.client.request("qC");
    }

    /** One stepi as gdb sends it: resume one vCPU for one instruction, wait for its stop reply. */
    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    public String stepi(Stub s) throws IOException {
        return expectStop(s.client.request("vCont;s:1"));
    }

    /** The same, the stub's thread following the client's CPU. */
    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    public String stepiFollowing(FollowingStub s) throws IOException {
        return expectStop(s.client.request("vCont;s:1"));
    }

    /** Stepi beside one busy process per CPU. */
    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    public String stepiBusy(Stub s, BusyMachine busy) throws IOException {
        return expectStop(s.client.request("vCont;s:1"));
    }

    /** Stepi beside one busy process per CPU, the stub's thread following the client's CPU (it backs off there). */
    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    public String stepiFollowingBusy(FollowingStub s, BusyMachine busy) throws IOException {
        return expectStop(s.client.request("vCont;s:1"));
    }

    /**
     * A fresh connection's first reply ({@code qSupported}), from the moment the client connects;
     * each fork is a new JVM, so the first measurement of each is the first gdb after start-up
     * (the stub warms its connection path before it listens). Goal: 10 ms.
     */
    @Benchmark
    @BenchmarkMode(Mode.SingleShotTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    // The launcher's collector. Its AOT cache keeps the classes out of metaspace; without one, a
    // fork's metaspace crosses its first threshold during start-up, and SerialGC's full
    // collection for it (96-175 ms here) is not what a user of the launcher meets.
    @Fork(value = 5, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-XX:+UseSerialGC", "-XX:MetaspaceSize=128m"})
    @Warmup(iterations = 0)
    @Measurement(iterations = 5)
    public String firstReply(FreshStub s) throws IOException {
        return firstReply(s.vm.port());
    }

    /** The same beside one busy process per CPU. */
    @Benchmark
    @BenchmarkMode(Mode.SingleShotTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    @Fork(value = 5, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-XX:+UseSerialGC", "-XX:MetaspaceSize=128m"})
    @Warmup(iterations = 0)
    @Measurement(iterations = 5)
    public String firstReplyBusy(FreshStub s, BusyMachine busy) throws IOException {
        return firstReply(s.vm.port());
    }

    private static String firstReply(int port) throws IOException {
        try (RspClient c = RspClient.connect(port)) {
            String reply = c.request("qSupported:multiprocess+;swbreak+;hwbreak+;vContSupported+");
            if (!reply.startsWith("PacketSize=")) {
                throw new IllegalStateException("unexpected reply to qSupported: " + reply);
            }
            return reply;
        }
    }

    /**
     * A VM behind a stub, as {@code tdemu run --gdb} has it: each iteration connects anew (and the
     * stub releases the VM when it leaves), and the fork's first connection comes while the VM
     * warm-up ({@code VmWarmUp}) runs beside the stub, as a gdb attaching as soon as the port opens
     * finds it.
     */
    @State(Scope.Benchmark)
    public static class FreshStub {
        StubbedVm vm;

        @Setup(Level.Trial)
        public void start() throws Exception {
            vm = StubbedVm.start(VmConfig.newBuilder().setGuestImage("builtin:bench-debug").setMode(GuestMode.GUEST_MODE_VMX)
                    .setMemoryBytes(64L << 20).setTimeoutMs(0).build(), false);
            dev.tdemu.emulator.gdb.VmWarmUp.inBackground(() -> vm.server.clientCame());
        }

        @Setup(Level.Iteration)
        public void previousClientGone() throws Exception {
            vm.server.lastSessionFinished().get(30, TimeUnit.SECONDS);
        }

        @TearDown(Level.Trial)
        public void stop() throws Exception {
            vm.close();
        }
    }

    /**
     * A client that sends 64 KiB memory reads and never reads a reply, for 30 s: how much the
     * process's resident memory grows (rssGrowthMiB, after a normal session warmed everything
     * up; the Java heap is fixed and touched up front, as its growth would say nothing about the
     * stub). Goal: under 64 MiB. The stub stops serving (and reading from) such a client once its
     * unsent replies reach the output limit, so the requests wait in TCP. The primary score
     * (calls per second) means nothing.
     */
    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    @Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-XX:+UseSerialGC", "-Xms512m", "-Xmx512m",
            "-XX:+AlwaysPreTouch"})
    @Warmup(iterations = 0)
    @Measurement(iterations = 1, time = 30)
    public int floodWithoutReading(Flood f, Rss rss) throws IOException, InterruptedException {
        f.requests.rewind();
        int written = f.channel.write(f.requests);
        long now = System.nanoTime();
        if (now - f.lastLook > 100_000_000L) { // ten looks a second: reading /proc allocates
            f.lastLook = now;
            rss.rssGrowthMiB = Math.max(rss.rssGrowthMiB, (Flood.rssKiB() - f.baselineKiB) / 1024.0);
        }
        if (written == 0) {
            Thread.sleep(1); // the stub stopped reading: nothing to do but watch
        }
        return written;
    }

    /** The flooding client: a non-blocking socket, so that the benchmark thread never blocks on it. */
    @State(Scope.Benchmark)
    public static class Flood {
        StubbedVm vm;
        java.nio.channels.SocketChannel channel;
        java.nio.ByteBuffer requests;
        long baselineKiB;
        long lastLook;

        @Setup(Level.Trial)
        public void start() throws Exception {
            vm = StubbedVm.start(VmConfig.newBuilder().setGuestImage("builtin:bench-debug").setMode(GuestMode.GUEST_MODE_VMX)
                    .setMemoryBytes(64L << 20).setTimeoutMs(0).build(), false);
            // A normal session first: what the first connection loads and allocates is not growth.
            try (RspClient c = RspClient.connect(vm.port())) {
                c.request("qSupported:multiprocess+;swbreak+;hwbreak+;vContSupported+");
                c.startNoAckMode();
                expectStop(c.request("?"));
                c.readMemory(MEMORY, 1 << 20, READ_CHUNK);
            }
            vm.server.lastSessionFinished().get(30, TimeUnit.SECONDS);
            System.gc();
            baselineKiB = rssKiB();
            channel = java.nio.channels.SocketChannel.open(new java.net.InetSocketAddress("127.0.0.1", vm.port()));
            channel.configureBlocking(false);
            StringBuilder many = new StringBuilder();
            for (int i = 0; i < 64; i++) {
                String m = "m" + Long.toHexString(MEMORY) + ",10000";
                many.append('$').append(m).append('#').append(String.format("%02x", dev.tdemu.gdbstub.rsp.Rsp.checksum(
                        m.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1))));
            }
            requests = java.nio.ByteBuffer.wrap(many.toString().getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        }

        @TearDown(Level.Trial)
        public void stop() throws Exception {
            channel.close();
            vm.close();
        }

        static long rssKiB() {
            try {
                for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                    if (line.startsWith("VmRSS:")) {
                        return Long.parseLong(line.replaceAll("[^0-9]", ""));
                    }
                }
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            throw new IllegalStateException("no VmRSS in /proc/self/status");
        }
    }

    /** The secondary figure of {@link #floodWithoutReading}. */
    @State(Scope.Thread)
    @org.openjdk.jmh.annotations.AuxCounters(org.openjdk.jmh.annotations.AuxCounters.Type.EVENTS)
    public static class Rss {
        public double rssGrowthMiB;
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

    /** bench-loop's iterations (testguests/src/main/asm/bench-loop.S). */
    static final int LOOP_ITERATIONS = 40_000_000;

    static VmConfig loopConfig() {
        return VmConfig.newBuilder().setGuestImage("builtin:bench-loop").setMode(GuestMode.GUEST_MODE_VMX)
                .setMemoryBytes(64L << 20).setTimeoutMs(0).build();
    }

    static int expectExit(VmResult r) {
        if (r.outcome() != VmResult.Outcome.EXITED || r.exitStatus() != 0) {
            throw new IllegalStateException("bench-loop did not run to its end: " + r.outcome() + " " + r.detail());
        }
        return r.exitStatus();
    }

    /** A new VM of bench-loop, no debugger (created before each run, outside the measured time). */
    @State(Scope.Thread)
    public static class PlainLoop {
        Vm vm;

        @Setup(Level.Invocation)
        public void create() throws Exception {
            vm = new Vm(VmSpec.from(loopConfig()), Vm.Options.quiet());
        }

        @TearDown(Level.Invocation)
        public void close() throws Exception {
            vm.close();
        }
    }

    /** The same behind a GDB stub that listens, as {@code run --gdb PORT} without --wait, and no client. */
    @State(Scope.Thread)
    public static class ListeningLoop {
        Vm vm;
        VmDebugTarget target;
        GdbServer server;

        @Setup(Level.Invocation)
        public void create() throws Exception {
            vm = new Vm(VmSpec.from(loopConfig()), Vm.Options.quiet());
            target = new VmDebugTarget(vm.attachDebugger(null, false), java.util.Optional.empty());
            server = GdbServer.start(target, "127.0.0.1", 0, dev.tdemu.gdbstub.GdbServerOptions.defaults());
        }

        @TearDown(Level.Invocation)
        public void close() throws Exception {
            server.close();
            target.close();
            vm.close();
        }
    }

    /** bench-loop held at its first instruction behind a stub, a client attached (in no-ack mode, as gdb). */
    @State(Scope.Thread)
    public static class AttachedLoop {
        StubbedVm vm;
        RspClient client;

        @Setup(Level.Invocation)
        public void create() throws Exception {
            vm = StubbedVm.start(loopConfig(), false);
            client = RspClient.connect(vm.port());
            client.request("qSupported:multiprocess+;swbreak+;hwbreak+;vContSupported+");
            client.startNoAckMode();
            expectStop(client.request("?"));
        }

        @TearDown(Level.Invocation)
        public void close() throws Exception {
            client.close();
            vm.close();
        }
    }

    /** Baseline: bench-loop to its end without a debugger; the score is the time per loop iteration. */
    @Benchmark
    @BenchmarkMode(Mode.SingleShotTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    @OperationsPerInvocation(LOOP_ITERATIONS)
    @Warmup(iterations = 2)
    @Measurement(iterations = 5)
    public int loopWithoutGdb(PlainLoop l) {
        return expectExit(l.vm.run());
    }

    /** The same behind a listening stub that no client connected to. */
    @Benchmark
    @BenchmarkMode(Mode.SingleShotTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    @OperationsPerInvocation(LOOP_ITERATIONS)
    @Warmup(iterations = 2)
    @Measurement(iterations = 5)
    public int loopGdbListening(ListeningLoop l) {
        return expectExit(l.vm.run());
    }

    /** The same with a client attached that continues the guest and waits for its exit ({@code W00}). */
    @Benchmark
    @BenchmarkMode(Mode.SingleShotTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    @OperationsPerInvocation(LOOP_ITERATIONS)
    @Warmup(iterations = 2)
    @Measurement(iterations = 5)
    public String loopGdbContinue(AttachedLoop l) throws IOException {
        String reply = l.client.request("vCont;c");
        if (!reply.startsWith("W00")) {
            throw new IllegalStateException("expected the guest's exit (W00), got " + reply);
        }
        return reply;
    }

    /** One paired invocation's figures (aux counters; one invocation per iteration). */
    @State(Scope.Thread)
    @org.openjdk.jmh.annotations.AuxCounters(org.openjdk.jmh.annotations.AuxCounters.Type.EVENTS)
    public static class LoopPair {
        public double withoutGdbNs;
        public double gdbContinueNs;
        /** Guest speed attached-and-continued / without --gdb, in this invocation. */
        public double speedRatio;
        int invocation;
    }

    /**
     * The same two runs back to back in one invocation (alternating which goes first), each
     * timed from the start of its run to the guest's exit (VM creation and attaching not
     * counted), so that the load's drift between JMH's sequential benchmarks cannot skew the ratio.
     */
    @Benchmark
    @BenchmarkMode(Mode.SingleShotTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    @Warmup(iterations = 2)
    @Measurement(iterations = 5)
    public double loopPaired(LoopPair pair) throws Exception {
        double without = 0, attached = 0;
        for (int i = 0; i < 2; i++) {
            if ((i + pair.invocation) % 2 == 0) {
                try (Vm vm = new Vm(VmSpec.from(loopConfig()), Vm.Options.quiet())) {
                    long start = System.nanoTime();
                    expectExit(vm.run());
                    without = System.nanoTime() - start;
                }
            } else {
                AttachedLoop l = new AttachedLoop();
                l.create();
                try {
                    long start = System.nanoTime();
                    loopGdbContinue(l);
                    attached = System.nanoTime() - start;
                } finally {
                    l.close();
                }
            }
        }
        pair.invocation++;
        pair.withoutGdbNs = without / LOOP_ITERATIONS;
        pair.gdbContinueNs = attached / LOOP_ITERATIONS;
        pair.speedRatio = without / attached;
        return pair.speedRatio;
    }

    /**
     * bench-debug running under an attached client ({@code vCont;c} sent, then 20 ms of running,
     * outside the measured time): before each measured Ctrl-C.
     */
    @State(Scope.Thread)
    public static class RunningStub extends Stub {
        @Setup(Level.Invocation)
        public void resume() throws Exception {
            client.send("vCont;c");
            Thread.sleep(20); // a benchmark, not a test: let the guest be well into its loop
        }
    }

    /** Ctrl-C: the interrupt byte (0x03) to the stop reply, while the guest runs. Goal: 10 ms. */
    @Benchmark
    @BenchmarkMode(Mode.SampleTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    @Warmup(iterations = 2, time = 1)
    @Measurement(iterations = 3, time = 2)
    public String ctrlC(RunningStub s) throws IOException {
        s.client.interrupt();
        return expectStop(s.client.receive());
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
        boolean follow;

        @Setup(Level.Invocation)
        public void start() throws Exception {
            if (!Files.isExecutable(Path.of("/usr/bin/gdb"))) {
                throw new IllegalStateException("gdb is not installed (./tdemu setup installs it)");
            }
            stub = new Stub();
            stub.offerExecutable = symbols;
            stub.follow = follow;
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
        return runGdb(g);
    }

    /** The same without symbols, the stub's thread following gdb's CPU ({@code run --gdb-follow-cpu}). */
    @State(Scope.Benchmark)
    public static class GdbRunFollowing extends GdbRun {
        public GdbRunFollowing() {
            follow = true;
        }
    }

    @Benchmark
    @BenchmarkMode(Mode.SingleShotTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    @Warmup(iterations = 6)
    @Measurement(iterations = 8)
    public int gdbStepiFollowing(GdbRunFollowing g) throws Exception {
        return runGdb(g);
    }

    private static int runGdb(GdbRun g) throws Exception {
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
