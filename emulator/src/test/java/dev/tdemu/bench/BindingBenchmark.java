package dev.tdemu.bench;

import dev.tdemu.emulator.elf.ElfImage;
import dev.tdemu.emulator.unicorn.BareMachine;
import dev.tdemu.emulator.unicorn.Unicorn;
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
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The Unicorn binding's costs on real guest code (testguests binding-*.S). Scores are operations
 * per second: guest instructions for the register loops (divide by 1e6 for MIPS), round trips for
 * hlt, OUT instructions (one upcall each) for the OUT loop, calls for readReg and the
 * exception-state helpers.
 * The hook overhead ratio is regLoopWithUnhitCodeHook / regLoopNoHooks (goal >= 0.95).
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class BindingBenchmark {
    static final long BASE = 0x100000;
    /** binding-regloop: 5 instructions per iteration plus mov, hlt and the jmp back that re-entry skips. */
    static final long LOOP_ITERATIONS = 2_000_000;
    static final int LOOP_INSTRUCTIONS = (int) (5 * LOOP_ITERATIONS + 2);
    static final int OUTS = 100_000;

    static BareMachine machine(String guest) {
        try {
            BareMachine m = BareMachine.create();
            m.load(ElfImage.builtin(guest));
            return m;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @State(Scope.Thread)
    public static class RegLoop {
        BareMachine m;
        Unicorn uc;

        @Setup(Level.Trial)
        public void setUp() {
            m = machine("binding-regloop");
            uc = m.engine();
            uc.writeReg(X86Reg.RDI, LOOP_ITERATIONS);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            m.close();
        }
    }

    /** The same loop with one code hook on an address the loop never executes. */
    @State(Scope.Thread)
    public static class RegLoopWithUnhitHook extends RegLoop {
        @Override
        @Setup(Level.Trial)
        public void setUp() {
            super.setUp();
            uc.addCodeHook(BASE + 0x800, BASE + 0x800, (u, address, size) -> { });
        }
    }

    @State(Scope.Thread)
    public static class HltLoop {
        BareMachine m;
        Unicorn uc;

        @Setup(Level.Trial)
        public void setUp() {
            m = machine("binding-hltloop");
            uc = m.engine();
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            m.close();
        }
    }

    @State(Scope.Thread)
    public static class OutLoop {
        BareMachine m;
        Unicorn uc;
        long outs;

        @Setup(Level.Trial)
        public void setUp() {
            m = machine("binding-outloop");
            uc = m.engine();
            uc.writeReg(X86Reg.RDI, OUTS);
            uc.addOutHook((u, port, size, value) -> outs++);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            m.close();
        }
    }

    @Benchmark
    @OperationsPerInvocation(LOOP_INSTRUCTIONS)
    public Object regLoopNoHooks(RegLoop s) {
        return s.uc.emuStart(BASE);
    }

    @Benchmark
    @OperationsPerInvocation(LOOP_INSTRUCTIONS)
    public Object regLoopWithUnhitCodeHook(RegLoopWithUnhitHook s) {
        return s.uc.emuStart(BASE);
    }

    /** Enter the engine, execute one hlt, return. */
    @Benchmark
    public Object hltRoundTrip(HltLoop s) {
        return s.uc.emuStart(BASE);
    }

    /** One OUT per operation, each an upcall into the Java OUT hook. */
    @Benchmark
    @OperationsPerInvocation(OUTS)
    public Object outHookUpcall(OutLoop s) {
        return s.uc.emuStart(BASE);
    }

    /** Reading one register (a critical downcall). */
    @Benchmark
    public long readReg(HltLoop s) {
        return s.uc.readReg(X86Reg.RAX);
    }

    /** The exception-delivery helpers: one context save (+ restore) of the engine's CPU state each. */
    @Benchmark
    public int exceptionErrorCode(HltLoop s) {
        return s.uc.exceptionErrorCode();
    }

    @Benchmark
    public void clearExceptionInFlight(HltLoop s) {
        s.uc.clearExceptionInFlight();
    }
}
