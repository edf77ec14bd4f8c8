package dev.tdemu.emulator.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of the {@code tdemu} command line. */
@Command(name = "tdemu", mixinStandardHelpOptions = true, version = "tdemu 0.1.0",
        description = "Intel TDX/VMX guest emulator with KVM debug-register switching and a GDB stub.")
public final class Main implements Runnable {
    public static void main(String[] args) {
        System.exit(new CommandLine(new Main()).execute(args));
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(new CommandLine(this), "missing subcommand");
    }
}
