package dev.tdemu.emulator.unicorn;

/** Handles an IN instruction: returns the value read from {@code port} ({@code size} 1, 2 or 4 bytes). */
@FunctionalInterface
public interface InHook {
    int onIn(Unicorn uc, int port, int size);
}
