package dev.tdemu.gdbstub.session;

import dev.tdemu.gdbstub.command.Command;
import dev.tdemu.gdbstub.rsp.Rsp;
import dev.tdemu.gdbstub.rsp.RspOutbound;
import dev.tdemu.gdbstub.target.GdbSignal;
import dev.tdemu.gdbstub.target.NonStop;
import dev.tdemu.gdbstub.target.ResumeAction;
import dev.tdemu.gdbstub.target.ResumeRequest;
import dev.tdemu.gdbstub.target.StopEvent;
import dev.tdemu.gdbstub.target.StopReason;
import dev.tdemu.gdbstub.target.ThreadInfo;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Non-stop mode ({@code QNonStop:1}), as the GDB remote protocol's "Remote Non-Stop" section has
 * it: {@code vCont} resumes and stops single threads and is answered {@code OK} at once; each
 * thread's stop becomes a stop reply queued for gdb, the first announced by a {@code %Stop}
 * notification and each next one sent as the answer to gdb's {@code vStopped}, until {@code OK}
 * says the queue is empty; {@code ?} starts the queue afresh with every stopped thread. Which
 * threads run is kept here, from the resumes the stub asked for and the stops the target reported.
 * Everything runs on the event loop; the target's stops hop onto it.
 */
final class NonStopHandler {
    private static final Logger LOG = LogManager.getLogger("dev.tdemu.gdbstub.session");

    private final Link link;
    private final NonStop target;
    private final ThreadHandler threads;
    private final ExecutionHandler execution;
    private final Runnable onResume;

    private boolean on;
    /** Threads resumed and not reported stopped since. */
    private final Set<Integer> running = new LinkedHashSet<>();
    /** Threads gdb stopped with {@code vCont;t}: their stop is reported with signal 0, as the protocol asks. */
    private final Set<Integer> stopAsked = new HashSet<>();
    /** Threads stopped by gdb's Ctrl-C ({@code vCtrlC} or 0x03): their stop is a SIGINT. */
    private final Set<Integer> interruptAsked = new HashSet<>();
    /** Each stopped thread's last stop, for {@code ?}. */
    private final Map<Integer, StopEvent> lastStopOf = new HashMap<>();
    /** The target is gone (its {@code W}/{@code X}); null while it lives. */
    private StopEvent gone;
    /**
     * Threads the attach stopped besides the one it reported: counted as running (stopping) until
     * gdb's first {@code ?} sequence is over, then reported one by one as notifications. gdb 13.1
     * cannot take more than one stopped thread while it connects: {@code target remote} in non-stop
     * mode fails an internal assertion (remote.c, "!async_event_handler_marked") when {@code ?} and
     * {@code vStopped} report two, since it queues the second before its event loop is asynchronous.
     */
    private final List<StopEvent> deferred = new ArrayList<>();
    /** A {@code ?} sequence is in progress (its replies are drained with {@code vStopped}). */
    private boolean haltSequence;

    /** A stop reply waiting for gdb: the head is the one gdb was told of and has not acknowledged. */
    private record Queued(int threadId, String reply) {
    }

    private final ArrayDeque<Queued> queue = new ArrayDeque<>();
    /** The queue's head was sent (as a notification, or as the reply to {@code ?} or {@code vStopped}). */
    private boolean inFlight;
    /** Stop replies are formatted (registers read) one after another, so they queue in the order of the stops. */
    private CompletableFuture<Void> formatting = Link.DONE;

    NonStopHandler(Link link, NonStop target, ThreadHandler threads, ExecutionHandler execution, Runnable onResume) {
        this.link = link;
        this.target = target;
        this.threads = threads;
        this.execution = execution;
        this.onResume = onResume;
    }

    boolean on() {
        return on;
    }

    // ---- switching

    /** Enters non-stop mode (every thread is stopped: all-stop had no resume outstanding); {@code lastStop} is the stop gdb knows. */
    CompletionStage<StopEvent> enter(StopEvent lastStop) {
        return link.call("enter non-stop mode", () -> target.nonStop(true, ev -> link.runOnLoop(() -> stopped(ev))))
                .thenApply(v -> {
                    on = true;
                    running.clear();
                    stopAsked.clear();
                    interruptAsked.clear();
                    queue.clear();
                    inFlight = false;
                    lastStopOf.clear();
                    gone = null;
                    deferred.clear();
                    haltSequence = false;
                    switch (lastStop) {
                        case StopEvent.Stopped s -> {
                            lastStopOf.put(s.threadId(), s);
                            for (ThreadInfo t : threads.threads()) {
                                if (t.id() != s.threadId()) {
                                    running.add(t.id());
                                    deferred.add(new StopEvent.Stopped(t.id(), GdbSignal.NONE, StopReason.OTHER));
                                }
                            }
                        }
                        case StopEvent.Exited e -> gone = e;
                        case StopEvent.Terminated t -> gone = t;
                        case null -> {
                        }
                    }
                    LOG.debug("non-stop mode on");
                    return lastStop;
                });
    }

    /**
     * Leaves non-stop mode: the target stops every thread first. Completes with the stop all-stop
     * mode then reports for {@code ?}: the latest one, or a stop by request of the first thread.
     */
    CompletableFuture<StopEvent> leave() {
        return link.call("leave non-stop mode", () -> target.nonStop(false, null)).thenApply(v -> {
            on = false;
            running.clear();
            deferred.clear();
            queue.clear();
            inFlight = false;
            LOG.debug("non-stop mode off");
            if (gone != null) {
                return gone;
            }
            StopEvent last = lastStopOf.values().stream().reduce((a, b) -> b).orElse(null);
            if (last != null) {
                return last;
            }
            List<ThreadInfo> all = threads.threads();
            return all.isEmpty() ? null : new StopEvent.Stopped(all.getFirst().id(), GdbSignal.NONE, StopReason.INTERRUPTED);
        });
    }

    // ---- commands

    CompletionStage<Void> handle(Command.ExecutionCommand command) {
        return switch (command) {
            case Command.HaltReason h -> haltReason();
            case Command.VCont v -> vCont(v);
            case Command.VContQuery q -> link.sendNow("vCont;c;C;s;S;t;r");
            case Command.Continue c -> legacy(c, ResumeAction.CONTINUE, c.signal(), c.address().isPresent());
            case Command.Step s -> legacy(s, ResumeAction.STEP, s.signal(), s.address().isPresent());
            case Command.CtrlC c -> {
                interruptAll();
                yield link.sendNow("OK");
            }
            case Command.StopAcknowledged a -> stopAcknowledged();
            case Command.NonStopMode m -> throw new AssertionError("switching is the execution handler's");
        };
    }

    /**
     * {@code ?}: any notification sequence in progress is abandoned and a new one reports every
     * stopped thread, the first as this reply, the others for {@code vStopped}; {@code OK} when all
     * threads run. Waits for stops being formatted, so none is reported twice out of order.
     */
    private CompletionStage<Void> haltReason() {
        CompletableFuture<Void> done = formatting.thenCompose(v -> {
            queue.clear();
            inFlight = false;
            if (gone != null) {
                return execution.formatStop(gone).thenAccept(reply -> sendFirst(-1, reply));
            }
            List<Integer> stopped = new ArrayList<>();
            for (ThreadInfo t : threads.threads()) {
                if (!running.contains(t.id())) {
                    stopped.add(t.id());
                }
            }
            if (stopped.isEmpty()) {
                link.send("OK");
                haltSequence = false;
                releaseDeferred();
                return Link.DONE;
            }
            List<CompletableFuture<String>> replies = new ArrayList<>();
            for (int tid : stopped) {
                // A thread never reported stopped (it stopped with the others on attach) stopped without a signal.
                replies.add(execution.formatStop(lastStopOf.getOrDefault(tid,
                        new StopEvent.Stopped(tid, GdbSignal.NONE, StopReason.OTHER))));
            }
            return CompletableFuture.allOf(replies.toArray(CompletableFuture[]::new)).thenAccept(x -> {
                for (int i = 1; i < stopped.size(); i++) {
                    queue.add(new Queued(stopped.get(i), replies.get(i).join()));
                }
                sendFirst(stopped.getFirst(), replies.getFirst().join());
            });
        });
        formatting = done.handle((v, e) -> null);
        return done;
    }

    /** Sends {@code reply} as the answer to {@code ?}: it becomes the queue's head, in flight. */
    private void sendFirst(int threadId, String reply) {
        queue.addFirst(new Queued(threadId, reply));
        inFlight = true;
        haltSequence = true;
        link.send(reply);
    }

    /** {@code vStopped}: gdb has the head; the next queued stop reply, or {@code OK} when none is left. */
    private CompletionStage<Void> stopAcknowledged() {
        if (inFlight && !queue.isEmpty()) {
            queue.poll();
        }
        if (queue.isEmpty()) {
            inFlight = false;
            link.send("OK");
            if (haltSequence) {
                haltSequence = false;
                releaseDeferred();
            }
            return Link.DONE;
        }
        inFlight = true;
        return link.sendNow(queue.peek().reply());
    }

    /**
     * {@code vCont} in non-stop mode: each thread takes its action by vCont's rule; a thread that
     * runs is not resumed again, a stopped one is not stopped again, and an action without a
     * thread-id does not resume a thread whose stop gdb has not yet taken from the queue (gdb still
     * thinks it runs). Range steps are single steps here: gdb steps again itself while the PC stays
     * in the range, which the protocol allows.
     */
    private CompletionStage<Void> vCont(Command.VCont v) {
        for (Command.VContAction a : v.actions()) {
            if (a.thread() != null && !threads.existsOrWildcard(a.thread())) {
                return link.sendNow(link.errorReply(v, Link.ESRCH, "vCont names unknown thread " + a.thread()));
            }
        }
        List<ResumeRequest.ThreadResume> list = new ArrayList<>();
        List<Integer> resumed = new ArrayList<>();
        List<Integer> toStop = new ArrayList<>();
        for (ThreadInfo t : threads.threads()) {
            int tid = t.id();
            Command.VContAction a = ExecutionHandler.chosenFor(v, tid);
            ResumeAction action = ResumeAction.STAY_STOPPED;
            if (a != null) {
                switch (a.kind()) {
                    case STOP -> {
                        if (running.contains(tid)) {
                            toStop.add(tid);
                        }
                    }
                    case CONTINUE, STEP, RANGE -> {
                        boolean unseenStop = a.thread() == null && queued(tid);
                        if (!running.contains(tid) && gone == null && !unseenStop) {
                            action = a.kind() == Command.VContKind.CONTINUE ? ResumeAction.CONTINUE : ResumeAction.STEP;
                            resumed.add(tid);
                        }
                    }
                }
            }
            int signal = action == ResumeAction.STAY_STOPPED || a == null ? GdbSignal.NONE : a.signal();
            list.add(new ResumeRequest.ThreadResume(tid, action, signal));
        }
        return resume(v, new ResumeRequest(list), resumed, toStop);
    }

    /** {@code c}/{@code s} (gdb uses vCont in non-stop mode; others may not): the {@code Hc} thread alone. */
    private CompletionStage<Void> legacy(Command command, ResumeAction action, int signal, boolean withAddress) {
        if (withAddress) {
            return link.sendNow(link.errorReply(command, Link.EINVAL, "resuming at an address is not supported in non-stop mode"));
        }
        int selected = threads.continueThread();
        if (selected < 0) {
            return link.sendNow(link.errorReply(command, Link.ESRCH, "no thread to resume"));
        }
        if (running.contains(selected)) {
            return link.sendNow("OK");
        }
        List<ResumeRequest.ThreadResume> list = new ArrayList<>();
        for (ThreadInfo t : threads.threads()) {
            boolean it = t.id() == selected;
            list.add(new ResumeRequest.ThreadResume(t.id(), it ? action : ResumeAction.STAY_STOPPED, it ? signal : GdbSignal.NONE));
        }
        return resume(command, new ResumeRequest(list), List.of(selected), List.of());
    }

    private CompletionStage<Void> resume(Command command, ResumeRequest request, List<Integer> resumed, List<Integer> toStop) {
        if (resumed.isEmpty()) {
            stop(toStop, stopAsked);
            return link.sendNow("OK");
        }
        // Running before the call: a thread's stop may come back before the call's answer does.
        running.addAll(resumed);
        dropQueued(resumed);
        onResume.run();
        LOG.debug("non-stop resume: {}", request);
        return link.call("resume threads", () -> target.resumeThreads(request)).handle((v, e) -> {
            if (e != null) {
                running.removeAll(resumed);
                link.send(link.errorFor(command, e));
                return null;
            }
            stop(toStop, stopAsked);
            link.send("OK");
            return null;
        });
    }

    /** gdb's Ctrl-C in non-stop mode ({@code vCtrlC}, or 0x03): every running thread stops, each reported as SIGINT. */
    void interruptAll() {
        if (running.isEmpty()) {
            LOG.debug("interrupt ignored: no thread runs");
            return;
        }
        LOG.debug("interrupt from gdb: stopping threads {}", running);
        stop(new ArrayList<>(running), interruptAsked);
    }

    private void stop(List<Integer> tids, Set<Integer> why) {
        List<Integer> ask = new ArrayList<>();
        for (int tid : tids) {
            StopEvent held = deferredOf(tid);
            if (held != null) {
                deferred.remove(held); // stopped already, since the attach: reported now
                stopped(held);
            } else {
                ask.add(tid);
            }
        }
        tids = ask;
        if (tids.isEmpty()) {
            return;
        }
        why.addAll(tids);
        try {
            target.stopThreads(List.copyOf(tids));
        } catch (RuntimeException e) {
            LOG.warn("target failed to stop threads {}: {}", tids, e.toString());
        }
    }

    private StopEvent deferredOf(int tid) {
        for (StopEvent e : deferred) {
            if (e instanceof StopEvent.Stopped s && s.threadId() == tid) {
                return e;
            }
        }
        return null;
    }

    /** After gdb's first {@code ?} sequence: the attach's other stopped threads, each as a notification. */
    private void releaseDeferred() {
        List<StopEvent> release = List.copyOf(deferred);
        deferred.clear();
        for (StopEvent e : release) {
            stopped(e);
        }
    }

    private boolean queued(int tid) {
        for (Queued q : queue) {
            if (q.threadId() == tid) {
                return true;
            }
        }
        return false;
    }

    /** Resumed threads' stops still waiting behind the head are stale: gdb resumed them knowing they stopped. */
    private void dropQueued(List<Integer> tids) {
        boolean first = true;
        for (var it = queue.iterator(); it.hasNext(); ) {
            Queued q = it.next();
            boolean head = first && inFlight;
            first = false;
            if (!head && tids.contains(q.threadId())) {
                it.remove();
            }
        }
    }

    // ---- stops

    /** A stop the target reported (on the event loop): queued, and announced if nothing is in flight. */
    private void stopped(StopEvent event) {
        if (!on || link.closed()) {
            LOG.debug("stop {} after non-stop mode ended; not reported", event);
            return;
        }
        StopEvent report = switch (event) {
            case StopEvent.Stopped s -> {
                int tid = s.threadId();
                running.remove(tid);
                boolean askedT = stopAsked.remove(tid);
                boolean askedInt = interruptAsked.remove(tid);
                StopEvent.Stopped r = s;
                if (s.reason() instanceof StopReason.Interrupted) {
                    // The protocol: a thread stopped by vCont;t reports signal 0; Ctrl-C is a SIGINT.
                    r = new StopEvent.Stopped(tid, askedInt ? GdbSignal.INT : askedT ? GdbSignal.NONE : s.signal(), s.reason());
                }
                if (s.reason() instanceof StopReason.Fault f) {
                    LOG.info("thread {}: {}", tid, f.explanation()); // no console packet between notifications
                }
                lastStopOf.put(tid, r);
                yield r;
            }
            case StopEvent.Exited e -> gone(e);
            case StopEvent.Terminated t -> gone(t);
        };
        int tid = report instanceof StopEvent.Stopped s ? s.threadId() : -1;
        CompletableFuture<Void> done = formatting.thenCompose(v -> execution.formatStop(report)).thenAccept(reply -> enqueue(tid, reply));
        formatting = done.handle((v, e) -> {
            if (e != null) {
                LOG.warn("could not report stop {}: {}", report, Link.describe(e));
            }
            return null;
        });
    }

    private StopEvent gone(StopEvent end) {
        gone = end;
        running.clear();
        stopAsked.clear();
        interruptAsked.clear();
        return end;
    }

    private void enqueue(int tid, String reply) {
        if (!on || link.closed()) {
            return;
        }
        queue.add(new Queued(tid, reply));
        if (!inFlight) {
            inFlight = true;
            link.send(new RspOutbound.Notification("Stop", Rsp.ascii(reply)));
        }
    }
}
