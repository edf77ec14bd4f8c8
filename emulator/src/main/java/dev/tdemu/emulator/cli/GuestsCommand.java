package dev.tdemu.emulator.cli;

import dev.tdemu.emulator.elf.ElfImage;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

@Command(name = "guests", mixinStandardHelpOptions = true, description = "List the built-in guests (use them as builtin:NAME).")
final class GuestsCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        ElfImage.builtinNames().forEach(spec.commandLine().getOut()::println);
        return 0;
    }
}
