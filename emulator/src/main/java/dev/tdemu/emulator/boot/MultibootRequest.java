package dev.tdemu.emulator.boot;

import java.nio.file.Path;
import java.util.List;

/**
 * What to boot: the kernel file, the command line the kernel receives, and the boot modules.
 *
 * @param commandLine passed NUL-terminated; must not contain NUL itself
 */
public record MultibootRequest(Path kernel, String commandLine, List<Module> modules) {

    /** A boot module: a file and the string the kernel sees with it. */
    public record Module(Path file, String string) {
    }

    public MultibootRequest {
        modules = List.copyOf(modules);
    }

    /**
     * The request QEMU makes for {@code -kernel KERNEL -append APPEND -initrd FILE}: the command
     * line is the kernel's name, a space and the appended text (kvm-unit-tests takes its arguments
     * from argv[1] on, argv[0] being that name), and each module's string is its file name.
     */
    public static MultibootRequest likeQemu(Path kernel, String append, List<Path> initrds) {
        String cmdline = append.isEmpty() ? kernel.toString() : kernel + " " + append;
        return new MultibootRequest(kernel, cmdline, initrds.stream().map(p -> new Module(p, p.toString())).toList());
    }
}
