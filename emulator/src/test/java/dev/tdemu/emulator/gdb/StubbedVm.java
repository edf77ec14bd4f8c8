package dev.tdemu.emulator.gdb;

import dev.tdemu.emulator.vm.Vm;
import dev.tdemu.emulator.vm.VmResult;
import dev.tdemu.emulator.vm.VmSpec;
import dev.tdemu.gdbstub.GdbServer;
import dev.tdemu.proto.VmConfig;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A VM held at its first instruction for a debugger, running on its own threads behind a GDB stub
 * on a free loopback port, for tests and benchmarks; {@link #close()} kills the guest and shuts
 * everything down.
 */
public final class StubbedVm implements AutoCloseable {
    public final Vm vm;
    public final VmDebugTarget target;
    public final GdbServer server;
    /** The VM's run; done once the guest ended. */
    public final CompletableFuture<VmResult> run;

    private StubbedVm(Vm vm, VmDebugTarget target, GdbServer server, CompletableFuture<VmResult> run) {
        this.vm = vm;
        this.target = target;
        this.server = server;
        this.run = run;
    }

    public static StubbedVm start(VmConfig config) throws Exception {
        return start(config, true);
    }

    /** With {@code offerExecutable} false the stub does not name the guest's ELF to gdb (no symbols). */
    public static StubbedVm start(VmConfig config, boolean offerExecutable) throws Exception {
        return start(config, offerExecutable, dev.tdemu.gdbstub.GdbServerOptions.defaults());
    }

    /** With the stub's options given (following gdb's CPU, say). */
    public static StubbedVm start(VmConfig config, boolean offerExecutable, dev.tdemu.gdbstub.GdbServerOptions options)
            throws Exception {
        Vm vm = new Vm(VmSpec.from(config), Vm.Options.quiet());
        VmDebugTarget target = new VmDebugTarget(vm.attachDebugger(null, true),
                offerExecutable ? dev.tdemu.emulator.elf.ElfImage.file(config.getGuestImage()) : java.util.Optional.empty());
        GdbServer server = GdbServer.start(target, "127.0.0.1", 0, options);
        return new StubbedVm(vm, target, server, CompletableFuture.supplyAsync(vm::run));
    }

    public int port() {
        return server.port();
    }

    @Override
    public void close() throws Exception {
        vm.finish(VmResult.Outcome.KILLED, "test or benchmark over", -1);
        run.get(20, TimeUnit.SECONDS);
        server.close();
        target.close();
        vm.close();
    }
}
