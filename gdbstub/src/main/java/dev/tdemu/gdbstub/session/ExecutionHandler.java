package dev.tdemu.gdbstub.session;

import dev.tdemu.gdbstub.command.Command;
import dev.tdemu.gdbstub.registers.RegisterDef;
import dev.tdemu.gdbstub.registers.RegisterLayout;
import dev.tdemu.gdbstub.target.DebugTarget;
import dev.tdemu.gdbstub.target.ResumeAction;
import dev.tdemu.gdbstub.target.ResumeRequest;
import dev.tdemu.gdbstub.target.StopEvent;
import dev.tdemu.gdbstub.target.StopReason;
import dev.tdemu.gdbstub.target.ThreadInfo;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Future;
import java.util.function.Function;

/**
 * Running and stopping, all-stop: the attach stop and {@code ?}, legacy {@code c}/{@code s}
 * (with a signal, at an address), {@code vCont} with gdb's default-action rule, range stepping
 * ({@code vCont;r}, done here for any target), gdb's Ctrl-C (0x03 or {@code vCtrlC}), and the one
 * stop reply per resume, with the layout's frame registers expedited. {@code QNonStop} switches
 * to non-stop mode where the target offers it; its commands then go to {@link NonStopHandler}.
 */
final class ExecutionHandler {
    private static final Logger LOG = LogManager.getLogger("dev.tdemu.gdbstub.session");

    /** How long the event loop waits for a single step to end before it lets the target call back. */
    static final long STEP_SPIN_NANOS = 150_000;

    private final Link link;
    private final DebugTarget target;
    private final RegisterLayout layout;
    private final ThreadHandler threads;
    /** Told before every resume (documents served in pieces are regenerated afterwards). */
    private final Runnable onResume;

    private CompletableFuture<StopEvent> attached;
    private StopEvent lastStop;
    private boolean running;
    private boolean interruptRequested;
    private CompletableFuture<StopEvent> pendingResume;
    private RangeStep rangeStep;
    /** Non-stop mode, where the target offers it; null otherwise. */
    private final NonStopHandler nonStop;

    ExecutionHandler(Link link, DebugTarget target, RegisterLayout layout, ThreadHandler threads, Runnable onResume) {
        this.link = link;
        this.target = target;
        this.layout = layout;
        this.threads = threads;
        this.onResume = onResume;
        this.nonStop = target.nonStop().map(ns -> new NonStopHandler(link, ns, threads, this, onResume)).orElse(null);
    }

    /**
     * A range step in progress ({@code vCont;rSTART,END}): the thread steps again, without a stop
     * reply, for as long as it stops by a plain step at a PC in [start, end); any other stop, a PC
     * outside the range or gdb's Ctrl-C ends it with a stop reply.
     */
    private record RangeStep(int threadId, long start, long end, Command command, ResumeRequest request) {
        boolean contains(long pc) {
            return Long.compareUnsigned(pc, start) >= 0 && Long.compareUnsigned(pc, end) < 0;
        }
    }

    // ---- attach

    /** Attaches to the target once {@code startGate} completes (the previous session released it). */
    void attach(CompletionStage<Void> startGate) {
        CompletableFuture<StopEvent> attach = new CompletableFuture<>();
        startGate.whenComplete((v, e) -> {
            CompletionStage<StopEvent> st = link.call("attach", target::attach);
            st.whenComplete((ev, err) -> {
                if (err != null) {
                    attach.completeExceptionally(err);
                } else {
                    attach.complete(ev);
                }
            });
        });
        attached = link.onLoop(Link.withTimeout(attach, link.options().requestTimeout())).thenApply(ev -> {
            recordStop(ev);
            return ev;
        });
        attached.whenComplete((ev, e) -> {
            if (e != null) {
                LOG.warn("attaching to the target failed: {}", Link.describe(e));
            } else {
                LOG.debug("attached, target reports {}", ev);
            }
        });
    }

    /** Whether a resume is outstanding. */
    boolean running() {
        return running;
    }

    CompletionStage<Void> handle(Command.ExecutionCommand command) {
        if (command instanceof Command.NonStopMode m) {
            return setNonStop(m);
        }
        if (nonStop != null && nonStop.on()) {
            return nonStop.handle(command);
        }
        return switch (command) {
            case Command.HaltReason h -> attached.handle((ev, e) -> e).thenCompose(e -> {
                if (e != null || lastStop == null) {
                    link.send(link.errorReply(h, Link.ESRCH, "not attached to the target: " + Link.describe(e)));
                    return Link.DONE;
                }
                return reportStop(lastStop);
            });
            case Command.Continue c -> legacyResume(c, false, c.signal(), c.address());
            case Command.Step s -> legacyResume(s, true, s.signal(), s.address());
            case Command.VContQuery q -> link.sendNow("vCont;c;C;s;S;t;r");
            case Command.VCont v -> vCont(v);
            case Command.CtrlC c -> {
                interrupt();
                yield link.sendNow("OK");
            }
            // Only non-stop mode queues stops; in all-stop gdb has no reason to ask.
            case Command.StopAcknowledged a -> link.sendNow("");
            case Command.NonStopMode m -> throw new AssertionError("handled above");
        };
    }

    /**
     * {@code QNonStop}: switches the target (all threads are stopped, as nothing runs in all-stop
     * between requests); the empty reply where the target has no non-stop mode, as gdb was not
     * offered it. Leaving non-stop mode stops every thread; gdb then asks {@code ?}.
     */
    private CompletionStage<Void> setNonStop(Command.NonStopMode m) {
        if (nonStop == null) {
            return link.sendNow("");
        }
        if (m.on() == nonStop.on()) {
            return link.sendNow("OK");
        }
        // After the attach: the stop it found is the one gdb knows when non-stop mode starts.
        return attached.handle((ev, err) -> null).thenCompose(x -> m.on() ? nonStop.enter(lastStop) : nonStop.leave()).handle((last, e) -> {
            if (e != null) {
                link.send(link.errorFor(m, e));
            } else {
                if (!m.on() && last != null) {
                    recordStop(last);
                }
                link.send("OK");
            }
            return null;
        });
    }

    /** Whether non-stop mode is on (commands are served while threads run). */
    boolean nonStopMode() {
        return nonStop != null && nonStop.on();
    }

    /** gdb's Ctrl-C: stops a running target, once per resume; ignored while halted. */
    void interrupt() {
        if (nonStop != null && nonStop.on()) {
            nonStop.interruptAll();
            return;
        }
        if (running && !interruptRequested) {
            interruptRequested = true;
            LOG.debug("interrupt from gdb: stopping the target");
            try {
                target.interrupt();
            } catch (RuntimeException e) {
                LOG.warn("target failed to interrupt: {}", e.toString());
            }
        } else if (running) {
            LOG.debug("repeated interrupt ignored; the target is already stopping");
        } else {
            LOG.debug("interrupt ignored: the target is not running");
        }
    }

    /**
     * The debugger left: stops the target if it runs and completes once it stopped (or after
     * {@code timeout}), or once the attach is over; never exceptionally.
     */
    CompletableFuture<Void> stopForCleanup(Duration timeout, Level lifecycle) {
        if (nonStop != null && nonStop.on()) {
            LOG.log(lifecycle, "gdb left in non-stop mode: stopping every thread to remove breakpoints");
            return Link.withTimeout(nonStop.leave(), timeout).handle((v, e) -> {
                if (e != null) {
                    LOG.warn("the target did not leave non-stop mode within {} ms: {}", timeout.toMillis(), Link.describe(e));
                }
                return null;
            });
        }
        if (running && pendingResume != null) {
            LOG.log(lifecycle, "gdb left while the target was running: stopping it to remove breakpoints");
            try {
                target.interrupt();
            } catch (RuntimeException e) {
                LOG.warn("target failed to interrupt: {}", e.toString());
            }
            return Link.withTimeout(pendingResume, timeout).handle((ev, e) -> {
                if (e != null) {
                    LOG.warn("the target did not stop within {} ms; releasing it anyway", timeout.toMillis());
                }
                return null;
            });
        }
        return Link.withTimeout(attached, timeout).handle((ev, e) -> null);
    }

    // ---- resumes

    private CompletionStage<Void> legacyResume(Command command, boolean step, int signal, OptionalLong address) {
        int selected = threads.continueThread();
        if (selected < 0) {
            return link.sendNow(link.errorReply(command, Link.ESRCH, "no thread to resume"));
        }
        List<ResumeRequest.ThreadResume> list = new ArrayList<>();
        for (ThreadInfo t : threads.threads()) {
            if (t.id() == selected) {
                list.add(new ResumeRequest.ThreadResume(t.id(), step ? ResumeAction.STEP : ResumeAction.CONTINUE, signal));
            } else {
                list.add(new ResumeRequest.ThreadResume(t.id(), step ? ResumeAction.STAY_STOPPED : ResumeAction.CONTINUE, 0));
            }
        }
        ResumeRequest request = new ResumeRequest(list);
        if (address.isEmpty()) {
            return startResume(command, request);
        }
        // "c ADDR": resume at ADDR, i.e. set the PC of the resumed thread first.
        RegisterDef pc = layout.register(layout.pcRegnum());
        byte[] value = new byte[pc.byteSize()];
        for (int i = 0; i < Math.min(8, value.length); i++) {
            value[i] = (byte) (address.getAsLong() >>> (8 * i));
        }
        return link.call("write pc", () -> target.writeRegister(selected, pc.regnum(), value)).handle((v, e) -> {
            if (e != null) {
                link.send(link.errorFor(command, e));
                return Link.DONE;
            }
            return startResume(command, request);
        }).thenCompose(Function.identity());
    }

    /** Resolves {@code vCont}'s actions per thread: the leftmost action naming it, else the default, else stay stopped. */
    private CompletionStage<Void> vCont(Command.VCont v) {
        for (Command.VContAction a : v.actions()) {
            if (a.thread() != null && !threads.existsOrWildcard(a.thread())) {
                return link.sendNow(link.errorReply(v, Link.ESRCH, "vCont names unknown thread " + a.thread()));
            }
        }
        List<ResumeRequest.ThreadResume> list = new ArrayList<>();
        Command.VContAction range = null;
        int rangeThread = -1;
        for (ThreadInfo t : threads.threads()) {
            Command.VContAction chosen = chosenFor(v, t.id());
            ResumeAction action = chosen == null ? ResumeAction.STAY_STOPPED : switch (chosen.kind()) {
                case CONTINUE -> ResumeAction.CONTINUE;
                case STEP, RANGE -> ResumeAction.STEP;
                case STOP -> ResumeAction.STAY_STOPPED;
            };
            if (chosen != null && chosen.kind() == Command.VContKind.RANGE) {
                if (range != null) {
                    return link.sendNow(link.errorReply(v, Link.EINVAL, "vCont range-steps more than one thread"));
                }
                range = chosen;
                rangeThread = t.id();
            }
            int signal = chosen == null || action == ResumeAction.STAY_STOPPED ? 0 : chosen.signal();
            list.add(new ResumeRequest.ThreadResume(t.id(), action, signal));
        }
        ResumeRequest request = new ResumeRequest(list);
        if (!request.resumesAnything()) {
            return link.sendNow(link.errorReply(v, Link.EINVAL, "vCont resumes no thread (all-stop mode)"));
        }
        rangeStep = range == null ? null : new RangeStep(rangeThread, range.rangeStart(), range.rangeEnd(), v, request);
        return startResume(v, request);
    }

    /** vCont's rule for one thread: the leftmost action naming it, else the leftmost without a thread-id, else null. */
    static Command.VContAction chosenFor(Command.VCont v, int threadId) {
        for (Command.VContAction a : v.actions()) {
            if (a.thread() != null && a.thread().selects(threadId)) {
                return a;
            }
        }
        for (Command.VContAction a : v.actions()) {
            if (a.thread() == null) {
                return a;
            }
        }
        return null;
    }

    private CompletionStage<Void> startResume(Command command, ResumeRequest request) {
        if (lastStop instanceof StopEvent.Exited || lastStop instanceof StopEvent.Terminated) {
            return link.sendNow(link.errorReply(command, Link.ESRCH, "the target is no longer running"));
        }
        CompletionStage<StopEvent> stage;
        try {
            stage = target.resume(request);
            if (stage == null) {
                throw new IllegalStateException("target.resume returned null");
            }
        } catch (RuntimeException e) {
            return link.sendNow(link.errorFor(command, e));
        }
        running = true;
        interruptRequested = false;
        onResume.run();
        LOG.debug("resumed: {}", request);
        if (stage instanceof Future<?> f && stepping(request)) {
            // A single step usually ends within tens of microseconds. Waiting for it here keeps
            // this event loop awake, so the stop comes back without a thread wake-up and the reply
            // goes out from here; that is a large part of a stepi round trip.
            long deadline = System.nanoTime() + STEP_SPIN_NANOS;
            while (!f.isDone() && System.nanoTime() - deadline < 0) {
                Thread.onSpinWait();
            }
        }
        CompletableFuture<StopEvent> pending = link.onLoop(stage);
        pendingResume = pending;
        pending.whenComplete((ev, e) -> onResumeFinished(pending, ev, e));
        return Link.DONE;
    }

    private static boolean stepping(ResumeRequest request) {
        for (ResumeRequest.ThreadResume t : request.threads()) {
            if (t.action() == ResumeAction.STEP) {
                return true;
            }
        }
        return false;
    }

    private void onResumeFinished(CompletableFuture<StopEvent> which, StopEvent event, Throwable error) {
        LOG.debug("stop event {} {}", event, error == null ? "" : Link.describe(error));
        if (which != pendingResume) {
            return;
        }
        RangeStep range = rangeStep;
        if (range != null && error == null && !link.closed()) {
            if (event instanceof StopEvent.Stopped s && s.threadId() == range.threadId()
                    && s.reason() instanceof StopReason.StepDone) {
                if (!interruptRequested) {
                    stepAgainIfInRange(which, range, s);
                    return;
                }
                event = StopEvent.interrupted(s.threadId());
            }
        }
        rangeStep = null;
        running = false;
        pendingResume = null;
        if (error != null) {
            // A refusal (the target said why it cannot resume so) is the user's business, not a failure of the target.
            boolean refused = Link.unwrap(error) instanceof dev.tdemu.gdbstub.target.TargetException;
            String why = refused ? Link.describe(error) : "the target failed while running: " + Link.describe(error);
            if (refused) {
                LOG.info("resume refused: {}", why);
            } else {
                LOG.warn(why);
            }
            if (!link.closed()) {
                link.send("E." + Link.sanitize(why));
            }
            return;
        }
        if (link.closed()) {
            recordStop(event);
            return;
        }
        if (event instanceof StopEvent.Stopped s && s.reason() instanceof StopReason.Fault f) {
            link.sendConsole(f.explanation() + "\n"); // gdb prints O packets only while the target runs: here
        }
        reportStop(event);
    }

    /** During a range step: reads the PC; inside the range the thread steps again, else the stop is reported. */
    private void stepAgainIfInRange(CompletableFuture<StopEvent> which, RangeStep range, StopEvent.Stopped stop) {
        link.call("read the PC", () -> target.readRegister(range.threadId(), layout.pcRegnum())).whenComplete((pc, e) -> {
            if (which != pendingResume || link.closed()) {
                return;
            }
            if (e != null || pc.isEmpty() || !range.contains(littleEndian(pc.get()))) {
                endRangeStep(which, stop);
                return;
            }
            // As a task, not a call: a step that ends at once would otherwise nest the next one
            // on the stack, and gdb's Ctrl-C is read between two steps.
            link.later(() -> {
                if (which != pendingResume || link.closed()) {
                    return;
                }
                if (interruptRequested) {
                    endRangeStep(which, stop);
                    return;
                }
                pendingResume = null;
                running = false;
                startResume(range.command(), range.request());
                if (pendingResume == null) { // the target refused the next step; startResume replied
                    rangeStep = null;
                }
            });
        });
    }

    /** Ends a range step at {@code stop}, reported as SIGINT if gdb's Ctrl-C came meanwhile. */
    private void endRangeStep(CompletableFuture<StopEvent> which, StopEvent.Stopped stop) {
        rangeStep = null;
        onResumeFinished(which, interruptRequested ? StopEvent.interrupted(stop.threadId()) : stop, null);
    }

    private static long littleEndian(byte[] bytes) {
        long v = 0;
        for (int i = Math.min(8, bytes.length) - 1; i >= 0; i--) {
            v = (v << 8) | (bytes[i] & 0xffL);
        }
        return v;
    }

    // ---- stops

    private void recordStop(StopEvent event) {
        if (event == null) {
            throw new IllegalStateException("the target reported a null stop event");
        }
        lastStop = event;
        if (event instanceof StopEvent.Stopped s) {
            threads.stopped(s.threadId());
        }
    }

    /** Sends the stop reply for {@code event}, expediting the layout's frame registers of the stopped thread. */
    private CompletionStage<Void> reportStop(StopEvent event) {
        try {
            recordStop(event);
        } catch (RuntimeException e) {
            link.send("E." + Link.sanitize(e.getMessage()));
            return Link.DONE;
        }
        return formatStop(event).thenAccept(reply -> {
            if (!link.closed()) {
                link.send(reply);
            }
        });
    }

    /**
     * The stop reply for {@code event} ({@code T}, {@code W} or {@code X}), with the layout's frame
     * registers of the stopped thread expedited; never fails (a register that cannot be read is left out).
     */
    CompletableFuture<String> formatStop(StopEvent event) {
        GdbFeatures features = link.features();
        if (!(event instanceof StopEvent.Stopped s)) {
            return CompletableFuture.completedFuture(StopReplies.format(event, new LinkedHashMap<>(), features));
        }
        // One read per expedited register (targets can answer those without reading every register).
        List<Integer> regnums = layout.expedited();
        List<CompletableFuture<Optional<byte[]>>> reads = new ArrayList<>();
        for (int regnum : regnums) {
            reads.add(link.call("read register", () -> target.readRegister(s.threadId(), regnum)));
        }
        return CompletableFuture.allOf(reads.toArray(CompletableFuture[]::new)).handle((v, e) -> {
            LinkedHashMap<Integer, byte[]> expedited = new LinkedHashMap<>();
            for (int i = 0; i < regnums.size(); i++) {
                int regnum = regnums.get(i);
                CompletableFuture<Optional<byte[]>> read = reads.get(i);
                if (read.isCompletedExceptionally()) {
                    LOG.debug("could not read register {} for the stop reply", regnum);
                    continue;
                }
                read.join().filter(b -> b.length == layout.register(regnum).byteSize()).ifPresent(b -> expedited.put(regnum, b));
            }
            return StopReplies.format(event, expedited, features);
        });
    }
}
