package dev.tdemu.gdbstub;

import dev.tdemu.gdbstub.registers.RegisterFile;
import dev.tdemu.gdbstub.registers.RegisterLayout;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * What the GDB stub drives: a machine with threads (vCPUs), registers, memory and breakpoints,
 * debugged in all-stop mode. The emulator implements it; the stub knows nothing else about it.
 *
 * <h2>Threading contract</h2>
 * <ul>
 *   <li>Every method may be called from a Netty event-loop thread and <b>must not block</b>: do
 *       the work on the target's own threads and complete the returned stage from there (or return
 *       an already completed stage when the answer is at hand). Stages may complete on any thread.</li>
 *   <li>A session issues at most one request at a time, except {@link #interrupt()}, which can
 *       arrive at any moment while a {@link #resume} is outstanding. Implementations must still be
 *       thread-safe, because a new session may attach while the old one's cleanup finishes.</li>
 *   <li>Register, memory and breakpoint requests are issued while the target is halted (after
 *       {@code attach} or a resume's stop event). The one exception is the cleanup after a client
 *       vanished while the target ran: the stub interrupts, waits up to the cleanup timeout for the
 *       stop, and then removes its breakpoints even if the stop never came.</li>
 *   <li>Failures: complete exceptionally with {@link TargetException} for expected refusals
 *       (unreadable memory, a non-debug TD); the stub answers gdb with an {@code E} reply. Any other
 *       exception is treated the same way but logged as a target bug.</li>
 * </ul>
 *
 * <h2>Stop events</h2>
 * {@link #resume} returns a stage that completes exactly once, when every thread has stopped,
 * with the {@link StopEvent} describing the thread and reason. The stub turns it into exactly one
 * stop reply. {@link #interrupt()} asks a running target to stop; the outstanding stage then
 * completes with {@link StopReason.Interrupted} (or with whatever stop happened first).
 */
public interface DebugTarget {

    /**
     * The register layout: {@code g} packet order, register numbers and the target description
     * served to gdb. Override to add features of your own ({@code RegisterLayout.x86_64().extend()}).
     * Must return the same layout for the life of the target.
     */
    default RegisterLayout registerLayout() {
        return RegisterLayout.x86_64();
    }

    /**
     * The target's program as a file on the debugger's machine, if there is one: served as
     * {@code qXfer:exec-file:read}, so that gdb loads its symbols on {@code target remote} without
     * a {@code file} command. The default has none (the stub then does not offer the object).
     */
    default Optional<String> executable() {
        return Optional.empty();
    }

    /**
     * Whether memory reads and writes address guest-physical memory instead of linear addresses
     * (QEMU's {@code Qqemu.PhyMemMode}); empty when the target has no physical mode (the default).
     * Called on the stub's event loop: must not block.
     */
    default Optional<Boolean> physicalMemoryMode() {
        return Optional.empty();
    }

    /** Switches physical memory mode; false when the target has none (the default). Must not block. */
    default boolean setPhysicalMemoryMode(boolean on) {
        return false;
    }

    /**
     * The current threads (vCPUs), ids at least 1, in a stable order. A cheap, non-blocking snapshot.
     */
    List<ThreadInfo> threads();

    /**
     * A debugger attached: halt every thread (if running) and report the current stop state. For a
     * target that already exited, complete with {@link StopEvent.Exited} or
     * {@link StopEvent.Terminated}.
     */
    CompletionStage<StopEvent> attach();

    /** Reads all registers of a thread; absent registers are shown as unavailable. */
    CompletionStage<RegisterFile> readRegisters(int threadId);

    /** Writes the registers present in {@code values} to a thread; others are left alone. */
    CompletionStage<Void> writeRegisters(int threadId, RegisterFile values);

    /**
     * Reads one register; an empty optional means "unavailable". The default reads all registers.
     */
    default CompletionStage<Optional<byte[]>> readRegister(int threadId, int regnum) {
        return readRegisters(threadId).thenApply(f -> f.bytes(regnum));
    }

    /** Writes one register from its raw little-endian bytes. The default goes through {@link #writeRegisters}. */
    default CompletionStage<Void> writeRegister(int threadId, int regnum, byte[] value) {
        RegisterFile one = RegisterFile.empty(registerLayout()).setBytes(regnum, value);
        return writeRegisters(threadId, one);
    }

    /**
     * Reads guest memory at a linear address as seen by {@code threadId} (its paging). May return
     * fewer bytes than asked when the range crosses into unreadable memory; must fail (rather than
     * return zero bytes) when the first byte is unreadable.
     */
    CompletionStage<byte[]> readMemory(int threadId, long address, int length);

    /** Writes guest memory at a linear address as seen by {@code threadId}; all or nothing. */
    CompletionStage<Void> writeMemory(int threadId, long address, byte[] data);

    /**
     * Inserts a breakpoint or watchpoint for all threads.
     *
     * @param kind for Z0/Z1 the breakpoint kind (1 on x86); for watchpoints the length in bytes
     */
    CompletionStage<BreakpointResult> insertBreakpoint(BreakpointType type, long address, int kind);

    /** Removes a breakpoint or watchpoint inserted before with the same arguments. */
    CompletionStage<BreakpointResult> removeBreakpoint(BreakpointType type, long address, int kind);

    /**
     * Resumes the threads as requested and completes when the target stops again (all-stop). The
     * request covers every thread. The stage must complete exactly once.
     */
    CompletionStage<StopEvent> resume(ResumeRequest request);

    /**
     * Asks the running target to stop all threads (gdb's Ctrl-C). Non-blocking; a no-op when
     * nothing is running. The outstanding {@link #resume} stage completes when the threads stopped.
     */
    void interrupt();

    /** Kills the target (gdb's {@code kill}); later attaches report it as exited or terminated. */
    CompletionStage<Void> kill();

    /**
     * The debugger has left (detach or disconnect). The stub has already removed the breakpoints it
     * inserted; resume every thread as it would run without a debugger.
     */
    CompletionStage<Void> detach();

    /**
     * Executes a {@code monitor} command. The default answers that there are none.
     */
    default CompletionStage<MonitorReply> monitor(String command) {
        return CompletableFuture.completedFuture(
                MonitorReply.failed("This target has no monitor commands (got \"" + command + "\").\n"));
    }
}
