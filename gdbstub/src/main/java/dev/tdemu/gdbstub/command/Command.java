package dev.tdemu.gdbstub.command;

import dev.tdemu.gdbstub.BreakpointType;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.OptionalInt;
import java.util.OptionalLong;

/** A decoded gdb command; {@link CommandParser} makes them from packet payloads. */
public sealed interface Command {

    /** {@code qSupported[:feature;...]}: gdb's features, e.g. {@code multiprocess+}. */
    record QuerySupported(List<String> gdbFeatures) implements Command {
        public QuerySupported {
            gdbFeatures = List.copyOf(gdbFeatures);
        }

        public boolean gdbSupports(String feature) {
            return gdbFeatures.contains(feature + "+");
        }
    }

    /** {@code ?}: why is the target halted. */
    record HaltReason() implements Command {
    }

    /** {@code g}. */
    record ReadRegisters() implements Command {
    }

    /** {@code G XX...}: register bytes in {@code g} order, possibly fewer than the whole layout. */
    record WriteRegisters(byte[] data) implements Command {
        @Override
        public boolean equals(Object o) {
            return o instanceof WriteRegisters w && Arrays.equals(data, w.data);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(data);
        }

        @Override
        public String toString() {
            return "WriteRegisters[" + data.length + " bytes]";
        }
    }

    /** {@code p n}. */
    record ReadRegister(int regnum) implements Command {
    }

    /** {@code P n=r}. */
    record WriteRegister(int regnum, byte[] value) implements Command {
        @Override
        public boolean equals(Object o) {
            return o instanceof WriteRegister w && regnum == w.regnum && Arrays.equals(value, w.value);
        }

        @Override
        public int hashCode() {
            return regnum * 31 + Arrays.hashCode(value);
        }

        @Override
        public String toString() {
            return "WriteRegister[" + regnum + ", " + value.length + " bytes]";
        }
    }

    /** {@code m addr,length}. */
    record ReadMemory(long address, int length) implements Command {
    }

    /** {@code M addr,length:XX...} or {@code X addr,length:binary}. */
    record WriteMemory(long address, byte[] data) implements Command {
        @Override
        public boolean equals(Object o) {
            return o instanceof WriteMemory w && address == w.address && Arrays.equals(data, w.data);
        }

        @Override
        public int hashCode() {
            return Long.hashCode(address) * 31 + Arrays.hashCode(data);
        }

        @Override
        public String toString() {
            return "WriteMemory[0x" + Long.toHexString(address) + ", " + data.length + " bytes]";
        }
    }

    /** {@code c [addr]} or {@code C sig[;addr]}. */
    record Continue(int signal, OptionalLong address) implements Command {
    }

    /** {@code s [addr]} or {@code S sig[;addr]}. */
    record Step(int signal, OptionalLong address) implements Command {
    }

    /** {@code vCont?}. */
    record VContQuery() implements Command {
    }

    /** The action letters of {@code vCont}. */
    /** {@code RANGE} is {@code rSTART,END}: step while the PC stays in [start, end). */
    enum VContKind { CONTINUE, STEP, STOP, RANGE }

    /**
     * One {@code vCont} action.
     *
     * @param thread the thread-id after {@code :}, or {@code null} for the default action
     * @param rangeStart for {@code RANGE}, the first address of the range
     * @param rangeEnd for {@code RANGE}, the first address after it
     */
    record VContAction(VContKind kind, int signal, ThreadId thread, long rangeStart, long rangeEnd) {
        public VContAction {
            Objects.requireNonNull(kind, "kind");
        }

        public VContAction(VContKind kind, int signal, ThreadId thread) {
            this(kind, signal, thread, 0, 0);
        }
    }

    /** {@code vCont;action[:thread-id]...}. */
    record VCont(List<VContAction> actions) implements Command {
        public VCont {
            actions = List.copyOf(actions);
        }
    }

    /** {@code vCtrlC}: interrupt, answered with OK. */
    record CtrlC() implements Command {
    }

    /** {@code Z type,addr,kind} (insert) or {@code z type,addr,kind} (remove). */
    record Breakpoint(boolean insert, BreakpointType type, long address, int kind) implements Command {
    }

    /** {@code H op thread-id}, op {@code g} (registers/memory) or {@code c} (legacy step/continue). */
    record SetThread(char operation, ThreadId thread) implements Command {
    }

    /** {@code T thread-id}. */
    record ThreadAlive(ThreadId thread) implements Command {
    }

    /** {@code qfThreadInfo}. */
    record ThreadListFirst() implements Command {
    }

    /** {@code qsThreadInfo}. */
    record ThreadListNext() implements Command {
    }

    /** {@code qC}. */
    record CurrentThread() implements Command {
    }

    /** {@code qThreadExtraInfo,thread-id}. */
    record ThreadExtraInfo(ThreadId thread) implements Command {
    }

    /** {@code qAttached[:pid]}. */
    record Attached(OptionalInt pid) implements Command {
    }

    /** {@code qOffsets}. */
    record Offsets() implements Command {
    }

    /** {@code qSymbol::} and {@code qSymbol:...}: the stub needs no symbols. */
    record SymbolLookup() implements Command {
    }

    /** {@code qRcmd,hex}: a monitor command. */
    record Monitor(String command) implements Command {
    }

    /**
     * QEMU's {@code Qqemu.PhyMemMode:0|1} (gdb: {@code maintenance packet Qqemu.PhyMemMode:1}):
     * memory packets address guest-physical memory when on.
     */
    record PhysicalMemoryMode(boolean on) implements Command {
    }

    /** QEMU's {@code qqemu.PhyMemMode}: is physical memory mode on? */
    record PhysicalMemoryModeQuery() implements Command {
    }

    /** {@code qXfer:object:read:annex:offset,length}. */
    record XferRead(String object, String annex, long offset, int length) implements Command {
    }

    /** {@code QStartNoAckMode}. */
    record StartNoAckMode() implements Command {
    }

    /** {@code QThreadEvents:0|1}. */
    record ThreadEvents(boolean enable) implements Command {
    }

    /** {@code D[;pid]}. */
    record Detach(OptionalInt pid) implements Command {
    }

    /** {@code k}. */
    record Kill() implements Command {
    }

    /** {@code vKill;pid}. */
    record VKill(int pid) implements Command {
    }

    /** A packet the stub does not implement; answered with the empty packet. */
    record Unsupported(String name) implements Command {
    }

    /** A known packet with bad syntax; answered with an error. */
    record Malformed(String name, String reason) implements Command {
    }
}
