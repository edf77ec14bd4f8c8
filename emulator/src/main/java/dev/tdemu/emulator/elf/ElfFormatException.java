package dev.tdemu.emulator.elf;

/** A guest image that is not a loadable ELF64 x86-64 executable; the message says why. */
public final class ElfFormatException extends Exception {
    public ElfFormatException(String message) {
        super(message);
    }
}
