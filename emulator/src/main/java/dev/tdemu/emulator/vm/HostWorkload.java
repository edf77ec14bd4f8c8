package dev.tdemu.emulator.vm;

import dev.tdemu.core.x86.ExceptionVector;
import dev.tdemu.core.host.HostBreakpoint;
import dev.tdemu.core.host.HostCpu;
import dev.tdemu.core.vmx.MovDrDirection;
import dev.tdemu.core.vmx.MovDrQualification;
import dev.tdemu.core.x86.BreakpointType;
import dev.tdemu.core.x86.CpuMode;
import dev.tdemu.core.x86.DebugRegisterFile;
import dev.tdemu.emulator.cpu.GuestControls;
import dev.tdemu.emulator.cpu.GuestEngine;
import dev.tdemu.emulator.cpu.VmExit;
import dev.tdemu.emulator.cpu.PhysicalCpu;
import dev.tdemu.emulator.elf.ElfFormatException;
import dev.tdemu.emulator.elf.ElfImage;
import dev.tdemu.emulator.elf.LoadSegment;
import dev.tdemu.emulator.machine.BootStructures;
import dev.tdemu.emulator.machine.GuestMemory;
import dev.tdemu.emulator.unicorn.X86Reg;
import java.util.Optional;

/**
 * The host kernel's own work on a physical CPU, run after every VM exit: real x86 code (the
 * {@code hostwork} program) in host memory the guest cannot reach, which calls, writes, reads or
 * does I/O at every host breakpoint target. It runs with the CPU's debug registers as the exit
 * left them, so a host breakpoint only counts as intact if it actually fires. The host's #DB
 * handler is Java (Linux's hw_breakpoint handler): it counts hits per slot and resumes.
 */
public final class HostWorkload implements AutoCloseable {
    /** Host memory layout: executable targets here (filled with RET) ... */
    public static final long TEXT_START = 0x200000, TEXT_END = 0x300000;
    /** ... data targets here. */
    public static final long DATA_START = 0x300000, DATA_END = 0x3FF000;
    /** Where the emulator writes the table of targets (hostwork.S). */
    static final long TABLE = 0x3FF000;
    /** A default host function and host variable for scenarios that want host breakpoints. */
    public static final long DEFAULT_FUNCTION = 0x200040, DEFAULT_VARIABLE = 0x300100;
    private static final long HOST_MEMORY = 4L << 20;

    private static final GuestControls HOST_CONTROLS = new GuestControls() {
        @Override
        public Optional<MovDrQualification> movDrExit(CpuMode mode, int dr, MovDrDirection direction, int gpr) {
            return Optional.empty();
        }

        @Override
        public boolean exceptionExits(ExceptionVector vector) {
            return vector == ExceptionVector.DB; // the host kernel's #DB handler
        }

        @Override
        public boolean ioPassthrough(int port) {
            return true;
        }

        @Override
        public boolean vmcallExits() {
            return false; // the host is not a guest: VMCALL outside VMX non-root operation is #UD
        }

        @Override
        public boolean tdcallExits() {
            return false;
        }
    };

    private final GuestMemory memory;
    private final GuestEngine engine;
    private final long entry;
    private final BootStructures.EntryState start;

    public HostWorkload() {
        ElfImage program;
        try {
            program = ElfImage.builtin("hostwork");
        } catch (ElfFormatException e) {
            throw new IllegalStateException("the bundled host workload is missing or broken: " + e.getMessage(), e);
        }
        memory = new GuestMemory(HOST_MEMORY);
        BootStructures.build(memory, 1);
        for (LoadSegment s : program.segments()) {
            memory.writeBytes(s.address(), s.data());
        }
        memory.fill(TEXT_START, TEXT_END - TEXT_START, (byte) 0xC3);
        entry = program.entry();
        start = BootStructures.entryState(memory, 0, 1, entry);
        engine = new GuestEngine(memory, start, new GuestEngine.FallbackIo() {
            public long in(int port, int size) { return -1; }
            public void out(int port, int size, long value) {}
        });
        for (LoadSegment s : program.segments()) {
            if (s.executable()) {
                engine.scanCode(s.address(), s.data());
            }
        }
    }

    /** Refuses a host breakpoint the workload cannot reach. */
    public static void validate(HostBreakpoint bp) {
        long a = bp.address();
        switch (bp.type()) {
            case EXECUTE -> {
                if (a < TEXT_START || a >= TEXT_END) {
                    throw new IllegalArgumentException(String.format(
                            "host execute breakpoint 0x%x must lie in host text 0x%x..0x%x", a, TEXT_START, TEXT_END));
                }
            }
            case WRITE, READ_WRITE -> {
                if (a < DATA_START || a > DATA_END - bp.length().bytes()) { // no sum: a may be near 2^64
                    throw new IllegalArgumentException(String.format(
                            "host data breakpoint 0x%x must lie in host data 0x%x..0x%x", a, DATA_START, DATA_END));
                }
            }
            case IO -> {
                if (a > 0xFFFF) {
                    throw new IllegalArgumentException(String.format("host I/O breakpoint port 0x%x is not a port", a));
                }
            }
        }
    }

    /**
     * Runs the workload once on {@code cpu} with its current debug registers; returns the #DB hits
     * per slot (index 0..3) the host's handler saw, or null when {@link #stop()} interrupted it.
     */
    public int[] run(PhysicalCpu cpu) {
        HostCpu host = cpu.host();
        int entries = 0;
        for (int slot = 0; slot < 4; slot++) {
            Optional<HostBreakpoint> bp = host.breakpoint(slot);
            if (bp.isEmpty()) {
                continue;
            }
            long at = TABLE + 8 + 24L * entries++;
            memory.write64(at, switch (bp.get().type()) {
                case EXECUTE -> 1;
                case WRITE -> 2;
                case READ_WRITE -> 3;
                case IO -> 4;
            });
            memory.write64(at + 8, bp.get().address());
            memory.write64(at + 16, bp.get().length().bytes());
        }
        memory.write64(TABLE, entries);
        var uc = engine.engine();
        uc.writeReg(X86Reg.RIP, entry);
        uc.writeReg(X86Reg.RSP, start.rsp());
        uc.writeReg(X86Reg.RFLAGS, 2);
        int[] hits = new int[4];
        DebugRegisterFile hw = cpu.hardware();
        while (true) {
            VmExit exit = cpu.runGuest(engine, HOST_CONTROLS);
            switch (exit) {
                case VmExit.Hlt h -> {
                    return hits;
                }
                case VmExit.ExceptionNmi e when e.vector() == ExceptionVector.DB -> {
                    boolean faultOnInstruction = false;
                    for (int slot = 0; slot < 4; slot++) {
                        if (e.pending().b(slot)) {
                            hits[slot]++;
                            faultOnInstruction |= hw.dr7().type(slot) == BreakpointType.EXECUTE && hw.dr(slot) == e.rip();
                        }
                    }
                    if (faultOnInstruction) {
                        // An instruction breakpoint is a fault: resume with RF so the instruction runs once.
                        uc.writeReg(X86Reg.RFLAGS, uc.readReg(X86Reg.RFLAGS) | 0x10000);
                    }
                }
                case VmExit.IoPerformed p -> { }
                case VmExit.ExternalInterrupt s -> {
                    return null; // the VM is ending
                }
                default -> throw new IllegalStateException("host workload stopped unexpectedly: " + exit);
            }
        }
    }

    /** Interrupts a run in progress (from any thread). */
    public void stop() {
        engine.stop();
    }

    @Override
    public void close() {
        engine.close();
        memory.close();
    }
}
