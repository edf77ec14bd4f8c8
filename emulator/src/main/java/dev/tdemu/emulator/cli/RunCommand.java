package dev.tdemu.emulator.cli;

import dev.tdemu.emulator.elf.ElfFormatException;
import dev.tdemu.emulator.elf.ElfImage;
import dev.tdemu.emulator.unicorn.GuestRunner;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** Runs one guest. Exit status: the guest's exit status, or 1 when it failed to exit properly. */
@Command(name = "run", description = "Run a guest ELF (a path, or builtin:NAME).")
final class RunCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "GUEST", description = "ELF64 x86-64 guest image, or builtin:NAME (see tdemu guests)")
    String guest;

    @Option(names = "--timeout", defaultValue = "10s", paramLabel = "DURATION",
            description = "Stop the guest after this long (e.g. 500ms, 10s, 2m). Default: ${DEFAULT-VALUE}.")
    String timeout;

    @Override
    public Integer call() throws IOException, ElfFormatException {
        ElfImage image = guest.startsWith("builtin:") ? ElfImage.builtin(guest.substring(8)) : ElfImage.load(Path.of(guest));
        GuestRunner.Result r = GuestRunner.run(image, Durations.parse(timeout));
        spec.commandLine().getOut().print(r.console());
        spec.commandLine().getOut().flush();
        return switch (r) {
            case GuestRunner.Exited e -> e.status();
            case GuestRunner.Failed f -> {
                spec.commandLine().getErr().println("tdemu: guest failed: " + f.reason());
                yield 1;
            }
        };
    }
}
