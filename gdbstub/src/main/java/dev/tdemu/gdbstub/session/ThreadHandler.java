package dev.tdemu.gdbstub.session;

import dev.tdemu.gdbstub.command.Command;
import dev.tdemu.gdbstub.command.ThreadId;
import dev.tdemu.gdbstub.rsp.Hex;
import dev.tdemu.gdbstub.target.DebugTarget;
import dev.tdemu.gdbstub.target.ThreadInfo;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.function.IntFunction;

/**
 * Threads: the lists ({@code qfThreadInfo}, {@code qsThreadInfo}, {@code qC},
 * {@code qThreadExtraInfo}, {@code T}) and the selection gdb makes with {@code Hg} (registers and
 * memory) and {@code Hc} (legacy {@code c}/{@code s}); after a stop the reporting thread is the
 * current and general thread, as gdb assumes in all-stop mode.
 */
final class ThreadHandler {
    private final Link link;
    private final DebugTarget target;
    private ThreadId generalThread = ThreadId.ANY_THREAD;
    private ThreadId continueThread = ThreadId.ANY_THREAD;
    private int currentThread = -1;

    ThreadHandler(Link link, DebugTarget target) {
        this.link = link;
        this.target = target;
    }

    CompletionStage<Void> handle(Command.ThreadCommand command) {
        boolean multiprocess = link.features().multiprocess();
        return switch (command) {
            case Command.SetThread s -> {
                if (!existsOrWildcard(s.thread())) {
                    yield link.sendNow(link.errorReply(s, Link.ESRCH, "no thread " + s.thread()));
                }
                if (s.operation() == 'g') {
                    generalThread = s.thread();
                } else {
                    continueThread = s.thread();
                }
                yield link.sendNow("OK");
            }
            case Command.ThreadAlive t -> link.sendNow(t.thread().isSpecific() && existsOrWildcard(t.thread())
                    ? "OK" : link.errorReply(t, Link.ESRCH, "no thread " + t.thread()));
            case Command.ThreadListFirst f -> {
                StringBuilder sb = new StringBuilder("m");
                for (ThreadInfo t : threads()) {
                    if (sb.length() > 1) {
                        sb.append(',');
                    }
                    sb.append(ThreadId.format(t.id(), multiprocess));
                }
                yield link.sendNow(sb.length() > 1 ? sb.toString() : "l");
            }
            case Command.ThreadListNext n -> link.sendNow("l");
            case Command.CurrentThread c -> {
                int tid = currentOrFirst();
                yield link.sendNow(tid > 0 ? "QC" + ThreadId.format(tid, multiprocess)
                        : link.errorReply(c, Link.ESRCH, "no threads"));
            }
            case Command.ThreadExtraInfo t -> {
                Optional<ThreadInfo> info = t.thread().isSpecific() && t.thread().processMatches()
                        ? find(t.thread().tid()) : Optional.empty();
                yield link.sendNow(info.map(i -> Hex.encodeText(i.name()))
                        .orElseGet(() -> link.errorReply(t, Link.ESRCH, "no thread " + t.thread())));
            }
        };
    }

    /** The target's threads now (never null). */
    List<ThreadInfo> threads() {
        List<ThreadInfo> threads = target.threads();
        return threads == null ? List.of() : threads;
    }

    Optional<ThreadInfo> find(int id) {
        return threads().stream().filter(t -> t.id() == id).findFirst();
    }

    /** Whether {@code id} names a thread of ours, or all or any of them. */
    boolean existsOrWildcard(ThreadId id) {
        if (!id.processMatches()) {
            return false;
        }
        return !id.isSpecific() || find(id.tid()).isPresent();
    }

    /** The thread of the last stop if it still exists, else the first one; -1 without threads. */
    int currentOrFirst() {
        List<ThreadInfo> threads = threads();
        for (ThreadInfo t : threads) {
            if (t.id() == currentThread) {
                return currentThread;
            }
        }
        return threads.isEmpty() ? -1 : threads.getFirst().id();
    }

    /** The thread legacy {@code c}/{@code s} resume: {@code Hc}'s or the current one; -1 when it is gone. */
    int continueThread() {
        int selected = continueThread.isSpecific() ? continueThread.tid() : currentOrFirst();
        return selected > 0 && find(selected).isPresent() ? selected : -1;
    }

    /** A stop reported by {@code threadId}: it becomes the current and the general thread. */
    void stopped(int threadId) {
        currentThread = threadId;
        generalThread = ThreadId.of(threadId);
    }

    /** Runs {@code body} with the thread {@code Hg} selected (or the current one); an error reply if it is gone. */
    CompletionStage<Void> withGeneralThread(Command command, IntFunction<CompletionStage<Void>> body) {
        int tid;
        if (generalThread.isSpecific()) {
            tid = find(generalThread.tid()).isPresent() ? generalThread.tid() : -1;
        } else {
            tid = currentOrFirst();
        }
        if (tid < 0) {
            return link.sendNow(link.errorReply(command, Link.ESRCH, "no such thread: " + generalThread));
        }
        return body.apply(tid);
    }
}
