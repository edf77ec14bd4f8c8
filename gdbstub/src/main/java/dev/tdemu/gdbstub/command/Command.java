package dev.tdemu.gdbstub.command;

import dev.tdemu.gdbstub.target.Breakpoint;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * A decoded gdb command; {@link CommandParser} makes them from packet payloads. Commands come in
 * groups, one per feature of the stub (as the Rust gdbstub crate splits {@code core_impl}): the
 * session switches once over the group and hands the command to that feature's handler, which
 * switches over its own group. Unsupported and malformed packets stand alone.
 */
public sealed interface Command {

    /** How an error reply to this command may be spelled. */
    enum ErrorForm {
        /** {@code E.text} when gdb offered {@code error-message+}, else {@code Enn}. */
        TEXT_IF_NEGOTIATED,
        /**
         * {@code E.text} always: gdb prints the raw reply ("remote failure reply '...'"), and has
         * understood {@code E.} there long before it negotiated error messages (gdb 13 does not).
         */
        TEXT_ALWAYS,
        /** {@code Enn} only: gdb's reply parser for the packet accepts nothing else ({@code m}, {@code qRcmd}). */
        ENN_ONLY
    }

    /** How an error reply to this command may be spelled. */
    default ErrorForm errorForm() {
        return ErrorForm.TEXT_IF_NEGOTIATED;
    }

    /** Whether the command is served while the target runs (all others are refused meanwhile). */
    default boolean servedWhileRunning() {
        return false;
    }

    /** Connection-level queries and settings: {@code qSupported}, no-ack mode, {@code qXfer}, fixed answers. */
    sealed interface QueryCommand extends Command {
    }

    /**
     * {@code g}, {@code G}, {@code p}, {@code P}. Their errors are always {@code E.text}: gdb 13
     * prints a failed register access's raw reply ("Could not write register "cs"; remote failure
     * reply 'E.text'"), without negotiating error messages.
     */
    sealed interface RegisterCommand extends Command {
        @Override
        default ErrorForm errorForm() {
            return ErrorForm.TEXT_ALWAYS;
        }
    }

    /** {@code m}, {@code M}, {@code X} and QEMU's physical memory mode. */
    sealed interface MemoryCommand extends Command {
    }

    /**
     * Resuming and stopping: {@code ?}, {@code c}/{@code C}, {@code s}/{@code S}, {@code vCont},
     * {@code vCtrlC}, and non-stop mode's {@code QNonStop} and {@code vStopped}.
     */
    sealed interface ExecutionCommand extends Command {
    }

    /** {@code Z}/{@code z}. */
    sealed interface BreakpointCommand extends Command {
    }

    /** Thread selection and lists: {@code H}, {@code T}, {@code qfThreadInfo}, {@code qC}, ... */
    sealed interface ThreadCommand extends Command {
    }

    /** {@code qRcmd}. */
    sealed interface MonitorCommand extends Command {
        @Override
        default ErrorForm errorForm() {
            return ErrorForm.ENN_ONLY;
        }
    }

    /** Ending the session: {@code D}, {@code k}, {@code vKill}. */
    sealed interface LifecycleCommand extends Command {
    }

    /** {@code qSupported[:feature;...]}: gdb's features, e.g. {@code multiprocess+}. */
    record QuerySupported(List<String> gdbFeatures) implements QueryCommand {
        public QuerySupported {
            gdbFeatures = List.copyOf(gdbFeatures);
        }

        public boolean gdbSupports(String feature) {
            return gdbFeatures.contains(feature + "+");
        }
    }

    /** {@code ?}: why is the target halted. */
    record HaltReason() implements ExecutionCommand {
    }

    /** {@code g}. */
    record ReadRegisters() implements RegisterCommand {
    }

    /** {@code G XX...}: register bytes in {@code g} order, possibly fewer than the whole layout. */
    record WriteRegisters(byte[] data) implements RegisterCommand {
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
    record ReadRegister(int regnum) implements RegisterCommand {
    }

    /** {@code P n=r}. */
    record WriteRegister(int regnum, byte[] value) implements RegisterCommand {
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
    record ReadMemory(long address, int length) implements MemoryCommand {
        @Override
        public ErrorForm errorForm() {
            return ErrorForm.ENN_ONLY; // gdb parses nothing else in an m reply
        }
    }

    /** {@code M addr,length:XX...} or {@code X addr,length:binary}. */
    record WriteMemory(long address, byte[] data) implements MemoryCommand {
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
    record Continue(int signal, OptionalLong address) implements ExecutionCommand {
    }

    /** {@code s [addr]} or {@code S sig[;addr]}. */
    record Step(int signal, OptionalLong address) implements ExecutionCommand {
    }

    /** {@code vCont?}. */
    record VContQuery() implements ExecutionCommand {
    }

    /** The action letters of {@code vCont}; {@code RANGE} is {@code rSTART,END}: step while the PC stays in [start, end). */
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
    record VCont(List<VContAction> actions) implements ExecutionCommand {
        public VCont {
            actions = List.copyOf(actions);
        }
    }

    /** {@code vCtrlC}: interrupt, answered with OK. */
    record CtrlC() implements ExecutionCommand {
        @Override
        public boolean servedWhileRunning() {
            return true;
        }
    }

    /**
     * {@code QNonStop:1|0}: gdb's non-stop mode on or off. On, each thread stops and resumes on its
     * own, {@code vCont} is answered {@code OK} at once and stops come as {@code %Stop}
     * notifications; off (all-stop), every thread is stopped first.
     */
    record NonStopMode(boolean on) implements ExecutionCommand {
    }

    /** {@code vStopped}: gdb took the last stop notification (or reply); the next queued stop, or {@code OK}. */
    record StopAcknowledged() implements ExecutionCommand {
    }

    /** {@code Z type,addr,kind}: insert {@code breakpoint}. */
    record InsertBreakpoint(Breakpoint breakpoint) implements BreakpointCommand {
    }

    /** {@code z type,addr,kind}: remove {@code breakpoint}. */
    record RemoveBreakpoint(Breakpoint breakpoint) implements BreakpointCommand {
    }

    /** {@code H op thread-id}, op {@code g} (registers/memory) or {@code c} (legacy step/continue). */
    record SetThread(char operation, ThreadId thread) implements ThreadCommand {
    }

    /** {@code T thread-id}. */
    record ThreadAlive(ThreadId thread) implements ThreadCommand {
    }

    /** {@code qfThreadInfo}. */
    record ThreadListFirst() implements ThreadCommand {
    }

    /** {@code qsThreadInfo}. */
    record ThreadListNext() implements ThreadCommand {
    }

    /** {@code qC}. */
    record CurrentThread() implements ThreadCommand {
    }

    /** {@code qThreadExtraInfo,thread-id}. */
    record ThreadExtraInfo(ThreadId thread) implements ThreadCommand {
    }

    /** {@code qAttached[:pid]}. */
    record Attached(OptionalInt pid) implements QueryCommand {
    }

    /** lldb's {@code qWatchpointSupportInfo[:]}: how many hardware watchpoints there are. */
    record WatchpointSupportInfo() implements QueryCommand {
    }

    /** {@code qOffsets}. */
    record Offsets() implements QueryCommand {
    }

    /** {@code qSymbol::} and {@code qSymbol:...}: the stub needs no symbols. */
    record SymbolLookup() implements QueryCommand {
    }

    /** {@code qRcmd,hex}: a monitor command. */
    record Monitor(String command) implements MonitorCommand {
    }

    /**
     * QEMU's {@code Qqemu.PhyMemMode:0|1} (gdb: {@code maintenance packet Qqemu.PhyMemMode:1}):
     * memory packets address guest-physical memory when on.
     */
    record PhysicalMemoryMode(boolean on) implements MemoryCommand {
    }

    /** QEMU's {@code qqemu.PhyMemMode}: is physical memory mode on? */
    record PhysicalMemoryModeQuery() implements MemoryCommand {
    }

    /** {@code qXfer:object:read:annex:offset,length}. */
    record XferRead(String object, String annex, long offset, int length) implements QueryCommand {
    }

    /** {@code QStartNoAckMode}. */
    record StartNoAckMode() implements QueryCommand {
    }

    /** {@code QThreadEvents:0|1}. */
    record ThreadEvents(boolean enable) implements QueryCommand {
    }

    /** {@code D[;pid]}. */
    record Detach(OptionalInt pid) implements LifecycleCommand {
    }

    /** {@code k}. */
    record Kill() implements LifecycleCommand {
    }

    /** {@code vKill;pid}. */
    record VKill(int pid) implements LifecycleCommand {
    }

    /** A packet the stub does not implement; answered with the empty packet. */
    record Unsupported(String name) implements Command {
    }

    /** A known packet with bad syntax; answered with an error. */
    record Malformed(String name, String reason) implements Command {
        @Override
        public ErrorForm errorForm() {
            return name.equals("m") || name.startsWith("qRcmd") ? ErrorForm.ENN_ONLY : ErrorForm.TEXT_IF_NEGOTIATED;
        }
    }
}
