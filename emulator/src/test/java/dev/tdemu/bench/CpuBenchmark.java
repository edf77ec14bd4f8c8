package dev.tdemu.bench;

import dev.tdemu.core.x86.BreakpointLength;
import dev.tdemu.core.x86.BreakpointType;
import dev.tdemu.core.x86.DebugRegisters;
import dev.tdemu.core.x86.Dr7;
import dev.tdemu.core.vmx.MovDrDirection;
import dev.tdemu.core.vmx.MovDrQualification;
import dev.tdemu.core.x86.CpuMode;
import dev.tdemu.emulator.cpu.GuestControls;
import dev.tdemu.emulator.cpu.GuestEngine;
import dev.tdemu.emulator.cpu.VmExit;
import dev.tdemu.emulator.cpu.PhysicalCpu;
import dev.tdemu.emulator.elf.ElfImage;
import dev.tdemu.emulator.elf.LoadSegment;
import dev.tdemu.emulator.machine.BootStructures;
import dev.tdemu.emulator.machine.GuestMemory;
import dev.tdemu.emulator.unicorn.X86Reg;
import java.util.Optional;
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
 * Guest instructions per second on a {@link PhysicalCpu} (the engine in SVM guest mode with the
 * debug architecture applied), with and without breakpoints armed: unhit execute breakpoints
 * should cost nothing; a data breakpoint sends every load and store through the engine's slow path.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class CpuBenchmark {
    static final long ITERATIONS = 2_000_000;
    static final int REG_INSNS = (int) (5 * ITERATIONS + 2);
    static final int MEM_INSNS = (int) (7 * ITERATIONS + 3);
    static final GuestControls NO_EXITS = new GuestControls() {
        public Optional<MovDrQualification> movDrExit(CpuMode m, int dr, MovDrDirection d, int gpr) { return Optional.empty(); }
        public boolean exceptionExits(dev.tdemu.core.x86.ExceptionVector vector) { return false; }
        public boolean ioPassthrough(int port) { return true; }
        public boolean vmcallExits() { return true; }
        public boolean tdcallExits() { return false; }
    };

    @State(Scope.Thread)
    public abstract static class Loop {
        /** none, exec4 (four unhit execute breakpoints), watch1 (one untouched data breakpoint). */
        @Param({"none", "exec4", "watch1"})
        public String breakpoints;

        abstract String guest();

        GuestMemory memory;
        GuestEngine engine;
        PhysicalCpu cpu;
        long entry;

        @Setup(Level.Trial)
        public void setUp() throws Exception {
            ElfImage image = ElfImage.builtin(guest());
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
            DebugRegisters regs = DebugRegisters.INIT;
            Dr7 dr7 = Dr7.RESET;
            switch (breakpoints) {
                case "exec4" -> {
                    for (int slot = 0; slot < 4; slot++) {
                        regs = regs.withDr(slot, 0x180000 + 0x40L * slot); // never executed
                        dr7 = dr7.withSlot(slot, BreakpointType.EXECUTE, BreakpointLength.ONE, true, false);
                    }
                }
                case "watch1" -> {
                    regs = regs.withDr(0, 0x800000); // never touched
                    dr7 = dr7.withSlot(0, BreakpointType.READ_WRITE, BreakpointLength.EIGHT, true, false);
                }
                default -> { }
            }
            cpu.hardware().load(regs.withDr7(dr7));
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            engine.close();
            memory.close();
        }

        Object runOnce() {
            engine.engine().writeReg(X86Reg.RIP, entry);
            engine.engine().writeReg(X86Reg.RDI, ITERATIONS);
            VmExit exit = cpu.runGuest(engine, NO_EXITS);
            if (!(exit instanceof VmExit.Hlt)) {
                throw new IllegalStateException("loop ended with " + exit);
            }
            String watchState = engine.dataBreakpointState();
            if (breakpoints.equals("watch1") != watchState.startsWith("1 data breakpoint(s) armed (virtual TLB)")) {
                throw new IllegalStateException("the data breakpoint is not armed as this benchmark means: " + watchState);
            }
            return exit;
        }
    }

    public static class RegisterLoop extends Loop {
        String guest() {
            return "binding-regloop";
        }
    }

    public static class MemoryLoop extends Loop {
        String guest() {
            return "bench-memloop";
        }
    }

    /** Operations are guest instructions of a register-only loop. */
    @Benchmark
    @OperationsPerInvocation(REG_INSNS)
    public Object registerLoop(RegisterLoop s) {
        return s.runOnce();
    }

    /** Operations are guest instructions of a loop with four loads/stores per seven instructions. */
    @Benchmark
    @OperationsPerInvocation(MEM_INSNS)
    public Object memoryLoop(MemoryLoop s) {
        return s.runOnce();
    }
}
