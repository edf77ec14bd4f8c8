package dev.tdemu.emulator.unicorn;

/**
 * The device behind an MMIO region mapped with {@link Unicorn#mapMmio}: called on the engine's
 * thread in the middle of the accessing instruction ({@code offset} from the region's base,
 * {@code size} 1, 2, 4 or 8). A Throwable stops the run and comes back out of emuStart, like a
 * hook's (a read then answers all-ones to the engine).
 */
public interface MmioHandler {
    long read(Unicorn uc, long offset, int size);

    void write(Unicorn uc, long offset, int size, long value);
}
