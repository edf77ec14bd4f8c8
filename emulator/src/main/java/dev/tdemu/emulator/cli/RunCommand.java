package dev.tdemu.emulator.cli;

import dev.tdemu.emulator.elf.ElfImage;
import dev.tdemu.emulator.vm.Console;
import dev.tdemu.emulator.vm.TraceWriter;
import dev.tdemu.emulator.vm.Vm;
import dev.tdemu.emulator.vm.VmResult;
import dev.tdemu.emulator.vm.VmSpec;
import dev.tdemu.proto.VmConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * Runs one guest in a VM. The guest's console goes to stdout byte for byte as it is written.
 * Exit status: the guest's exit status, 1 when it did not exit cleanly, 2 for bad input, 128 + N
 * when signal N (SIGINT, SIGTERM) stopped it.
 */
@Command(name = "run", mixinStandardHelpOptions = true, description = "Run a guest ELF (a path, or builtin:NAME) in a VMX guest or a TD.")
final class RunCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "GUEST", description = "A Multiboot kernel (a PC: kvm-unit-tests' .flat files), an ELF64 guest of "
            + "tdemu's own ABI, or builtin:NAME (see tdemu guests)")
    String guest;

    @Mixin
    VmOptions vmOptions;

    @Option(names = "--gdb", paramLabel = "PORT", description = "Serve the GDB remote protocol on localhost:PORT (target remote :PORT).")
    Integer gdbPort;

    @Option(names = "--wait", description = "With --gdb: hold the guest at its first instruction until gdb continues it "
            + "(or detaches or quits: then it runs on without a debugger).")
    boolean waitForGdb;

    @Option(names = "--gdb-follow-cpu", description = "With --gdb: run the stub's thread on gdb's CPU and write its "
            + "replies at idle priority: faster stepping on an otherwise idle machine, none on a busy one, where it "
            + "backs off by itself (see docs/gdbstub.md).")
    boolean gdbFollowCpu;

    /** What --gdb-follow-cpu's absence now means; still accepted from older scripts. */
    @Option(names = "--gdb-stay-put", hidden = true)
    boolean gdbStayPut;

    /** Say on stderr where the GDB stub listens (tdemu qemu keeps quiet about a port the user chose, as QEMU does). */
    boolean announceGdb = true;

    private final Main.Streams streams;

    RunCommand(Main.Streams streams) {
        this.streams = streams;
    }

    @Override
    public Integer call() throws Exception {
        return execute(VmResult::processExitStatus);
    }

    /**
     * Runs the guest as the options say and returns the process's exit status: 128 + N when
     * signal N stopped it, 2 when the trace could not be finished, else {@code status} of the result.
     */
    int execute(java.util.function.ToIntFunction<VmResult> status) throws Exception {
        if (waitForGdb && gdbPort == null) {
            throw new IllegalArgumentException("--wait needs --gdb PORT");
        }
        if (gdbStayPut && gdbPort == null) {
            throw new IllegalArgumentException("--gdb-stay-put needs --gdb PORT");
        }
        if (gdbFollowCpu && gdbPort == null) {
            throw new IllegalArgumentException("--gdb-follow-cpu needs --gdb PORT");
        }
        if (gdbFollowCpu && gdbStayPut) {
            throw new IllegalArgumentException("--gdb-follow-cpu and --gdb-stay-put contradict each other");
        }
        if (gdbPort != null) {
            if (gdbPort < 0 || gdbPort > 65535) {
                throw new IllegalArgumentException("--gdb PORT must be 0..65535 (0: any free port), not " + gdbPort);
            }
            vmOptions.defaultTimeout = "0";
        }
        VmConfig config = vmOptions.toConfig(guest);
        PrintWriter err = spec.commandLine().getErr();
        try (Signals signals = Signals.install(err)) {
            VmSpec vmSpec = VmSpec.from(config);
            // Line by line on a terminal, and under a debugger (what the guest printed before a stop
            // belongs on the screen at the stop); elsewhere in full buffers and at the end.
            Console.Sink console = new Console.Sink(streams.out(), streams.outIsTerminal() || gdbPort != null);
            // COM1 reads stdin only when asked to (--serial stdio); otherwise stdin is left alone.
            java.io.InputStream serialIn = config.getSerialStdin() ? streams.in() : null;
            try (Vm vm = new Vm(vmSpec, new Vm.Options(console, List.of(), serialIn).withPolicy(vmOptions.program))) {
                List<Path> inputs = new java.util.ArrayList<>(guest.startsWith("builtin:") ? List.of() : List.of(Path.of(guest)));
                inputs.addAll(vmOptions.initrds);
                TraceWriter trace = vmOptions.openTrace(config, inputs, err);
                VmResult r;
                try {
                    if (trace != null) {
                        vm.addObserver(trace);
                    }
                    signals.attach(vm);
                    r = gdbPort != null ? runWithGdb(vm, err) : vm.run();
                } catch (Exception | Error e) {
                    if (trace != null) {
                        trace.abandon(); // the run did not happen: whatever is at the trace's path stays
                    }
                    throw e;
                }
                vm.console().flush();
                streams.out().flush();
                Reports.printRunSummary(err, r, vmOptions.verbose);
                if (vm.console().bytesNotKept() > 0) {
                    err.println("tdemu: console output beyond 16 MiB is not kept in the report (all of it went to stdout)");
                }
                int exit = signals.received() != 0 ? 128 + signals.received() : status.applyAsInt(r);
                if (trace != null) {
                    try {
                        trace.finish(signals.receivedName() != null ? "stopped by " + signals.receivedName()
                                : Reports.ending(r));
                    } catch (IOException e) {
                        err.println("tdemu: " + Main.describe(e));
                        return signals.received() != 0 ? exit : 2;
                    }
                }
                err.flush();
                return exit;
            }
        }
    }

    /** Runs the VM with the GDB stub attached. */
    private VmResult runWithGdb(Vm vm, PrintWriter err) throws Exception {
        // A throwaway VM of its own, never this one: before listening only in the launcher's AOT
        // training (whose guest ends at once); otherwise beside the listening stub, ended by the
        // first client, so that gdb's connection is never refused or kept waiting for it.
        if (Boolean.getBoolean(dev.tdemu.emulator.gdb.VmWarmUp.BEFORE_LISTENING)) {
            dev.tdemu.emulator.gdb.VmWarmUp.once();
        }
        var session = vm.attachDebugger(null, waitForGdb);
        try (var target = new dev.tdemu.emulator.gdb.VmDebugTarget(session, ElfImage.file(guest));
             var server = dev.tdemu.gdbstub.GdbServer.start(target, "127.0.0.1", gdbPort,
                     dev.tdemu.gdbstub.GdbServerOptions.defaults().withFollowClientCpu(gdbFollowCpu))) {
            if (announceGdb) {
                err.printf("tdemu: GDB stub on 127.0.0.1:%d (gdb: target remote :%d)%s%s%n", server.port(), server.port(),
                        waitForGdb ? "; the guest waits at its first instruction until gdb continues it, or detaches or quits "
                                + "(then it runs on without a debugger)" : "",
                        session.isTd() && !session.isDebugTd() ? "; this TD is not a debug TD: gdb can attach and use the host-side "
                                + "monitor commands (dr, exits, policy, check), but sees no registers or memory (run it with --debug-td)"
                                : "");
                err.flush();
            }
            Thread warmUp = dev.tdemu.emulator.gdb.VmWarmUp.inBackground(() -> server.clientCame() || vm.finished());
            VmResult r = vm.run();
            if (warmUp != null) {
                warmUp.join(15_000); // ends before its next cycle: the VM has finished
            }
            if (server.hasClient()) {
                try {
                    // Let gdb read the exit or termination before the stub goes away.
                    server.lastSessionFinished().get(5, java.util.concurrent.TimeUnit.SECONDS);
                } catch (java.util.concurrent.TimeoutException e) {
                    // gdb did not disconnect; end anyway
                }
            }
            return r;
        }
    }
}
