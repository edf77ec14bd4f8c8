package dev.tdemu.emulator.cli;

import dev.tdemu.emulator.elf.ElfFormatException;
import dev.tdemu.emulator.vm.Vm;
import dev.tdemu.emulator.vm.VmResult;
import dev.tdemu.emulator.vm.VmSpec;
import dev.tdemu.proto.VmConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** Runs one guest in a VM. Exit status: the guest's exit status, or 1 when it did not exit cleanly. */
@Command(name = "run", description = "Run a guest ELF (a path, or builtin:NAME) in a VMX guest or a TD.")
final class RunCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "GUEST", description = "ELF64 x86-64 guest image, or builtin:NAME (see tdemu guests)")
    String guest;

    @Mixin
    VmOptions vmOptions;

    @Override
    public Integer call() throws IOException, ElfFormatException {
        VmConfig config = vmOptions.toConfig(guest);
        VmSpec vmSpec = VmSpec.from(config);
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try (Vm vm = new Vm(vmSpec, new Vm.Options(null, vmOptions.observers()))) {
            VmResult r = vm.run();
            out.print(r.console());
            out.flush();
            vmOptions.closeObservers();
            Reports.printRunSummary(err, r, vmOptions.verbose);
            return r.processExitStatus();
        }
    }
}
