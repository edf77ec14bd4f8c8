package dev.tdemu.emulator.qemu;

import dev.tdemu.emulator.io.BadInputException;

/**
 * A qemu-system-x86_64 option tdemu does not accept, or a value it cannot honour: one line that
 * names the option. The CLI prints it and exits with status 2 before anything runs.
 */
public final class QemuOptionException extends IllegalArgumentException {
    public QemuOptionException(String message) {
        super(BadInputException.oneLine(message));
    }
}
