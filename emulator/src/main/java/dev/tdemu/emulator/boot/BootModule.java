package dev.tdemu.emulator.boot;

/**
 * A boot module as loaded: the file's bytes occupy {@code start} up to (not including)
 * {@code end}, page-aligned; {@code string} is at {@code stringAddress}.
 */
public record BootModule(String file, String string, long start, long end, long stringAddress) {
    public long size() {
        return end - start;
    }
}
