package dev.tdemu.emulator.qemu;

import java.nio.file.Path;
import java.util.List;

/** What a qemu-system-x86_64 command line asks tdemu for. */
public sealed interface QemuRequest {
    /** Text to print on stdout before exiting with status 0, as QEMU does for -help, -version, -device help. */
    record Information(String text) implements QemuRequest {}

    /**
     * Boot a Multiboot kernel on tdemu's pc machine.
     *
     * @param append       the command line after the kernel's name (-append), empty when none
     * @param memoryBytes  guest RAM (-m; QEMU's default 128 MiB)
     * @param cpus         vCPUs at start-up (-smp)
     * @param serialStdio  COM1 also reads stdin (-serial stdio)
     * @param gdbPort      serve the GDB remote protocol there (-s, -gdb tcp::PORT), or null
     * @param startStopped hold the guest at its first instruction until gdb continues it (-S)
     */
    record Boot(Path kernel, String append, List<Path> initrds, long memoryBytes, int cpus, boolean serialStdio, Integer gdbPort,
                boolean startStopped) implements QemuRequest {
        public Boot {
            initrds = List.copyOf(initrds);
        }
    }
}
