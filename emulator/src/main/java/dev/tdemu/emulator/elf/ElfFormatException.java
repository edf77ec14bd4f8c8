package dev.tdemu.emulator.elf;

import dev.tdemu.emulator.io.BadInputException;

/** A guest image that is not a loadable ELF64 x86-64 executable; the message says why. */
public final class ElfFormatException extends BadInputException {
    public ElfFormatException(String message) {
        super(message);
    }
}
