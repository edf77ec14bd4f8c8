package dev.tdemu.emulator.elf;

import java.util.Arrays;

/**
 * One PT_LOAD segment: {@code data} is placed at {@code address} and the rest of
 * {@code memorySize} is zero (the .bss part).
 */
public record LoadSegment(long address, long memorySize, byte[] data, boolean readable, boolean writable,
                          boolean executable) {
    public LoadSegment {
        data = data.clone();
    }

    @Override
    public byte[] data() {
        return data.clone();
    }

    /** First address past the segment. */
    public long end() {
        return address + memorySize;
    }

    public boolean contains(long a) {
        return Long.compareUnsigned(a, address) >= 0 && Long.compareUnsigned(a, end()) < 0;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LoadSegment s && s.address == address && s.memorySize == memorySize
                && Arrays.equals(s.data, data) && s.readable == readable && s.writable == writable
                && s.executable == executable;
    }

    @Override
    public int hashCode() {
        return Long.hashCode(address) * 31 + Arrays.hashCode(data);
    }

    @Override
    public String toString() {
        return String.format("LoadSegment[0x%x..0x%x %s%s%s, %d file bytes]", address, end(),
                readable ? "r" : "-", writable ? "w" : "-", executable ? "x" : "-", data.length);
    }
}
