package dev.tdemu.gdbstub.target;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A resume in all-stop mode, already resolved by the stub into one explicit action per thread
 * (gdb's "leftmost matching action, then the default action" rule is applied by the stub).
 * Every thread the target listed appears exactly once.
 *
 * @param threads the per-thread actions, in the order of {@link DebugTarget#threads()}
 */
public record ResumeRequest(List<ThreadResume> threads) {

    /**
     * @param threadId the thread
     * @param action   continue, step or stay stopped
     * @param signal   the gdb signal to deliver on resume ({@link GdbSignal#NONE} for none)
     */
    public record ThreadResume(int threadId, ResumeAction action, int signal) {
        public ThreadResume {
            Objects.requireNonNull(action, "action");
            GdbSignal.check(signal);
        }
    }

    public ResumeRequest {
        threads = List.copyOf(threads);
    }

    /** The action for {@code threadId}, if the thread is part of the request. */
    public Optional<ThreadResume> forThread(int threadId) {
        return threads.stream().filter(t -> t.threadId() == threadId).findFirst();
    }

    /** The threads asked to single-step. */
    public List<ThreadResume> stepping() {
        return threads.stream().filter(t -> t.action() == ResumeAction.STEP).toList();
    }

    /** True when at least one thread runs or steps. */
    public boolean resumesAnything() {
        return threads.stream().anyMatch(t -> t.action() != ResumeAction.STAY_STOPPED);
    }
}
