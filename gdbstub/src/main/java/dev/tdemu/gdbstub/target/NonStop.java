package dev.tdemu.gdbstub.target;

import java.util.Collection;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;

/**
 * gdb's non-stop mode ({@code set non-stop on}, {@code QNonStop:1}): each thread stops and resumes
 * on its own while the others go on. A target offers it through {@link DebugTarget#nonStop()}; the
 * stub then advertises {@code QNonStop+}, keeps track of which threads run, turns each stop into a
 * {@code %Stop} notification and queues them for {@code vStopped}.
 *
 * <p>In non-stop mode the target reports every stop of a thread (a breakpoint, a step's end, a
 * requested stop, the target's end) to the listener given to {@link #nonStop(boolean, Consumer)},
 * from any thread, once per stop; {@link DebugTarget#resume} and {@link DebugTarget#interrupt} are
 * not used. Register and memory requests name a stopped thread but may come while others run, and
 * breakpoints may be inserted and removed while threads run (gdb keeps them inserted).
 */
public interface NonStop {

    /**
     * Switches non-stop mode. On: the threads stay as they are (gdb switches when it connects, when
     * everything is stopped), and from now on each stop goes to {@code listener}. Off: every running
     * thread is stopped first; the stage completes when all are, and their stops are not reported
     * (gdb asks with {@code ?}). A detach leaves non-stop mode too.
     *
     * @param listener where stops go while on (ignored when switching off)
     */
    CompletionStage<Void> nonStop(boolean on, Consumer<StopEvent> listener);

    /**
     * Resumes the threads the request continues or steps (each of them stopped); a thread whose
     * action is {@link ResumeAction#STAY_STOPPED} is left as it is, running or stopped. Completes
     * once they were let go (or exceptionally with a {@link TargetException} saying why not, nothing
     * resumed); their stops go to the listener.
     */
    CompletionStage<Void> resumeThreads(ResumeRequest request);

    /**
     * Asks these running threads to stop (gdb's {@code vCont;t}, or Ctrl-C). Non-blocking; each
     * stop goes to the listener, as {@link StopReason#INTERRUPTED} unless another stop came first.
     */
    void stopThreads(Collection<Integer> threadIds);
}
