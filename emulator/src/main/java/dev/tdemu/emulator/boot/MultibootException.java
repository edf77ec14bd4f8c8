package dev.tdemu.emulator.boot;

/**
 * A kernel or module that tdemu's Multiboot loader refuses; the one-line message names the file
 * and the problem (an offset, an address range, a flag bit).
 */
public final class MultibootException extends Exception {
    public MultibootException(String message) {
        super(message);
    }
}
