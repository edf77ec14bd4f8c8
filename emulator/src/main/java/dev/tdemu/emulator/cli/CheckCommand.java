package dev.tdemu.emulator.cli;

import dev.tdemu.emulator.elf.ElfFormatException;
import dev.tdemu.emulator.elf.ElfImage;
import dev.tdemu.emulator.unicorn.GuestRunner;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * The main job on its built-in default. For now: run the bundled hello guest on the engine and
 * show what it printed and its exit status; the validation matrix replaces this once the VMs exist.
 */
@Command(name = "check", description = "Run the built-in validation (currently: the hello guest on the engine).")
final class CheckCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws ElfFormatException {
        ElfImage hello = ElfImage.builtin("hello");
        GuestRunner.Result r = GuestRunner.run(hello, Duration.ofSeconds(10));
        spec.commandLine().getOut().print(r.console());
        return switch (r) {
            case GuestRunner.Exited e -> {
                spec.commandLine().getOut().printf("hello guest exited with status %d%n", e.status());
                yield e.status() == 0 ? 0 : 1;
            }
            case GuestRunner.Failed f -> {
                spec.commandLine().getErr().println("tdemu: hello guest failed: " + f.reason());
                yield 1;
            }
        };
    }
}
