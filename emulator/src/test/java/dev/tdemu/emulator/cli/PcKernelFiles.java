package dev.tdemu.emulator.cli;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import picocli.CommandLine;

/** testguests' Multiboot kernels as files, and the CLI run with a given stdin and environment. */
final class PcKernelFiles {
    private PcKernelFiles() {}

    /** guests/multiboot/{@code name} written to {@code dir}. */
    static Path kernel(Path dir, String name) throws IOException {
        try (InputStream in = PcKernelFiles.class.getResourceAsStream("/guests/multiboot/" + name)) {
            if (in == null) {
                throw new IllegalStateException("test kernel guests/multiboot/" + name + " missing: build testguests");
            }
            return Files.write(dir.resolve(name), in.readAllBytes());
        }
    }

    /** `tdemu ARGS` in-process with {@code stdin} and {@code environment}. */
    static CliTest.Run tdemu(InputStream stdin, Map<String, String> environment, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        CommandLine cl = Main.commandLine(new Main.Streams(new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), false, stdin, environment));
        int exit = cl.execute(args);
        cl.getOut().flush();
        cl.getErr().flush();
        return new CliTest.Run(exit, out.toByteArray(), err.toString(StandardCharsets.UTF_8));
    }
}
