package dev.tdemu.emulator.cli;

import dev.tdemu.emulator.vm.Vm;
import dev.tdemu.emulator.vm.VmResult;
import dev.tdemu.emulator.vm.VmSpec;
import dev.tdemu.proto.VmConfig;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** Runs one guest in a VM. Exit status: the guest's exit status, or 1 when it did not exit cleanly. */
@Command(name = "run", mixinStandardHelpOptions = true, description = "Run a guest ELF (a path, or builtin:NAME) in a VMX guest or a TD.")
final class RunCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "GUEST", description = "ELF64 x86-64 guest image, or builtin:NAME (see tdemu guests)")
    String guest;

    @Mixin
    VmOptions vmOptions;

    @Option(names = "--gdb", paramLabel = "PORT", description = "Serve the GDB remote protocol on localhost:PORT (target remote :PORT).")
    Integer gdbPort;

    @Option(names = "--wait", description = "With --gdb: hold the guest at its first instruction until gdb continues it.")
    boolean waitForGdb;

    @Option(names = "--gdb-follow-cpu", description = "With --gdb: run the stub's thread on gdb's CPU and write its "
            + "replies at idle priority: faster stepping on an otherwise idle machine, none on a busy one, where it "
            + "backs off by itself (see docs/gdbstub.md).")
    boolean gdbFollowCpu;

    /** What --gdb-follow-cpu's absence now means; still accepted from older scripts. */
    @Option(names = "--gdb-stay-put", hidden = true)
    boolean gdbStayPut;

    @Override
    public Integer call() throws Exception {
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
            vmOptions.defaultTimeout = "0";
        }
        VmConfig config = vmOptions.toConfig(guest);
        VmSpec vmSpec = VmSpec.from(config);
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try (Vm vm = new Vm(vmSpec, new Vm.Options(gdbPort != null ? System.out : null, vmOptions.observers()))) {
            VmResult r = gdbPort != null ? runWithGdb(vm, err) : vm.run();
            if (gdbPort == null) {
                out.print(r.console());
                out.flush();
            }
            vmOptions.closeObservers();
            Reports.printRunSummary(err, r, vmOptions.verbose);
            return r.processExitStatus();
        }
    }

    /** Runs the VM with the GDB stub attached; the guest's console goes straight to stdout. */
    private VmResult runWithGdb(Vm vm, PrintWriter err) throws Exception {
        var session = vm.attachDebugger(null, waitForGdb);
        try (var target = new dev.tdemu.emulator.gdb.VmDebugTarget(session, dev.tdemu.emulator.elf.ElfImage.file(guest));
             var server = dev.tdemu.gdbstub.GdbServer.start(target, "127.0.0.1", gdbPort,
                     dev.tdemu.gdbstub.GdbServerOptions.defaults().withFollowClientCpu(gdbFollowCpu))) {
            err.printf("tdemu: GDB stub on 127.0.0.1:%d (gdb: target remote :%d)%s%n", server.port(), server.port(),
                    waitForGdb ? "; the guest waits for gdb to continue it" : "");
            err.flush();
            VmResult r = vm.run();
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
