package dev.tdemu.emulator.boot;

/**
 * One piece of the kernel as the loader places it: {@code fileSize} bytes from {@code fileOffset}
 * of the file go to guest-physical {@code address}, and the rest of {@code memorySize} (the bss) is
 * zeroed. Sizes are unsigned and never overflow: the loader checks {@code address + memorySize}
 * against guest RAM before anything is written.
 */
public record KernelSegment(long address, long fileOffset, long fileSize, long memorySize) {
    public KernelSegment {
        if (fileSize < 0 || memorySize < 0 || fileSize > memorySize) {
            throw new IllegalArgumentException("segment sizes: file " + fileSize + ", memory " + memorySize);
        }
    }

    /** First address past the segment. */
    public long end() {
        return address + memorySize;
    }

    @Override
    public String toString() {
        return String.format("0x%x..0x%x (0x%x file bytes from offset 0x%x, 0x%x zeroed)", address, end(), fileSize,
                fileOffset, memorySize - fileSize);
    }
}
