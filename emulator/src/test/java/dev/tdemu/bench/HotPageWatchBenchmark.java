package dev.tdemu.bench;

import dev.tdemu.core.x86.BreakpointLength;
import dev.tdemu.core.x86.BreakpointType;
import dev.tdemu.core.x86.DebugRegisters;
import dev.tdemu.core.x86.Dr7;
import dev.tdemu.emulator.cpu.GuestEngine;
import dev.tdemu.emulator.cpu.PhysicalCpu;
import dev.tdemu.emulator.cpu.VmExit;
import dev.tdemu.emulator.elf.ElfImage;
import dev.tdemu.emulator.elf.LoadSegment;
import dev.tdemu.emulator.machine.BootStructures;
import dev.tdemu.emulator.machine.GuestMemory;
import dev.tdemu.emulator.unicorn.X86Reg;
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
 * Issue 18 item 3, a watchpoint on a hot page: iterations per second of {@code bench-memloop}
 * (two stores and two loads per iteration, all on one page) without a data breakpoint, and with a
 * write breakpoint (gdb's {@code watch}) on 8 bytes of that same page the loop never writes. Before
 * hot-page mode each store to the page was single-stepped (about 90 µs).
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class HotPageWatchBenchmark {
    static final long ITERATIONS = 1_000_000;

    @State(Scope.Thread)
    public static class Loop {
        /** none, or samePage: a write breakpoint on buffer + 48, which the loop (buffer + 0 .. 23) never touches. */
        @Param({"none", "samePage"})
        public String watch;

        GuestMemory memory;
        GuestEngine engine;
        PhysicalCpu cpu;
        long entry;

        @Setup(Level.Trial)
        public void setUp() throws Exception {
            ElfImage image = ElfImage.builtin("bench-memloop");
            memory = new GuestMemory(16L << 20);
            BootStructures.build(memory, 1);
            for (LoadSegment s : image.segments()) {
                memory.writeBytes(s.address(), s.data());
            }
            entry = image.entry();
            engine = new GuestEngine(memory, BootStructures.entryState(memory, 0, 1, entry), new GuestEngine.FallbackIo() {
                public long in(int port, int size) { return 0; }
                public void out(int port, int size, long value) {}
            });
            cpu = new PhysicalCpu(0);
            if (watch.equals("samePage")) {
                long buffer = image.symbol("buffer").orElseThrow(() -> new IllegalStateException("bench-memloop has no 'buffer' symbol"));
                cpu.hardware().load(DebugRegisters.INIT.withDr(0, buffer + 48)
                        .withDr7(Dr7.RESET.withSlot(0, BreakpointType.WRITE, BreakpointLength.EIGHT, true, false)));
            }
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            String state = engine.dataBreakpointState();
            engine.close();
            memory.close();
            if (watch.equals("samePage") && !state.contains("(hot page)")) {
                throw new IllegalStateException("the watched page never became hot: " + state);
            }
        }

        Object runOnce() {
            engine.engine().writeReg(X86Reg.RIP, entry);
            engine.engine().writeReg(X86Reg.RDI, ITERATIONS);
            VmExit exit = cpu.runGuest(engine, CpuBenchmark.NO_EXITS);
            if (!(exit instanceof VmExit.Hlt)) {
                throw new IllegalStateException("loop ended with " + exit);
            }
            return exit;
        }
    }

    /** Operations are loop iterations (two stores and two loads on the page). */
    @Benchmark
    @OperationsPerInvocation((int) ITERATIONS)
    public Object storeLoop(Loop s) {
        return s.runOnce();
    }
}
