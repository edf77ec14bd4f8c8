package dev.tdemu.emulator.gdb;

import dev.tdemu.emulator.elf.ElfImage;
import dev.tdemu.emulator.vm.Vm;
import dev.tdemu.emulator.vm.VmResult;
import dev.tdemu.emulator.vm.VmSpec;
import dev.tdemu.gdbstub.GdbServer;
import dev.tdemu.proto.GuestMode;
import dev.tdemu.proto.VmConfig;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Runs gdb's hardware-breakpoint continue cycle ({@code Z1}, {@code vCont;c}, the stop,
 * {@code z1}, {@code vCont;s}) against a throwaway VM of its own. The stub's {@code WarmUp} covers
 * the connection path only; in a fresh JVM the VM side (DebugSession's resume and stop, the DR
 * arming, the vCPU thread's run loop, the stop report) would otherwise run interpreted and be
 * compiled during the user's first few hundred cycles: 4.4 ms each against QEMU's 1.3
 * (docs/gdbstub.md). {@code tdemu run --gdb} runs it in the background once its stub listens, in
 * the seconds before a person's gdb attaches, and ends it when a client comes or the VM ends; the
 * launcher's AOT training runs it first ({@value #BEFORE_LISTENING}), so that the cache keeps its
 * profiles. The real VM is never passed in, so it cannot be touched.
 */
public final class VmWarmUp {
    private static final Logger LOG = LogManager.getLogger("dev.tdemu.gdbstub.server");
    /** The built-in guest: it calls {@code bench_func} forever, so a breakpoint there is hit once per loop. */
    static final String GUEST = "bench-debug";
    /** Cycles at most: by then the path is compiled (docs/gdbstub.md, the continue cycle). */
    public static final int CYCLES = 400;
    /** Stops early after this long (a busy machine). */
    public static final Duration AT_MOST = Duration.ofMillis(1500);
    private static final long STOP_WAIT_S = 10;

    /** What a warm-up did: the continue cycles that stopped (at the breakpoint: nothing else stops the guest). */
    public record Outcome(int cycles, long millis) {
    }

    /**
     * The system property with which {@code tdemu run --gdb} warms up before its stub listens
     * instead of beside it: the launcher's AOT training run, whose guest ends at once.
     */
    public static final String BEFORE_LISTENING = "tdemu.gdb.warmUpBeforeListening";

    private static boolean started;

    private VmWarmUp() {
    }

    /** Warms up the first time in this JVM (later calls return at once); never throws. */
    public static synchronized void once() {
        if (!started) {
            started = true;
            run();
        }
    }

    /**
     * Warms up on a daemon thread the first time in this JVM, ending early once {@code stop} holds
     * (checked before each cycle); null when this JVM has already warmed up or is doing so.
     */
    public static synchronized Thread inBackground(java.util.function.BooleanSupplier stop) {
        if (started) {
            return null;
        }
        started = true;
        return Thread.ofPlatform().name("tdemu-warm-up").daemon().start(() -> run(CYCLES, AT_MOST, stop));
    }

    /** Runs the cycles with the defaults; never throws (a failed warm-up only means slower first cycles). */
    public static Outcome run() {
        return run(CYCLES, AT_MOST);
    }

    /** At most {@code cycles} cycles, fewer if {@code atMost} has passed (always at least one). */
    public static Outcome run(int cycles, Duration atMost) {
        return run(cycles, atMost, () -> false);
    }

    /**
     * As {@link #run(int, Duration)}, ending at the next step once {@code stop} holds (then
     * possibly none): it is asked before the VM is made, before its stub starts and before each
     * cycle, so that a client that comes while the warm-up is still setting up does not wait
     * behind the rest of its set-up.
     */
    public static Outcome run(int cycles, Duration atMost, java.util.function.BooleanSupplier stop) {
        long start = System.nanoTime();
        int done = 0;
        if (stop.getAsBoolean()) {
            LOG.debug("no VM warm-up: a client came first");
            return new Outcome(0, 0);
        }
        VmConfig config = VmConfig.newBuilder().setGuestImage("builtin:" + GUEST).setMode(GuestMode.GUEST_MODE_VMX)
                .setTimeoutMs(60_000).build();
        try (Vm vm = new Vm(VmSpec.from(config), Vm.Options.quiet());
             VmDebugTarget target = new VmDebugTarget(vm.attachDebugger(null, true))) {
            Thread runner = Thread.ofPlatform().name("tdemu-warm-up-vm").daemon().start(vm::run);
            try {
                long func = ElfImage.builtin(GUEST).symbol("bench_func").orElseThrow();
                done = GdbServer.warmUpBreakpointCycles(target, func, cycles, atMost, stop);
            } finally {
                vm.finish(VmResult.Outcome.KILLED, "warm-up over", -1);
                runner.join(TimeUnit.SECONDS.toMillis(STOP_WAIT_S));
            }
        } catch (Exception e) {
            LOG.debug("warming up the VM's debug path failed after {} cycles: {}", done, e.toString());
        }
        long millis = (System.nanoTime() - start) / 1_000_000;
        LOG.debug("warmed up the VM's debug path: {} breakpoint cycles in {} ms", done, millis);
        return new Outcome(done, millis);
    }
}
