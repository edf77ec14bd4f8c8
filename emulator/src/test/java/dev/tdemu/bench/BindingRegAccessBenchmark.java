package dev.tdemu.bench;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Why the binding makes uc_reg_read a critical downcall: the same call through a plain and a
 * critical handle, on a raw engine of its own. Average time per call.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@State(Scope.Thread)
@SuppressWarnings("restricted") // this is the FFM binding: restricted methods are its job
public class BindingRegAccessBenchmark {
    private static final int UC_X86_REG_RAX = 35;
    private static final FunctionDescriptor REG_READ = FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS);
    private static final MethodHandle PLAIN;
    private static final MethodHandle CRITICAL;
    private static final MethodHandle OPEN;
    private static final MethodHandle CLOSE;

    static {
        Linker linker = Linker.nativeLinker();
        SymbolLookup lib = SymbolLookup.libraryLookup("libunicorn.so.2", Arena.global());
        MemorySegment regRead = lib.find("uc_reg_read").orElseThrow();
        PLAIN = linker.downcallHandle(regRead, REG_READ);
        CRITICAL = linker.downcallHandle(regRead, REG_READ, Linker.Option.critical(false));
        OPEN = linker.downcallHandle(lib.find("uc_open").orElseThrow(), FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS));
        CLOSE = linker.downcallHandle(lib.find("uc_close").orElseThrow(), FunctionDescriptor.of(JAVA_INT, ADDRESS));
    }

    private Arena arena;
    private MemorySegment uc;
    private MemorySegment value;

    @Setup
    public void setUp() throws Throwable {
        arena = Arena.ofConfined();
        MemorySegment out = arena.allocate(ADDRESS);
        int err = (int) OPEN.invokeExact(4 /* UC_ARCH_X86 */, 8 /* UC_MODE_64 */, out);
        if (err != 0) {
            throw new IllegalStateException("uc_open: " + err);
        }
        uc = out.get(ADDRESS, 0);
        value = arena.allocate(JAVA_LONG);
    }

    @TearDown
    public void tearDown() throws Throwable {
        int ignored = (int) CLOSE.invokeExact(uc);
        arena.close();
    }

    @Benchmark
    public int regReadPlain() throws Throwable {
        return (int) PLAIN.invokeExact(uc, UC_X86_REG_RAX, value);
    }

    @Benchmark
    public int regReadCritical() throws Throwable {
        return (int) CRITICAL.invokeExact(uc, UC_X86_REG_RAX, value);
    }
}
