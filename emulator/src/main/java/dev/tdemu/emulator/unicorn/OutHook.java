package dev.tdemu.emulator.unicorn;

/** Handles an OUT instruction writing {@code value} ({@code size} 1, 2 or 4 bytes) to {@code port}. */
@FunctionalInterface
public interface OutHook {
    void onOut(Unicorn uc, int port, int size, int value);
}
