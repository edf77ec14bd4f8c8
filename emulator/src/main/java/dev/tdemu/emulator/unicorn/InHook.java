package dev.tdemu.emulator.unicorn;

/**
 * Handles an IN instruction: returns the value read from {@code port} ({@code size} 1, 2 or 4 bytes).
 *
 * <p>Engine facts (Unicorn 2.1.1): inside the hook RIP reads as the start of the translated block,
 * not the IN instruction; a {@link Unicorn#emuStop()} from the hook takes effect only at the end of
 * the block (later instructions of the block still run) unless a code hook sits on the instruction
 * after the IN, which makes the stop land exactly there.
 */
@FunctionalInterface
public interface InHook {
    int onIn(Unicorn uc, int port, int size);
}
