package dev.tdemu.gdbstub.target;

import dev.tdemu.gdbstub.registers.RegisterFile;
import dev.tdemu.gdbstub.registers.RegisterLayout;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * What the GDB stub drives: a machine with threads (vCPUs), registers, memory and breakpoints,
 * debugged in all-stop mode, and in non-stop mode where it offers {@link #nonStop()}. The emulator
 * implements it; the stub knows nothing else about it.
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
 *   <li>Optional capabilities ({@link #breakpoints()}, {@link #executable()},
 *       {@link #physicalMemory()}, {@link #monitorCommands()}) are declared by the target, not
 *       discovered by trying: the stub's {@code qSupported} reply and its handlers consult them.</li>
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

    // ---- optional capabilities: declared up front, each empty when the target lacks it ----

    /**
     * Breakpoints and watchpoints ({@code Z}/{@code z}) and which kinds of them; without it every
     * {@code Z} packet gets the empty reply. Must return the same for the life of the target.
     */
    default Optional<Breakpoints> breakpoints() {
        return Optional.empty();
    }

    /**
     * The target's program as a file on the debugger's machine, if there is one: served as
     * {@code qXfer:exec-file:read} (and offered in {@code qSupported} only then), so that gdb loads
     * its symbols on {@code target remote} without a {@code file} command.
     */
    default Optional<String> executable() {
        return Optional.empty();
    }

    /** QEMU's physical memory mode ({@code Qqemu.PhyMemMode}); without it those packets get the empty reply. */
    default Optional<PhysicalMemory> physicalMemory() {
        return Optional.empty();
    }

    /**
     * gdb's non-stop mode ({@code QNonStop}): threads stop and resume one at a time; without it the
     * stub does not offer {@code QNonStop+} and gdb stays in all-stop mode.
     */
    default Optional<NonStop> nonStop() {
        return Optional.empty();
    }

    /** gdb's {@code monitor} commands; without it each one is answered with one line saying there are none. */
    default Optional<MonitorCommands> monitorCommands() {
        return Optional.empty();
    }
}
