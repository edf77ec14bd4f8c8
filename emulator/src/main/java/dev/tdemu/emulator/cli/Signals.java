package dev.tdemu.emulator.cli;

import dev.tdemu.emulator.vm.Vm;
import dev.tdemu.emulator.vm.VmResult;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * SIGINT (Ctrl-C) and SIGTERM while `tdemu run` runs. The JVM's own handling would exit at once,
 * losing the guest's buffered console and the trace; instead the first signal stops the VM, which
 * then returns normally, so the run can flush the console, report where each vCPU was, finish the
 * trace and exit with 128 + the signal's number. A second signal, a second or more after the
 * first, exits at once.
 */
final class Signals implements AutoCloseable {
    private final PrintWriter err;
    private final Map<Signal, SignalHandler> previous = new LinkedHashMap<>();
    /** The first signal's number, 0 while none came. */
    private final AtomicInteger received = new AtomicInteger();
    private volatile Vm vm;
    /** When the first signal came (System.nanoTime). */
    private volatile long firstAt;
    /** A repeat within this is the same signal delivered twice, not the user insisting. */
    private static final long REPEAT_NANOS = 1_000_000_000L;

    private Signals(PrintWriter err) {
        this.err = err;
    }

    /** Takes SIGINT and SIGTERM over until {@link #close()}. */
    static Signals install(PrintWriter err) {
        Signals s = new Signals(err);
        for (String name : List.of("INT", "TERM")) {
            Signal signal = new Signal(name);
            try {
                s.previous.put(signal, Signal.handle(signal, s::handle));
            } catch (IllegalArgumentException e) {
                // the JVM keeps this signal to itself (-Xrs): it ends tdemu as it would anyway
            }
        }
        return s;
    }

    private void handle(Signal signal) {
        long now = System.nanoTime();
        if (!received.compareAndSet(0, signal.getNumber())) {
            // One signal often arrives twice at once: sent to the process and to its process group
            // (timeout(1) does both). Only a second one the user sent later forces the exit.
            long first = firstAt;
            if (first == 0 || now - first < REPEAT_NANOS) {
                return; // 0: the first is being handled this very moment
            }
            err.println("tdemu: SIG" + signal.getName() + " again: exiting at once (the trace is not finished)");
            err.flush();
            Runtime.getRuntime().halt(128 + signal.getNumber());
        }
        firstAt = now;
        Vm v = vm;
        if (v != null) {
            stop(v, signal.getName());
        }
    }

    /** From now on a signal stops {@code vm}; one that came already stops it now (it then ends as soon as it starts). */
    void attach(Vm vm) {
        this.vm = vm;
        int n = received.get();
        if (n != 0) {
            stop(vm, n == 2 ? "INT" : n == 15 ? "TERM" : Integer.toString(n));
        }
    }

    private static void stop(Vm vm, String name) {
        vm.finish(VmResult.Outcome.INTERRUPTED, "stopped by SIG" + name, -1);
    }

    /** The number of the signal that stopped the run, or 0. */
    int received() {
        return received.get();
    }

    /** "SIGINT", or null when no signal came. */
    String receivedName() {
        return switch (received.get()) {
            case 0 -> null;
            case 2 -> "SIGINT";
            case 15 -> "SIGTERM";
            default -> "signal " + received.get();
        };
    }

    @Override
    public void close() {
        previous.forEach(Signal::handle);
        previous.clear();
    }
}
